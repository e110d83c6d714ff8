/**
 * The REST gateway (gateway role): moleculer-web under /api/v1 with the FUACS envelope
 * ({status, message, data} / {status, message, code}), X-API-Key on every route but
 * health, and a Socket.IO server on the same HTTP port relaying `live.*` events.
 */
import type { IncomingMessage, ServerResponse, Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import Busboy from "@fastify/busboy";
import type { Context, ServiceSchema } from "moleculer";
import ApiGateway from "moleculer-web";
import { Server as SocketServer } from "socket.io";
import type { Config } from "../config";
import pkg from "../package.json";
import { secretEquals } from "../lib/auth";
import { ApiError } from "../lib/errors";
import { isoSeconds } from "../lib/time";

export const SERVICE_NAME = "FUACS Face Recognition Service";

/** Store services whose reachability decides `unhealthy`. */
const STORES = ["sessions", "recognitions", "attendance", "audit", "cameras", "embeddings"];
/** Services whose absence makes the system `degraded`: it answers, but cannot recognise. */
const CAPACITY = { inference: "inference", actors: "recognition" } as const;

type Req = IncomingMessage & { $action?: { message?: string }; $ctx?: Context };
type Meta = { $statusCode?: number; $message?: string; $responseType?: string };

interface ErrorLike {
	code?: unknown;
	type?: unknown;
	message?: string;
	data?: unknown;
	status?: number;
	statusCode?: number;
}

/** Map any error to the spec's error envelope. */
export function errorEnvelope(err: ErrorLike): { status: number; message: string; code: string } {
	if (err instanceof ApiError) return { status: Number(err.code), message: err.message, code: String(err.type) };
	const httpStatus = err.status ?? err.statusCode;
	if (httpStatus === 413 || err.type === "entity.too.large") return { status: 413, message: "Request body is too large", code: "PAYLOAD_TOO_LARGE" };
	if (err.type === "entity.parse.failed") return { status: 400, message: "Request body is not valid JSON", code: "INVALID_JSON" };
	if (err.type === "VALIDATION_ERROR") {
		const fields = Array.isArray(err.data) ? (err.data as { message?: string }[]).map(d => d.message).filter(Boolean) : [];
		return { status: 400, message: fields.length ? fields.join("; ") : "Parameters validation error", code: "VALIDATION_ERROR" };
	}
	const code = typeof err.code === "number" ? err.code : 500;
	if (code === 404 && err.type === "NOT_FOUND") return { status: 404, message: "Not found", code: "NOT_FOUND" };
	if (err.type === "SERVICE_NOT_FOUND" || err.type === "SERVICE_NOT_AVAILABLE")
		return { status: 503, message: "No node can serve this request right now", code: "SERVICE_UNAVAILABLE" };
	if (err.type === "REQUEST_TIMEOUT") return { status: 504, message: "The request timed out", code: "REQUEST_TIMEOUT" };
	if (code >= 400 && code < 500 && typeof err.type === "string") return { status: code, message: err.message ?? "Bad request", code: err.type };
	return { status: 500, message: "Internal server error", code: "INTERNAL_ERROR" };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
	if (res.headersSent) {
		res.end();
		return;
	}
	const text = JSON.stringify(body);
	res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
	res.end(text);
}

export default function apiService(cfg: Config): ServiceSchema {
	const common = {
		mappingPolicy: "restrict",
		autoAliases: false,
		/** Wrap an action's result in the spec's success envelope. */
		onAfterCall(ctx: Context<unknown, Meta>, _route: unknown, req: Req, _res: ServerResponse, data: unknown) {
			if (ctx.meta.$responseType) return data; // files and streams pass through
			const status = ctx.meta.$statusCode ?? 200;
			return { status, message: ctx.meta.$message ?? req.$action?.message ?? "OK", data };
		},
		onError(this: { logger: { error(...a: unknown[]): void } }, req: Req, res: ServerResponse, err: ErrorLike) {
			const env = errorEnvelope(err);
			if (env.status >= 500) this.logger.error("Request failed", { method: req.method, url: req.url?.split("?")[0], error: err.message, code: env.code });
			sendJson(res, env.status, env);
		}
	};

	return {
		name: "api",
		mixins: [ApiGateway],
		settings: {
			port: cfg.port,
			ip: cfg.host,
			path: "/api/v1",
			log4XXResponses: false,
			logRouteRegistration: "debug",
			logRequest: "debug",
			logResponse: "debug",
			httpServerTimeout: 120_000,
			routes: [
				{
					name: "public",
					path: "/",
					authentication: false,
					bodyParsers: { json: false, urlencoded: false },
					aliases: { "GET health": "api.health" },
					...common
				},
				{
					name: "protected",
					path: "/",
					authentication: true,
					bodyParsers: { json: { limit: cfg.maxBodyBytes, strict: true }, urlencoded: false },
					aliases: {
						"POST recognition/process-session": "recognition.processSession",
						"POST recognition/stop-session": "recognition.stopSession",
						"GET recognition/sessions": "recognition.sessions",
						"GET metrics": "metrics.snapshot",
						"POST embeddings/generate": "enrollment.generate",
						"POST embeddings/validate"(this: any, req: Req, res: ServerResponse) {
							this.uploadVideo(req, res);
						},
						// Before "cameras/:id", so these are not taken for ids.
						"GET cameras/test-connection": "streams.testConnection",
						"GET cameras/capture-frame": "streams.captureFrame",
						"GET files/:name": "streams.file",
						"GET cameras": "cameras.list",
						"GET cameras/:id": "cameras.get",
						"POST cameras": "cameras.create",
						"PUT cameras/:id": "cameras.update",
						"DELETE cameras/:id": "cameras.remove"
					},
					...common
				}
			],
			onError: common.onError
		},
		actions: {
			health: {
				message: "Service is healthy",
				async handler(this: any, ctx: Context<unknown, Meta>) {
					const report = await this.checkHealth(ctx);
					ctx.meta.$message = `Service is ${report.status}`;
					if (report.status === "unhealthy") {
						ctx.meta.$statusCode = 503;
						return { service: SERVICE_NAME, status: "unhealthy", error: report.error, components: report.components };
					}
					return {
						service: SERVICE_NAME,
						version: pkg.version,
						status: report.status,
						uptime: Math.floor(process.uptime()),
						activeSessions: report.activeSessions,
						timestamp: isoSeconds(),
						components: report.components
					};
				}
			}
		},
		methods: {
			/** X-API-Key, compared in constant time. */
			authenticate(_ctx: Context, _route: unknown, req: IncomingMessage) {
				if (!secretEquals(req.headers["x-api-key"], cfg.apiKey)) throw new ApiError(401, "INVALID_API_KEY", "Invalid or missing API key");
				return { kind: "api-key" };
			},

			async checkHealth(this: any, ctx: Context) {
				const components: Record<string, string> = {};
				const failures: string[] = [];
				await Promise.all(
					STORES.map(async name => {
						try {
							await ctx.call(`${name}.health`, {}, { timeout: 3000 });
							components[name] = "up";
						} catch (err) {
							components[name] = "down";
							failures.push(name);
						}
					})
				);
				const services = new Set<string>(
					this.broker.registry.getServiceList({ onlyAvailable: true, skipInternal: true }).map((s: { name: string }) => s.name)
				);
				let degraded = false;
				for (const [role, svc] of Object.entries(CAPACITY)) {
					components[role] = services.has(svc) ? "up" : "down";
					if (!services.has(svc)) degraded = true;
				}
				if (failures.length > 0)
					return { status: "unhealthy", error: `Database connection failed: ${failures.sort().join(", ")} unreachable`, components };
				let activeSessions = 0;
				try {
					activeSessions = await ctx.call("sessions.count", { query: { status: { $in: ["starting", "active", "stopping"] } } }, { timeout: 3000 });
				} catch {
					return { status: "unhealthy", error: "Database connection failed: sessions unreachable", components };
				}
				return { status: degraded ? "degraded" : "healthy", activeSessions, components };
			},

			/**
			 * embeddings/validate: the multipart field `video` is streamed to `enrollment.validate`
			 * (on whichever node runs it) as it arrives, never buffered here; past the size limit
			 * the stream is cut and the answer is FILE_TOO_LARGE.
			 */
			uploadVideo(this: any, req: Req, res: ServerResponse) {
				const ctx = req.$ctx as Context<unknown, Meta>;
				const fail = (err: ErrorLike) => {
					req.unpipe();
					req.resume(); // read the rest so the client sees the answer, not a reset
					const env = errorEnvelope(err);
					if (env.status >= 500) this.logger.error("Request failed", { method: req.method, url: req.url?.split("?")[0], error: err.message, code: env.code });
					if (!res.headersSent) sendJson(res, env.status, env);
				};
				const required = () => new ApiError(400, "VIDEO_FILE_REQUIRED", "Video file is required");
				const tooLarge = () => new ApiError(400, "FILE_TOO_LARGE", `Video file exceeds maximum size of ${Math.round(cfg.maxUploadBytes / (1024 * 1024))}MB`);
				if (!/^multipart\/form-data/i.test(req.headers["content-type"] ?? "")) return fail(required());
				// Multipart framing adds a little; a declared length well past the limit is refused unread.
				if (Number(req.headers["content-length"]) > cfg.maxUploadBytes + 1024 * 1024) return fail(tooLarge());

				let busboy: ReturnType<typeof Busboy>;
				try {
					busboy = Busboy({ headers: req.headers as any, limits: { files: 1, fileSize: cfg.maxUploadBytes, fields: 20, fieldSize: 4096, parts: 40 } });
				} catch {
					return fail(required());
				}
				let call: Promise<unknown> | null = null;
				let truncated = false;
				busboy.on("file", (field: string, file: NodeJS.ReadableStream & { resume(): void; unpipe(): void }, filename: string, _enc: string, mimetype: string) => {
					if (field !== "video" || call) return file.resume();
					const pass = new PassThrough();
					file.on("limit", () => {
						truncated = true;
						file.unpipe();
						pass.destroy(tooLarge());
						file.resume();
					});
					file.pipe(pass);
					call = ctx.call("enrollment.validate", { filename, mimetype }, { stream: pass } as any);
					// An early refusal must not leave the upload stalled behind a full pipe.
					call.catch(() => {
						file.unpipe();
						file.resume();
					});
				});
				busboy.on("error", () => fail(required()));
				busboy.on("finish", async () => {
					if (!call) return fail(required());
					try {
						const data = await call;
						if (truncated) return fail(tooLarge());
						sendJson(res, 200, { status: 200, message: ctx.meta.$message ?? "OK", data });
					} catch (err) {
						fail(truncated ? tooLarge() : (err as ErrorLike));
					}
				});
				req.pipe(busboy);
			},

			/** Relay a live event to Socket.IO clients: everyone in `all`, and the slot's room. */
			relay(this: any, event: string, payload: { slotId?: number } | undefined) {
				if (!this.io) return;
				const name = event.replace(/^live\./, "");
				let target = this.io.to("all");
				if (payload && payload.slotId !== undefined) target = target.to(`slot:${payload.slotId}`);
				target.emit(name, payload ?? {});
			}
		},
		events: {
			"live.**": {
				handler(this: any, ctx: Context<{ slotId?: number }>) {
					this.relay(ctx.eventName, ctx.params);
				}
			}
		},
		started(this: any) {
			const server: HttpServer = this.server;
			const addr = server.address() as AddressInfo | null;
			this.port = addr?.port ?? cfg.port;
			this.io = new SocketServer(server, { path: "/socket.io", serveClient: false, cors: { origin: true } });
			this.io.use((socket: any, next: (err?: Error) => void) => {
				const key = socket.handshake.auth?.apiKey ?? socket.handshake.headers["x-api-key"];
				if (!secretEquals(key, cfg.apiKey)) return next(new Error("INVALID_API_KEY"));
				next();
			});
			this.io.on("connection", (socket: any) => {
				const slots: unknown = socket.handshake.auth?.slots;
				// A client that names slots hears only those; otherwise it hears everything.
				if (Array.isArray(slots) && slots.length > 0) for (const s of slots) socket.join(`slot:${Number(s)}`);
				else socket.join("all");
				socket.on("subscribe", (msg: { slotId?: unknown }, ack?: (r: unknown) => void) => {
					const id = Number(msg?.slotId);
					if (!Number.isInteger(id)) return ack?.({ ok: false, code: "SLOT_ID_REQUIRED" });
					socket.join(`slot:${id}`);
					ack?.({ ok: true, room: `slot:${id}` });
				});
				socket.on("unsubscribe", (msg: { slotId?: unknown }, ack?: (r: unknown) => void) => {
					socket.leave(`slot:${Number(msg?.slotId)}`);
					ack?.({ ok: true });
				});
			});
			this.logger.info("Gateway listening", { url: `http://${cfg.host}:${this.port}/api/v1`, socketIo: "/socket.io" });
		},
		async stopped(this: any) {
			if (this.io) await new Promise<void>(resolve => this.io.close(() => resolve()));
		}
	} as ServiceSchema;
}
