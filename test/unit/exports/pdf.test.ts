import { PassThrough } from "node:stream";
import { ATTENDANCE_COLUMNS, AttendanceTotals, attendanceCells, describeFilters, equalitiesAsRanges, exportBlobName, exportFileName, idWindowEnd, LocalClock } from "../../../lib/exports/attendance";
import type { Cell } from "../../../lib/exports/csv";
import { pdfPlan, RowCountChanged, winAnsi, writePdfReport, type ReportSpec } from "../../../lib/exports/pdf";
import { localTime } from "../../../lib/attendance/time";
import { pdfPages, pdfText } from "../../support/pdf";

const spec = (rows: number, meta: [string, string][] = [["Filters", "none (all logs)"]]): ReportSpec => ({
	title: "Attendance report",
	subtitle: "Made 2026-12-03 08:00 UTC",
	meta,
	columns: ATTENDANCE_COLUMNS,
	rows,
	totalsLabels: AttendanceTotals.LABELS,
	emptyText: "No logs match the filters."
});

function row(i: number): Cell[] {
	return [`2026-11-${String((i % 28) + 1).padStart(2, "0")}`, `EMP-${String(i).padStart(6, "0")}`, `Person Number ${i}`, "Engineering", "08:01:02", "17:30:00", "Main entrance", 97.5, i % 3 ? "present" : "late", "auto", "Day shift", "pending"];
}

async function render(s: ReportSpec, rows: Cell[][], batch = 500): Promise<{ pdf: Buffer; pages: number }> {
	const out = new PassThrough();
	const chunks: Buffer[] = [];
	out.on("data", c => chunks.push(c));
	const done = new Promise((r, j) => {
		out.on("end", r);
		out.on("error", j);
	});
	done.catch(() => undefined);
	async function* batches() {
		for (let i = 0; i < rows.length; i += batch) yield rows.slice(i, i + batch);
	}
	const totals = new AttendanceTotals();
	const r = await writePdfReport(out, s, batches(), () => totals.values(), b => b.forEach(c => totals.add(c)));
	await done;
	return { pdf: Buffer.concat(chunks), pages: r.pages };
}

describe("PDF report", () => {
	it("plans its pages from the row count", () => {
		const p = pdfPlan(spec(0));
		expect(p.pages).toBe(1);
		expect(p.rowsPerPage).toBeGreaterThan(30);
		expect(p.firstPageRows).toBeLessThan(p.rowsPerPage);
		const many = pdfPlan(spec(100_000));
		expect(many.pages).toBeGreaterThanOrEqual(Math.ceil(100_000 / many.rowsPerPage));
		// Exactly full pages leave the totals a page of their own.
		const full = pdfPlan(spec(p.firstPageRows + p.rowsPerPage));
		expect(full.totalsPage).toBe(true);
		expect(full.pages).toBe(3);
	});

	it("writes a real report: title, filters, table, totals, page numbers, every row readable", async () => {
		const n = 1000;
		const rows = Array.from({ length: n }, (_, i) => row(i));
		rows[500][2] = "Zoë O'Brien-Łukasz"; // kerned and accented text
		const s = spec(n, [
			["From", "2026-11-01"],
			["Status", "present"]
		]);
		const { pdf, pages } = await render(s, rows);
		expect(pdf.subarray(0, 5).toString()).toBe("%PDF-");
		expect(pdfPages(pdf)).toBe(pages);
		expect(pages).toBe(pdfPlan(s).pages);
		const first = pdfText(pdf, 1, 1);
		expect(first).toContain("Attendance report");
		expect(first).toMatch(/From:\s+2026-11-01/);
		expect(first).toMatch(/Date\s+Employee ID\s+Name\s+Department/);
		expect(first).toContain(`Page 1 of ${pages}`);
		const all = pdfText(pdf);
		// Every row is one line, its cells in order.
		const lines = all.split("\n").filter(l => /EMP-\d{6}/.test(l));
		expect(lines).toHaveLength(n);
		expect(all).toMatch(/2026-11-05\s+EMP-000004\s+Person Number 4\s+Engineering\s+08:01:02\s+17:30:00\s+Main entrance\s+97\.5\s+present\s+auto\s+Day shift\s+pending/);
		expect(all).toContain("Zoë O'Brien-Lukasz"); // Ł is not in the standard fonts' WinAnsi: its look-alike
		expect(all).toContain(`Page ${pages} of ${pages}`);
		const last = pdfText(pdf, pages, pages);
		expect(last).toMatch(/Totals/);
		expect(last).toMatch(/Logs\s+1,000/);
		expect(last).toMatch(/Late\s+334/);
	});

	it("cuts a long cell to its column with an ellipsis", async () => {
		const r = row(1);
		r[2] = "An Extraordinarily Long Person Name That Never Fits In Its Column";
		const { pdf } = await render(spec(1), [r]);
		const t = pdfText(pdf);
		expect(t).toMatch(/An Extraordinarily[^\n]*…/);
		expect(t).not.toContain("Never Fits In Its Column");
	});

	it("says so when there is no row, and fails when the row count changes", async () => {
		const { pdf, pages } = await render(spec(0), []);
		expect(pages).toBe(1);
		expect(pdfText(pdf)).toContain("No logs match the filters.");
		await expect(render(spec(3), [row(1), row(2)])).rejects.toBeInstanceOf(RowCountChanged);
		await expect(render(spec(1), [row(1), row(2)])).rejects.toBeInstanceOf(RowCountChanged);
	});
});

