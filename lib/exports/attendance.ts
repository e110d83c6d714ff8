/**
 * What an attendance export holds (pure): its columns, one row of cells per log, the totals
 * of a report, the filters as a reader sees them, and the file's name. The storage node
 * makes the rows (services/console/attendance-logs.service.ts `exportPage`), the worker
 * writes them as CSV or PDF (services/export-worker.service.ts).
 */
import type { Cell } from "./csv";
import { offsetMs } from "../attendance/time";

export const EXPORT_FORMATS = ["csv", "pdf"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const CONTENT_TYPES: Record<ExportFormat, string> = { csv: "text/csv; charset=utf-8", pdf: "application/pdf" };

/** The columns, in order, with their width on a landscape A4 PDF page (points; 770 in all). */
export const ATTENDANCE_COLUMNS: readonly { title: string; width: number; align?: "right" }[] = [
	{ title: "Date", width: 56 },
	{ title: "Employee ID", width: 70 },
	{ title: "Name", width: 120 },
	{ title: "Department", width: 90 },
	{ title: "Time In", width: 48 },
	{ title: "Time Out", width: 48 },
	{ title: "Camera", width: 90 },
	{ title: "Accuracy (%)", width: 50, align: "right" },
	{ title: "Status", width: 42 },
	{ title: "Source", width: 38 },
	{ title: "Shift", width: 70 },
	{ title: "Odoo", width: 48 }
];
export const ATTENDANCE_HEADER = ATTENDANCE_COLUMNS.map(c => c.title);
export const STATUS_COLUMN = ATTENDANCE_HEADER.indexOf("Status");
export const SOURCE_COLUMN = ATTENDANCE_HEADER.indexOf("Source");
export const EMPLOYEE_COLUMN = ATTENDANCE_HEADER.indexOf("Employee ID");

/** The fields of a stored log a row is made of. */
export interface LogFacts {
	day: string;
	employeeId: string;
	name: string;
	department?: string | null;
	timezone: string;
	timeInAt?: Date | string | null;
	timeOutAt?: Date | string | null;
	cameraId?: string | null;
	cameraName?: string | null;
	accuracy?: number | null;
	status: string;
	source: string;
	shiftName?: string | null;
	odooStatus: string;
}

/**
 * Local clock times ("HH:MM:SS") in a zone, fast: the zone's offset is asked of Intl once
 * per quarter hour of time (offsets change on quarter hours), remembered for a bounded
 * number of quarters.
 */
export class LocalClock {
	private readonly offsets = new Map<string, number>();
	time(at: Date | string | number, tz: string): string {
		const t = new Date(at).getTime();
		const key = `${tz}|${Math.floor(t / 900_000)}`;
		let off = this.offsets.get(key);
		if (off === undefined) {
			if (this.offsets.size >= 10_000) this.offsets.clear();
			off = offsetMs(t, tz);
			this.offsets.set(key, off);
		}
		const secs = Math.floor((((t + off) % 86_400_000) + 86_400_000) % 86_400_000 / 1000);
		const p = (n: number) => (n < 10 ? `0${n}` : String(n));
		return `${p(Math.floor(secs / 3600))}:${p(Math.floor(secs / 60) % 60)}:${p(secs % 60)}`;
	}
}

/** One log's cells, in ATTENDANCE_COLUMNS order. */
export function attendanceCells(d: LogFacts, clock: LocalClock): Cell[] {
	return [
		d.day,
		d.employeeId,
		d.name,
		d.department ?? null,
		d.timeInAt ? clock.time(d.timeInAt, d.timezone) : null,
		d.timeOutAt ? clock.time(d.timeOutAt, d.timezone) : null,
		d.cameraName ?? d.cameraId ?? null,
		typeof d.accuracy === "number" ? d.accuracy : null,
		d.status,
		d.source,
		d.shiftName ?? null,
		d.odooStatus
	];
}

/** The filters of GET /attendance/logs an export takes (same names). */
export interface ExportFilters {
	search?: string;
	cameraId?: string;
	dateFrom?: string;
	dateTo?: string;
	odooStatus?: string;
	status?: string;
	source?: string;
	employeeId?: string;
}
export const FILTER_LABELS: Record<keyof ExportFilters, string> = {
	search: "Search",
	cameraId: "Camera",
	dateFrom: "From",
	dateTo: "To",
	status: "Status",
	source: "Source",
	odooStatus: "Odoo status",
	employeeId: "Employee"
};

/** The filters as lines of a report ("All logs" when none). */
export function describeFilters(f: ExportFilters): [string, string][] {
	const out: [string, string][] = [];
	for (const [k, label] of Object.entries(FILTER_LABELS) as [keyof ExportFilters, string][]) if (f[k] !== undefined && f[k] !== "") out.push([label, String(f[k])]);
	return out.length ? out : [["Filters", "none (all logs)"]];
}

/** Totals of a report, counted as the rows go by (the people seen: a set bounded by the headcount). */
export class AttendanceTotals {
	rows = 0;
	present = 0;
	late = 0;
	missed = 0;
	manual = 0;
	private readonly people = new Set<string>();
	static readonly LABELS = ["Logs", "People", "Present", "Late", "Missed", "Manual entries"] as const;
	add(cells: readonly Cell[]): void {
		this.rows++;
		const status = cells[STATUS_COLUMN];
		if (status === "present") this.present++;
		else if (status === "late") this.late++;
		else if (status === "missed") this.missed++;
		if (cells[SOURCE_COLUMN] === "manual") this.manual++;
		this.people.add(String(cells[EMPLOYEE_COLUMN]));
	}
	values(): string[] {
		return [this.rows, this.people.size, this.present, this.late, this.missed, this.manual].map(n => n.toLocaleString("en-US"));
	}
}

/** The file name a download offers: attendance-<job day>-<short id>.<format>. */
export function exportFileName(jobId: string, createdAt: Date | string, format: ExportFormat): string {
	const day = new Date(createdAt).toISOString().slice(0, 10);
	const short = jobId.replace(/^JOB-/, "").replace(/[^A-Za-z0-9]/g, "").slice(0, 8);
	return `attendance-${day}-${short}.${format}`;
}

/** The blob an export job writes (one per job: a retried job replaces it). */
export function exportBlobName(jobId: string, format: ExportFormat): string {
	return `export-${jobId.replace(/[^A-Za-z0-9_-]/g, "").slice(0, 120)}.${format}`;
}

/**
 * Export pages read log ids in windows of days: a log's id starts with its day
 * (`ATT-YYYYMMDD-...`, lib/attendance/logs.ts logId), so ids from `lo` (exclusive) up to the
 * returned bound are those of the days from lo's up to `days` later. A store then reads only
 * a window's logs, never all those after `lo` (NeDB walks a whole index range before its
 * limit applies). `firstDay` stands for lo's day when lo is not such an id (the first page).
 * Null: no bound left (past the year 9999). No log id equals a bound, so `lo` may be one.
 */
export function idWindowEnd(lo: string, firstDay: string, days: number): string | null {
	const m = /^ATT-(\d{4})(\d{2})(\d{2})/.exec(lo);
	const from = m ? `${m[1]}-${m[2]}-${m[3]}` : firstDay;
	const t = Date.parse(`${from}T00:00:00Z`) + days * 86_400_000;
	if (!Number.isFinite(t) || t > Date.parse("9999-12-31T00:00:00Z")) return null;
	return `ATT-${new Date(t).toISOString().slice(0, 10).replace(/-/g, "")}`;
}

/**
 * A query's equality conditions as ranges ({f: v} -> {f: {$gte: v, $lte: v}}), the same
 * logs: NeDB then reads its candidates from the last range of the query (the id window)
 * rather than from an equality's whole index.
 */
export function equalitiesAsRanges(query: Record<string, unknown>): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const [k, v] of Object.entries(query)) out[k] = typeof v === "string" && !k.startsWith("$") ? { $gte: v, $lte: v } : v;
	return out;
}
