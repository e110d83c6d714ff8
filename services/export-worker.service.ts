/**
 * The export worker (actors role): runs the jobs of kind "export" that
 * services/console/exports.service.ts queues, through mixins/job-worker.mixin.ts (a lease
 * per job: an export left by a node that died is taken up again from the start by another
 * worker once its lease, EXPORT_LEASE_MS, runs out).
 *
 * An export reads the logs as of the job's creation (so a retry reads the same ones) in
 * keyset pages from the storage node (`attendanceLogs.exportPage`), writes them as CSV
 * (lib/exports/csv.ts) or a PDF report (lib/exports/pdf.ts) into a stream that goes to the
 * blob store as it is made (`blobs.putStream`, in chunks across nodes): one page of logs in
 * memory at a time whatever the row count. The file is named after the job (a retry
 * replaces it) and expires with the job, EXPORT_TTL_DAYS after it is made. Progress (rows
 * written of those counted) is broadcast as `exports.progress {id, userId, status,
 * progress, format, ...}` for the live `exports` channel.
 */
import { PassThrough, type Readable } from "node:stream";
import type { ServiceBroker, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { JobWorkerMixin, type JobControl } from "../mixins/job-worker.mixin";
import { ATTENDANCE_COLUMNS, ATTENDANCE_HEADER, AttendanceTotals, CONTENT_TYPES, describeFilters, exportBlobName, exportFileName, type ExportFilters } from "../lib/exports/attendance";
import { csvStream, type Cell } from "../lib/exports/csv";
import { downloadUrl, type ExportParams, type ExportResult } from "../lib/exports/jobs";
import { RowCountChanged, writePdfReport } from "../lib/exports/pdf";
import { progressOf, type JobDoc } from "../lib/jobs/jobs";
import { ApiError } from "../lib/errors";
import type { BlobInfo } from "../lib/store/blobs";

/** Logs asked of the storage node per page. */
const PAGE_ROWS = 1000;
/** A PDF is planned from the count: the logs changing meanwhile (a deletion) make it again, this often at most. */
const PDF_TRIES = 3;

interface Page {
	rows: Cell[][];
	last: string | null;
	done: boolean;
}

export default function exportWorkerService(cfg: Config): ServiceSchema {
	const ttlMs = cfg.exportTtlDays * 86_400_000;

	async function runExport(broker: ServiceBroker, job: JobDoc, control: JobControl): Promise<ExportResult> {
		const { format, filters } = job.params as unknown as ExportParams;
		const asOf = new Date(job.createdAt);
		const total = await broker.call<number, object>("attendanceLogs.exportCount", { filters, asOf });
		if (total > cfg.exportMaxRows) throw new ApiError(422, "EXPORT_TOO_LARGE", `${total} logs match: an export holds at most ${cfg.exportMaxRows} (EXPORT_MAX_ROWS); narrow the filters`);
		const name = exportBlobName(job._id, format);
		const contentType = CONTENT_TYPES[format];
		const expiresAt = new Date(Date.now() + ttlMs);
		let done = 0;
		async function* pages(): AsyncGenerator<Cell[][]> {
			let after = "";
			for (;;) {
				if (control.signal.aborted) throw new Error("export stopped: its lease is gone");
				const page = await broker.call<Page, object>("attendanceLogs.exportPage", { filters, asOf, after, limit: PAGE_ROWS });
				if (page.rows.length) yield page.rows;
				if (page.done || !page.last) return;
				after = page.last;
			}
		}
		const onRows = async (rows: readonly (readonly Cell[])[]) => {
			done += rows.length;
			// 100 once the file is kept, not when its last row is written.
			await control.progress(Math.min(99, progressOf(done, total)));
		};
		const put = (stream: Readable) => broker.call<BlobInfo, object>("blobs.putStream", { name, kind: "export", contentType, expiresAt }, { stream, timeout: 0 } as never);

		let info: BlobInfo;
		let pagesWritten: number | undefined;
		if (format === "csv") {
			info = await put(csvStream(ATTENDANCE_HEADER, pages(), onRows));
		} else {
			const totals = new AttendanceTotals();
			const spec = {
				title: "Attendance report",
				subtitle: `Made ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC from the logs as of ${asOf.toISOString().slice(0, 16).replace("T", " ")} UTC; times in each log's site time zone`,
				meta: describeFilters(filters as ExportFilters),
				columns: ATTENDANCE_COLUMNS,
				rows: total,
				totalsLabels: AttendanceTotals.LABELS,
				emptyText: "No logs match the filters."
			};
			const pass = new PassThrough();
			const stored = put(pass);
			stored.catch(err => pass.destroy(err as Error));
			const written = writePdfReport(pass, spec, pages(), () => totals.values(), async rows => {
				for (const r of rows) totals.add(r);
				await onRows(rows);
			});
			const [w, s] = await Promise.allSettled([written, stored]);
			if (w.status === "rejected") throw w.reason;
			if (s.status === "rejected") throw s.reason;
			info = s.value;
			pagesWritten = w.value.pages;
		}
		return {
			format,
			rows: done,
			...(pagesWritten !== undefined ? { pages: pagesWritten } : {}),
			size: info.size,
			sha256: info.sha256,
			blob: name,
			fileName: exportFileName(job._id, job.createdAt, format),
			contentType,
			expiresAt: expiresAt.toISOString()
		};
	}

	return {
		name: "exportWorker",
		mixins: [
			JobWorkerMixin({
				kind: "export",
				leaseMs: cfg.exportLeaseMs,
				pollMs: cfg.exportPollMs,
				progressEvent: "exports.progress",
				progressExtra: (job, result) => {
					const p = job.params as unknown as ExportParams;
					const r = result as unknown as ExportResult | null;
					return { format: p.format, type: p.type, ...(r ? { rows: r.rows, size: r.size, downloadUrl: downloadUrl("/api/v1", job._id), expiresAt: r.expiresAt } : {}) };
				},
				expiresAt: (_job, result) => new Date((result as unknown as ExportResult).expiresAt),
				async run(this: { broker: ServiceBroker; logger: ServiceBroker["logger"] }, job: JobDoc, control: JobControl) {
					const started = Date.now();
					for (let attempt = 1; ; attempt++) {
						try {
							const result = await runExport(this.broker, job, control);
							this.logger.info("Export made", { exportId: job._id, format: result.format, rows: result.rows, size: result.size, ms: Date.now() - started });
							return result as unknown as Record<string, unknown>;
						} catch (err) {
							if (!(err instanceof RowCountChanged) || control.signal.aborted) throw err;
							this.logger.warn("Export planned for other logs than it read: made again", { exportId: job._id, planned: err.planned, got: err.got, attempt });
							if (attempt >= PDF_TRIES) throw new ApiError(409, "EXPORT_CHANGED", `The logs kept changing during the export (${err.message}): try again`);
						}
					}
				}
			})
		]
	};
}
