/**
 * FFmpeg follows an RTSP server's 3xx redirect itself (measured: `RTSP/1.0 302` to OPTIONS
 * sends the next OPTIONS to the Location's host), so a camera URL that passed the outbound
 * policy could send it anywhere. For plain rtsp over TCP, FFmpeg therefore talks to this relay
 * on 127.0.0.1 instead: each connection is carried to the address the policy checked (no new
 * lookup), bytes pass unchanged both ways, and the server's messages are read as they pass: a
 * 3xx's Location is checked under the policy and rewritten to a new relay for its checked
 * address, or, refused, ends the connection (`refusal` then says why the open failed).
 * Interleaved RTP (`$` frames) and bodies pass through without being looked at.
 */
import net from "node:net";
import { OutboundPolicy, UrlNotAllowed, type CheckedUrl, type OutboundUse } from "./outbound";

/** Redirects followed in a row at most. */
const MAX_REDIRECTS = 5;
const MAX_HEADER = 64 * 1024;

export interface RtspRelay {
	/** What FFmpeg opens: the URL's path and credentials on the relay's loopback port. */
	input: string;
	/** Set when a redirect was refused (the open then fails). */
	refusal(): UrlNotAllowed | null;
	close(): void;
}

/** Connect to the checked address; fails like FFmpeg would name it (refused, timeout, unreachable). */
function connectTo(address: string, port: number, timeoutMs: number): Promise<net.Socket> {
	return new Promise((resolve, reject) => {
		const s = net.connect({ host: address, port });
		const timer = setTimeout(() => {
			s.destroy();
			reject(Object.assign(new Error(`Connection timeout after ${Math.round(timeoutMs / 100) / 10} seconds`), { code: "ETIMEDOUT" }));
		}, timeoutMs);
		s.setNoDelay(true);
		s.once("connect", () => {
			clearTimeout(timer);
			s.off("error", onError);
			resolve(s);
		});
		const onError = (err: NodeJS.ErrnoException) => {
			clearTimeout(timer);
			reject(Object.assign(new Error(err.code === "ECONNREFUSED" ? "Connection refused" : err.code === "EHOSTUNREACH" ? "No route to host" : err.message), { code: err.code }));
		};
		s.once("error", onError);
	});
}

interface Shared {
	policy: OutboundPolicy;
	use: OutboundUse;
	timeoutMs: number;
	refused: UrlNotAllowed | null;
	closers: (() => void)[];
	depth: number;
}

/**
 * A relay for a checked rtsp:// URL. Its first upstream connection is made before it returns,
 * so an unreachable camera fails here with FFmpeg's words ("Connection refused").
 */
export async function openRtspRelay(policy: OutboundPolicy, use: OutboundUse, checked: CheckedUrl, timeoutMs: number): Promise<RtspRelay> {
	const shared: Shared = { policy, use, timeoutMs, refused: null, closers: [], depth: 0 };
	const first = await connectTo(checked.addresses[0].address, checked.port, timeoutMs);
	try {
		const port = await listen(shared, checked, first);
		return {
			input: relayUrl(checked.url, port),
			refusal: () => shared.refused,
			close: () => {
				for (const c of shared.closers.splice(0)) c();
			}
		};
	} catch (err) {
		first.destroy();
		throw err;
	}
}

function relayUrl(u: URL, port: number): string {
	const auth = u.username || u.password ? `${u.username}${u.password ? `:${u.password}` : ""}@` : "";
	return `rtsp://${auth}127.0.0.1:${port}${u.pathname}${u.search}`;
}

