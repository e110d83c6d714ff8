/**
 * Health (gateway role).
 * - FUACS section 7, `GET /api/v1/health`: `healthy` when every store answers and inference
 *   and actors nodes are there; `degraded` when it answers but cannot recognise (no inference
 *   or no actors node); `unhealthy` (503) when a store is unreachable.
 * - Kubernetes probes beside it, at the root: `GET /health/live` (the process answers) and
 *   `GET /health/ready` (broker started, stores reachable, required services available; 503
 *   otherwise).
 * - The console's system health (seed 002 "System & Health"), collected from every node's own
 *   sampler (services/node-health.service.ts) and the broker registry: `GET
 *   /system/health/metrics`, `/system/health/services`, `/system/network-metrics`,
 *   `/system/uptime`, `/system/version`, and `POST /system/services/{id}/restart`
 *   (administrators; a rolling restart over the service's nodes, actors handed off first; audited).
 * - The alert watch (every ALERT_WATCH_MS, once the broker has started; lib/alerts/watch.ts):
 *   inference capacity lost (no inference node while sessions or enabled cameras need one),
 *   inference saturated (a node's queue ALERT_SATURATION full, from its load reports), store
 *   unreachable (a store's health check fails), raised through `alerts.raise` when they begin
 *   and resolved through `alerts.resolve` when they pass.
 */
import { ServiceBroker, type Context, type ServiceSchema } from "moleculer";
import type { Config } from "../config";
import pkg from "../package.json";
import { PUBLIC } from "../lib/api/route-facts";
import { ApiError, notFound } from "../lib/errors";
import { NOT_RESTARTABLE, servicesView, type RegistryEntry } from "../lib/system/registry";
import type { NodeSample } from "../lib/system/sample";
import { loadManifest } from "../lib/vision/manifest";
import { isoSeconds } from "../lib/time";
import { watchConditions } from "../lib/alerts/watch";
import { loadBook } from "../lib/cluster/inference-strategy";
import { InferenceClientMixin } from "../mixins/inference-client.mixin";
import type { GatewayMeta, Implements } from "./schema";

export const SERVICE_NAME = "FUACS Face Recognition Service";

/** Store services whose reachability decides `unhealthy`. */
const STORES = ["sessions", "recognitions", "attendance", "audit", "cameras", "embeddings"];
/** Services whose absence makes the system `degraded`: it answers, but cannot recognise. */
const CAPACITY = { inference: "inference", actors: "recognition" } as const;
/** Services a gateway needs to serve its routes at all (readiness), besides the stores. */
const REQUIRED = [...STORES, "auth", "users", "blobs"];

/** What a node's sampler answers (nodeHealth.read). */
export interface NodeReport {
	nodeID: string;
	roles: string[];
	hostname: string;
	pid: number;
	version: string;
	node: string;
	startedAt: string;
	uptimeSeconds: number;
	sampleMs: number;
	latest: NodeSample | null;
	history: NodeSample[];
	services: Record<string, string>;
}
type NodeAnswer = { nodeID: string; available: true; report: NodeReport } | { nodeID: string; available: false; error: string };

const serviceId = { type: "string", min: 1, max: 100, pattern: "^[A-Za-z][A-Za-z0-9_.-]*$" } as const;
const NODE_TIMEOUT_MS = 3000;

interface Report {
	status: "healthy" | "degraded" | "unhealthy";
	error?: string;
	activeSessions?: number;
	components: Record<string, string>;
}

interface Settings {
	family: string;
}

interface Methods {
	report(ctx: Context): Promise<Report>;
	storeChecks(ctx: Context | null): Promise<Record<string, boolean>>;
	watchTick(): Promise<void>;
	nodeReports(ctx: Context, limit: number): Promise<NodeAnswer[]>;
	nodesRunning(service: string): string[];
}

interface Vars {
	watchTimer: NodeJS.Timeout | null;
	watchRunning: Promise<void> | null;
	/** Causes this gateway raised and has not resolved. */
	watchOpen: Set<string>;
	/** Until a first full tick, every watched cause not holding is resolved (alerts left open before a restart). */
	watchFresh: boolean;
}

