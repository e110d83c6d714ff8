/**
 * Health (gateway role), FUACS section 7: `healthy` when every store answers and inference
 * and actors nodes are there; `degraded` when it answers but cannot recognise (no inference
 * or no actors node); `unhealthy` (503) when a store is unreachable.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import pkg from "../package.json";
import { PUBLIC } from "../lib/api/route-facts";
import { isoSeconds } from "../lib/time";
import type { GatewayMeta, Implements } from "./schema";

export const SERVICE_NAME = "FUACS Face Recognition Service";

/** Store services whose reachability decides `unhealthy`. */
const STORES = ["sessions", "recognitions", "attendance", "audit", "cameras", "embeddings"];
/** Services whose absence makes the system `degraded`: it answers, but cannot recognise. */
const CAPACITY = { inference: "inference", actors: "recognition" } as const;

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
}

export default function healthService(_cfg: Config): ServiceSchema<Settings, Methods, object> {
	return {
		name: "health",
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
			}
		},
		methods: {
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
			}
		} satisfies Implements<Methods, Settings>
	};
}
