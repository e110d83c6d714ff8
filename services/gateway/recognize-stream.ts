/**
 * Streaming recognition (seed 003) on the gateway's HTTP server: `ws://host/ws/recognize`, a
 * plain WebSocket (`ws` package) beside the live channels' `/ws` (socket.mixin.ts). The
 * protocol's messages and checks are lib/stream/protocol.ts, which frames are analysed
 * lib/stream/frame-gate.ts (MAX_FRAME_RATE, the newest frame kept, at most one waiting).
 *
 * Credentials on connect, through the gateway's one check (credentials.ts): a console access
 * token (`?token=` or Authorization: Bearer) or an API key (`?api_key=` or X-API-Key), whose
 * role must allow the face API (`faceapi:use`); refused before the upgrade with a plain HTTP
 * 401/403 and a JSON `{type: "error", code, message}`. `?max_frame_rate=` lowers the
 * connection's rate below MAX_FRAME_RATE (never above). A token's connection ends when the
 * token expires or its login is revoked (the live relay's watch, shared with /ws).
 *
 * A frame's way: its base64 decoded on arrival (a broken one is answered with an error at
 * once, the connection stays) -> decoded safely as an image (lib/images/safe-image.ts: by its
 * bytes, 10 MB, pixel limits) -> `inference.analyze` on any inference node -> each face
 * against THE gallery (gallery.search, the two best, calibrated similarity) -> the
 * connection's tracker (lib/recognition/tracker.ts, the monitors' tracker and false-match
 * guard: track ids stable across the client's frames) -> people's names from their face
 * profiles (user_id = employeeId) -> recognition logs written (recognitionLogs.record) ->
 * the result sent. One frame of a connection at a time, so results come in frame order.
 */
import crypto from "node:crypto";
import type { IncomingMessage, Server as HttpServer } from "node:http";
import type { Duplex } from "node:stream";
import type { ServiceBroker } from "moleculer";
import { WebSocketServer, type WebSocket } from "ws";
import type { Config } from "../../config";
import { hasPermission } from "../../lib/api/route-facts";
import { inCallerPixels, type FoundFace } from "../../lib/face-api/format";
import { ImageRefusal, normalizeImage } from "../../lib/images/safe-image";
import { CameraTracker, candidatesOf, type GalleryHit, type GalleryPoint, type Track } from "../../lib/recognition/tracker";
import { FrameGate, type DropReason } from "../../lib/stream/frame-gate";
import { MAX_FRAME_BYTES, MAX_MESSAGE_BYTES, parseClientMessage, shouldLog, STREAM_ERRORS, streamFace, type FaceFacts, type FrameId, type StreamErrorCode, type StreamFace } from "../../lib/stream/protocol";
import type { Principal } from "../schema";
import type { Credentials } from "./credentials";
import type { LiveRelay } from "./live-relay";

export const STREAM_PATH = "/ws/recognize";
export const STREAM_PERMISSION = "faceapi:use";
const PROFILE_CACHE_MS = 60_000;
const HEARTBEAT_MS = 30_000;

interface Profile {
	id: string;
	employeeId: string;
	name: string;
}

interface Frame {
	frameId: FrameId;
	timestamp: number | string | null;
	image: Buffer;
	receivedAt: number;
}

interface Logger {
	info(...a: unknown[]): void;
	warn(...a: unknown[]): void;
}

export interface StreamDeps {
	broker: ServiceBroker;
	cfg: Config;
	credentials: Credentials;
	relay: LiveRelay | undefined;
	logger: Logger;
}

const bearerOf = (h: unknown) => (typeof h === "string" ? (/^Bearer\s+(.+)$/i.exec(h)?.[1]?.trim() ?? undefined) : undefined);

function refuse(socket: Duplex, status: number, code: string, message: string): void {
	const text = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 503: "Service Unavailable" }[status] ?? "Error";
	const body = JSON.stringify({ type: "error", code, message });
	socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** The code and message of a failed frame (a refusal of the image, a busy inference, anything else). */
function failureOf(err: unknown): { code: StreamErrorCode; message: string } {
	if (err instanceof ImageRefusal) return { code: err.code, message: `data: ${err.message}` };
	const type = (err as { type?: unknown }).type;
	if (type === "UNDECODABLE_IMAGE" || type === "INVALID_FRAME") return { code: "INVALID_IMAGE", message: (err as Error).message };
	if (typeof type === "string" && type in STREAM_ERRORS && type !== "RECOGNITION_FAILED") return { code: type as StreamErrorCode, message: (err as Error).message };
	return { code: "RECOGNITION_FAILED", message: `The frame was not analysed: ${(err as Error)?.message ?? String(err)}` };
}

