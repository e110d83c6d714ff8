/**
 * Exports of the console (storage role; seed 002 `POST /attendance/export`, the
 * `export_jobs` table): background jobs of kind "export" (services/jobs.service.ts), run by
 * the export workers on actors nodes (services/export-worker.service.ts), their files in
 * the blob store until they expire (EXPORT_TTL_DAYS).
 *
 * - `POST /attendance/export {format: csv|pdf, ...the filters of GET /attendance/logs}` ->
 *   202 with the export (its `id`, status `queued`); audited.
 * - `GET /exports/{id}`: queued / processing with `progress` / completed with `downloadUrl`,
 *   `rows`, `size` / failed with `error {code, message}`. Its progress is pushed live on the
 *   `exports` channel (`exports.progress`).
 * - `GET /exports/{id}/download`: the file, streamed (409 EXPORT_NOT_READY before it is made,
 *   EXPORT_FAILED when it failed).
 * A caller sees their own exports only; an administrator (`*`) every one. Another's answers
 * 404 EXPORT_NOT_FOUND, as one that does not exist; an expired one 410 EXPORT_EXPIRED.
 */
import type { Readable } from "node:stream";
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { EXPORT_FORMATS, type ExportFilters, type ExportFormat } from "../../lib/exports/attendance";
import { exportView, isExpired, type ExportParams, type ExportResult, type ExportView } from "../../lib/exports/jobs";
import type { JobView } from "../../lib/jobs/jobs";
import { isDate } from "../../lib/attendance/time";
import { ApiError, notFound } from "../../lib/errors";
import type { BlobInfo } from "../../lib/store/blobs";
import type { GatewayMeta, Implements } from "../schema";
import { LOG_FILTER_PARAMS } from "./attendance-logs.service";

/** The console family's prefix, where downloadUrl points. */
const PREFIX = "/api/v1";
const exportId = { type: "string", min: 1, max: 80, pattern: "^[A-Za-z0-9_-]+$" } as const;

