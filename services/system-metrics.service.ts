/**
 * System metric samples, the store (storage role; seed 002 `system_metrics`): each node's
 * sampler (services/node-health.service.ts) records one document per sample; retention
 * deletes those older than RETENTION_METRICS_DAYS.
 *
 * For other services (not routed):
 * - `record {nodeID, timestamp, cpu, memory, disk, network}`: keep a sample.
 * - `history {nodeID?, from?, limit?}`: samples, newest first.
 * - `purgeOlder` (mixins/purge.mixin.ts).
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { DbMixin } from "../mixins/db.mixin";
import { PurgeMixin } from "../mixins/purge.mixin";
import type { DbVars } from "./schema";

export interface SystemMetricDoc {
	_id?: string;
	nodeID: string;
	timestamp: Date;
	cpu: Record<string, unknown> | null;
	memory: Record<string, unknown> | null;
	disk: Record<string, unknown> | null;
	network: Record<string, unknown> | null;
}

const part = { type: "object", optional: true, nullable: true } as const;

export default function systemMetricsService(cfg: Config): ServiceSchema<object, object, DbVars> {
	return {
		name: "systemMetrics",
		mixins: [DbMixin("system_metrics", cfg), PurgeMixin(["timestamp"])],
		actions: {
			record: {
				visibility: "public",
				params: { nodeID: { type: "string", min: 1, max: 200 }, timestamp: { type: "date", convert: true }, cpu: part, memory: part, disk: part, network: part },
				async handler(ctx: Context<SystemMetricDoc>) {
					const p = ctx.params;
					await this.adapter.insert({ nodeID: p.nodeID, timestamp: p.timestamp, cpu: p.cpu ?? null, memory: p.memory ?? null, disk: p.disk ?? null, network: p.network ?? null });
					return { ok: true };
				}
			},

			history: {
				visibility: "public",
				params: { nodeID: { type: "string", optional: true }, from: { type: "date", convert: true, optional: true }, limit: { type: "number", integer: true, min: 1, max: 10_000, optional: true, default: 60 } },
				async handler(ctx: Context<{ nodeID?: string; from?: Date; limit: number }>) {
					const query: Record<string, unknown> = {};
					if (ctx.params.nodeID) query.nodeID = ctx.params.nodeID;
					if (ctx.params.from) query.timestamp = { $gte: ctx.params.from };
					return this.adapter.find({ query, sort: ["-timestamp"], limit: ctx.params.limit });
				}
			}
		}
	};
}
