/**
 * A table report as PDF (pdfkit, its standard Helvetica): a title, lines about it (the
 * filters), the table with its header repeated on every page, the totals after the last
 * row, and "Page n of N" on every page. Written page by page to a stream, respecting its
 * back-pressure, so a report of any length is never whole in memory.
 *
 * The number of pages is known before the first is written (`pdfPlan`: fixed row height,
 * one line per cell, cut with an ellipsis to its column), so every footer can say N; the
 * writer is therefore told how many rows come, and fails with RowCountChanged when another
 * number arrives.
 *
 * pdfkit keeps a few hundred bytes per page until the end (its cross-reference table):
 * ~10 MB for 2,500 pages.
 *
 * The standard fonts know WinAnsi (Latin-1 and a few more) only: other letters are shown
 * without their accents (Ł as L), else as "?" (`winAnsi`); the CSV keeps every character.
 */
import { once } from "node:events";
import type { Writable } from "node:stream";
import PDFDocument from "pdfkit";
import type { Cell } from "./csv";

export interface PdfColumn {
	title: string;
	/** Points; the columns together are at most the page's content width (770). */
	width: number;
	align?: "right";
}

export interface ReportSpec {
	title: string;
	/** One line under the title (when it was made, what it is). */
	subtitle: string;
	/** Lines about the report, label and value (its filters). */
	meta: readonly (readonly [string, string])[];
	columns: readonly PdfColumn[];
	/** How many rows will come. */
	rows: number;
	/** The labels of the totals (their values come after the rows). */
	totalsLabels: readonly string[];
	/** Shown when there is no row. */
	emptyText?: string;
}

export class RowCountChanged extends Error {
	constructor(
		readonly planned: number,
		readonly got: number
	) {
		super(`The report was planned for ${planned} rows and got ${got}${got > planned ? " or more" : ""}`);
	}
}

/** The page geometry (points, A4 landscape, y from the top). */
export const PAGE = { width: 841.89, height: 595.28, margin: 36, rowHeight: 12, headerHeight: 16, font: 8 } as const;
const CONTENT_WIDTH = PAGE.width - 2 * PAGE.margin;
const FOOTER_Y = PAGE.height - PAGE.margin - 10;
const TABLE_BOTTOM = FOOTER_Y - 6;
const TITLE_Y = PAGE.margin;
const SUBTITLE_Y = TITLE_Y + 22;
const META_Y = SUBTITLE_Y + 16;
const META_LINE = 11;
const CONTINUED_TABLE_TOP = PAGE.margin + 16;

/** Where the table starts on the first page, and on the others. */
function tableTop(first: boolean, metaLines: number): number {
	return first ? META_Y + META_LINE * metaLines + 8 : CONTINUED_TABLE_TOP;
}
const rowsFrom = (top: number) => Math.max(1, Math.floor((TABLE_BOTTOM - top - PAGE.headerHeight) / PAGE.rowHeight));
const totalsHeight = (lines: number) => 24 + PAGE.rowHeight * lines;

export interface PdfPlan {
	pages: number;
	firstPageRows: number;
	rowsPerPage: number;
	/** The totals need a page of their own after the last row's. */
	totalsPage: boolean;
}

/** How the rows fall on pages (the writer follows it exactly). */
export function pdfPlan(spec: Pick<ReportSpec, "meta" | "rows" | "totalsLabels">): PdfPlan {
	const firstPageRows = rowsFrom(tableTop(true, spec.meta.length));
	const rowsPerPage = rowsFrom(CONTINUED_TABLE_TOP);
	const shown = Math.max(1, spec.rows); // no row: the "none" line takes one
	let pages = 1;
	let last = Math.min(shown, firstPageRows);
	let top = tableTop(true, spec.meta.length);
	if (shown > firstPageRows) {
		const rest = shown - firstPageRows;
		pages += Math.ceil(rest / rowsPerPage);
		last = rest - (Math.ceil(rest / rowsPerPage) - 1) * rowsPerPage;
		top = CONTINUED_TABLE_TOP;
	}
	const after = top + PAGE.headerHeight + last * PAGE.rowHeight;
	const totalsPage = after + totalsHeight(spec.totalsLabels.length) > TABLE_BOTTOM;
	return { pages: pages + (totalsPage ? 1 : 0), firstPageRows, rowsPerPage, totalsPage };
}

