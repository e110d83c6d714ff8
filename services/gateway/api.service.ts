/**
 * The gateway (gateway role): moleculer-web plus Socket.IO on one HTTP port. It holds no
 * route of its own making: every endpoint is declared by the action that serves it (`rest`,
 * `permission`, `family`, ... in the action's schema, lib/api/route-facts.ts), and the
 * gateway assembles its routes from what the registry announces, one route per API family
 * and body limit. A family decides the prefix, the credentials and the envelope:
 * - integration (FUACS spec): /api/v1, X-API-Key, {status, message, data}
 * - console (seed 002): /api/v1, Bearer JWT, {success, data, meta}, rate-limited
 * - face (seed 001): /, X-API-Key (or Bearer), the data itself
 * On the same server: Socket.IO and /ws (socket.mixin.ts), streaming recognition at
 * /ws/recognize (recognize-stream.ts).
 * Permissions are enforced for every caller by middlewares/permissions.middleware.ts.
 */
import crypto from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Context, LogLevels, ServiceSchema } from "moleculer";
import ApiGateway from "moleculer-web";
import type { Config } from "../../config";
import { errorBody, saneRequestId, successBody, toProblem, type ErrorLike } from "../../lib/api/envelopes";
import { buildOpenApi } from "../../lib/api/openapi";
import { RateLimiter } from "../../lib/api/rate-limit";
import { AUTHENTICATED, collectEndpoints, hasPermission, PUBLIC, type Endpoint, type Family, type RegistryService, type RouteFacts } from "../../lib/api/route-facts";
import { ApiError } from "../../lib/errors";
import pkg from "../../package.json";
import type { GatewayMeta, Implements, Principal, ServiceThis } from "../schema";
import { Credentials } from "./credentials";
import { serveConsole } from "./console";
import { serveDocs } from "./docs";
import type { LiveRelay } from "./live-relay";
import { RecognizeStreams } from "./recognize-stream";
import { SocketMixin } from "./socket.mixin";
import { receiveImages, streamUpload } from "./uploads";
import { addOwnPort, removeOwnPort } from "../../lib/net/outbound";

interface AliasFacts {
	family: Family;
	facts: RouteFacts;
	uploadAction?: string;
}
type Req = IncomingMessage & { $alias?: AliasFacts; $ctx?: Context<unknown, GatewayMeta>; $route?: unknown };

interface Family_ {
	prefix: string;
	bodyLimit: number;
	/** Requests per minute per caller and per address; 0 = not limited. */
	rateLimit: number;
}

interface Settings {
	server: false;
	port: number;
	ip: string;
	path: string;
	routes: null;
	optimizeOrder: boolean;
	log4XXResponses: boolean;
	logRouteRegistration: LogLevels;
	logRequest: LogLevels;
	logResponse: LogLevels;
	httpServerTimeout: number;
	family: Family;
	rootCallOptions(options: { requestID?: string }, req: IncomingMessage): void;
	onError(this: This, req: Req, res: ServerResponse, err: ErrorLike): void;
}

interface Methods {
	endpoints(): Endpoint[];
	assembleRoutes(): void;
	authenticate(ctx: Context, route: unknown, req: Req): Promise<Principal | null>;
	rateLimit(key: string): void;
	sendProblem(req: Req, res: ServerResponse, err: unknown): void;
	handleUpload(req: Req, res: ServerResponse): Promise<void>;
	listenWhenReady(): Promise<void>;
}

/**
 * What the mixins give the gateway, which their typings do not say: moleculer-web's schema
 * is typed as a plain ServiceSchema (no method types), and the Socket.IO mixin keeps its
 * own `this` to itself.
 */
interface MixinVars {
	/** moleculer-web: the request handler of its routes (`server: false`, so the server below calls it). */
	httpHandler(req: IncomingMessage, res: ServerResponse): void;
	addRoute(opts: object, toBottom?: boolean): unknown;
	removeRouteByName(name: string): boolean;
	optimizeAliasesOrder(): void;
	/** SocketMixin: Socket.IO and /ws on `server`. */
	attachSocketServer(): void;
	/** SocketMixin: the live relay of this gateway's clients (made by attachSocketServer). */
	relay?: LiveRelay;
}

