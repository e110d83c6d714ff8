/**
 * Recognition documents (storage role): every face seen, a report, a sighting or an unknown
 * face, with its delivery state. The callback outbox works through the delivery actions
 * here: results due for delivery are *claimed* with a lease (claimedBy, claimUntil) so two
 * outboxes never send the same result at once.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { PurgeMixin } from "../mixins/purge.mixin";
import { DbMixin } from "../mixins/db.mixin";
import type { DbAdapter, DbServiceVars } from "./schema";

const FIELDS = ["recognitionId", "slotId", "sessionId", "cameraId", "userId", "rollNumber", "fullName", "kind", "similarity", "cosine", "box", "recognizedAt", "delivery", "attempts", "nextAttemptAt", "deliveredAt", "lastError", "embeddingVersion", "processingMs", "leaseToken"];

interface Settings {
	fields: string[];
	maxLimit: number;
}

type Vars = DbServiceVars & { adapter: DbAdapter & { insertMany(entities: object[]): Promise<object[]> } };

export default function recognitionsService(cfg: Config): ServiceSchema<Settings, object, Vars> {
	return {
		name: "recognitions",
		mixins: [DbMixin("recognitions", cfg), PurgeMixin(["recognizedAt"])],
		settings: { fields: ["_id", ...FIELDS], maxLimit: 10000 },
		actions: {
			/**
			 * Insert a session actor's documents only while its lease token is current: a node
			 * that lost the session (cut off, then back) cannot add reports.
			 */
			insertFenced: {
				visibility: "public",
				params: { slotId: "number", token: "number", entities: { type: "array", items: "object" } },
				async handler(ctx: Context<{ slotId: number; token: number; entities: object[] }>) {
					await ctx.call("sessions.assertLease", { slotId: ctx.params.slotId, token: ctx.params.token });
					const saved = await this.adapter.insertMany(ctx.params.entities);
					return { inserted: saved.length };
				}
			},
			/**
			 * Claim up to `limit` results due for delivery for `leaseMs`, all of one session (of the
			 * given slot, or of the oldest due result): one claim is one batch to one callback URL.
			 */
			claimDue: {
				visibility: "public",
				params: { owner: "string", limit: { type: "number", default: 500 }, leaseMs: { type: "number", default: 60_000 }, slotId: { type: "number", optional: true } },
				async handler(ctx: Context<{ owner: string; limit: number; leaseMs: number; slotId?: number }>) {
					const now = new Date();
					const until = new Date(now.getTime() + ctx.params.leaseMs);
					const due: Record<string, unknown> = { delivery: "pending", nextAttemptAt: { $lte: now }, $or: [{ claimUntil: { $exists: false } }, { claimUntil: null }, { claimUntil: { $lt: now } }] };
					if (ctx.params.slotId !== undefined) due.slotId = ctx.params.slotId;
					const [oldest] = await this.adapter.find({ query: due, sort: ["recognizedAt"], limit: 1 });
					if (!oldest) return [];
					due.slotId = oldest.slotId;
					if (oldest.sessionId) due.sessionId = oldest.sessionId;
					const candidates: any[] = await this.adapter.find({ query: due, sort: ["recognizedAt"], limit: ctx.params.limit });
					if (candidates.length === 0) return [];
					// The conditional update is the claim: only results still unclaimed change hands.
					await this.adapter.updateMany({ ...due, recognitionId: { $in: candidates.map(c => c.recognitionId) } }, { $set: { claimedBy: ctx.params.owner, claimUntil: until } });
					const claimed = await this.adapter.find({ query: { claimedBy: ctx.params.owner, claimUntil: until, delivery: "pending" } });
					return this.transformDocuments(ctx, {}, claimed);
				}
			},
			markDelivered: {
				visibility: "public",
				params: { ids: { type: "array", items: "string" } },
				async handler(ctx: Context<{ ids: string[] }>) {
					return this.adapter.updateMany({ recognitionId: { $in: ctx.params.ids }, delivery: "pending" }, { $set: { delivery: "delivered", deliveredAt: new Date(), claimUntil: null, lastError: null } });
				}
			},
			/** A failed attempt: count it and set the next one, or give up (failed). */
			markAttempt: {
				visibility: "public",
				params: { ids: { type: "array", items: "string" }, nextAttemptAt: { type: "date", convert: true }, error: "string", failed: { type: "boolean", default: false } },
				async handler(ctx: Context<{ ids: string[]; nextAttemptAt: Date; error: string; failed: boolean }>) {
					return this.adapter.updateMany(
						{ recognitionId: { $in: ctx.params.ids }, delivery: "pending" },
						{ $set: { nextAttemptAt: ctx.params.nextAttemptAt, lastError: ctx.params.error.slice(0, 500), claimUntil: null, ...(ctx.params.failed ? { delivery: "failed" } : {}) }, $inc: { attempts: 1 } }
					);
				}
			}
		}
	};
}