/** The characters of WinAnsiEncoding beyond Latin-1's printable ones. */
const WIN_ANSI_EXTRA = new Set("€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ");
const LOOKALIKE: Record<string, string> = { Ł: "L", ł: "l", Đ: "D", đ: "d", Ħ: "H", ħ: "h", ı: "i", Ŀ: "L", ŀ: "l", "\u2212": "-" };
const inWinAnsi = (ch: string) => {
	const c = ch.codePointAt(0)!;
	return (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xff) || WIN_ANSI_EXTRA.has(ch);
};

/** Text the standard fonts can show: WinAnsi as is, other letters without accents, else "?". */
export function winAnsi(s: string): string {
	let plain = true;
	for (const ch of s)
		if (!inWinAnsi(ch)) {
			plain = false;
			break;
		}
	if (plain) return s;
	let out = "";
	for (const ch of s) {
		if (inWinAnsi(ch)) out += ch;
		else if (LOOKALIKE[ch]) out += LOOKALIKE[ch];
		else {
			const base = ch.normalize("NFD").replace(/\p{M}+/gu, "");
			out += base && [...base].every(inWinAnsi) ? base : /\s/.test(ch) ? " " : "?";
		}
	}
	return out;
}

const text = (c: Cell) => (c === null || c === undefined ? "" : c instanceof Date ? c.toISOString() : typeof c === "number" ? String(c) : winAnsi(String(c)));

/**
 * Write the report to `out`: rows arrive in batches, `totals()` is asked once they all came.
 * Resolves once `out` has been ended with the whole file.
 */
