/**
 * The embedded vector index's vectors: one dense matrix of float32 rows in WebAssembly memory,
 * scanned by the SIMD kernel of vector-kernel/scan.wat (one query against every row, or against
 * a list of rows). It is the only copy of the vectors in memory: rows are written straight into
 * the kernel's memory and read back from it.
 *
 * Memory layout (bytes): [query: one row] [matrix: capacity rows] [scores: capacity f32]
 * [row list: capacity u32]. Growing the capacity grows the memory in place; the scores and the
 * row list are scratch, so they simply start further on. A row is `stride` floats, the dimension
 * rounded up to 16 (the kernel reads a cache line per step); the padding stays zero.
 *
 * The kernel's scores are float32 sums: within `scanErrorBound(stride)` of the exact dot product
 * of the stored vectors, which `exactDot` computes in double precision. The store uses the kernel
 * to find candidates and `exactDot` to rank them, so its results are the exact ranking.
 */
import { SCAN_WASM_BASE64 } from "./vector-kernel/scan-wasm";
import { VectorStoreError } from "./vectors";

// The project's TypeScript lib (ES2023, no DOM) does not declare WebAssembly; this is the part used here.
interface WasmMemory {
	readonly buffer: ArrayBuffer;
	grow(deltaPages: number): number;
}
interface ScanKernel {
	memory: WasmMemory;
	scan(q: number, rows: number, n: number, bytes: number, out: number): void;
	scanList(q: number, rows: number, list: number, m: number, bytes: number, out: number): void;
}
declare const WebAssembly: {
	Module: new (bytes: Uint8Array) => object;
	Instance: new (module: object, imports: object) => { exports: unknown };
};

const PAGE = 65536;
/** wasm32's limit: 65,536 pages of 64 KiB, 4 GiB. */
const MAX_BYTES = 65536 * PAGE;
const U = 2 ** -24;

let compiled: object | null = null;
let warmed = false;

function kernelModule(): object {
	compiled ??= new WebAssembly.Module(Buffer.from(SCAN_WASM_BASE64, "base64"));
	return compiled;
}

/**
 * How far a kernel score can be from the exact dot product of two stored vectors of norm at most
 * 1 (normalised in float32): every partial sum of the kernel is at most stride/16 + 6 float32
 * operations deep, and |fl(x.y) - x.y| <= gamma(depth) * sum |x_i y_i| <= gamma(depth) * |x| |y|.
 * Bounded here, generously, with depth = stride + 2 (valid for any summation order); plus the
 * rounding of the double-precision reference.
 */
export function scanErrorBound(stride: number): number {
	const depth = stride + 2;
	return ((depth * U) / (1 - depth * U)) * (1 + U) ** 2 * 1.01 + 1e-12;
}

export class VectorMatrix {
	readonly dimension: number;
	/** Floats per row: the dimension rounded up to 16. */
	readonly stride: number;
	/** Most rows this matrix can ever hold (4 GiB of WebAssembly memory). */
	readonly maxRows: number;
	private readonly rowBytes: number;
	private readonly kernel: ScanKernel;
	private f32!: Float32Array;
	private u8!: Uint8Array;
	private u32!: Uint32Array;
	private rowsCapacity = 0;

	constructor(dimension: number, initialRows = 256) {
		if (!Number.isInteger(dimension) || dimension < 1) throw new VectorStoreError(`dimension must be a positive integer, got ${dimension}`);
		this.dimension = dimension;
		this.stride = Math.ceil(dimension / 16) * 16;
		this.rowBytes = this.stride * 4;
		this.maxRows = Math.floor((MAX_BYTES - this.rowBytes) / (this.rowBytes + 8));
		this.kernel = new WebAssembly.Instance(kernelModule(), {}).exports as ScanKernel;
		this.reserve(Math.max(16, initialRows));
		if (!warmed) this.warmUp();
	}

	/** Rows the matrix holds without growing. */
	get capacity(): number {
		return this.rowsCapacity;
	}

	/** Bytes of WebAssembly memory in use (matrix, query and scratch). */
	get memoryBytes(): number {
		return this.kernel.memory.buffer.byteLength;
	}