/** The streaming endpoint of one gateway: its connections and what they share (profile names). */
export class RecognizeStreams {
	private readonly wss: WebSocketServer;
	private readonly connections = new Map<string, StreamConnection>();
	private profiles = new Map<string, { at: number; p: Profile | null }>();
	private onUpgrade: ((req: IncomingMessage, socket: Duplex, head: Buffer) => void) | null = null;
	private server: HttpServer | null = null;

	constructor(readonly deps: StreamDeps) {
		this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
	}

	/** Listen for upgrades to STREAM_PATH on the gateway's server (other paths are someone else's). */
	attach(server: HttpServer): void {
		this.server = server;
		this.onUpgrade = (req, socket, head) => {
			const url = new URL(req.url ?? "/", "http://gateway");
			if (url.pathname !== STREAM_PATH) return;
			void this.upgrade(req, socket, head, url);
		};
		server.on("upgrade", this.onUpgrade);
	}

	private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
		const { cfg, credentials } = this.deps;
		socket.on("error", () => socket.destroy());
		if (cfg.streamMaxConnections === 0) return refuse(socket, 404, "STREAMING_DISABLED", "Streaming recognition is turned off on this gateway (STREAM_MAX_CONNECTIONS=0)");
		const token = url.searchParams.get("token") ?? bearerOf(req.headers.authorization);
		const key = url.searchParams.get("api_key") ?? req.headers["x-api-key"];
		let principal: Principal;
		try {
			if (token) principal = await credentials.bearer(token);
			else if (key) principal = await credentials.apiKey(key);
			else return refuse(socket, 401, "UNAUTHORIZED", "Authentication required: ?token=<access token>, ?api_key=<key> or the X-API-Key header");
		} catch (err) {
			const e = err as { type?: string; code?: number; message?: string };
			return refuse(socket, e.code === 401 || !e.code ? 401 : 503, e.type ?? "UNAUTHORIZED", e.message ?? "Unauthorized");
		}
		if (!hasPermission(principal.permissions, STREAM_PERMISSION)) return refuse(socket, 403, "FORBIDDEN", `Streaming recognition needs the ${STREAM_PERMISSION} permission`);
		// A client may ask for a lower rate than the gateway's, never a higher one.
		const asked = url.searchParams.get("max_frame_rate");
		const rate = asked === null ? cfg.maxFrameRate : Number(asked);
		if (!(rate > 0 && rate <= cfg.maxFrameRate)) return refuse(socket, 400, "INVALID_MAX_FRAME_RATE", `max_frame_rate: a number above 0 and at most ${cfg.maxFrameRate}`);
		if (this.connections.size >= cfg.streamMaxConnections) return refuse(socket, 503, "TOO_MANY_CONNECTIONS", `This gateway takes at most ${cfg.streamMaxConnections} streaming connections`);
		this.wss.handleUpgrade(req, socket, head, ws => {
			const conn = new StreamConnection(this, ws, principal, rate);
			this.connections.set(conn.sessionId, conn);
			ws.once("close", () => this.connections.delete(conn.sessionId));
		});
	}

	/** Face profiles changed somewhere: names are asked again. */
	forgetProfiles(): void {
		this.profiles.clear();
	}

	/** Profiles by id, from a cache of a minute (a rename shows within it, at once after faces.changed). */
	async profilesOf(ids: string[]): Promise<Map<string, Profile | null>> {
		const out = new Map<string, Profile | null>();
		const missing: string[] = [];
		for (const id of new Set(ids)) {
			const hit = this.profiles.get(id);
			if (hit && Date.now() - hit.at < PROFILE_CACHE_MS) out.set(id, hit.p);
			else missing.push(id);
		}
		if (missing.length) {
			const found = await this.deps.broker.call<Profile[], object>("faces.byIds", { ids: missing });
			for (const id of missing) {
				const p = found.find(f => f.id === id) ?? null;
				this.profiles.set(id, { at: Date.now(), p });
				out.set(id, p);
			}
			if (this.profiles.size > 10_000) this.profiles.clear();
		}
		return out;
	}

	/** The two best gallery matches of a face (the second only when it is another person). */
	async matches(f: FoundFace): Promise<{ best: GalleryHit | null; second: GalleryHit | null }> {
		if (!f.embedding) return { best: null, second: null };
		return candidatesOf(await this.deps.broker.call<GalleryPoint[], object>("gallery.search", { vector: f.embedding, limit: 2, embeddingVersion: f.embeddingVersion }));
	}

	stats() {
		return { connections: this.connections.size };
	}

	async close(): Promise<void> {
		if (this.onUpgrade && this.server) this.server.off("upgrade", this.onUpgrade);
		for (const c of [...this.connections.values()]) c.close("SHUTDOWN", "The gateway is stopping");
		await new Promise<void>(resolve => this.wss.close(() => resolve()));
	}
}

