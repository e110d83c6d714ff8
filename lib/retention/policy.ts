/**
 * Retention (seed 002 `cleanup_old_data`), the pure part: what each run deletes, decided from
 * the time of the run and the configured ages. Each kind of document lives in one store
 * service and is old by one of its time fields; blobs are chosen from their infos. The
 * plumbing (asking the stores, deleting, auditing) is services/retention.service.ts.
 */

/** What a run counts, in the order it deletes. */
export const RETENTION_KINDS = ["detections", "thumbnails", "eventLogs", "recognitionLogs", "detectionEvents", "audit", "jobs", "exports", "systemMetrics"] as const;
export type RetentionKind = (typeof RETENTION_KINDS)[number];
export type RetentionCounts = Record<RetentionKind, number>;

export interface RetentionAges {
	detectionsDays: number;
	auditDays: number;
	metricsDays: number;
}

export interface Cutoffs {
	/** Detections, their thumbnails and event logs last seen before this go. */
	detections: Date;
	audit: Date;
	systemMetrics: Date;
	/** Jobs and export files whose expiry is at or before this go (the run's time). */
	expiry: Date;
}

const DAY_MS = 86_400_000;

export function cutoffs(now: Date, ages: RetentionAges): Cutoffs {
	const before = (days: number) => new Date(now.getTime() - days * DAY_MS);
	return { detections: before(ages.detectionsDays), audit: before(ages.auditDays), systemMetrics: before(ages.metricsDays), expiry: new Date(now.getTime()) };
}

/**
 * A store of documents deleted by age: the service holding them, the time field that makes
 * one old, and what else a document must be to go (an event log still waiting for delivery
 * stays until the outbox has given it up).
 */
export interface AgedStore {
	kind: "detections" | "eventLogs" | "recognitionLogs" | "detectionEvents" | "audit" | "systemMetrics";
	service: string;
	field: string;
	cutoff: keyof Cutoffs;
	where?: Record<string, unknown>;
	/** Fields whose values the deleted documents leave behind (a detection's thumbnail blob). */
	collect?: string[];
}

export const AGED_STORES: readonly AgedStore[] = [
	{ kind: "detections", service: "detections", field: "lastSeen", cutoff: "detections", collect: ["thumbnail"] },
	{ kind: "eventLogs", service: "recognitions", field: "recognizedAt", cutoff: "detections", where: { delivery: { $ne: "pending" } } },
	// The streaming recognition's logs (seed 003 RecognitionLog) are event logs too.
	{ kind: "recognitionLogs", service: "recognitionLogs", field: "createdAt", cutoff: "detections" },
	// The per-frame detection event log (GET /detections/events).
	{ kind: "detectionEvents", service: "detectionEvents", field: "timestamp", cutoff: "detections" },
	{ kind: "audit", service: "audit", field: "at", cutoff: "audit" },
	{ kind: "systemMetrics", service: "systemMetrics", field: "timestamp", cutoff: "systemMetrics" }
];

/**
 * The store query of documents older than `before` by `field` (and matching `where`). A
 * document without the time is never old (NeDB orders null before every date: `$ne: null`
 * keeps it out there as MongoDB's type bracketing does).
 */
export function olderThanQuery(field: string, before: Date, where: Record<string, unknown> = {}): Record<string, unknown> {
	return { ...where, [field]: { $lt: before, $ne: null } };
}

/** The same rule on one document (what the query selects; unit-tested against it). */
export function isOlder(doc: Record<string, unknown>, field: string, before: Date): boolean {
	const v = doc[field];
	if (v === null || v === undefined) return false;
	const t = new Date(v as string | number | Date).getTime();
	return Number.isFinite(t) && t < before.getTime();
}

/** The part of a blob's info the selection looks at (lib/store/blobs.ts BlobInfo). */
export interface BlobFacts {
	name: string;
	kind: string;
	createdAt: string;
	expiresAt: string | null;
}

/**
 * Thumbnail blobs to delete: those of the detections deleted in this run, and any thumbnail
 * older than the detections' cutoff that no camera shows any more (a camera's current
 * thumbnail is replaced in place, so it stays however old it is).
 */
export function thumbnailsToDelete(blobs: readonly BlobFacts[], of: { deletedDetections: Iterable<string | null | undefined>; cameraThumbnails: Iterable<string | null | undefined>; before: Date }): string[] {
	const dropped = new Set<string>();
	for (const n of of.deletedDetections) if (n) dropped.add(n);
	const kept = new Set<string>();
	for (const n of of.cameraThumbnails) if (n) kept.add(n);
	const out: string[] = [];
	for (const b of blobs) {
		if (b.kind !== "thumbnail" || kept.has(b.name)) continue;
		if (dropped.has(b.name) || new Date(b.createdAt).getTime() < of.before.getTime()) out.push(b.name);
	}
	return out;
}

/**
 * Export files to delete: those whose expiry has come, and those an expired job made (named
 * anywhere in its result, which is how a job points at its file).
 */
export function expiredExports(blobs: readonly BlobFacts[], at: Date, expiredJobResults: readonly unknown[] = []): string[] {
	const ofJobs = new Set<string>();
	const walk = (v: unknown, depth: number) => {
		if (typeof v === "string") ofJobs.add(v);
		else if (v && typeof v === "object" && depth < 4) for (const x of Object.values(v as Record<string, unknown>)) walk(x, depth + 1);
	};
	for (const r of expiredJobResults) walk(r, 0);
	return blobs.filter(b => b.kind === "export" && (ofJobs.has(b.name) || (b.expiresAt !== null && new Date(b.expiresAt).getTime() <= at.getTime()))).map(b => b.name);
}

export function zeroCounts(): RetentionCounts {
	return Object.fromEntries(RETENTION_KINDS.map(k => [k, 0])) as RetentionCounts;
}

export const totalOf = (c: RetentionCounts): number => RETENTION_KINDS.reduce((s, k) => s + c[k], 0);
