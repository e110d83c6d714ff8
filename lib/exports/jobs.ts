/**
 * An export as the console sees it (pure): the view of its job (lib/jobs/jobs.ts), what the
 * worker's result says of its file, and when it is gone.
 */
import type { JobView } from "../jobs/jobs";
import type { ExportFilters, ExportFormat } from "./attendance";

/** What a finished export job keeps as its `result`. */
export interface ExportResult {
	format: ExportFormat;
	rows: number;
	pages?: number;
	size: number;
	sha256: string;
	blob: string;
	fileName: string;
	contentType: string;
	expiresAt: string;
}

/** What a job of kind "export" keeps as its `params`. */
export interface ExportParams {
	type: "attendance";
	format: ExportFormat;
	filters: ExportFilters;
}

export interface ExportView {
	id: string;
	type: string;
	format: ExportFormat;
	filters: ExportFilters;
	status: JobView["status"];
	progress: number;
	rows: number | null;
	pages: number | null;
	size: number | null;
	fileName: string | null;
	downloadUrl: string | null;
	error: { code: string; message: string } | null;
	userId: string | null;
	attempts: number;
	createdAt: string;
	startedAt: string | null;
	finishedAt: string | null;
	expiresAt: string | null;
}

/** A finished export whose time is up: its file is gone (retention deletes what is left). */
export function isExpired(job: Pick<JobView, "status" | "expiresAt">, now: number): boolean {
	return (job.status === "completed" || job.status === "failed") && job.expiresAt !== null && new Date(job.expiresAt).getTime() <= now;
}

export function downloadUrl(prefix: string, id: string): string {
	return `${prefix}/exports/${encodeURIComponent(id)}/download`;
}

export function exportView(job: JobView, prefix: string): ExportView {
	const p = job.params as unknown as ExportParams;
	const r = job.status === "completed" ? (job.result as unknown as ExportResult | null) : null;
	return {
		id: job.id,
		type: p.type ?? "attendance",
		format: p.format,
		filters: p.filters ?? {},
		status: job.status,
		progress: job.progress,
		rows: r?.rows ?? null,
		pages: r?.pages ?? null,
		size: r?.size ?? null,
		fileName: r?.fileName ?? null,
		downloadUrl: r ? downloadUrl(prefix, job.id) : null,
		error: job.status === "failed" ? job.error : null,
		userId: job.userId,
		attempts: job.attempts,
		createdAt: job.createdAt,
		startedAt: job.startedAt,
		finishedAt: job.finishedAt,
		expiresAt: job.expiresAt
	};
}