describe("text for the standard fonts", () => {
	it("keeps WinAnsi, drops accents it lacks, marks the rest", () => {
		expect(winAnsi("Zoë Müller – “quoted” €5")).toBe("Zoë Müller – “quoted” €5");
		expect(winAnsi("Łukasz Dvořák")).toBe("Lukasz Dvorák");
		expect(winAnsi("山田")).toBe("??");
	});
});

describe("attendance export rows", () => {
	it("makes a log's cells, its times in its own zone", () => {
		const clock = new LocalClock();
		const at = new Date("2026-07-01T06:05:09Z");
		const cells = attendanceCells({ day: "2026-07-01", employeeId: "E1", name: "=cmd", timezone: "Europe/Paris", timeInAt: at, timeOutAt: null, cameraId: "CAM-1", cameraName: null, accuracy: 91.2, status: "present", source: "auto", odooStatus: "synced" }, clock);
		expect(cells).toEqual(["2026-07-01", "E1", "=cmd", null, "08:05:09", null, "CAM-1", 91.2, "present", "auto", null, "synced"]);
	});

	it("reads local times as Intl does, across a zone's clock change", () => {
		const clock = new LocalClock();
		for (const tz of ["Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"])
			for (let t = Date.parse("2026-03-07T00:00:00Z"); t < Date.parse("2026-04-07T00:00:00Z"); t += 3_599_000) expect(clock.time(t, tz)).toBe(localTime(t, tz));
	});

	it("describes filters, names files", () => {
		expect(describeFilters({})).toEqual([["Filters", "none (all logs)"]]);
		expect(describeFilters({ dateFrom: "2026-11-01", status: "late" })).toEqual([
			["From", "2026-11-01"],
			["Status", "late"]
		]);
		expect(exportFileName("JOB-1f2e3d4c-aaaa", "2026-12-03T10:00:00Z", "csv")).toBe("attendance-2026-12-03-1f2e3d4c.csv");
		expect(exportBlobName("JOB-1f2e3d4c-aaaa", "pdf")).toBe("export-JOB-1f2e3d4c-aaaa.pdf");
	});
});

describe("export pages by windows of log ids", () => {
	it("bounds a window days after lo's day, or the first day's for the first page", () => {
		expect(idWindowEnd("ATT-20261130-abcdef0123", "", 1)).toBe("ATT-20261201");
		expect(idWindowEnd("ATT-20261201", "", 4)).toBe("ATT-20261205");
		expect(idWindowEnd("", "2026-02-27", 2)).toBe("ATT-20260301");
		expect(idWindowEnd("ATT-20261130-x", "", 2 ** 30)).toBeNull();
		// No log id equals a bound, and every id of the window sorts between.
		const lo = "ATT-20261130-abcdef0123";
		const hi = idWindowEnd(lo, "", 1)!;
		expect(["ATT-20261130-ffffffffff", "ATT-20261130-abcdef0124"].every(id => id > lo && id < hi)).toBe(true);
		expect("ATT-20261201-0000000000" > hi).toBe(true);
	});

	it("writes equalities as ranges, the same logs", () => {
		expect(equalitiesAsRanges({ status: "present", day: { $gte: "2026-11-01" }, $or: [{ name: "x" }] })).toEqual({ status: { $gte: "present", $lte: "present" }, day: { $gte: "2026-11-01" }, $or: [{ name: "x" }] });
	});
});