export default function healthService(cfg: Config): ServiceSchema<Settings, Methods, Vars> {
	return {
		name: "health",
		mixins: [InferenceClientMixin],
		settings: { family: "integration" },
		actions: {
			check: {
				rest: "GET /health",
				permission: PUBLIC,
				message: "Service is healthy",
				openapi: { summary: "Health of the cluster: stores, inference and actors capacity" },
				async handler(ctx: Context<unknown, GatewayMeta>) {
					const report = await this.report(ctx);
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
			},

			live: {
				rest: "GET /health/live",
				family: "face",
				permission: PUBLIC,
				openapi: { summary: "Liveness probe: the process answers", tags: ["health"] },
				handler() {
					return { status: "alive", nodeID: this.broker.nodeID, uptime: Math.floor(process.uptime()) };
				}
			},

			ready: {
				rest: "GET /health/ready",
				family: "face",
				permission: PUBLIC,
				openapi: { summary: "Readiness probe: broker started, stores reachable, required services available (503 otherwise)", tags: ["health"] },
				async handler(ctx: Context<unknown, GatewayMeta>) {
					const available = new Set((this.broker.registry.getServiceList({ onlyAvailable: true, skipInternal: true }) as { name: string }[]).map(x => x.name));
					const stores = await this.storeChecks(ctx);
					const services = Object.fromEntries(REQUIRED.map(n => [n, available.has(n)]));
					const failures = [...(this.broker.started ? [] : ["broker: not started"]), ...Object.entries(stores).filter(([, ok]) => !ok).map(([n]) => `store ${n}: unreachable`), ...Object.entries(services).filter(([, ok]) => !ok).map(([n]) => `service ${n}: not available`)];
					if (failures.length) ctx.meta.$statusCode = 503;
					return { status: failures.length ? "not_ready" : "ready", nodeID: this.broker.nodeID, checks: { broker: this.broker.started, stores, services }, failures };
				}
			},

			healthMetrics: {
				rest: "GET /system/health/metrics",
				family: "console",
				permission: "system:read",
				openapi: {
					summary: "CPU, memory, disk and network of every node, sampled by the node itself (latest and a bounded history)",
					tags: ["system"],
					response: { type: "object", properties: { sampleMs: { type: "integer" }, nodes: { type: "array", items: { type: "object", properties: { nodeID: { type: "string" }, available: { type: "boolean" }, roles: { type: "array" }, latest: { type: ["object", "null"] }, history: { type: "array" } } } } } }
				},
				params: { limit: { type: "number", integer: true, convert: true, min: 0, max: 100_000, optional: true }, $$strict: true },
				async handler(ctx: Context<{ limit?: number }>) {
					const answers = await this.nodeReports(ctx, ctx.params.limit ?? cfg.healthHistory);
					return {
						sampleMs: cfg.healthSampleMs,
						nodes: answers.map(a =>
							a.available
								? { nodeID: a.nodeID, available: true, roles: a.report.roles, hostname: a.report.hostname, latest: a.report.latest, history: a.report.history }
								: { nodeID: a.nodeID, available: false, error: a.error, latest: null, history: [] }
						)
					};
				}
			},

			healthServices: {
				rest: "GET /system/health/services",
				family: "console",
				permission: "system:read",
				openapi: {
					summary: "Every Moleculer service with its nodes, status (running, degraded, down), version and uptime, from the broker registry",
					tags: ["system"],
					response: { type: "object", properties: { services: { type: "array", items: { type: "object", properties: { id: { type: "string" }, name: { type: "string" }, version: { type: "string" }, status: { type: "string", enum: ["running", "degraded", "down"] }, available: { type: "integer" }, instances: { type: "integer" }, nodes: { type: "array" } } } }, nodes: { type: "array" } } }
				},
				params: { $$strict: true },
				async handler(ctx: Context) {
					const answers = await this.nodeReports(ctx, 0);
					const starts = new Map(answers.flatMap(a => (a.available ? [[a.nodeID, a.report.services] as const] : [])));
					const entries = this.broker.registry.getServiceList({ skipInternal: true }) as unknown as RegistryEntry[];
					const nodes = (this.broker.registry.getNodeList({ onlyAvailable: false, withServices: false }) as { id: string; available: boolean }[]).map(n => ({ nodeID: n.id, available: n.available }));
					return { services: servicesView(entries, starts, new Date(), pkg.version), nodes };
				}
			},

			networkMetrics: {
				rest: "GET /system/network-metrics",
				family: "console",
				permission: "system:read",
				openapi: { summary: "Per node: round trip from this gateway over the transporter, interface rates and counters, addresses", tags: ["system"] },
				params: { $$strict: true },
				async handler(ctx: Context) {
					const answers = await this.nodeReports(ctx, 0);
					const info = new Map((this.broker.registry.getNodeList({ onlyAvailable: false, withServices: false }) as { id: string; ipList?: string[]; hostname?: string; lastHeartbeatTime?: number }[]).map(n => [n.id, n]));
					const nodes = await Promise.all(
						answers.map(async a => {
							const local = a.nodeID === this.broker.nodeID;
							const t0 = Date.now();
							const pong = local ? null : await this.broker.ping(a.nodeID, NODE_TIMEOUT_MS).catch(() => null);
							const n = info.get(a.nodeID);
							return {
								nodeID: a.nodeID,
								available: a.available,
								local,
								roundTripMs: local ? 0 : pong ? (pong as { elapsedTime?: number }).elapsedTime ?? Date.now() - t0 : null,
								addresses: n?.ipList ?? [],
								hostname: n?.hostname ?? null,
								lastHeartbeat: n?.lastHeartbeatTime ? new Date(n.lastHeartbeatTime).toISOString() : null,
								network: a.available ? (a.report.latest?.network ?? null) : null
							};
						})
					);
					// The transporter's kind only: its URL may carry credentials.
					return { transporter: cfg.transporter ? cfg.transporter.split(":")[0] : null, nodes };
				}
			},

			uptime: {
				rest: "GET /system/uptime",
				family: "console",
				permission: "system:read",
				openapi: { summary: "Uptime of this gateway, of every node, and of the cluster (since its oldest live node started)", tags: ["system"] },
				params: { $$strict: true },
				async handler(ctx: Context) {
					const answers = await this.nodeReports(ctx, 0);
					const nodes = answers.map(a => (a.available ? { nodeID: a.nodeID, available: true, startedAt: a.report.startedAt, uptimeSeconds: a.report.uptimeSeconds } : { nodeID: a.nodeID, available: false, startedAt: null, uptimeSeconds: null }));
					const oldest = nodes.filter(n => n.startedAt).sort((a, b) => String(a.startedAt).localeCompare(String(b.startedAt)))[0];
					const uptime = Math.floor(process.uptime());
					return {
						nodeID: this.broker.nodeID,
						uptimeSeconds: uptime,
						startedAt: new Date(Date.now() - uptime * 1000).toISOString(),
						cluster: { since: oldest?.startedAt ?? null, uptimeSeconds: oldest?.uptimeSeconds ?? null, nodes: nodes.length, available: nodes.filter(n => n.available).length },
						nodes
					};
				}
			},

			version: {
				rest: "GET /system/version",
				family: "console",
				permission: "system:read",
				openapi: { summary: "Version of Rollcall, its runtime, Moleculer, the model set, and of each node", tags: ["system"] },
				params: { $$strict: true },
				async handler(ctx: Context) {
					let models: { set: string; embeddingVersion: number } | null = null;
					try {
						const m = loadManifest(cfg.modelsManifest);
						models = { set: m.set, embeddingVersion: m.embeddingVersion };
					} catch {
						/* no manifest on this node */
					}
					const answers = await this.nodeReports(ctx, 0);
					return {
						name: pkg.name,
						version: pkg.version,
						node: process.version,
						moleculer: ServiceBroker.MOLECULER_VERSION,
						models,
						nodes: answers.map(a => (a.available ? { nodeID: a.nodeID, version: a.report.version, node: a.report.node } : { nodeID: a.nodeID, version: null, node: null }))
					};
				}
			},

			restartService: {
				rest: "POST /system/services/:id/restart",
				family: "console",
				permission: "system:admin",
				audit: { resource: "service", severity: "warning" },
				openapi: {
					summary: "Restart a service on each of its nodes in turn (destroyed and made again from its factory); an actor service first hands its actors to its other nodes",
					tags: ["system"],
					errors: ["SERVICE_NOT_FOUND", "SERVICE_NOT_RESTARTABLE", "SERVICE_NOT_RESTARTED"]
				},
				params: { id: serviceId, $$strict: true },
				async handler(ctx: Context<{ id: string }, GatewayMeta>) {
					const name = ctx.params.id;
					if (NOT_RESTARTABLE.has(name)) throw new ApiError(409, "SERVICE_NOT_RESTARTABLE", `${name} cannot be restarted from the console (it serves this request)`);
					const nodes = this.nodesRunning(name);
					if (nodes.length === 0) throw notFound("SERVICE_NOT_FOUND", `No live node runs a service named ${name}`);
					const results: Record<string, unknown>[] = [];
					// One node at a time, so the others serve meanwhile.
					for (const nodeID of nodes) results.push(await ctx.call<Record<string, unknown>, object>("nodeHealth.restart", { service: name }, { nodeID, timeout: Math.max(120_000, cfg.requestTimeout) }));
					ctx.meta.$audit = { resourceId: name, message: `Restarted ${name} on ${nodes.length} node(s)`, context: { nodes: results } };
					return { service: name, nodes: results };
				}
			}
		},
		methods: {
			async storeChecks(ctx: Context | null) {
				const out: Record<string, boolean> = {};
				const caller = ctx ?? this.broker;
				await Promise.all(
					STORES.map(async name => {
						out[name] = await caller.call(`${name}.health`, {}, { timeout: NODE_TIMEOUT_MS }).then(
							() => true,
							() => false
						);
					})
				);
				return out;
			},

			/** Every node running a sampler, with its answer (or why there is none), by nodeID. */
			async nodeReports(ctx: Context, limit: number) {
				const ids = [...new Set((this.broker.registry.getServiceList({ skipInternal: true }) as { name: string; nodeID: string }[]).filter(x => x.name === "nodeHealth").map(x => x.nodeID))].sort();
				return Promise.all(
					ids.map(async (nodeID): Promise<NodeAnswer> => {
						try {
							return { nodeID, available: true, report: await ctx.call<NodeReport, object>("nodeHealth.read", { limit }, { nodeID, timeout: NODE_TIMEOUT_MS }) };
						} catch (err) {
							return { nodeID, available: false, error: (err as Error).message };
						}
					})
				);
			},

			nodesRunning(service: string) {
				return [...new Set((this.broker.registry.getServiceList({ onlyAvailable: true, skipInternal: true }) as { name: string; nodeID: string }[]).filter(x => x.name === service).map(x => x.nodeID))].sort();
			},

			async report(ctx: Context): Promise<Report> {
				const components: Record<string, string> = {};
				const failures: string[] = [];
				await Promise.all(
					STORES.map(async name => {
						try {
							await ctx.call(`${name}.health`, {}, { timeout: 3000 });
							components[name] = "up";
						} catch {
							components[name] = "down";
							failures.push(name);
						}
					})
				);
				const services = new Set<string>(this.broker.registry.getServiceList({ onlyAvailable: true, skipInternal: true }).map((s: { name: string }) => s.name));
				let degraded = false;
				for (const [role, svc] of Object.entries(CAPACITY)) {
					components[role] = services.has(svc) ? "up" : "down";
					if (!services.has(svc)) degraded = true;
				}
				if (failures.length > 0) return { status: "unhealthy", error: `Database connection failed: ${failures.sort().join(", ")} unreachable`, components };
				let activeSessions = 0;
				try {
					activeSessions = await ctx.call("sessions.count", { query: { status: { $in: ["starting", "active", "stopping"] } } }, { timeout: 3000 });
				} catch {
					return { status: "unhealthy", error: "Database connection failed: sessions unreachable", components };
				}
				return { status: degraded ? "degraded" : "healthy", activeSessions, components };
			},

			async watchTick() {
				// Nothing is judged before every service of this node has started (its stores may be starting).
				if (!this.broker.started) return;
				const opts = { timeout: NODE_TIMEOUT_MS };
				const [sessions, cameras, stores] = await Promise.all([
					this.broker.call<number, object>("sessions.count", { query: { status: { $in: ["starting", "active", "stopping"] } } }, opts).catch(() => null),
					this.broker.call<number, object>("cameras.count", { query: { enabled: true } }, opts).catch(() => null),
					this.storeChecks(null)
				]);
				const needInference = sessions === null || cameras === null ? null : sessions + cameras > 0;
				const { active, watched } = watchConditions({ inferenceNodes: this.nodesRunning("inference"), needInference, loads: [...loadBook(this.broker).loads.values()], stores, now: Date.now() }, { saturation: cfg.alertSaturation });
				const holding = new Set(active.map(c => c.cause));
				let complete = true;
				for (const c of active) {
					if (this.watchOpen.has(c.cause)) continue;
					try {
						await this.broker.call("alerts.raise", c, opts);
						this.watchOpen.add(c.cause);
					} catch (err) {
						complete = false;
						this.logger.warn("Alert not raised", { cause: c.cause, error: (err as Error).message });
					}
				}
				for (const cause of watched) {
					if (holding.has(cause) || (!this.watchOpen.has(cause) && !this.watchFresh)) continue;
					try {
						await this.broker.call("alerts.resolve", { cause }, opts);
						this.watchOpen.delete(cause);
					} catch (err) {
						complete = false;
						this.logger.warn("Alert not resolved", { cause, error: (err as Error).message });
					}
				}
				if (complete) this.watchFresh = false;
			}
		} satisfies Implements<Methods, Settings, Vars>,

		created() {
			this.watchTimer = null;
			this.watchRunning = null;
			this.watchOpen = new Set();
			this.watchFresh = true;
		},

		started() {
			if (cfg.alertWatchMs <= 0) return;
			this.watchTimer = setInterval(() => {
				if (this.watchRunning) return; // the last tick is still at it
				this.watchRunning = this.watchTick()
					.catch(err => this.logger.warn("Alert watch failed", { error: (err as Error).message }))
					.finally(() => {
						this.watchRunning = null;
					});
			}, cfg.alertWatchMs);
		},

		async stopped() {
			if (this.watchTimer) clearInterval(this.watchTimer);
			this.watchTimer = null;
			await this.watchRunning;
		}
	};
}