export async function writePdfReport(
	out: Writable,
	spec: ReportSpec,
	batches: AsyncIterable<readonly (readonly Cell[])[]>,
	totals: () => readonly string[],
	onRows?: (rows: readonly (readonly Cell[])[]) => void | Promise<void>
): Promise<{ pages: number; rows: number }> {
	const plan = pdfPlan(spec);
	const used = spec.columns.reduce((s, c) => s + c.width, 0);
	if (used > CONTENT_WIDTH + 0.5) throw new Error(`The columns are ${used} points wide, the page ${CONTENT_WIDTH}`);
	const doc = new PDFDocument({ size: "A4", layout: "landscape", margin: PAGE.margin, autoFirstPage: false, info: { Title: spec.title, Author: "Rollcall", Subject: spec.subtitle } });
	let failed: Error | null = null;
	const onError = (err: Error) => (failed ??= err);
	out.on("error", onError);
	doc.on("data", (chunk: Buffer) => {
		if (!failed) out.write(chunk);
	});
	const ended = once(doc, "end");
	const drain = async () => {
		if (failed) throw failed;
		if (out.writableNeedDrain) {
			const stop = new AbortController();
			const waits = [once(out, "drain", { signal: stop.signal }), once(out, "close", { signal: stop.signal })];
			for (const w of waits) w.catch(() => undefined); // the one not heard is aborted below
			await Promise.race(waits);
			stop.abort();
		}
		if (failed) throw failed;
	};

	// Widths of text, by the font's metrics, so a cell is cut to its column.
	const fits = (s: string, width: number) => s.length * PAGE.font * 0.95 <= width || doc.widthOfString(s) <= width;
	const fit = (s: string, width: number): string => {
		if (fits(s, width)) return s;
		let lo = 0;
		let hi = s.length;
		while (lo < hi) {
			const mid = Math.ceil((lo + hi) / 2);
			if (doc.widthOfString(`${s.slice(0, mid)}…`) <= width) lo = mid;
			else hi = mid - 1;
		}
		return `${s.slice(0, lo)}…`;
	};
	const xs: number[] = [];
	let left: number = PAGE.margin;
	for (const c of spec.columns) {
		xs.push(left);
		left += c.width;
	}

	let page = 0;
	let y = 0;
	let rowsOnPage = 0;
	let capacity = 0;
	const footer = () => {
		doc.font("Helvetica").fontSize(7).fillColor("#555555");
		doc.text(`Rollcall · ${spec.title}`, PAGE.margin, FOOTER_Y, { lineBreak: false });
		const label = `Page ${page} of ${plan.pages}`;
		doc.text(label, PAGE.width - PAGE.margin - doc.widthOfString(label), FOOTER_Y, { lineBreak: false });
		doc.fillColor("black");
	};
	const tableHeader = (top: number) => {
		doc.rect(PAGE.margin, top, used, PAGE.headerHeight).fill("#e6e6e6");
		doc.fillColor("black").font("Helvetica-Bold").fontSize(PAGE.font);
		spec.columns.forEach((c, i) => {
			const t = fit(c.title, c.width - 4);
			const x = c.align === "right" ? xs[i] + c.width - 2 - doc.widthOfString(t) : xs[i] + 2;
			doc.text(t, x, top + 4.5, { lineBreak: false });
		});
		doc.font("Helvetica").fontSize(PAGE.font);
		y = top + PAGE.headerHeight;
	};
	const newPage = async (withTable: boolean) => {
		if (page > 0) await drain();
		// Drawing is synchronous: give the event loop its turn once a page (timers, leases, I/O).
		await new Promise(resolve => setImmediate(resolve));
		doc.addPage({ size: "A4", layout: "landscape", margin: PAGE.margin });
		page++;
		if (page === 1) {
			doc.font("Helvetica-Bold").fontSize(16).text(spec.title, PAGE.margin, TITLE_Y, { lineBreak: false });
			doc.font("Helvetica").fontSize(9).fillColor("#333333").text(spec.subtitle, PAGE.margin, SUBTITLE_Y, { lineBreak: false });
			spec.meta.forEach(([label, value], i) => {
				doc.font("Helvetica-Bold").text(`${label}:`, PAGE.margin, META_Y + i * META_LINE, { lineBreak: false });
				doc.font("Helvetica").text(fit(winAnsi(value), CONTENT_WIDTH - 90), PAGE.margin + 90, META_Y + i * META_LINE, { lineBreak: false });
			});
			doc.fillColor("black");
		} else {
			doc.font("Helvetica").fontSize(8).fillColor("#555555").text(`${spec.title} (continued)`, PAGE.margin, PAGE.margin, { lineBreak: false });
			doc.fillColor("black");
		}
		footer();
		rowsOnPage = 0;
		capacity = page === 1 ? plan.firstPageRows : plan.rowsPerPage;
		if (withTable) tableHeader(tableTop(page === 1, spec.meta.length));
		else y = CONTINUED_TABLE_TOP;
		doc.font("Helvetica").fontSize(PAGE.font);
	};
	const row = (cells: readonly Cell[]) => {
		if (rowsOnPage === capacity) throw new Error("page full"); // the caller turns pages first
		const ty = y + 2.5;
		for (let i = 0; i < spec.columns.length; i++) {
			const s = text(cells[i]);
			if (!s) continue;
			const c = spec.columns[i];
			const t = fit(s, c.width - 4);
			const x = c.align === "right" ? xs[i] + c.width - 2 - doc.widthOfString(t) : xs[i] + 2;
			doc.text(t, x, ty, { lineBreak: false });
		}
		y += PAGE.rowHeight;
		rowsOnPage++;
	};

	let count = 0;
	try {
		await newPage(true);
		for await (const batch of batches) {
			for (const cells of batch) {
				if (++count > spec.rows) throw new RowCountChanged(spec.rows, count);
				if (rowsOnPage === capacity) await newPage(true);
				row(cells);
			}
			await onRows?.(batch);
			if (failed) throw failed;
		}
		if (count !== spec.rows) throw new RowCountChanged(spec.rows, count);
		if (count === 0) {
			doc.fillColor("#555555").text(spec.emptyText ?? "No rows.", PAGE.margin + 2, y + 2.5, { lineBreak: false });
			doc.fillColor("black");
			y += PAGE.rowHeight;
		}
		if (plan.totalsPage) await newPage(false);
		const values = totals();
		const top = y + 12;
		doc.font("Helvetica-Bold").fontSize(10).text("Totals", PAGE.margin, top, { lineBreak: false });
		doc.fontSize(PAGE.font);
		spec.totalsLabels.forEach((label, i) => {
			const ly = top + 14 + i * PAGE.rowHeight;
			doc.font("Helvetica-Bold").text(label, PAGE.margin, ly, { lineBreak: false });
			doc.font("Helvetica").text(values[i] ?? "", PAGE.margin + 110, ly, { lineBreak: false });
		});
		if (page !== plan.pages) throw new Error(`Report laid out on ${page} pages, planned ${plan.pages}`);
		doc.end();
		await ended;
		if (failed) throw failed;
		out.end();
		return { pages: page, rows: count };
	} catch (err) {
		out.off("error", onError);
		out.destroy(err as Error);
		throw err;
	}
}
