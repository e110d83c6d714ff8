/**
 * Cluster-singleton schedules, the store (storage role): one document per task name with the
 * lease of the node that runs it (the one lease rule of lib/recognition/placement.ts, with a
 * fencing token), when it last ran, with what, and when it runs next. The runner side is
 * mixins/schedule.mixin.ts.
 *
 * For other services (not routed):
 * - `claim {name, nodeID, ttlMs, firstRunAt?}` -> `{token, leaseUntil, nextRunAt}` or null (another
 *   node holds a live lease). The holder calls it again to renew (same token); a free or run-out
 *   lease gets the next token. A task never seen before is created, due at `firstRunAt`.
 * - `ran {name, token, at, nextRunAt, result?, error?}`: record a run under the current token
 *   (409 LEASE_LOST otherwise: another node owns the task now).
 * - `release {name, token}`: give the lease up (a node stopping); another node claims it at its next tick.
 * - `read {name}` -> the document (lastRunAt, lastResult, nextRunAt, leaseOwner, ...) or null.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { DbMixin } from "../mixins/db.mixin";
import { ApiError } from "../lib/errors";
import { claimDecision, type Lease } from "../lib/recognition/placement";
import type { DbVars } from "./schema";

export interface ScheduleDoc extends Lease {
	_id: string;
	lastRunAt: Date | null;
	lastRunBy: string | null;
	lastResult: Record<string, unknown> | null;
	lastError: string | null;
	/** Epoch ms the next run is due. */
	nextRunAt: number;
	runs: number;
}

const name = { type: "string", min: 1, max: 80, pattern: "^[a-z][a-z0-9.:-]*$" } as const;

export default function schedulesService(cfg: Config): ServiceSchema<object, object, DbVars> {
	return {
		name: "schedules",
		mixins: [DbMixin("schedules", cfg)],
		actions: {
			claim: {
				visibility: "public",
				params: { name, nodeID: "string", ttlMs: { type: "number", positive: true }, firstRunAt: { type: "number", optional: true } },
				async handler(ctx: Context<{ name: string; nodeID: string; ttlMs: number; firstRunAt?: number }>) {
					const { nodeID, ttlMs } = ctx.params;
					const now = Date.now();
					const doc: ScheduleDoc | null = await this.adapter.findById(ctx.params.name);
					if (!doc) {
						const fresh: ScheduleDoc = { _id: ctx.params.name, leaseOwner: nodeID, leaseToken: 1, leaseUntil: now + ttlMs, leaseHandTo: null, lastRunAt: null, lastRunBy: null, lastResult: null, lastError: null, nextRunAt: ctx.params.firstRunAt ?? now, runs: 0 };
						try {
							await this.adapter.insert(fresh);
						} catch (err) {
							if (/unique|duplicate/i.test((err as Error).message)) return null; // another node made it first
							throw err;
						}
						return { token: 1, leaseUntil: fresh.leaseUntil, nextRunAt: fresh.nextRunAt };
					}
					const d = claimDecision(doc, nodeID, now);
					if (!d.ok) return null;
					const changed = await this.adapter.updateMany({ _id: doc._id, leaseToken: doc.leaseToken ?? 0 }, { $set: { leaseOwner: nodeID, leaseToken: d.token, leaseUntil: now + ttlMs, leaseHandTo: null } });
					if (changed !== 1) return null;
					return { token: d.token, leaseUntil: now + ttlMs, nextRunAt: doc.nextRunAt };
				}
			},

			ran: {
				visibility: "public",
				params: { name, token: "number", at: { type: "date", convert: true }, nextRunAt: "number", result: { type: "object", optional: true, nullable: true }, error: { type: "string", optional: true, nullable: true } },
				async handler(ctx: Context<{ name: string; token: number; at: Date; nextRunAt: number; result?: Record<string, unknown> | null; error?: string | null }>) {
					const p = ctx.params;
					const doc: ScheduleDoc | null = await this.adapter.findById(p.name);
					const changed = await this.adapter.updateMany(
						{ _id: p.name, leaseToken: p.token },
						{ $set: { lastRunAt: p.at, lastRunBy: doc?.leaseOwner ?? null, lastResult: p.result ?? null, lastError: p.error ?? null, nextRunAt: p.nextRunAt, runs: (doc?.runs ?? 0) + 1 } }
					);
					if (changed !== 1) throw new ApiError(409, "LEASE_LOST", `Schedule ${p.name}: lease ${p.token} is no longer current`);
					return { ok: true };
				}
			},

			release: {
				visibility: "public",
				params: { name, token: "number" },
				async handler(ctx: Context<{ name: string; token: number }>) {
					const changed = await this.adapter.updateMany({ _id: ctx.params.name, leaseToken: ctx.params.token }, { $set: { leaseUntil: 0 } });
					return { released: changed === 1 };
				}
			},

			read: {
				visibility: "public",
				params: { name },
				async handler(ctx: Context<{ name: string }>) {
					return (await this.adapter.findById(ctx.params.name)) ?? null;
				}
			}
		}
	};
}