const RESPONSE = {
	type: "object",
	properties: {
		id: { type: "string" },
		type: { type: "string", enum: ["attendance"] },
		format: { type: "string", enum: [...EXPORT_FORMATS] },
		filters: { type: "object" },
		status: { type: "string", enum: ["queued", "processing", "completed", "failed"] },
		progress: { type: "integer", minimum: 0, maximum: 100 },
		rows: { type: ["integer", "null"] },
		pages: { type: ["integer", "null"] },
		size: { type: ["integer", "null"], description: "bytes" },
		fileName: { type: ["string", "null"] },
		downloadUrl: { type: ["string", "null"] },
		error: { type: ["object", "null"], properties: { code: { type: "string" }, message: { type: "string" } } },
		userId: { type: ["string", "null"] },
		attempts: { type: "integer" },
		createdAt: { type: "string", format: "date-time" },
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
	mine(ctx: Context<{ id: string }, GatewayMeta>): Promise<JobView>;
}

const fieldError = (field: string, issue: string) => new ApiError(400, "VALIDATION_ERROR", `${field}: ${issue}`, { details: [{ field, issue }] });

export default function exportsService(cfg: Config): ServiceSchema<Settings, Methods> {
	const ttlMs = cfg.exportTtlDays * 86_400_000;
	return {
		name: "exports",
		settings: { family: "console", resource: "export" },
		actions: {
			create: {
				rest: "POST /attendance/export",
				permission: "attendance:export",
				status: 202,
				message: "Export queued",
				openapi: {
					summary: "Export attendance logs (the filters of GET /attendance/logs) as CSV or a PDF report, in the background: follow it at GET /exports/{id}",
					tags: ["attendance", "exports"],
					response: RESPONSE,
					errors: ["VALIDATION_ERROR"]
				},
				params: { format: { type: "enum", values: [...EXPORT_FORMATS] }, ...LOG_FILTER_PARAMS, $$strict: true },
				async handler(ctx: Context<ExportFilters & { format: ExportFormat }, GatewayMeta>): Promise<ExportView> {
					const { format, ...rest } = ctx.params;
					const filters = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined && v !== "")) as ExportFilters;
					if (filters.dateFrom && !isDate(filters.dateFrom)) throw fieldError("dateFrom", "not a calendar date");
					if (filters.dateTo && !isDate(filters.dateTo)) throw fieldError("dateTo", "not a calendar date");
					if (filters.dateFrom && filters.dateTo && filters.dateTo < filters.dateFrom) throw fieldError("dateTo", "before dateFrom");
					const user = ctx.meta.user;
					const params: ExportParams = { type: "attendance", format, filters };
					// Dated now for a job that never finishes; a finished one from its end.
					const job = await ctx.call<JobView, object>("jobs.create", { kind: "export", userId: user?.kind === "user" ? user.id : null, params, expiresAt: new Date(Date.now() + ttlMs) });
					ctx.meta.$audit = { resourceId: job.id, message: `Queued an attendance export as ${format}`, context: { format, filters } };
					this.logger.info("Export queued", { exportId: job.id, format, filters, userId: job.userId });
					return exportView(job, PREFIX);
				}
			},

			get: {
				rest: "GET /exports/:id",
				permission: "attendance:export",
				openapi: { summary: "An export of the caller (any, for an administrator): queued, processing with progress, completed with its download URL, or failed with the reason", tags: ["exports"], response: RESPONSE, errors: ["EXPORT_NOT_FOUND", "EXPORT_EXPIRED"] },
				params: { id: exportId, $$strict: true },
				async handler(ctx: Context<{ id: string }, GatewayMeta>): Promise<ExportView> {
					return exportView(await this.mine(ctx), PREFIX);
				}
			},

			download: {
				rest: "GET /exports/:id/download",
				permission: "attendance:export",
				openapi: { summary: "The file of a completed export, streamed (CSV or PDF)", tags: ["exports"], errors: ["EXPORT_NOT_FOUND", "EXPORT_EXPIRED", "EXPORT_NOT_READY", "EXPORT_FAILED"] },
				params: { id: exportId, $$strict: true },
				async handler(ctx: Context<{ id: string }, GatewayMeta>): Promise<Readable> {
					const job = await this.mine(ctx);
					if (job.status === "failed") throw new ApiError(409, "EXPORT_FAILED", `Export ${job.id} failed: ${job.error?.message ?? "unknown reason"}`, { error: job.error });
					if (job.status !== "completed") throw new ApiError(409, "EXPORT_NOT_READY", `Export ${job.id} is ${job.status} (${job.progress}%): try again when it is completed`);
					const r = job.result as unknown as ExportResult;
					const info = await ctx.call<BlobInfo | null, object>("blobs.info", { name: r.blob });
					if (!info) throw new ApiError(410, "EXPORT_EXPIRED", `The file of export ${job.id} is gone`);
					const stream = await ctx.call<Readable, object>("blobs.openStream", { name: r.blob });
					ctx.meta.$responseType = r.contentType;
					ctx.meta.$responseHeaders = {
						"Content-Disposition": `attachment; filename="${r.fileName}"`,
						"Content-Length": String(info.size),
						"Cache-Control": "private, no-store",
						"X-Content-Type-Options": "nosniff"
					};
					return stream;
				}
			}
		},

		methods: {
			/** The caller's export (any for an administrator), not expired. */
			async mine(ctx) {
				const user = ctx.meta.user;
				if (!user) throw new ApiError(401, "UNAUTHORIZED", "Sign in to read exports");
				let job: JobView;
				try {
					job = await ctx.call<JobView, object>("jobs.view", { id: ctx.params.id, reader: { id: user.id, permissions: user.permissions } });
				} catch (err) {
					if ((err as { type?: string }).type === "JOB_NOT_FOUND") throw notFound("EXPORT_NOT_FOUND", `Export not found: ${ctx.params.id}`);
					throw err;
				}
				if (job.kind !== "export") throw notFound("EXPORT_NOT_FOUND", `Export not found: ${ctx.params.id}`);
				if (isExpired(job, Date.now())) throw new ApiError(410, "EXPORT_EXPIRED", `Export ${job.id} expired at ${job.expiresAt}`);
				return job;
			}
		} satisfies Implements<Methods, Settings>
	};
}
