/**
 * Live channels on the gateway's HTTP server, two transports over one relay
 * (services/gateway/live-relay.ts, lib/live/channels.ts):
 * - Socket.IO at /socket.io. Credentials as a REST caller's, through the same check: an API
 *   key (`auth.apiKey` or X-API-Key) or an access token (`auth.token` or Authorization:
 *   Bearer). `subscribe` / `unsubscribe` with `{channel, cameraId?}` (ack `{ok, ...}`);
 *   `auth.channels` subscribes at connect. The sessions' events keep their names and shapes:
 *   a client naming `auth.slots` hears those slots, otherwise every session; `subscribe`
 *   with `{slotId}` adds one.
 * - The seed's plain WebSocket at /ws?token= (`ws` package): `{action: subscribe|unsubscribe,
 *   channel, cameraId?}`, `{type: ping}` -> `{type: pong}`; server messages `{type, channel, ...}`.
 * A signed-in user always hears their own notifications and exports. A camera is named by
 * its number or its console id (CAM-01).
 */
import type { IncomingMessage, Server as HttpServer } from "node:http";
import type { Duplex } from "node:stream";
import type { Context, ServiceBroker, ServiceSchema } from "moleculer";
import { Server as SocketServer, type Socket } from "socket.io";
import { WebSocketServer, type WebSocket } from "ws";
import type { Config } from "../../config";
import { CHANNEL_EVENTS, OWN_CHANNELS, isChannel, type Channel, type LiveMessage } from "../../lib/live/channels";
import type { Principal } from "../schema";
import type { Credentials } from "./credentials";
import { LiveRelay, type LiveClient } from "./live-relay";

interface SocketThis {
	logger: { error(...a: unknown[]): void; info(...a: unknown[]): void; warn(...a: unknown[]): void };
	broker: ServiceBroker;
	io?: SocketServer;
	wss?: WebSocketServer;
	relay: LiveRelay;
	server: HttpServer;
	credentials: Credentials;
	liveConfig: Config;
	onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
	cameraNumber(camera: unknown): Promise<number | undefined>;
	subscribeClient(id: string, msg: unknown): Promise<Record<string, unknown>>;
	unsubscribeClient(id: string, msg: unknown): Promise<Record<string, unknown>>;
	attachWebSocket(): void;
	connectWs(ws: WebSocket, id: string, principal: Principal): void;
}

const WS_PATH = "/ws";

/** `Bearer x` -> x. */
const bearerOf = (h: unknown) => (typeof h === "string" ? (/^Bearer\s+(.+)$/i.exec(h)?.[1]?.trim() ?? undefined) : undefined);

