/**
 * Session documents (storage role): students, cameras, config, counters and state of each
 * slot's session, and the ownership lease of its actors.
 *
 * The lease (leaseOwner, leaseToken, leaseUntil, leaseHandTo) gives a session at most one
 * live owner: a node claims it (compare-and-set on the token, so two claimers never both
 * win), renews it while its actors run, and releases or hands it over when they stop. The
 * token grows with every new owner and fences writes: recognitions.insertFenced refuses a
 * token that is no longer current, so a node that was cut off and comes back cannot report.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { ApiError } from "../lib/errors";
import { claimDecision, type Lease } from "../lib/recognition/placement";
import { DbMixin } from "../mixins/db.mixin";
import type { DbServiceVars } from "./schema";

const ACTIVE = ["starting", "active", "stopping"];

export class LeaseLostError extends ApiError {
	constructor(slotId: number, detail: string) {
		super(409, "LEASE_LOST", `Session ${slotId}: ${detail}`);
	}
}

type SessionLeaseDoc = Lease & { _id: string; slotId: number; status: string };

interface Settings {
	fields: string[];
	maxLimit: number;
}

type Vars = DbServiceVars & {
	/** The last open, which the next one waits for. */
	opening: Promise<unknown>;
};

export default function sessionsService(cfg: Config): ServiceSchema<Settings, object, Vars> {
	return {
		name: "sessions",
		mixins: [DbMixin("sessions", cfg)],
		settings: {
			fields: ["_id", "slotId", "roomId", "status", "live", "students", "cameras", "config", "counters", "owner", "leaseOwner", "leaseToken", "leaseUntil", "leaseHandTo", "startedAt", "stoppedAt"],
			maxLimit: 10000
		},
		actions: {
			/**
			 * Open a slot's session: insert its document unless the slot already has a session
			 * running (409) or `maxSessions` are running (429). Opens are serialised here, so two
			 * concurrent starts of one slot (a retried request, two gateways) never both succeed;
			 * across nodes on one MongoDB, the unique index on live slots does the same.
			 */
			open: {
				visibility: "public",
				params: { doc: "object", maxSessions: { type: "number", integer: true, positive: true } },
				handler(ctx: Context<{ doc: Record<string, any>; maxSessions: number }>) {
					const run = this.opening.then(async () => {
						const { doc, maxSessions } = ctx.params;
						if ((await this.adapter.count({ query: { slotId: doc.slotId, status: { $in: ACTIVE } } })) > 0)
							throw new ApiError(409, "SESSION_ALREADY_EXISTS", `Face recognition session already exists for slot ${doc.slotId}`);
						if ((await this.adapter.count({ query: { status: { $in: ACTIVE } } })) >= maxSessions)
							throw new ApiError(429, "MAX_SESSIONS_REACHED", `At most ${maxSessions} sessions can run at once; stop one first`);
						try {
							return this.transformDocuments(ctx, {}, await this.adapter.insert({ ...doc, live: true }));
						} catch (err) {
							// Another node opened the slot meanwhile (MongoDB's unique index on live slots).
							if ((err as { code?: number }).code === 11000) throw new ApiError(409, "SESSION_ALREADY_EXISTS", `Face recognition session already exists for slot ${doc.slotId}`);
							throw err;
						}
					});
					this.opening = run.catch(() => undefined);
					return run;
				}
			},

			/** Sessions that are running now (not stopped). */
			active: {
				visibility: "public",
				handler() {
					return this.adapter.find({ query: { status: { $in: ACTIVE } } }).then((docs: object[]) => this.transformDocuments(null, {}, docs));
				}
			},

			/** Take (or renew) the lease of an active session for `ttlMs`; null when another node holds it. */
			claim: {
				visibility: "public",
				params: { slotId: "number", nodeID: "string", ttlMs: { type: "number", positive: true } },
				async handler(ctx: Context<{ slotId: number; nodeID: string; ttlMs: number }>) {
					const { slotId, nodeID, ttlMs } = ctx.params;
					const doc: SessionLeaseDoc | undefined = (await this.adapter.find({ query: { slotId, status: "active" }, limit: 1 }))[0];
					if (!doc) return null;
					const now = Date.now();
					const d = claimDecision(doc, nodeID, now);
					if (!d.ok) return null;
					const changed = await this.adapter.updateMany(
						{ _id: doc._id, status: "active", ...tokenIs(doc.leaseToken) },
						{ $set: { leaseOwner: nodeID, leaseToken: d.token, leaseUntil: now + ttlMs, leaseHandTo: null, owner: { nodeID } } }
					);
					if (changed !== 1) return null; // another claim won the race
					return { slotId, token: d.token, leaseUntil: now + ttlMs, renewed: d.renew, sessionId: doc._id };
				}
			},

			/** Extend a held lease; LEASE_LOST when the token is no longer current or the session ended. */
			renew: {
				visibility: "public",
				params: { slotId: "number", nodeID: "string", token: "number", ttlMs: { type: "number", positive: true } },
				async handler(ctx: Context<{ slotId: number; nodeID: string; token: number; ttlMs: number }>) {
					const { slotId, nodeID, token, ttlMs } = ctx.params;
					const leaseUntil = Date.now() + ttlMs;
					const changed = await this.adapter.updateMany({ slotId, status: "active", leaseOwner: nodeID, leaseToken: token, leaseHandTo: null }, { $set: { leaseUntil } });
					if (changed !== 1) throw new LeaseLostError(slotId, `lease ${token} of ${nodeID} is no longer current`);
					return { slotId, token, leaseUntil };
				}
			},

			/** Give the lease up (actors stopped); `handTo` lets that node claim it at once. */
			release: {
				visibility: "public",
				params: { slotId: "number", token: "number", handTo: { type: "string", optional: true } },
				async handler(ctx: Context<{ slotId: number; token: number; handTo?: string }>) {
					const { slotId, token, handTo } = ctx.params;
					const changed = await this.adapter.updateMany({ slotId, status: { $in: ACTIVE }, leaseToken: token }, { $set: { leaseUntil: 0, leaseHandTo: handTo ?? null } });
					return { released: changed === 1 };
				}
			},

			/** LEASE_LOST unless `token` is the session's current lease (fencing for writes). */
			assertLease: {
				visibility: "public",
				params: { slotId: "number", token: "number" },
				async handler(ctx: Context<{ slotId: number; token: number }>) {
					const n = await this.adapter.count({ query: { slotId: ctx.params.slotId, status: { $in: ACTIVE }, leaseToken: ctx.params.token } });
					if (n !== 1) throw new LeaseLostError(ctx.params.slotId, `lease ${ctx.params.token} is no longer current`);
					return true;
				}
			}
		},
		created() {
			this.opening = Promise.resolve();
		}
	};
}

/** Match the token read before the update (compare-and-set); documents from before leases have none. */
function tokenIs(token: number | undefined): Record<string, unknown> {
	return token === undefined ? { leaseToken: { $exists: false } } : { leaseToken: token };
}
