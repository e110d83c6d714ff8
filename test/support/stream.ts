/**
 * A real WebSocket client (`ws`) of the streaming recognition (ws://host/ws/recognize) for tests
 * and benchmarks: connect with a token or a key (a refusal answers its HTTP status and JSON
 * body), send frames, wait for the messages that answer them. Also frames of a face clip:
 * an MP4 decoded with the project's video code (lib/video/frame-source.ts), each frame a JPEG.
 */
import sharp from "sharp";
import WebSocket from "ws";
import { openFrames } from "../../lib/video/frame-source";
import type { TestNode } from "./node";

export type StreamMessage = { type: string; frame_id?: number | string | null; [k: string]: any };

export const streamUrl = (node: TestNode, query = "") => `${node.baseUrl.replace(/^http/, "ws").replace(/\/api\/v1$/, "")}/ws/recognize${query}`;

export class StreamClient {
	readonly messages: StreamMessage[] = [];
	/** When each message arrived (performance.now()), by its index in `messages`. */
	readonly arrivals: number[] = [];
	private waiters: { ok: (m: StreamMessage) => boolean; resolve: (m: StreamMessage) => void; seen: number }[] = [];
	closed: { code: number; reason: string } | null = null;

	private constructor(readonly ws: WebSocket) {
		ws.on("message", (data: Buffer) => {
			const m = JSON.parse(data.toString("utf8")) as StreamMessage;
			this.messages.push(m);
			this.arrivals.push(performance.now());
			for (const w of [...this.waiters])
				if (w.ok(m)) {
					this.waiters.splice(this.waiters.indexOf(w), 1);
					w.resolve(m);
				}
		});
		ws.on("close", (code, reason) => (this.closed = { code, reason: reason.toString() }));
	}

	/** Open a connection; resolves once the server's `connected` message came. */
	static connect(url: string, headers: Record<string, string> = {}): Promise<StreamClient> {
		return new Promise((resolve, reject) => {
			const ws = new WebSocket(url, { headers });
			const client = new StreamClient(ws);
			ws.once("unexpected-response", (_req, res) => {
				let body = "";
				res.on("data", (c: Buffer) => (body += c.toString()));
				res.on("end", () => reject(Object.assign(new Error(`refused ${res.statusCode}: ${body}`), { status: res.statusCode, body: body ? JSON.parse(body) : null })));
			});
			ws.once("error", reject);
			client.next(m => m.type === "connected", 10_000).then(() => resolve(client), reject);
		});
	}

	/** The first message from now on (or already received after `from`) that `ok` accepts. */
	next(ok: (m: StreamMessage) => boolean, timeoutMs = 30_000, from = this.messages.length): Promise<StreamMessage> {
		const had = this.messages.slice(from).find(ok);
		if (had) return Promise.resolve(had);
		return new Promise((resolve, reject) => {
			const w = { ok, resolve, seen: from };
			this.waiters.push(w);
			setTimeout(() => {
				const i = this.waiters.indexOf(w);
				if (i >= 0) {
					this.waiters.splice(i, 1);
					reject(new Error(`no matching message within ${timeoutMs} ms; last: ${JSON.stringify(this.messages.slice(-3)).slice(0, 400)}`));
				}
			}, timeoutMs).unref();
		});
	}

	send(o: object | string): void {
		this.ws.send(typeof o === "string" ? o : JSON.stringify(o));
	}

	frame(frameId: number | string, jpeg: Buffer, opts: { dataUrl?: boolean; timestamp?: number } = {}): void {
		const b64 = jpeg.toString("base64");
		this.send({ type: "frame", data: opts.dataUrl ? `data:image/jpeg;base64,${b64}` : b64, timestamp: opts.timestamp ?? Date.now(), frame_id: frameId });
	}

	/** The message answering a frame: its result, an error, or its drop notice. */
	answerOf(frameId: number | string, timeoutMs = 30_000): Promise<StreamMessage> {
		return this.next(m => m.frame_id === frameId && (m.type === "recognition_result" || m.type === "error" || m.type === "frame_dropped"), timeoutMs, 0);
	}

	async stats(): Promise<StreamMessage> {
		const from = this.messages.length;
		this.send({ type: "stats" });
		return this.next(m => m.type === "stats", 10_000, from);
	}

	close(): Promise<void> {
		if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
		return new Promise(resolve => {
			this.ws.once("close", () => resolve());
			this.ws.close();
		});
	}
}

/** Every `every`-th frame of a video file as a JPEG of its own size (or `width` wide). */
export async function clipFrames(file: string, opts: { every?: number; width?: number; max?: number; quality?: number } = {}): Promise<Buffer[]> {
	const out: Buffer[] = [];
	let i = 0;
	for await (const f of openFrames({ file }, opts.width ? { width: opts.width } : {})) {
		if (i++ % (opts.every ?? 1) !== 0) continue;
		out.push(await sharp(f.data, { raw: { width: f.width, height: f.height, channels: 3 } }).jpeg({ quality: opts.quality ?? 85 }).toBuffer());
		if (opts.max && out.length >= opts.max) break;
	}
	return out;
}