interface Vars extends MixinVars {
	server: http.Server;
	credentials: Credentials;
	/** Streaming recognition at /ws/recognize (seed 003). */
	streams?: RecognizeStreams;
	limiter: RateLimiter | null;
	known: Map<string, Endpoint>;
	routeNames: Set<string>;
	problemsLogged: Set<string>;
	port: number;
}

/** The gateway's `this`, for the functions moleculer-web calls with it that the schema does not type (settings.onError, route options, alias handlers). */
type This = ServiceThis<Settings, Methods, Vars>;

function clientIp(req: IncomingMessage): string {
	return (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
}

/** The family of a request no route matched: by its credentials, else by its path. */
function guessFamily(req: IncomingMessage): Family {
	if (/^Bearer\s/i.test(String(req.headers.authorization ?? ""))) return "console";
	if (/^\/api\/(face-|anti-spoofing)/.test(req.url ?? "")) return "face";
	return "integration";
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
	if (res.headersSent) {
		res.end();
		return;
	}
	const text = JSON.stringify(body);
	res.writeHead(status, { ...headers, "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
	res.end(text);
}

export default function apiService(cfg: Config): ServiceSchema<Settings, Methods, Vars> {
	const families: Record<Family, Family_> = {
		integration: { prefix: "/api/v1", bodyLimit: cfg.maxBodyBytes, rateLimit: 0 },
		console: { prefix: "/api/v1", bodyLimit: cfg.consoleBodyBytes, rateLimit: cfg.rateLimitPerMinute },
		face: { prefix: "", bodyLimit: cfg.maxBodyBytes, rateLimit: 0 }
	};

	return {
		name: "api",
		// The one cast, at the mixin boundary: SocketMixin types its handlers' `this` as its own
		// SocketThis, which `mixins` (Partial<ServiceSchema> of a plain Service) cannot take as is.
		mixins: [ApiGateway, SocketMixin(cfg) as Partial<ServiceSchema>],
		settings: {
			// The server is made here and opened only once every service of this node has
			// started (listenWhenReady), so a node's first answer is about a node that is up.
			server: false,
			port: cfg.port,
			ip: cfg.host,
			path: "",
			routes: null,
			optimizeOrder: true,
			log4XXResponses: false,
			logRouteRegistration: "debug",
			logRequest: "debug",
			logResponse: "debug",
			httpServerTimeout: 120_000,
			family: "console",
			rootCallOptions(options: { requestID?: string }, req: IncomingMessage) {
				options.requestID = saneRequestId(req.headers["x-request-id"]) ?? crypto.randomUUID();
			},
			/** Requests no route matched (404), in the envelope their credentials suggest. */
			onError(this: This, req: Req, res: ServerResponse, err: ErrorLike) {
				this.sendProblem(req, res, err);
			}
		},

		actions: {
			// moleculer-web's own alias listing: the OpenAPI document below says it all.
			listAliases: false,
			/** The OpenAPI 3.1 document of every endpoint this gateway serves, from the actions' own schemas. */
			openapi: {
				rest: "GET /openapi.json",
				permission: PUBLIC,
				openapi: { summary: "OpenAPI 3.1 document of this gateway", tags: ["developer"] },
				handler(ctx: Context<unknown, GatewayMeta>) {
					ctx.meta.$responseType = "application/json";
					return buildOpenApi(this.endpoints(), { title: "Rollcall API", version: pkg.version, prefixes: { integration: families.integration.prefix, console: families.console.prefix, face: families.face.prefix } });
				}
			},
			/** This gateway's endpoints and port, for the developer console on the same node. */
			routes: {
				visibility: "public",
				handler() {
					return { port: this.port, host: cfg.host, endpoints: this.endpoints().map(e => ({ ...e, prefix: families[e.family].prefix })) };
				}
			}
		},

		events: {
			// At once, not debounced: a service the registry lists is routed before anyone can see it there.
			"$services.changed"() {
				if (this.server.listening) this.assembleRoutes();
			},
			"auth.revoked"() {
				this.credentials.forgetLogins();
			},
			"apikeys.changed"() {
				this.credentials.forgetKeys();
			},
			"faces.changed"() {
				this.streams?.forgetProfiles();
			}
		},

		methods: {
			endpoints(): Endpoint[] {
				return [...this.known.values()];
			},

			/**
			 * Routes from the registry: every published action with `rest`, grouped by family
			 * and body limit. Endpoints are kept when their service goes away, so a request to
			 * one answers 503 (no node can serve it) rather than 404.
			 */
			assembleRoutes() {
				const services = this.broker.registry.getServiceList({ onlyAvailable: true, withActions: true, skipInternal: true }) as unknown as RegistryService[];
				const { endpoints, problems } = collectEndpoints(services);
				for (const p of problems)
					if (!this.problemsLogged.has(p)) {
						this.problemsLogged.add(p);
						this.logger.error("Route not served: its action's declaration is incomplete", { problem: p });
					}
				for (const e of endpoints) if (e.permission) this.known.set(`${e.family} ${e.method} ${e.path}`, e);

				const groups = new Map<string, { family: Family; limit: number; endpoints: Endpoint[] }>();
				for (const e of this.known.values()) {
					const limit = e.facts.bodyLimit ?? families[e.family].bodyLimit;
					const name = `${e.family}:${limit}`;
					if (!groups.has(name)) groups.set(name, { family: e.family, limit, endpoints: [] });
					groups.get(name)!.endpoints.push(e);
				}
				for (const name of this.routeNames) if (!groups.has(name)) this.removeRouteByName(name);
				this.routeNames = new Set(groups.keys());
				for (const [name, g] of groups) {
					const aliases: Record<string, object> = {};
					for (const e of g.endpoints) {
						const facts: AliasFacts = { family: e.family, facts: e.facts };
						aliases[`${e.method} ${e.path}`] = e.facts.upload
							? {
									...facts,
									uploadAction: e.action,
									handler(this: This, req: Req, res: ServerResponse) {
										void this.handleUpload(req, res);
									}
								}
							: { ...facts, action: e.action };
					}
					this.addRoute({
						name,
						path: families[g.family].prefix,
						mappingPolicy: "restrict",
						autoAliases: false,
						authentication: true,
						bodyParsers: { json: { limit: g.limit, strict: true }, urlencoded: false },
						aliases,
						onBeforeCall(ctx: Context<unknown, GatewayMeta>, _route: unknown, req: Req) {
							ctx.meta.request = {
								requestId: ctx.requestID ?? "",
								ip: clientIp(req),
								userAgent: String(req.headers["user-agent"] ?? "").slice(0, 300),
								method: req.method ?? "",
								path: (req.url ?? "").split("?")[0]
							};
							if (req.$alias?.facts.forwardCredentials) {
								const h = req.headers;
								ctx.meta.$credentials = { authorization: typeof h.authorization === "string" ? h.authorization : undefined, apiKey: typeof h["x-api-key"] === "string" ? h["x-api-key"] : undefined };
							}
						},
						onAfterCall(ctx: Context<unknown, GatewayMeta>, _route: unknown, req: Req, _res: ServerResponse, data: unknown) {
							if (ctx.meta.$responseType) return data; // files, streams and documents pass through
							const a = req.$alias!;
							const status = ctx.meta.$statusCode ?? a.facts.status ?? 200;
							ctx.meta.$statusCode = status;
							if (status === 204) return null;
							const id = (data as { id?: unknown } | null)?.id;
							if (status === 201 && (typeof id === "string" || typeof id === "number")) ctx.meta.$location = `${String((req as { originalUrl?: string }).originalUrl ?? req.url ?? "").split("?")[0].replace(/\/+$/, "")}/${encodeURIComponent(String(id))}`;
							return successBody(a.family, status, ctx.meta.$message ?? a.facts.message ?? "OK", data, !!a.facts.paged);
						},
						onError(this: This, req: Req, res: ServerResponse, err: ErrorLike) {
							this.sendProblem(req, res, err);
						}
					});
				}
				this.optimizeAliasesOrder();
			},

			/** Who is calling (the route's `authentication`): nobody for public routes; rate limits for the console. */
			async authenticate(_ctx: Context, _route: unknown, req: Req): Promise<Principal | null> {
				const a = req.$alias!;
				const limited = families[a.family].rateLimit > 0;
				if (limited) this.rateLimit(`ip:${clientIp(req)}`);
				if (a.facts.permission === PUBLIC) return null;
				const principal = await this.credentials.fromHeaders(a.family, req.headers);
				if (limited) this.rateLimit(`${principal.kind}:${principal.id}`);
				return principal;
			},

			rateLimit(key: string) {
				const wait = this.limiter?.hit(key);
				if (wait) throw new ApiError(429, "RATE_LIMITED", `Too many requests: try again in ${wait} s`, { retryAfter: wait });
			},

			/** An error in its family's envelope, with the request id (also as X-Request-Id). */
			sendProblem(req: Req, res: ServerResponse, err: unknown) {
				const family = req.$alias?.family ?? guessFamily(req);
				const p = toProblem((err ?? {}) as ErrorLike);
				const requestId = req.$ctx?.requestID ?? saneRequestId(req.headers["x-request-id"]) ?? crypto.randomUUID();
				if (p.status >= 500) this.logger.error("Request failed", { method: req.method, url: req.url?.split("?")[0], error: (err as Error)?.message, code: p.code, requestId });
				const headers: Record<string, string> = { "X-Request-Id": requestId };
				if (p.retryAfter) headers["Retry-After"] = String(p.retryAfter);
				sendJson(res, p.status, errorBody(family, p, requestId), headers);
			},

			/** A multipart endpoint: its declared field streamed to its action. */
			async handleUpload(req: Req, res: ServerResponse) {
				const a = req.$alias!;
				const ctx = req.$ctx!;
				try {
					const up = a.facts.upload!;
					// An upload is read before its action runs: refuse a caller without the
					// permission before reading a byte (the action's middleware checks again).
					const needed = a.facts.permission;
					const user = ctx.meta.user;
					if (needed && needed !== PUBLIC && needed !== AUTHENTICATED && user && !hasPermission(user.permissions, needed)) {
						req.resume();
						throw new ApiError(403, "FORBIDDEN", `This needs the ${needed} permission`);
					}
					let data: unknown;
					if (up.mode === "images") {
						// Path params (:id) come with the alias; the form's fields beside the photos.
						const { fields, uploads } = await receiveImages(ctx, req, up);
						data = await ctx.call(a.uploadAction!, { ...fields, ...((req as { $params?: object }).$params ?? {}), uploads });
					} else data = await streamUpload(ctx, req, a.uploadAction!, up);
					const status = ctx.meta.$statusCode ?? a.facts.status ?? 200;
					sendJson(res, status, successBody(a.family, status, ctx.meta.$message ?? a.facts.message ?? "OK", data, false), { "X-Request-Id": ctx.requestID ?? "" });
				} catch (err) {
					if (!res.headersSent) this.sendProblem(req, res, err);
				}
			},

			/** Open the HTTP port (a broker middleware calls this once every local service has started). */
			async listenWhenReady() {
				this.assembleRoutes();
				await new Promise<void>((resolve, reject) => {
					const onError = (err: NodeJS.ErrnoException) => reject(err);
					this.server.once("error", onError);
					this.server.listen(this.settings.port, this.settings.ip, () => {
						this.server.off("error", onError);
						resolve();
					});
				});
				this.server.on("error", err => this.logger.error("HTTP server error", { error: err.message }));
				this.port = (this.server.address() as AddressInfo).port;
				// The outbound-URL policy never lets a caller's URL reach this port (PORT=0 chose it).
				addOwnPort(this.port);
				this.logger.info("Gateway listening", { url: `http://${cfg.host}:${this.port}`, socketIo: "/socket.io", endpoints: this.known.size });
			}
		} satisfies Implements<Methods, Settings, Vars>,

		created() {
			this.server = http.createServer((req, res) => {
				if (!serveDocs(req, res) && !serveConsole(req, res)) this.httpHandler(req, res);
			});
			this.server.setTimeout(120_000);
			this.credentials = new Credentials(this.broker, cfg);
			this.limiter = cfg.rateLimitPerMinute > 0 ? new RateLimiter(cfg.rateLimitPerMinute) : null;
			this.known = new Map();
			this.routeNames = new Set();
			this.problemsLogged = new Set();
			this.port = 0;
		},

		started() {
			this.attachSocketServer();
			this.streams = new RecognizeStreams({ broker: this.broker, cfg, credentials: this.credentials, relay: this.relay, logger: this.logger });
			this.streams.attach(this.server);
		},

		async stopped() {
			await this.streams?.close();
			if (this.port) removeOwnPort(this.port);
			if (this.server.listening) {
				this.server.closeAllConnections?.();
				await new Promise<void>(resolve => this.server.close(() => resolve()));
			}
		}
	};
}
