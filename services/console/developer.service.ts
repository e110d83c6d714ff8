/**
 * The developer console (gateway role; seed 002 "Developer Console"): the endpoints of this
 * gateway, from its OpenAPI facts, and `invoke`, which calls one of them over HTTP on this
 * gateway's own port with the caller's own credentials: the endpoint sees the caller, with
 * the caller's permissions, never the gateway's. Only the gateway's own routes can be
 * invoked, so invoke cannot be turned against other hosts.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { openApiPath, operationId } from "../../lib/api/openapi";
import type { Endpoint } from "../../lib/api/route-facts";
import { ApiError } from "../../lib/errors";
import type { GatewayMeta, Implements } from "../schema";

type Routed = Endpoint & { prefix: string };
interface Routes {
	port: number;
	host: string;
	endpoints: Routed[];
}

const MAX_BODY = 1024 * 1024;
/** Answer headers worth showing; cookies and the like stay out. */
const SHOWN_HEADERS = ["content-type", "content-length", "x-request-id", "retry-after", "location"];

function describe(e: Routed) {
	return {
		id: operationId(e),
		label: e.facts.openapi?.tags?.[0] ?? e.resource,
		description: e.facts.openapi?.summary ?? e.action,
		method: e.method,
		path: openApiPath(e.prefix, e.path),
		family: e.family,
		permission: e.permission
	};
}

interface Settings {
	family: string;
	resource: string;
}

interface Methods {
	routes(ctx: Context): Promise<Routes>;
}

export default function developerService(cfg: Config): ServiceSchema<Settings, Methods, object> {
	return {
		name: "developer",
		settings: { family: "console", resource: "developer" },
		actions: {
			endpoints: {
				rest: "GET /developer/endpoints",
				permission: "system:read",
				openapi: { summary: "Endpoints of this gateway, for the developer console", tags: ["developer"], response: { type: "array", items: { type: "object" } } },
				params: { $$strict: true },
				async handler(ctx: Context) {
					const { endpoints } = await this.routes(ctx);
					return endpoints.filter(e => !e.facts.forwardCredentials).map(describe);
				}
			},

			invoke: {
				rest: "POST /developer/endpoints/:id/invoke",
				permission: "developer:invoke",
				forwardCredentials: true,
				openapi: {
					summary: "Call an endpoint of this gateway as the caller (with the caller's permissions) and see its raw answer",
					tags: ["developer"],
					response: { type: "object", properties: { status: { type: "integer" }, headers: { type: "object" }, body: {} } },
					errors: ["ENDPOINT_NOT_FOUND", "MISSING_PATH_PARAM"]
				},
				params: {
					id: { type: "string", min: 1, max: 200 },
					payload: { type: "any", optional: true },
					pathParams: { type: "record", key: { type: "string", max: 64 }, value: { type: "multi", rules: [{ type: "string", max: 500 }, { type: "number" }] }, optional: true },
					query: { type: "record", key: { type: "string", max: 64 }, value: { type: "multi", rules: [{ type: "string", max: 2000 }, { type: "number" }, { type: "boolean" }] }, optional: true },
					$$strict: true
				},
				async handler(ctx: Context<{ id: string; payload?: unknown; pathParams?: Record<string, string | number>; query?: Record<string, unknown> }, GatewayMeta>) {
					const creds = ctx.meta.$credentials ?? {};
					ctx.meta.$credentials = undefined; // the caller's secret goes no further than this request
					const { port, endpoints } = await this.routes(ctx);
					const e = endpoints.find(x => operationId(x) === ctx.params.id && !x.facts.forwardCredentials);
					if (!e) throw new ApiError(404, "ENDPOINT_NOT_FOUND", `No endpoint ${ctx.params.id} on this gateway`);
					let path = openApiPath(e.prefix, e.path);
					for (const name of [...path.matchAll(/\{([A-Za-z0-9_]+)\}/g)].map(m => m[1])) {
						const v = ctx.params.pathParams?.[name];
						if (v === undefined || v === "") throw new ApiError(400, "MISSING_PATH_PARAM", `Path parameter ${name} is required`, { details: [{ field: `pathParams.${name}`, issue: "required" }] });
						path = path.replace(`{${name}}`, encodeURIComponent(String(v)));
					}
					const url = new URL(`http://127.0.0.1:${port}${path}`);
					const hasBody = !["GET", "DELETE"].includes(e.method);
					const query = { ...(ctx.params.query ?? {}), ...(!hasBody && ctx.params.payload && typeof ctx.params.payload === "object" ? (ctx.params.payload as object) : {}) };
					for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
					const headers: Record<string, string> = { "X-Request-Id": `${ctx.meta.request?.requestId ?? ctx.requestID}.invoke`.slice(0, 128) };
					if (creds.authorization) headers.Authorization = creds.authorization;
					if (creds.apiKey) headers["X-API-Key"] = creds.apiKey;
					if (ctx.meta.request?.userAgent) headers["User-Agent"] = ctx.meta.request.userAgent;
					let body: string | undefined;
					if (hasBody && ctx.params.payload !== undefined) {
						headers["Content-Type"] = "application/json";
						body = JSON.stringify(ctx.params.payload);
					}
					const res = await fetch(url, { method: e.method, headers, body, signal: AbortSignal.timeout(cfg.requestTimeout), redirect: "manual" });
					const buf = Buffer.from(await res.arrayBuffer());
					const text = buf.subarray(0, MAX_BODY).toString("utf8");
					let parsed: unknown = text;
					if ((res.headers.get("content-type") ?? "").includes("json")) {
						try {
							parsed = JSON.parse(text);
						} catch {
							/* truncated or not JSON: the text */
						}
					}
					const shown: Record<string, string> = {};
					for (const h of SHOWN_HEADERS) {
						const v = res.headers.get(h);
						if (v !== null) shown[h] = v;
					}
					ctx.meta.$audit = { resourceId: ctx.params.id, message: `Invoked ${e.method} ${path}: ${res.status}`, context: { endpoint: ctx.params.id, status: res.status } };
					return { status: res.status, headers: shown, body: parsed, ...(buf.length > MAX_BODY ? { truncated: true } : {}) };
				}
			}
		},
		methods: {
			/** This node's gateway: its port and endpoints. */
			routes(ctx: Context) {
				return ctx.call<Routes, object>("api.routes", {}, { nodeID: this.broker.nodeID });
			}
		} satisfies Implements<Methods, Settings>
	};
}
