import http from "node:http";
import type { AddressInfo } from "node:net";
import { backoffMs, postBatch } from "../../../lib/callbacks/delivery";
import { OutboundPolicy, parseCidrList } from "../../../lib/net/outbound";

// The test policy denies 127.0.0.2 (a loopback address standing for a refused range).
const policy = new OutboundPolicy({ deny: parseCidrList("127.0.0.2/32"), localAddresses: [] });

describe("callback delivery", () => {
	it("backs off exponentially up to a cap", () => {
		expect([0, 1, 2, 3, 10].map(a => backoffMs(a, 1000, 5000))).toEqual([1000, 2000, 4000, 5000, 5000]);
	});

	describe("against a real HTTP server", () => {
		let server: http.Server;
		let url: string;
		const statuses: number[] = [];
		const seen: { key: string | undefined; body: any }[] = [];
		let hang = false;
		beforeAll(async () => {
			server = http.createServer((req, res) => {
				let data = "";
				req.on("data", c => (data += c));
				req.on("end", () => {
					seen.push({ key: req.headers["x-api-key"] as string | undefined, body: JSON.parse(data) });
					if (hang) return; // never answers: the client's timeout decides
					if (req.url === "/moved") return res.writeHead(307, { Location: "http://127.0.0.2:9/cb" }).end();
					res.writeHead(statuses.shift() ?? 200).end();
				});
			});
			await new Promise<void>(r => server.listen(0, "127.0.0.1", () => r()));
			url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cb`;
		});
		afterAll(() => {
			server.closeAllConnections();
			return new Promise<void>(r => server.close(() => r()));
		});
		const body = { slotId: 1, roomId: 2, batchId: "b1", results: [] };

		it("retries a 500 and succeeds on the third attempt, with the API key", async () => {
			seen.length = 0;
			statuses.push(500, 503);
			const out = await postBatch(url, body, { apiKey: "k", policy, retryBaseMs: 10 });
			expect(out).toEqual({ ok: true, status: 200, error: null, attempts: 3 });
			expect(seen).toHaveLength(3);
			expect(seen.every(s => s.key === "k" && s.body.batchId === "b1")).toBe(true);
		});

		it("gives up after three failed attempts and says why", async () => {
			statuses.push(500, 500, 500);
			expect(await postBatch(url, body, { apiKey: "k", policy, retryBaseMs: 10 })).toEqual({ ok: false, status: 500, error: "HTTP 500", attempts: 3 });
		});

		it("times out a backend that never answers", async () => {
			hang = true;
			const t = Date.now();
			const out = await postBatch(url, body, { apiKey: "k", policy, retryBaseMs: 10, timeoutMs: 200, attempts: 2 });
			hang = false;
			expect(out).toEqual({ ok: false, status: null, error: "timeout", attempts: 2 });
			expect(Date.now() - t).toBeLessThan(2000);
		});

		it("refuses a callback URL, or a redirect, the outbound policy denies, without retrying", async () => {
			seen.length = 0;
			const direct = await postBatch("http://127.0.0.2:9/cb", body, { apiKey: "k", policy, retryBaseMs: 10 });
			expect(direct).toMatchObject({ ok: false, status: null, attempts: 1, error: expect.stringMatching(/^URL_NOT_ALLOWED: .*deny-list/) });
			expect(direct.refusal?.rule).toBe("deny-list");
			const moved = await postBatch(url.replace("/cb", "/moved"), body, { apiKey: "k", policy, retryBaseMs: 10 });
			expect(moved).toMatchObject({ ok: false, attempts: 1, refusal: expect.objectContaining({ rule: "deny-list", address: "127.0.0.2" }) });
			expect(seen).toHaveLength(1); // the redirecting server only, once
		});

		it("reports a refused connection", async () => {
			const probe = http.createServer();
			await new Promise<void>(r => probe.listen(0, "127.0.0.1", () => r()));
			const closed = (probe.address() as AddressInfo).port;
			await new Promise<void>(r => probe.close(() => r()));
			const out = await postBatch(`http://127.0.0.1:${closed}/cb`, body, { apiKey: "k", policy, attempts: 1 });
			expect(out.ok).toBe(false);
			expect(out.error).toMatch(/ECONNREFUSED/);
		});
	});
});