/** A loopback listener carrying each connection to the checked address. */
function listen(shared: Shared, target: CheckedUrl, preconnected: net.Socket | null): Promise<number> {
	const sockets = new Set<net.Socket>();
	let spare = preconnected;
	spare?.on("error", () => undefined);
	// No Nagle either way: RTSP's small request/answer turns would each wait for a delayed ACK.
	const server = net.createServer({ noDelay: true }, client => {
		sockets.add(client);
		client.on("close", () => sockets.delete(client));
		client.on("error", () => undefined);
		const upstream = spare ?? net.connect({ host: target.addresses[0].address, port: target.port, noDelay: true });
		spare = null;
		sockets.add(upstream);
		upstream.on("close", () => (sockets.delete(upstream), client.destroy()));
		upstream.on("error", () => client.destroy());
		client.on("close", () => upstream.destroy());
		client.pipe(upstream);
		void carry(shared, upstream, client).catch(() => {
			client.destroy();
			upstream.destroy();
		});
	});
	shared.closers.push(() => {
		spare?.destroy();
		for (const s of sockets) s.destroy();
		server.close();
	});
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
	});
}

const write = (s: net.Socket, b: Buffer) => (s.write(b) ? Promise.resolve() : new Promise<void>(r => s.once("drain", () => r())));

/**
 * Server to client: frames and bodies as they are; each message's header read, a 3xx's Location
 * checked. Bytes that pass unchanged are written in one run per chunk read, not one write per
 * interleaved RTP packet: a 1080p camera sends thousands of those a second, and a write each
 * was most of what a monitored camera cost the event loop.
 */
async function carry(shared: Shared, upstream: net.Socket, client: net.Socket): Promise<void> {
	let pending: Buffer = Buffer.alloc(0);
	let skip = 0;
	for await (const chunk of upstream as AsyncIterable<Buffer>) {
		const buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
		pending = Buffer.alloc(0);
		/** Start of the bytes read through but not yet written. */
		let run = 0;
		let i = 0;
		while (i < buf.length) {
			if (skip > 0) {
				const n = Math.min(skip, buf.length - i);
				i += n;
				skip -= n;
				continue;
			}
			if (buf[i] === 0x24) {
				// Interleaved binary data: '$', channel, 16-bit length.
				if (buf.length - i < 4) {
					pending = Buffer.from(buf.subarray(i));
					break;
				}
				skip = 4 + buf.readUInt16BE(i + 2);
				continue;
			}
			const end = buf.indexOf("\r\n\r\n", i, "latin1");
			if (end < 0) {
				if (buf.length - i > MAX_HEADER) throw new Error("RTSP header too long");
				pending = Buffer.from(buf.subarray(i));
				break;
			}
			const header = buf.subarray(i, end + 4).toString("latin1");
			const status = /^RTSP\/\d\.\d\s+(\d{3})/.exec(header);
			const location = /\r\nLocation:[ \t]*([^\r\n]*)/i.exec(header);
			if (status && status[1].startsWith("3") && location) {
				if (i > run) await write(client, buf.subarray(run, i));
				const rewritten = await redirect(shared, location[1].trim());
				if (rewritten === null) {
					client.destroy();
					upstream.destroy();
					return;
				}
				await write(client, Buffer.from(header.replace(location[0], `\r\nLocation: ${rewritten}`), "latin1"));
				run = end + 4;
			}
			i = end + 4;
			const length = /\r\nContent-Length:[ \t]*(\d+)/i.exec(header);
			skip = length ? Number(length[1]) : 0;
		}
		if (i > run) await write(client, buf.subarray(run, i));
	}
}

/** A redirect's new Location (a relay for its checked address), or null when refused. */
async function redirect(shared: Shared, location: string): Promise<string | null> {
	if (++shared.depth > MAX_REDIRECTS) return null;
	let checked: CheckedUrl;
	try {
		checked = await shared.policy.check(location, shared.use);
	} catch (err) {
		if (err instanceof UrlNotAllowed) shared.refused = err;
		return null;
	}
	// rtsps stays as it is (TLS is FFmpeg's): checked, FFmpeg resolves it once more.
	if (checked.scheme !== "rtsp") return location;
	const port = await listen(shared, checked, null);
	return relayUrl(checked.url, port);
}
