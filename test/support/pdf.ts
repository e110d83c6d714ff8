/**
 * Reading a PDF back in tests with Debian's poppler-utils (`pdfinfo`, `pdftotext -layout`,
 * in .ci/run's APT_PACKAGES): a real reader, not the writer's own idea of its output.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

function withFile<T>(pdf: Buffer, fn: (file: string) => T): T {
	const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rollcall-pdf-")), "r.pdf");
	fs.writeFileSync(file, pdf);
	try {
		return fn(file);
	} finally {
		fs.rmSync(path.dirname(file), { recursive: true, force: true });
	}
}

export function pdfPages(pdf: Buffer): number {
	const out = withFile(pdf, f => execFileSync("pdfinfo", [f], { encoding: "utf8" }));
	const m = /^Pages:\s+(\d+)/m.exec(out);
	if (!m) throw new Error(`pdfinfo gave no page count:\n${out}`);
	return Number(m[1]);
}

/** The text of pages first..last (1-based), laid out as on the page (a table row is a line). */
export function pdfText(pdf: Buffer, first?: number, last?: number): string {
	const range = [...(first ? ["-f", String(first)] : []), ...(last ? ["-l", String(last)] : [])];
	return withFile(pdf, f => execFileSync("pdftotext", ["-layout", "-enc", "UTF-8", ...range, f, "-"], { encoding: "utf8", maxBuffer: 512 * 1024 * 1024 }));
}
