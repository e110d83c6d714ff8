/**
 * CSV for spreadsheets (RFC 4180), written row by row so an export of any size is streamed
 * in constant memory. Spreadsheet-safe: a text cell that a spreadsheet would read as a
 * formula (one starting with = + - @, a tab or a carriage return: "formula injection"
 * through a person's name) is neutralised with a leading apostrophe, which spreadsheets show
 * as text; numbers are written as numbers. Cells with a comma, quote or line break are
 * quoted, quotes doubled; lines end with CRLF. The file starts with a UTF-8 byte order mark
 * so spreadsheets read accented names right.
 */
import { Readable } from "node:stream";

export type Cell = string | number | boolean | null | undefined | Date;

/** The byte order mark a CSV file starts with. */
export const CSV_BOM = "\uFEFF";

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** A text cell a spreadsheet would run as a formula, made inert ('=cmd -> '=cmd). */
export function neutralise(text: string): string {
	return FORMULA_START.test(text) ? `'${text}` : text;
}

/** One cell, neutralised and quoted as needed (null and undefined: empty). */
export function csvCell(value: Cell): string {
	if (value === null || value === undefined) return "";
	if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
	if (typeof value === "boolean") return value ? "true" : "false";
	const text = neutralise(value instanceof Date ? value.toISOString() : String(value));
	return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One line, CRLF included. */
export function csvLine(cells: readonly Cell[]): string {
	let out = "";
	for (let i = 0; i < cells.length; i++) out += (i ? "," : "") + csvCell(cells[i]);
	return out + "\r\n";
}

/**
 * The CSV text of a header and rows arriving in batches, as a stream of chunks (one per
 * batch): a batch is read only when the reader wants more, so memory holds one batch at a
 * time whatever the row count. `onRows` hears each batch once it is written (progress).
 */
export function csvStream(header: readonly string[], batches: AsyncIterable<readonly (readonly Cell[])[]>, onRows?: (rows: readonly (readonly Cell[])[]) => void | Promise<void>): Readable {
	async function* chunks(): AsyncGenerator<string> {
		yield CSV_BOM + csvLine(header);
		for await (const rows of batches) {
			let text = "";
			for (const r of rows) text += csvLine(r);
			if (text) yield text;
			await onRows?.(rows);
		}
	}
	return Readable.from(chunks(), { objectMode: false });
}

/**
 * Reads CSV text back into rows (RFC 4180: quoted cells with doubled quotes and line breaks).
 * For tests and tools checking what was written; it holds the whole text.
 */
export function parseCsv(text: string): string[][] {
	const rows: string[][] = [];
	let row: string[] = [];
	let cell = "";
	let quoted = false;
	let i = text.startsWith(CSV_BOM) ? 1 : 0;
	for (; i < text.length; i++) {
		const c = text[i];
		if (quoted) {
			if (c === '"') {
				if (text[i + 1] === '"') {
					cell += '"';
					i++;
				} else quoted = false;
			} else cell += c;
		} else if (c === '"' && cell === "") quoted = true;
		else if (c === ",") {
			row.push(cell);
			cell = "";
		} else if (c === "\r" && text[i + 1] === "\n") {
			row.push(cell);
			rows.push(row);
			row = [];
			cell = "";
			i++;
		} else if (c === "\n") {
			row.push(cell);
			rows.push(row);
			row = [];
			cell = "";
		} else cell += c;
	}
	if (cell !== "" || row.length) {
		row.push(cell);
		rows.push(row);
	}
	return rows;
}
