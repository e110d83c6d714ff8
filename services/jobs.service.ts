/**
 * Background jobs, the store (storage role): one document per job (lib/jobs/jobs.ts) with
 * its kind, owner, params, status queued / processing / completed / failed, progress 0-100,
 * result or error, and the lease of the worker node running it. The workers are the
 * services that own a kind, through mixins/job-worker.mixin.ts; this service only keeps
 * the documents, and its compare-and-set updates make one worker hold a job at a time.
 *
 * For other services (not routed; `ctx.call("jobs.<action>", ...)`):
 * - `create {kind, userId|null, params, id?, expiresAt?}` -> JobView; broadcasts
 *   `jobs.queued {id, kind}` so a worker of that kind takes it at once (else at its next poll).
 * - `claim {id, nodeID, ttlMs}` -> `{token, leaseUntil, job: JobDoc}` or null (another node
 *   holds it, or it is finished). A free lease, or one run out (its node died), gets the next
 *   fencing token; a job already started MAX_ATTEMPTS times fails instead (JOB_ABANDONED).
 * - `renew {id, nodeID, token, ttlMs, progress?}` -> `{leaseUntil}`; 409 LEASE_LOST when the
 *   token is not current (another node took the job over): the worker stops.
 * - `complete {id, token, result, expiresAt?}`, `fail {id, token, error}` -> JobView (LEASE_LOST likewise).
 * - `release {id, token}`: give the lease up without finishing (a node stopping): taken up at once elsewhere.
 * - `waiting {kind, limit}` -> ids of jobs to take up (queued, or processing under a lease run out), oldest first.
 * - `view {id, reader?}` -> JobView, or 404 JOB_NOT_FOUND (also when `reader` may not read it).
 * - `expired {before, kind?}` / `purge {before, kind?}`: finished jobs whose `expiresAt` has passed (retention).
 *
 * Routes (console): `GET /jobs/{id}` and `GET /jobs` (`kind`, `status`, paging): any signed-in
 * account, which sees its own jobs only; an administrator (`*`) sees every job. Another
 * account's job answers 404, as one that does not exist.
 */
import crypto from "node:crypto";
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { DbMixin } from "../mixins/db.mixin";
import { AUTHENTICATED } from "../lib/api/route-facts";
import { pageParams, pageQuery, paged, type PageParams } from "../lib/api/paging";
import { ApiError, notFound } from "../lib/errors";
import { JOB_STATUSES, MAX_ATTEMPTS, isWaiting, jobView, mayRead, newJob, readableQuery, type JobDoc, type JobStatus, type Reader } from "../lib/jobs/jobs";
import { claimDecision } from "../lib/recognition/placement";
import type { DbVars, GatewayMeta, Implements } from "./schema";

export class JobLeaseLost extends ApiError {
	constructor(id: string, detail: string) {
		super(409, "LEASE_LOST", `Job ${id}: ${detail}`);
	}
}

const jobId = { type: "string", min: 1, max: 80, pattern: "^[A-Za-z0-9_-]+$" } as const;
const kindRule = { type: "string", min: 1, max: 40, pattern: "^[a-z][a-z0-9.-]*$" } as const;

export const JOB_RESPONSE = {
	type: "object",
	properties: {
		id: { type: "string" },
		kind: { type: "string" },
		userId: { type: ["string", "null"] },
		status: { type: "string", enum: [...JOB_STATUSES] },
		progress: { type: "integer", minimum: 0, maximum: 100 },
		params: { type: "object" },
		result: { type: ["object", "null"] },
		error: { type: ["object", "null"], properties: { code: { type: "string" }, message: { type: "string" } } },
		attempts: { type: "integer" },
		createdAt: { type: "string", format: "date-time" },
		updatedAt: { type: "string", format: "date-time" },
		startedAt: { type: ["string", "null"], format: "date-time" },
		finishedAt: { type: ["string", "null"], format: "date-time" },
		expiresAt: { type: ["string", "null"], format: "date-time" }
	}
};

interface Settings {
	family: string;
	resource: string;
}
interface Methods {
	readerOf(ctx: Context<unknown, GatewayMeta>): Reader;
	finish(id: string, token: number, set: Partial<JobDoc>): Promise<JobDoc>;
}

