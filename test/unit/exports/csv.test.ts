import { Readable } from "node:stream";
import { CSV_BOM, csvCell, csvLine, csvStream, neutralise, parseCsv } from "../../../lib/exports/csv";

describe("CSV cells and lines", () => {
	it("neutralises text a spreadsheet would run as a formula", () => {
		for (const bad of ["=cmd|' /C calc'!A0", "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]) expect(neutralise(bad)).toBe(`'${bad}`);
		for (const ok of ["Alice", "O'Brien", " =not first", "1=1", ""]) expect(neutralise(ok)).toBe(ok);
		expect(csvCell("=HYPERLINK(\"http://x\")")).toBe(`"'=HYPERLINK(""http://x"")"`);
		expect(csvCell("@x")).toBe("'@x");
	});

	it("quotes cells with commas, quotes and line breaks, doubling quotes", () => {
		expect(csvCell('Smith, "Jo"')).toBe('"Smith, ""Jo"""');
		expect(csvCell("two\nlines")).toBe('"two\nlines"');
		expect(csvCell("cr\rhere")).toBe('"cr\rhere"');
		expect(csvCell("plain")).toBe("plain");
	});

	it("writes numbers as numbers (a negative one too), and nothing for null", () => {
		expect(csvCell(-5)).toBe("-5");
		expect(csvCell(97.5)).toBe("97.5");
		expect(csvCell(Number.NaN)).toBe("");
		expect(csvCell(null)).toBe("");
		expect(csvCell(undefined)).toBe("");
		expect(csvCell(true)).toBe("true");
		expect(csvCell(new Date("2026-12-01T08:00:00Z"))).toBe("2026-12-01T08:00:00.000Z");
		expect(csvLine(["a", 1, null, "b,c"])).toBe('a,1,,"b,c"\r\n');
	});

	it("reads back what it writes", () => {
		const rows = [
			["Name", "Note"],
			["=cmd", 'said "hi", left'],
			["multi\r\nline", ""]
		];
		const text = CSV_BOM + rows.map(r => csvLine(r)).join("");
		expect(parseCsv(text)).toEqual([
			["Name", "Note"],
			["'=cmd", 'said "hi", left'],
			["multi\r\nline", ""]
		]);
	});
});

describe("CSV stream", () => {
	it("streams a header and batches, reading a batch only when the reader wants more", async () => {
		let produced = 0;
		const heard: number[] = [];
		async function* batches() {
			for (let b = 0; b < 5; b++) {
				produced++;
				yield Array.from({ length: 3 }, (_, i) => [`p${b * 3 + i}`, b * 3 + i]);
			}
		}
		const stream = csvStream(["Name", "N"], batches(), rows => {
			heard.push(rows.length);
		});
		expect(produced).toBe(0); // nothing read before the reader asks
		let text = "";
		for await (const c of stream as Readable) text += (c as Buffer).toString("utf8");
		expect(text.startsWith(CSV_BOM)).toBe(true);
		const rows = parseCsv(text);
		expect(rows[0]).toEqual(["Name", "N"]);
		expect(rows).toHaveLength(16);
		expect(rows[15]).toEqual(["p14", "14"]);
		expect(heard).toEqual([3, 3, 3, 3, 3]);
	});

	it("holds one batch at a time whatever the row count", async () => {
		// 200,000 rows in batches of 1000: the producer is never more than a batch or two ahead of the reader.
		let produced = 0;
		async function* batches() {
			for (let b = 0; b < 200; b++) {
				produced++;
				yield Array.from({ length: 1000 }, (_, i) => [`Person ${b}-${i}`, "Department", b * 1000 + i, "2026-12-01"]);
			}
		}
		let bytes = 0;
		let lines = 0;
		let chunks = 0;
		let ahead = 0;
		for await (const c of csvStream(["Name", "Dept", "N", "Day"], batches())) {
			chunks++;
			bytes += (c as Buffer).length;
			for (const ch of c as Buffer) if (ch === 10) lines++;
			ahead = Math.max(ahead, produced - (chunks - 1));
		}
		expect(lines).toBe(200_001);
		expect(bytes).toBeGreaterThan(7_000_000);
		expect(chunks).toBe(201);
		expect(ahead).toBeLessThanOrEqual(2);
	});
});