/** One client's stream: its session, frame gate, tracker and counts. */
class StreamConnection {
	readonly sessionId = crypto.randomUUID();
	private readonly gate: FrameGate<Frame>;
	private readonly tracker: CameraTracker;
	private trackSeq = 0;
	/** What was last logged of each live track. */
	private readonly logged = new Map<string, { at: number; status: string; userId: string | null }>();
	private timer: NodeJS.Timeout | null = null;
	private readonly heartbeat: NodeJS.Timeout;
	private alive = true;
	private closed = false;
	private slowSince: number | null = null;
	private readonly counts = { results: 0, errors: 0, invalid: 0, faces: 0 };
	private readonly relayId: string;

	constructor(
		private readonly streams: RecognizeStreams,
		private readonly ws: WebSocket,
		private readonly principal: Principal,
		private readonly rate: number
	) {
		const { cfg, logger, relay } = streams.deps;
		this.gate = new FrameGate(rate);
		// A track ends when its face is gone for 3 s (or three frame intervals at a low rate).
		this.tracker = new CameraTracker({ threshold: cfg.similarityThreshold, maxGapMs: Math.max(3000, 3000 / rate) }, () => String(++this.trackSeq));
		this.relayId = `stream-${this.sessionId}`;
		// The relay ends a token's connection when it expires or is revoked (and all at shutdown).
		relay?.add({ id: this.relayId, transport: "ws", principal, maxBuffered: Number.MAX_SAFE_INTEGER, buffered: () => 0, send: () => undefined, close: (code, reason) => this.close(code, reason) });
		ws.on("message", (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
		ws.on("pong", () => (this.alive = true));
		ws.on("error", () => ws.terminate());
		ws.on("close", () => this.onClosed());
		this.heartbeat = setInterval(() => {
			if (!this.alive) return ws.terminate();
			this.alive = false;
			ws.ping();
		}, HEARTBEAT_MS);
		this.heartbeat.unref();
		logger.info("Streaming recognition connected", { sessionId: this.sessionId, caller: principal.id, kind: principal.kind });
		this.send({ type: "connected", session_id: this.sessionId, max_frame_rate: rate, max_frame_bytes: MAX_FRAME_BYTES, max_message_bytes: MAX_MESSAGE_BYTES });
	}

	private send(o: object): void {
		if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
		const { cfg } = this.streams.deps;
		// A client that does not read its results is disconnected, not buffered for without end.
		if (this.ws.bufferedAmount > cfg.liveMaxBufferBytes) {
			const now = Date.now();
			this.slowSince ??= now;
			if (now - this.slowSince >= cfg.liveSlowClientMs) return this.close("SLOW_CONSUMER", "The client did not read its results: disconnected");
		} else this.slowSince = null;
		this.ws.send(JSON.stringify(o));
	}

	private sendError(code: StreamErrorCode, message: string, frameId: FrameId | null): void {
		this.send({ type: "error", code, message, frame_id: frameId });
	}

	private statsMessage() {
		const g = this.gate.stats();
		return {
			type: "stats",
			session_id: this.sessionId,
			frames_received: g.received + this.counts.invalid,
			frames_accepted: g.started,
			frames_invalid: this.counts.invalid,
			frames_dropped: g.dropped,
			dropped_rate: g.droppedRate,
			dropped_busy: g.droppedBusy,
			results: this.counts.results,
			errors: this.counts.errors,
			faces: this.counts.faces,
			active_tracks: this.tracker.tracks.length,
			max_frame_rate: this.rate
		};
	}

	private onMessage(data: Buffer, isBinary: boolean): void {
		if (this.closed) return;
		const m = parseClientMessage(data, isBinary);
		if (m.kind === "ping") return this.send({ type: "pong", timestamp: Date.now() });
		if (m.kind === "stats") return this.send(this.statsMessage());
		if (m.kind === "error") {
			this.counts.invalid++;
			return this.sendError(m.code, m.message, m.frameId);
		}
		const replaced = this.gate.offer({ frameId: m.frameId, timestamp: m.timestamp, image: m.image, receivedAt: Date.now() }, Date.now());
		if (replaced) this.dropped(replaced.frame, replaced.reason);
		this.pump();
	}

	private dropped(f: Frame, reason: DropReason): void {
		this.send({ type: "frame_dropped", frame_id: f.frameId, reason, dropped_frames: this.gate.stats().dropped });
	}

	/** Start the waiting frame when the gate says so. */
	private pump(): void {
		if (this.closed) return;
		const next = this.gate.take(Date.now());
		if (!next) return;
		if ("waitMs" in next) {
			this.timer ??= setTimeout(() => {
				this.timer = null;
				this.pump();
			}, next.waitMs);
			return;
		}
		void this.process(next.start).finally(() => {
			this.gate.finish();
			this.pump();
		});
	}

	private async process(f: Frame): Promise<void> {
		const { logger } = this.streams.deps;
		try {
			const { faces } = await this.recognize(f);
			this.counts.results++;
			this.counts.faces += faces.length;
			this.send({
				type: "recognition_result",
				frame_id: f.frameId,
				faces,
				timestamp: f.timestamp ?? f.receivedAt,
				processing_ms: Date.now() - f.receivedAt,
				dropped_frames: this.gate.stats().dropped
			});
		} catch (err) {
			this.counts.errors++;
			const { code, message } = failureOf(err);
			if (code === "RECOGNITION_FAILED") logger.warn("Streaming frame not analysed", { sessionId: this.sessionId, frameId: f.frameId, error: (err as Error)?.message });
			this.sendError(code, message, f.frameId);
		}
	}

	/** One frame: its faces, matched, tracked, named and logged. */
	private async recognize(f: Frame): Promise<{ faces: StreamFace[] }> {
		const { broker, cfg } = this.streams.deps;
		const img = await normalizeImage(f.image, { maxBytes: MAX_FRAME_BYTES });
		const analysed = await broker.call<{ width: number; faces: FoundFace[]; timings: Record<string, number> }, object>("inference.analyze", { image: img.jpeg, maxFaces: 20, minFaceSize: 20 }, { timeout: 30_000 });
		const found = inCallerPixels(analysed, img.width, img.height);
		const matched = await Promise.all(found.faces.map(face => this.streams.matches(face)));
		const at = Date.now();
		const update = this.tracker.update(
			found.faces.map((face, i) => ({ box: face.box, embedding: face.embedding ?? null, best: matched[i].best, second: matched[i].second, quality: face.quality.overall })),
			at
		);
		const live = new Set(this.tracker.tracks.map(t => t.id));
		for (const id of this.logged.keys()) if (!live.has(id)) this.logged.delete(id);
		const people = await this.streams.profilesOf(update.assigned.filter(t => t.status === "authorized" && t.identity).map(t => t.identity!.profileId));
		const facts: FaceFacts[] = found.faces.map((face, i) => {
			const t: Track = update.assigned[i];
			const best = matched[i].best;
			const person = t.status === "authorized" && t.identity ? (people.get(t.identity.profileId) ?? null) : null;
			const similarity = t.status === "authorized" ? (best && best.profileId === t.identity?.profileId ? best.similarity : t.confidence) : (best?.similarity ?? 0);
			return {
				trackId: t.id,
				status: t.status,
				userId: t.status === "authorized" ? (person?.employeeId ?? t.identity?.employeeId ?? null) : null,
				userName: person?.name ?? null,
				similarity,
				box: face.box,
				detectionScore: face.score
			};
		});
		const faces = facts.map(x => streamFace(x, found.width, found.height));
		// Logged before the result is sent: an answered frame's logs are in the store.
		const entries = facts.flatMap((x, i) => {
			if (!shouldLog(x, this.logged.get(x.trackId), at, cfg.recognitionLogIntervalMs)) return [];
			const [bx, by, bw, bh] = faces[i].bbox;
			return [
				{
					sessionId: this.sessionId,
					trackId: x.trackId,
					userId: faces[i].user_id,
					profileId: x.status === "authorized" ? (update.assigned[i].identity?.profileId ?? null) : null,
					userName: faces[i].user_name,
					isUnknown: faces[i].is_unknown,
					status: faces[i].status,
					confidence: faces[i].confidence,
					framePosition: { x: bx, y: by, width: bw, height: bh },
					frameId: f.frameId,
					caller: this.principal.id,
					createdAt: new Date(at)
				}
			];
		});
		if (entries.length) {
			await broker.call("recognitionLogs.record", { entries });
			for (const x of facts) if (entries.some(e => e.trackId === x.trackId)) this.logged.set(x.trackId, { at, status: x.status, userId: x.userId });
		}
		return { faces };
	}

	close(code: string, reason: string): void {
		if (this.closed) return;
		this.send({ type: "error", code, message: reason, frame_id: null });
		this.closed = true;
		// 1008 policy (credentials), 1013 try again later (slow client), 1001 going away (shutdown).
		this.ws.close(code === "SLOW_CONSUMER" ? 1013 : code === "SHUTDOWN" ? 1001 : 1008, code);
		setTimeout(() => this.ws.terminate(), 1000).unref();
	}

	private onClosed(): void {
		this.closed = true;
		if (this.timer) clearTimeout(this.timer);
		clearInterval(this.heartbeat);
		this.gate.clear();
		this.streams.deps.relay?.remove(this.relayId);
		this.streams.deps.logger.info("Streaming recognition closed", { ...this.statsMessage(), type: undefined });
	}
}
