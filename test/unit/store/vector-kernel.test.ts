/**
 * The SIMD scan kernel of the embedded vector index: the committed bytes are the compilation of
 * its source, and its float32 scores stay within the error bound the index relies on.
 */
import fs from "node:fs";
import { compileScanKernel, moduleSource, OUT_FILE } from "../../../lib/store/vector-kernel/build";
import { scanErrorBound, VectorMatrix } from "../../../lib/store/vector-matrix";
import { VectorStoreError } from "../../../lib/store/vectors";

function rng(seed: number) {
	return () => {
		seed = (seed + 0x6d2b79f5) | 0;
		let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function unit(r: () => number, d: number): Float32Array {
	const v = Float64Array.from({ length: d }, () => r() * 2 - 1);
	const norm = Math.hypot(...v);
	return Float32Array.from(v, x => x / norm);
}

describe("vector scan kernel", () => {
	it("is the compilation of scan.wat (run lib/store/vector-kernel/build.ts after editing it)", async () => {
		const bytes = await compileScanKernel();
		expect(fs.readFileSync(OUT_FILE, "utf8")).toBe(moduleSource(bytes));
	});

	it.each([512, 24, 1, 17])("scores every row within the error bound of the exact dot product (dimension %i)", d => {
		const r = rng(d);
		const n = 301;
		const m = new VectorMatrix(d, 8);
		m.reserve(n);
		for (let i = 0; i < n; i++) m.write(i, unit(r, d));
		const eps = scanErrorBound(m.stride);
		for (let t = 0; t < 5; t++) {
			const q = unit(r, d);
			const all = m.scanAll(q, n).slice();
			expect(all).toHaveLength(n);
			for (let i = 0; i < n; i++) expect(Math.abs(all[i] - m.exactDot(q, i))).toBeLessThanOrEqual(eps);
			const rows = [300, 0, 7, 7, 150];
			const listed = m.scanRows(q, rows);
			expect(Array.from(listed)).toEqual(rows.map(i => all[i]));
		}
		expect(m.scanAll(unit(r, d), 0)).toHaveLength(0);
	});

	it("keeps rows across growth, copies rows and reads back what was written", () => {
		const r = rng(1);
		const m = new VectorMatrix(512, 16);
		const rows = Array.from({ length: 1000 }, () => unit(r, 512));
		for (let i = 0; i < rows.length; i++) {
			m.reserve(i + 1);
			m.write(i, rows[i]);
		}
		expect(m.capacity).toBeGreaterThanOrEqual(1000);
		for (const i of [0, 1, 15, 16, 999]) expect(m.read(i)).toEqual(rows[i]);
		m.copyRow(999, 3);
		expect(m.read(3)).toEqual(rows[999]);
		m.writeBytes(5, new Uint8Array(rows[1].buffer));
		expect(m.read(5)).toEqual(rows[1]);
		expect(() => m.writeBytes(5, new Uint8Array(12))).toThrow(VectorStoreError);
		expect(() => m.read(m.capacity)).toThrow(RangeError);
	});

	it("refuses more rows than 4 GiB of WebAssembly memory holds, without growing", () => {
		const m = new VectorMatrix(512);
		const before = m.memoryBytes;
		expect(m.maxRows).toBeGreaterThan(2_000_000);
		expect(() => m.reserve(m.maxRows + 1)).toThrow(/at most \d+ vectors of 512 dimensions/);
		expect(m.memoryBytes).toBe(before);
	});
});