	/** Makes room for `rows` rows (growing by at least half), keeping every row. */
	reserve(rows: number): void {
		if (rows <= this.rowsCapacity) return;
		if (rows > this.maxRows) throw new VectorStoreError(`the embedded vector index holds at most ${this.maxRows} vectors of ${this.dimension} dimensions; use Qdrant (QDRANT_URL) for more`);
		const capacity = Math.min(this.maxRows, Math.max(rows, Math.ceil(this.rowsCapacity * 1.5)));
		const bytes = this.rowBytes * (capacity + 1) + 8 * capacity;
		const pages = Math.ceil(bytes / PAGE) - this.kernel.memory.buffer.byteLength / PAGE;
		if (pages > 0) this.kernel.memory.grow(pages);
		this.rowsCapacity = capacity;
		const buffer = this.kernel.memory.buffer;
		this.f32 = new Float32Array(buffer);
		this.u8 = new Uint8Array(buffer);
		this.u32 = new Uint32Array(buffer);
	}

	/** Writes a row from `dimension` floats. */
	write(row: number, vector: Float32Array): void {
		this.f32.set(vector.subarray(0, this.dimension), this.offset(row));
	}

	/** Writes a row from the bytes of `dimension` little-endian floats (a log record's). */
	writeBytes(row: number, bytes: Uint8Array): void {
		if (bytes.length !== this.dimension * 4) throw new VectorStoreError(`a stored vector has ${bytes.length / 4} dimensions, this index ${this.dimension}`);
		this.u8.set(bytes, this.offset(row) * 4);
	}

	/** A copy of a row's `dimension` floats. */
	read(row: number): Float32Array {
		const at = this.offset(row);
		return this.f32.slice(at, at + this.dimension);
	}

	/** Copies row `from` over row `to`. */
	copyRow(from: number, to: number): void {
		const src = this.offset(from);
		this.f32.copyWithin(this.offset(to), src, src + this.stride);
	}

	/** q . row in double precision, summed in order: the exact score the store ranks by. */
	exactDot(q: Float32Array, row: number): number {
		const f32 = this.f32;
		const at = this.offset(row);
		let s = 0;
		for (let j = 0, d = this.dimension; j < d; j++) s += q[j] * f32[at + j];
		return s;
	}

	/** Kernel scores of q against rows 0..n-1; a view that the next scan overwrites. */
	scanAll(q: Float32Array, n: number): Float32Array {
		this.check(n);
		this.f32.set(q.subarray(0, this.dimension), 0);
		this.kernel.scan(0, this.rowBytes, n, this.rowBytes, this.scoresAt());
		return new Float32Array(this.kernel.memory.buffer, this.scoresAt(), n);
	}

	/** Kernel scores of q against the listed rows, in list order; a view that the next scan overwrites. */
	scanRows(q: Float32Array, rows: ArrayLike<number>): Float32Array {
		const m = rows.length;
		this.check(m);
		this.f32.set(q.subarray(0, this.dimension), 0);
		const listAt = this.listAt();
		this.u32.set(rows, listAt / 4);
		this.kernel.scanList(0, this.rowBytes, listAt, m, this.rowBytes, this.scoresAt());
		return new Float32Array(this.kernel.memory.buffer, this.scoresAt(), m);
	}

	private offset(row: number): number {
		if (!(row >= 0 && row < this.rowsCapacity)) throw new RangeError(`row ${row} is outside the matrix (capacity ${this.rowsCapacity})`);
		return (row + 1) * this.stride;
	}

	private check(n: number): void {
		if (!(n >= 0 && n <= this.rowsCapacity)) throw new RangeError(`${n} rows is more than the matrix holds (${this.rowsCapacity})`);
	}

	private scoresAt(): number {
		return this.rowBytes * (this.rowsCapacity + 1);
	}

	private listAt(): number {
		return this.scoresAt() + 4 * this.rowsCapacity;
	}

	/**
	 * V8 runs new WebAssembly in its baseline compiler first (about 3x slower here) and optimises
	 * it once it is hot; a few hundred scans of a few rows at creation, once per process, do that
	 * before the first real query.
	 */
	private warmUp(): void {
		const rows = Math.min(16, this.rowsCapacity);
		const list = Array.from({ length: rows }, (_, i) => i);
		const q = new Float32Array(this.dimension);
		for (let i = 0; i < 400; i++) {
			this.scanAll(q, rows);
			this.scanRows(q, list);
		}
		warmed = true;
	}
}