export function SocketMixin(cfg: Config): Partial<ServiceSchema<object, object, object, SocketThis>> {
	return {
		methods: {
			/** A camera as clients name it: its number, or its console id. */
			async cameraNumber(this: SocketThis, camera: unknown) {
				if (camera === undefined || camera === null || camera === "") return undefined;
				if (typeof camera === "number" && Number.isInteger(camera)) return camera;
				if (typeof camera === "string" && /^\d+$/.test(camera)) return Number(camera);
				if (typeof camera !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(camera)) throw Object.assign(new Error("cameraId: a camera number or id"), { code: "INVALID_CAMERA" });
				const doc = await this.broker.call<{ cameraId?: number } | null, object>("cameras.get", { id: camera }).catch(() => null);
				if (!doc?.cameraId) throw Object.assign(new Error(`Camera ${camera} not found`), { code: "CAMERA_NOT_FOUND" });
				return doc.cameraId;
			},

			async subscribeClient(this: SocketThis, id: string, msg: unknown) {
				const m = (msg ?? {}) as { channel?: unknown; cameraId?: unknown; slotId?: unknown };
				if (m.channel === undefined || m.channel === "sessions") {
					// The sessions' original subscription: one slot.
					const slotId = Number(m.slotId);
					if (m.channel === undefined && !Number.isInteger(slotId)) return { ok: false, code: "SLOT_ID_REQUIRED", message: "slotId: an integer" };
					const r = this.relay.subscribe(id, "sessions", Number.isInteger(slotId) ? { slotId } : {});
					return r.ok ? { ok: true, channel: "sessions", ...(Number.isInteger(slotId) ? { slotId, room: `slot:${slotId}` } : {}) } : r;
				}
				if (!isChannel(m.channel)) return { ok: false, code: "UNKNOWN_CHANNEL", message: `Unknown channel ${String(m.channel).slice(0, 64)}` };
				let cameraId: number | undefined;
				try {
					cameraId = await this.cameraNumber(m.cameraId);
				} catch (err) {
					return { ok: false, code: (err as { code?: string }).code ?? "INVALID_CAMERA", message: (err as Error).message };
				}
				const r = this.relay.subscribe(id, m.channel, { cameraId });
				return r.ok ? { ok: true, channel: m.channel, ...(cameraId !== undefined ? { cameraId } : {}) } : r;
			},

			async unsubscribeClient(this: SocketThis, id: string, msg: unknown) {
				const m = (msg ?? {}) as { channel?: unknown; cameraId?: unknown; slotId?: unknown };
				if (m.channel === undefined || m.channel === "sessions") {
					const slotId = Number(m.slotId);
					this.relay.unsubscribe(id, "sessions", Number.isInteger(slotId) ? { slotId } : {});
					return { ok: true };
				}
				if (!isChannel(m.channel)) return { ok: false, code: "UNKNOWN_CHANNEL", message: "Unknown channel" };
				const cameraId = await this.cameraNumber(m.cameraId).catch(() => undefined);
				this.relay.unsubscribe(id, m.channel, { cameraId });
				return { ok: true, channel: m.channel };
			},

			attachSocketServer(this: SocketThis) {
				this.liveConfig = cfg;
				this.relay = new LiveRelay({ slowMs: cfg.liveSlowClientMs, log: (message, fields) => this.logger.warn(message, fields) });
				const io = new SocketServer(this.server, { path: "/socket.io", serveClient: false, cors: { origin: true }, maxHttpBufferSize: 64 * 1024 });
				this.io = io;
				io.use((socket: Socket, next: (err?: Error) => void) => {
					const auth = (socket.handshake.auth ?? {}) as { apiKey?: unknown; token?: unknown };
					const token = typeof auth.token === "string" ? auth.token : bearerOf(socket.handshake.headers.authorization);
					const check = token ? this.credentials.bearer(token) : this.credentials.apiKey(auth.apiKey ?? socket.handshake.headers["x-api-key"]);
					check.then(
						principal => {
							socket.data.principal = principal;
							next();
						},
						(err: { type?: string }) => next(new Error(err.type ?? "UNAUTHORIZED"))
					);
				});
				io.on("connection", socket => {
					const principal = socket.data.principal as Principal;
					const client: LiveClient = {
						id: socket.id,
						transport: "socket.io",
						principal,
						maxBuffered: cfg.liveMaxBufferedMessages,
						// Engine.IO queues packets here while the connection cannot take more.
						buffered: () => (socket.conn as unknown as { writeBuffer?: unknown[] }).writeBuffer?.length ?? 0,
						send: (m: LiveMessage) => void socket.emit(m.event ?? m.channel, m.payload ?? m.message),
						close: (code: string, reason: string) => {
							socket.emit("error", { code, message: reason });
							socket.disconnect(true);
						}
					};
					this.relay.add(client);
					socket.on("disconnect", () => this.relay.remove(socket.id));
					const hs = (socket.handshake.auth ?? {}) as { slots?: unknown; channels?: unknown };
					// A client that names slots hears only those; otherwise every session.
					if (Array.isArray(hs.slots) && hs.slots.length > 0) for (const s of hs.slots.slice(0, 100)) this.relay.subscribe(socket.id, "sessions", { slotId: Number(s) });
					else this.relay.subscribe(socket.id, "sessions");
					if (principal.kind === "user") for (const c of OWN_CHANNELS) this.relay.subscribe(socket.id, c);
					if (Array.isArray(hs.channels)) for (const c of hs.channels.slice(0, 20)) if (isChannel(c)) this.relay.subscribe(socket.id, c as Channel);
					socket.on("subscribe", (msg: unknown, ack?: (r: unknown) => void) => {
						void this.subscribeClient(socket.id, msg).then(r => (typeof ack === "function" ? ack(r) : undefined));
					});
					socket.on("unsubscribe", (msg: unknown, ack?: (r: unknown) => void) => {
						void this.unsubscribeClient(socket.id, msg).then(r => (typeof ack === "function" ? ack(r) : undefined));
					});
				});
				this.attachWebSocket();
			},

			/** The seed's plain WebSocket protocol at /ws. */
			attachWebSocket(this: SocketThis) {
				const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 });
				this.wss = wss;
				let seq = 0;
				this.onUpgrade = (req, socket, head) => {
					const url = new URL(req.url ?? "/", "http://gateway");
					if (url.pathname !== WS_PATH) return; // another path's (Socket.IO, the streaming API)
					const token = url.searchParams.get("token") ?? bearerOf(req.headers.authorization);
					const check = token ? this.credentials.bearer(token) : this.credentials.apiKey(req.headers["x-api-key"]);
					check.then(
						principal =>
							wss.handleUpgrade(req, socket, head, ws => {
								const id = `ws-${++seq}`;
								this.connectWs(ws, id, principal);
							}),
						(err: { type?: string; message?: string }) => {
							// Refused before the upgrade: a plain HTTP 401 with the code.
							const body = JSON.stringify({ type: "error", code: err.type ?? "UNAUTHORIZED", message: err.message ?? "Unauthorized" });
							socket.end(`HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
						}
					);
				};
				this.server.on("upgrade", this.onUpgrade);
			},

			connectWs(this: SocketThis, ws: WebSocket, id: string, principal: Principal) {
				const sendJson = (o: object) => {
					if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(o));
				};
				const client: LiveClient = {
					id,
					transport: "ws",
					principal,
					maxBuffered: cfg.liveMaxBufferBytes,
					buffered: () => ws.bufferedAmount,
					send: (_m: LiveMessage, text: string) => {
						if (ws.readyState === ws.OPEN) ws.send(text);
					},
					close: (code: string, reason: string) => {
						sendJson({ type: "error", code, message: reason });
						// 4000-4999: application codes; 1008 policy for auth, 1013 try again later for slow clients.
						ws.close(code === "SLOW_CONSUMER" ? 1013 : code === "SHUTDOWN" ? 1001 : 1008, code);
						setTimeout(() => ws.terminate(), 1000).unref();
					}
				};
				this.relay.add(client);
				if (principal.kind === "user") for (const c of OWN_CHANNELS) this.relay.subscribe(id, c);
				// A dead peer (no pong for two intervals) is dropped.
				let alive = true;
				ws.on("pong", () => (alive = true));
				const heartbeat = setInterval(() => {
					if (!alive) return ws.terminate();
					alive = false;
					ws.ping();
				}, 30_000);
				heartbeat.unref();
				ws.on("close", () => {
					clearInterval(heartbeat);
					this.relay.remove(id);
				});
				ws.on("error", () => ws.terminate());
				ws.on("message", (data: Buffer, isBinary: boolean) => {
					let msg: { type?: unknown; action?: unknown; channel?: unknown; cameraId?: unknown; slotId?: unknown };
					try {
						if (isBinary) throw new Error("binary");
						msg = JSON.parse(data.toString("utf8"));
						if (!msg || typeof msg !== "object") throw new Error("not an object");
					} catch {
						return sendJson({ type: "error", code: "INVALID_MESSAGE", message: "Messages are JSON objects: {action, channel, cameraId?} or {type: \"ping\"}" });
					}
					if (msg.type === "ping") return sendJson({ type: "pong", timestamp: new Date().toISOString() });
					if (msg.action === "subscribe" || msg.action === "unsubscribe") {
						if (msg.channel === undefined) return sendJson({ type: "error", code: "CHANNEL_REQUIRED", message: "channel: one of the live channels" });
						const work = msg.action === "subscribe" ? this.subscribeClient(id, msg) : this.unsubscribeClient(id, msg);
						void work.then(r => sendJson(r.ok ? { type: msg.action === "subscribe" ? "subscribed" : "unsubscribed", ...r, ok: undefined } : { type: "error", code: r.code, message: r.message, channel: msg.channel }));
						return;
					}
					sendJson({ type: "error", code: "UNKNOWN_ACTION", message: "action: subscribe or unsubscribe; or type: ping" });
				});
			}
		},
		events: {
			"live.**": {
				handler(this: SocketThis, ctx: Context<Record<string, unknown>>) {
					this.relay?.event(String(ctx.eventName), ctx.params);
				}
			},
			...Object.fromEntries(
				CHANNEL_EVENTS.map(name => [
					name,
					{
						handler(this: SocketThis, ctx: Context<Record<string, unknown>>) {
							this.relay?.event(name, ctx.params);
						}
					}
				])
			),
			"auth.revoked": {
				handler(this: SocketThis, ctx: Context<{ userId?: string; familyId?: string; keepFamily?: string }>) {
					this.relay?.revoked(ctx.params);
				}
			}
		},
		async stopped(this: SocketThis) {
			this.relay?.closeAll();
			if (this.onUpgrade) this.server.off("upgrade", this.onUpgrade);
			if (this.wss) await new Promise<void>(resolve => this.wss!.close(() => resolve()));
			if (this.io) await new Promise<void>(resolve => this.io!.close(() => resolve()));
		}
	};
}
