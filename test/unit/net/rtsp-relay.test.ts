/**
 * The RTSP relay (lib/net/rtsp-relay.ts) against fake RTSP servers on 127.0.0.1; 127.0.0.2 is
 * the refused range and counts every connection that reaches it (there must be none).
 */
import net from "node:net";
import { OutboundPolicy, parseCidrList } from "../../../lib/net/outbound";
import { openRtspRelay } from "../../../lib/net/rtsp-relay";

const policy = new OutboundPolicy({ deny: parseCidrList("127.0.0.2/32"), localAddresses: [] });

function listen(host: string, onConn: (s: net.Socket) => void): Promise<{ server: net.Server; port: number }> {
	const server = net.createServer(onConn);
	return new Promise(r => server.listen(0, host, () => r({ server, port: (server.address() as net.AddressInfo).port })));
}

/** Send `request` to the relay, read until `bytes` arrived or the connection closed. */
function exchange(input: string, request: string, bytes: number): Promise<{ data: Buffer; closed: boolean }> {
	const u = new URL(input);
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		const s = net.connect({ host: u.hostname, port: Number(u.port) }, () => s.write(request));
		s.on("data", c => {
			chunks.push(c);
			size += c.length;
			if (size >= bytes) {
				s.destroy();
				resolve({ data: Buffer.concat(chunks), closed: false });
			}
		});
		s.on("close", () => resolve({ data: Buffer.concat(chunks), closed: true }));
		s.on("error", reject);
	});
}

describe("RTSP relay", () => {
	let refused: net.Server;
	let rp = 0;
	let hits = 0;
	beforeAll(async () => {
		({ server: refused, port: rp } = await listen("127.0.0.2", s => (hits++, s.destroy())));
	});
	afterAll(() => new Promise(r => refused.close(r)));
	afterEach(() => expect(hits).toBe(0));

	test("bytes pass unchanged both ways; bodies and interleaved frames are not read as messages", async () => {
		// A body and a '$' frame that look like a redirect to the refused address.
		const fake = `RTSP/1.0 302 Moved\r\nLocation: rtsp://127.0.0.2:${rp}/x\r\n\r\n`;
		const frame = Buffer.concat([Buffer.from([0x24, 0, 0, fake.length]), Buffer.from(fake)]);
		const reply = Buffer.concat([Buffer.from(`RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Length: ${fake.length}\r\n\r\n${fake}`), frame, frame]);
		let got = "";
		const { server, port } = await listen("127.0.0.1", s =>
			s.on("data", d => {
				got += d.toString();
				// in pieces, split inside headers and frames
				for (let i = 0; i < reply.length; i += 7) s.write(reply.subarray(i, i + 7));
			})
		);
		const checked = await policy.check(`rtsp://u:p@127.0.0.1:${port}/live?a=1`, "camera");
		const relay = await openRtspRelay(policy, "camera", checked, 2000);
		expect(relay.input).toMatch(/^rtsp:\/\/u:p@127\.0\.0\.1:\d+\/live\?a=1$/);
		const { data } = await exchange(relay.input, "OPTIONS rtsp://x/live RTSP/1.0\r\nCSeq: 1\r\n\r\n", reply.length);
		expect(data.equals(reply)).toBe(true);
		expect(got).toBe("OPTIONS rtsp://x/live RTSP/1.0\r\nCSeq: 1\r\n\r\n");
		expect(relay.refusal()).toBeNull();
		relay.close();
		server.close();
	});

	test("a redirect to a refused address ends the connection and says why", async () => {
		const { server, port } = await listen("127.0.0.1", s => s.on("data", () => s.write(`RTSP/1.0 302 Moved\r\nCSeq: 1\r\nLocation: rtsp://127.0.0.2:${rp}/x\r\n\r\n`)));
		const relay = await openRtspRelay(policy, "camera", await policy.check(`rtsp://127.0.0.1:${port}/a`, "camera"), 2000);
		const { data, closed } = await exchange(relay.input, "OPTIONS rtsp://x/a RTSP/1.0\r\nCSeq: 1\r\n\r\n", 1e9);
		expect(closed).toBe(true);
		expect(data.length).toBe(0);
		expect(relay.refusal()).toMatchObject({ rule: "deny-list", address: "127.0.0.2" });
		relay.close();
		server.close();
	});

	test("an allowed redirect is rewritten to a relay for its checked address", async () => {
		const { server: second, port: p2 } = await listen("127.0.0.1", s => s.on("data", () => s.write("RTSP/1.0 200 OK\r\nCSeq: 2\r\n\r\n")));
		const { server, port } = await listen("127.0.0.1", s => s.on("data", () => s.write(`RTSP/1.0 301 Moved\r\nCSeq: 1\r\nLocation: rtsp://127.0.0.1:${p2}/moved\r\n\r\n`)));
		const relay = await openRtspRelay(policy, "camera", await policy.check(`rtsp://127.0.0.1:${port}/a`, "camera"), 2000);
		const { data } = await exchange(relay.input, "OPTIONS rtsp://x/a RTSP/1.0\r\nCSeq: 1\r\n\r\n", 40);
		const location = /Location: (\S+)/.exec(data.toString())![1];
		expect(location).toMatch(/^rtsp:\/\/127\.0\.0\.1:\d+\/moved$/);
		expect(location).not.toContain(`:${p2}/`);
		const next = await exchange(location, "OPTIONS rtsp://x/moved RTSP/1.0\r\nCSeq: 2\r\n\r\n", 26);
		expect(next.data.toString()).toBe("RTSP/1.0 200 OK\r\nCSeq: 2\r\n\r\n");
		relay.close();
		server.close();
		second.close();
	});

	test("a redirect between interleaved frames in one read: the frames pass unchanged around the rewritten header, in order", async () => {
		const { server: second, port: p2 } = await listen("127.0.0.1", () => undefined);
		const frame = (n: number) => Buffer.concat([Buffer.from([0x24, 0, 0, 3]), Buffer.from([n, n, n])]);
		const moved = `RTSP/1.0 302 Moved\r\nCSeq: 1\r\nLocation: rtsp://127.0.0.1:${p2}/moved\r\n\r\n`;
		const reply = Buffer.concat([frame(1), frame(2), Buffer.from(moved), frame(3)]);
		// The server ends after its one write: the relay then closes, and everything it carried has arrived.
		const { server, port } = await listen("127.0.0.1", s => s.on("data", () => s.end(reply)));
		const relay = await openRtspRelay(policy, "camera", await policy.check(`rtsp://127.0.0.1:${port}/a`, "camera"), 2000);
		const { data } = await exchange(relay.input, "OPTIONS rtsp://x/a RTSP/1.0\r\nCSeq: 1\r\n\r\n", 1e9);
		const location = /Location: (rtsp:\/\/127\.0\.0\.1:\d+\/moved)\r\n/.exec(data.toString("latin1"))![1];
		expect(location).not.toContain(`:${p2}/`);
		const expected = Buffer.concat([frame(1), frame(2), Buffer.from(moved.replace(`rtsp://127.0.0.1:${p2}/moved`, location)), frame(3)]);
		expect(data.equals(expected)).toBe(true);
		relay.close();
		server.close();
		second.close();
	});

	test("an unreachable camera fails at once, in FFmpeg's words", async () => {
		const probe = await listen("127.0.0.1", () => undefined);
		probe.server.close();
		await expect(openRtspRelay(policy, "camera", await policy.check(`rtsp://127.0.0.1:${probe.port}/a`, "camera"), 2000)).rejects.toThrow("Connection refused");
	});
});