export default function jobsService(cfg: Config): ServiceSchema<Settings, Methods, DbVars> {
	return {
		name: "jobs",
		mixins: [DbMixin("jobs", cfg)],
		settings: { family: "console", resource: "job" },
		actions: {
			get: {
				rest: "GET /jobs/:id",
				permission: AUTHENTICATED,
				openapi: { summary: "A background job of the caller (any job for an administrator): status, progress, result or error", tags: ["jobs"], response: JOB_RESPONSE, errors: ["JOB_NOT_FOUND"] },
				params: { id: jobId, $$strict: true },
				async handler(ctx: Context<{ id: string }, GatewayMeta>) {
					return ctx.call("jobs.view", { id: ctx.params.id, reader: this.readerOf(ctx) });
				}
			},

			list: {
				rest: "GET /jobs",
				permission: AUTHENTICATED,
				paged: true,
				openapi: { summary: "The caller's background jobs (every job for an administrator), newest first", tags: ["jobs"], response: JOB_RESPONSE },
				params: { ...pageParams, kind: { ...kindRule, optional: true }, status: { type: "enum", values: [...JOB_STATUSES], optional: true }, $$strict: true },
				async handler(ctx: Context<PageParams & { kind?: string; status?: JobStatus }, GatewayMeta>) {
					const query: Record<string, unknown> = readableQuery(this.readerOf(ctx));
					if (ctx.params.kind) query.kind = ctx.params.kind;
					if (ctx.params.status) query.status = ctx.params.status;
					const { offset, limit } = pageQuery(ctx.params);
					const [rows, total] = await Promise.all([this.adapter.find({ query, sort: ["-createdAt"], offset, limit }), this.adapter.count({ query })]);
					return paged((rows as JobDoc[]).map(jobView), total, ctx.params);
				}
			},

			// ---- for other services (not routed) ----

			create: {
				visibility: "public",
				params: {
					kind: kindRule,
					userId: { type: "string", nullable: true, max: 128 },
					params: { type: "object", optional: true },
					id: { ...jobId, optional: true },
					expiresAt: { type: "date", convert: true, optional: true, nullable: true }
				},
				async handler(ctx: Context<{ kind: string; userId: string | null; params?: Record<string, unknown>; id?: string; expiresAt?: Date | null }>) {
					const p = ctx.params;
					const doc = newJob(p.id ?? `JOB-${crypto.randomUUID()}`, p.kind, p.userId, p.params ?? {}, new Date());
					doc.expiresAt = p.expiresAt ?? null;
					await this.adapter.insert(doc);
					this.broker.broadcast("jobs.queued", { id: doc._id, kind: doc.kind });
					return jobView(doc);
				}
			},

			claim: {
				visibility: "public",
				params: { id: "string", nodeID: "string", ttlMs: { type: "number", positive: true } },
				async handler(ctx: Context<{ id: string; nodeID: string; ttlMs: number }>) {
					const { id, nodeID, ttlMs } = ctx.params;
					const doc: JobDoc | null = await this.adapter.findById(id);
					if (!doc || (doc.status !== "queued" && doc.status !== "processing")) return null;
					const now = Date.now();
					const d = claimDecision(doc, nodeID, now);
					if (!d.ok) return null;
					const cas = { _id: id, status: doc.status, leaseToken: doc.leaseToken ?? 0 };
					if (!d.renew && (doc.attempts ?? 0) >= MAX_ATTEMPTS) {
						// Started this often and never finished: it kills its workers, or cannot be done.
						const error = { code: "JOB_ABANDONED", message: `Not finished after ${doc.attempts} attempts (its worker stopped each time)` };
						await this.adapter.updateMany(cas, { $set: { status: "failed", error, finishedAt: new Date(now), updatedAt: new Date(now), leaseUntil: 0 } });
						this.broker.broadcast("jobs.finished", { id, kind: doc.kind, userId: doc.userId, status: "failed" });
						return null;
					}
					const set: Partial<JobDoc> = { status: "processing", leaseOwner: nodeID, leaseToken: d.token, leaseUntil: now + ttlMs, leaseHandTo: null, updatedAt: new Date(now) };
					if (!d.renew) Object.assign(set, { attempts: (doc.attempts ?? 0) + 1, startedAt: doc.startedAt ?? new Date(now) });
					const changed = await this.adapter.updateMany(cas, { $set: set });
					if (changed !== 1) return null; // another node won the race
					return { token: d.token, leaseUntil: now + ttlMs, job: { ...doc, ...set } };
				}
			},

			renew: {
				visibility: "public",
				params: { id: "string", nodeID: "string", token: "number", ttlMs: { type: "number", positive: true }, progress: { type: "number", min: 0, max: 100, optional: true } },
				async handler(ctx: Context<{ id: string; nodeID: string; token: number; ttlMs: number; progress?: number }>) {
					const { id, nodeID, token, ttlMs, progress } = ctx.params;
					const leaseUntil = Date.now() + ttlMs;
					const set: Record<string, unknown> = { leaseUntil };
					if (progress !== undefined) Object.assign(set, { progress: Math.floor(progress), updatedAt: new Date() });
					const changed = await this.adapter.updateMany({ _id: id, status: "processing", leaseOwner: nodeID, leaseToken: token }, { $set: set });
					if (changed !== 1) throw new JobLeaseLost(id, `lease ${token} of ${nodeID} is no longer current`);
					return { leaseUntil };
				}
			},

			complete: {
				visibility: "public",
				params: { id: "string", token: "number", result: { type: "object" }, expiresAt: { type: "date", convert: true, optional: true, nullable: true } },
				async handler(ctx: Context<{ id: string; token: number; result: Record<string, unknown>; expiresAt?: Date | null }>) {
					const { id, token, result, expiresAt } = ctx.params;
					const set: Partial<JobDoc> = { status: "completed", progress: 100, result, error: null };
					if (expiresAt !== undefined) set.expiresAt = expiresAt;
					return jobView(await this.finish(id, token, set));
				}
			},

			fail: {
				visibility: "public",
				params: { id: "string", token: "number", error: { type: "object", props: { code: "string", message: "string" } } },
				async handler(ctx: Context<{ id: string; token: number; error: { code: string; message: string } }>) {
					return jobView(await this.finish(ctx.params.id, ctx.params.token, { status: "failed", error: ctx.params.error }));
				}
			},

			release: {
				visibility: "public",
				params: { id: "string", token: "number" },
				async handler(ctx: Context<{ id: string; token: number }>) {
					const changed = await this.adapter.updateMany({ _id: ctx.params.id, status: "processing", leaseToken: ctx.params.token }, { $set: { leaseUntil: 0 } });
					return { released: changed === 1 };
				}
			},

			waiting: {
				visibility: "public",
				params: { kind: "string", limit: { type: "number", integer: true, min: 1, max: 100, optional: true } },
				async handler(ctx: Context<{ kind: string; limit?: number }>) {
					const now = Date.now();
					const docs: JobDoc[] = await this.adapter.find({ query: { kind: ctx.params.kind, status: { $in: ["queued", "processing"] } }, sort: ["createdAt"] });
					return docs
						.filter(d => isWaiting(d, now))
						.slice(0, ctx.params.limit ?? 10)
						.map(d => d._id);
				}
			},

			view: {
				visibility: "public",
				params: { id: "string", reader: { type: "object", optional: true, props: { id: "string", permissions: { type: "array", items: "string" } } } },
				async handler(ctx: Context<{ id: string; reader?: Reader }>) {
					const doc: JobDoc | null = await this.adapter.findById(ctx.params.id);
					if (!doc || (ctx.params.reader && !mayRead(doc, ctx.params.reader))) throw notFound("JOB_NOT_FOUND", `Job not found: ${ctx.params.id}`);
					return jobView(doc);
				}
			},

			expired: {
				visibility: "public",
				params: { before: { type: "date", convert: true }, kind: { type: "string", optional: true } },
				async handler(ctx: Context<{ before: Date; kind?: string }>) {
					const query: Record<string, unknown> = { status: { $in: ["completed", "failed"] }, expiresAt: { $ne: null, $lte: ctx.params.before } };
					if (ctx.params.kind) query.kind = ctx.params.kind;
					return ((await this.adapter.find({ query })) as JobDoc[]).map(jobView);
				}
			},

			purge: {
				visibility: "public",
				params: { ids: { type: "array", items: "string", max: 100_000 } },
				async handler(ctx: Context<{ ids: string[] }>) {
					if (!ctx.params.ids.length) return { removed: 0 };
					return { removed: await this.adapter.removeMany({ _id: { $in: ctx.params.ids }, status: { $in: ["completed", "failed"] } }) };
				}
			}
		},

		methods: {
			readerOf(ctx) {
				const user = ctx.meta.user;
				if (!user) throw new ApiError(401, "UNAUTHORIZED", "Sign in to read jobs");
				return { id: user.id, permissions: user.permissions };
			},

			async finish(id, token, set) {
				const now = new Date();
				const changed = await this.adapter.updateMany({ _id: id, status: "processing", leaseToken: token }, { $set: { ...set, finishedAt: now, updatedAt: now, leaseUntil: 0 } });
				if (changed !== 1) throw new JobLeaseLost(id, `lease ${token} is no longer current`);
				const doc: JobDoc = await this.adapter.findById(id);
				this.broker.broadcast("jobs.finished", { id, kind: doc.kind, userId: doc.userId, status: doc.status });
				return doc;
			}
		} satisfies Implements<Methods, Settings, DbVars>
	};
}
