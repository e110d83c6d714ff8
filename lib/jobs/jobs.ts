/**
 * Background jobs, the pure part: a job document's shape and life, who may read it, and
 * which jobs a worker should take up. The store is services/jobs.service.ts, the worker
 * side mixins/job-worker.mixin.ts.
 *
 * Life of a job: `queued` (created) -> `processing` (a worker node holds its lease) ->
 * `completed` (with `result`) or `failed` (with `error`). A job is taken up by claiming its
 * lease (the one lease rule of lib/recognition/placement.ts, a fencing token growing with
 * every new holder): a job left `processing` whose lease ran out (its node died) is claimed
 * again by another worker, at most `maxAttempts` times, then it fails. Progress, completion
 * and failure are accepted only with the current token, so a worker cut off and back cannot
 * overwrite what its successor did.
 */
import { leaseIsLive, type Lease } from "../recognition/placement";

export const JOB_STATUSES = ["queued", "processing", "completed", "failed"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** How many times a job is started (first run and take-overs) before it fails for good. */
export const MAX_ATTEMPTS = 3;

export interface JobDoc extends Lease {
	_id: string;
	kind: string;
	/** The account the job runs for (its owner), or null for the system's own jobs. */
	userId: string | null;
	params: Record<string, unknown>;
	status: JobStatus;
	/** 0..100. */
	progress: number;
	/** What the job made (kind-specific), once completed. */
	result: Record<string, unknown> | null;
	error: { code: string; message: string } | null;
	attempts: number;
	createdAt: Date;
	updatedAt: Date;
	startedAt: Date | null;
	finishedAt: Date | null;
	/** After this the job document may be deleted (retention); null: kept. */
	expiresAt: Date | null;
}

/** A job as the API shows it (no lease internals). */
export interface JobView {
	id: string;
	kind: string;
	userId: string | null;
	status: JobStatus;
	progress: number;
	params: Record<string, unknown>;
	result: Record<string, unknown> | null;
	error: { code: string; message: string } | null;
	attempts: number;
	createdAt: string;
	updatedAt: string;
	startedAt: string | null;
	finishedAt: string | null;
	expiresAt: string | null;
}

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);

export function jobView(d: JobDoc): JobView {
	return {
		id: d._id,
		kind: d.kind,
		userId: d.userId,
		status: d.status,
		progress: d.progress,
		params: d.params,
		result: d.result ?? null,
		error: d.error ?? null,
		attempts: d.attempts ?? 0,
		createdAt: iso(d.createdAt)!,
		updatedAt: iso(d.updatedAt)!,
		startedAt: iso(d.startedAt),
		finishedAt: iso(d.finishedAt),
		expiresAt: iso(d.expiresAt)
	};
}

export function newJob(id: string, kind: string, userId: string | null, params: Record<string, unknown>, now: Date): JobDoc {
	return {
		_id: id,
		kind,
		userId,
		params,
		status: "queued",
		progress: 0,
		result: null,
		error: null,
		attempts: 0,
		createdAt: now,
		updatedAt: now,
		startedAt: null,
		finishedAt: null,
		expiresAt: null,
		leaseOwner: null,
		leaseToken: 0,
		leaseUntil: 0,
		leaseHandTo: null
	};
}

/** Whom a job belongs to, as the gateway's principal says. */
export interface Reader {
	id: string;
	permissions: string[];
}

/** Admins (`*`) read every job; anyone else only their own. */
export function mayRead(job: Pick<JobDoc, "userId">, reader: Reader): boolean {
	return reader.permissions.includes("*") || (job.userId !== null && job.userId === reader.id);
}

/** The store query of the jobs a reader may list. */
export function readableQuery(reader: Reader): Record<string, unknown> {
	return reader.permissions.includes("*") ? {} : { userId: reader.id };
}

/** A job a worker should take up now: waiting, or left processing by a holder whose lease ran out. */
export function isWaiting(job: Pick<JobDoc, "status"> & Lease, now: number): boolean {
	return job.status === "queued" || (job.status === "processing" && !leaseIsLive(job, now));
}

/** Whole percent within 0..100 (a worker's fraction or percent, rounded down; never back). */
export function progressOf(done: number, total: number): number {
	if (!(total > 0)) return 0;
	return Math.max(0, Math.min(100, Math.floor((done / total) * 100)));
}

/** A job's error from whatever a worker threw: its code when it has one, a message always. */
export function jobError(err: unknown): { code: string; message: string } {
	const e = err as { code?: unknown; type?: unknown; message?: unknown };
	const code = typeof e?.type === "string" && /^[A-Z][A-Z0-9_]+$/.test(e.type) ? e.type : typeof e?.code === "string" && /^[A-Z][A-Z0-9_]+$/.test(e.code) ? e.code : "JOB_FAILED";
	const message = typeof e?.message === "string" && e.message ? e.message.slice(0, 500) : String(err).slice(0, 500);
	return { code, message };
}
