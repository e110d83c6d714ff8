/**
 * Exact cosine search in process, persisted as an append-only log under DATA_DIR.
 *
 * Vectors are stored normalised, once, in a VectorMatrix: one contiguous float32 matrix in
 * WebAssembly memory that a SIMD kernel scans (vector-kernel/scan.wat; bench/vectors.ts and
 * docs/measurements.md: 100k x 512 per query). The kernel's float32 scores only pick the
 * candidates: every row whose kernel score is within twice the kernel's error bound of the k-th
 * best (scanErrorBound), then those are scored again in double precision and ranked. So results
 * are exactly the ranking by the double-precision dot product of the stored vectors, equal scores
 * ordered by id, whatever the row order (which changes on removal and reopening).
 *
 * Filters: per-value row lists for the payload fields that filters use (PayloadIndex). A filter
 * that matches at most an eighth of the points is searched over its rows only; a broader one
 * (the gallery's `active: true`) scans every row and checks the filter only on rows that could
 * enter the top k.
 *
 * Log records: [u32 length][CBOR {op, id, payload?, vector?}]; a torn tail record (crash
 * mid-write) is dropped on open. The log is compacted when it is mostly garbage. Everything in
 * memory (matrix, id map, payload lists) is rebuilt from the log on open.
 */
import fs from "node:fs";
import path from "node:path";
import { Encoder } from "cbor-x";
import { PayloadIndex } from "./payload-index";
import { scanErrorBound, VectorMatrix } from "./vector-matrix";
import { matches, normalizedCopy, VectorStoreError, type Payload, type SearchOptions, type VectorFilter, type VectorHit, type VectorPoint, type VectorStore } from "./vectors";

const cbor = new Encoder({ useRecords: false });

interface LogRecord {
	op: "u" | "d";
	id: string;
	payload?: Payload;
	vector?: Uint8Array;
}

/** A filter matching at most this share of the points is searched over its own rows only. */
const ROW_LIST_SHARE = 1 / 8;
const NO_ROWS = new Uint32Array(0);

export interface EmbeddedVectorStoreOptions {
	file: string;
	dimension: number;
	/** fsync after every write (durability over speed). */
	sync?: boolean;
}

export class EmbeddedVectorStore implements VectorStore {
	readonly dimension: number;
	private ids: string[] = [];
	private payloads: Payload[] = [];
	private index = new Map<string, number>();
	private matrix: VectorMatrix;
	private payloadIndex: PayloadIndex;
	/** Largest distance of a kernel score from the exact score. */
	private readonly eps: number;
	private fd: number | null = null;
	private logRecords = 0;

	constructor(private readonly opts: EmbeddedVectorStoreOptions) {
		this.dimension = opts.dimension;
		this.matrix = new VectorMatrix(opts.dimension);
		this.eps = scanErrorBound(this.matrix.stride);
		this.payloadIndex = new PayloadIndex(
			row => this.payloads[row],
			() => this.ids.length
		);
	}

	async open(): Promise<void> {
		fs.mkdirSync(path.dirname(this.opts.file), { recursive: true });
		if (fs.existsSync(this.opts.file)) this.replay(fs.readFileSync(this.opts.file));
		this.fd = fs.openSync(this.opts.file, "a");
		if (this.logRecords > 2 * this.ids.length + 1000) this.compact();
	}

	async close(): Promise<void> {
		if (this.fd !== null) fs.closeSync(this.fd);
		this.fd = null;
	}

	async upsert(points: VectorPoint[]): Promise<void> {
		const prepared = points.map(p => ({ id: String(p.id), payload: { ...p.payload }, vector: normalizedCopy(p.vector, this.dimension) }));
		// Room first, so a full index refuses the batch before anything is logged.
		const fresh = new Set(prepared.map(p => p.id).filter(id => !this.index.has(id)));
		this.matrix.reserve(this.ids.length + fresh.size);
		this.append(prepared.map(p => ({ op: "u" as const, id: p.id, payload: p.payload, vector: new Uint8Array(p.vector.buffer) })));
		for (const p of prepared) this.put(p.id, p.vector, p.payload);
	}

	async search(vector: ArrayLike<number>, opts: SearchOptions): Promise<VectorHit[]> {
		const q = normalizedCopy(vector, this.dimension);
		const limit = Math.max(1, Math.floor(opts.limit));
		const minScore = opts.minScore ?? -Infinity;
		const n = this.ids.length;
		if (n === 0) return [];
		const filter = opts.filter && Object.keys(opts.filter).length > 0 ? opts.filter : undefined;
		// Either the filter's own rows, or every row with the filter checked on candidates.
		let rows: Uint32Array | null = null;
		if (filter) {
			rows = this.filterRows(filter, n * ROW_LIST_SHARE);
			if (rows?.length === 0) return [];
		}
		const scores = rows ? this.matrix.scanRows(q, rows) : this.matrix.scanAll(q, n);
		const payloads = this.payloads;
		const accept = filter && !rows ? (row: number) => matches(payloads[row], filter) : null;
		const picked = this.candidates(scores, limit, minScore - this.eps, accept);
		const ranked: { row: number; score: number }[] = [];
		for (const j of picked) {
			const row = rows ? rows[j] : j;
			const score = this.matrix.exactDot(q, row);
			if (score >= minScore) ranked.push({ row, score });
		}
		const ids = this.ids;
		ranked.sort((a, b) => b.score - a.score || (ids[a.row] < ids[b.row] ? -1 : 1));
		return ranked.slice(0, limit).map(h => ({ id: ids[h.row], score: Math.min(1, Math.max(-1, h.score)), payload: { ...payloads[h.row] } }));
	}

	async get(id: string) {
		const i = this.index.get(String(id));
		if (i === undefined) return null;
		return { id: this.ids[i], vector: this.matrix.read(i), payload: { ...this.payloads[i] } };
	}

	async remove(ids: string[]): Promise<number> {
		const present = [...new Set(ids.map(String))].filter(id => this.index.has(id));
		if (present.length === 0) return 0;
		this.append(present.map(id => ({ op: "d" as const, id })));
		for (const id of present) this.drop(id);
		return present.length;
	}

	async removeWhere(filter: VectorFilter): Promise<number> {
		const rows = this.filterRows(filter, Infinity);
		return this.remove(rows ? Array.from(rows, r => this.ids[r]) : this.ids.slice());
	}

	async count(filter?: VectorFilter): Promise<number> {
		const keys = filter ? Object.keys(filter) : [];
		if (!filter || keys.length === 0) return this.ids.length;
		if (keys.length === 1) return this.payloadIndex.size(keys[0], filter[keys[0]]);
		return this.filterRows(filter, Infinity)!.length;
	}

	async list(filter: VectorFilter, limit = 100_000) {
		const rows = this.filterRows(filter, Infinity);
		const n = Math.min(rows ? rows.length : this.ids.length, Math.max(0, limit));
		const out: { id: string; vector: Float32Array; payload: Payload }[] = [];
		for (let k = 0; k < n; k++) {
			const i = rows ? rows[k] : k;
			out.push({ id: this.ids[i], vector: this.matrix.read(i), payload: { ...this.payloads[i] } });
		}
		return out;
	}

	/**
	 * The rows matching a filter, ascending (so the kernel reads memory forwards), from the
	 * smallest row list of its fields; null when the filter is empty or matches more than
	 * `maxRows` points by its most selective field.
	 */
	private filterRows(filter: VectorFilter, maxRows: number): Uint32Array | null {
		const keys = Object.keys(filter);
		if (keys.length === 0) return null;
		let best = keys[0];
		let bestSize = Infinity;
		for (const k of keys) {
			const size = this.payloadIndex.size(k, filter[k]);
			if (size === 0) return NO_ROWS;
			if (size < bestSize) {
				best = k;
				bestSize = size;
			}
		}
		if (bestSize > maxRows) return null;
		let rows = this.payloadIndex.list(best, filter[best]);
		if (keys.length > 1) rows = rows.filter(r => matches(this.payloads[r], filter));
		return Uint32Array.from(rows).sort();
	}

	/**
	 * Positions in `scores` that can be in the exact top k: kernel score at least `floor` and
	 * within 2 eps of the k-th best kernel score among accepted positions. A row in the exact top
	 * k has exact score >= the k-th exact score >= (k-th kernel score - eps), so its kernel score
	 * is >= k-th kernel score - 2 eps: none is missed, ties included.
	 */
	private candidates(scores: Float32Array, k: number, floor: number, accept: ((row: number) => boolean) | null): number[] {
		const m = scores.length;
		const top = new Float64Array(k);
		let c = 0;
		for (let j = 0; j < m; j++) {
			const s = scores[j];
			if (s < floor || (c === k && s <= top[k - 1])) continue;
			if (accept && !accept(j)) continue;
			let p = c < k ? c++ : k - 1;
			while (p > 0 && top[p - 1] < s) {
				top[p] = top[p - 1];
				p--;
			}
			top[p] = s;
		}
		const bar = Math.max(floor, c === k ? top[k - 1] - 2 * this.eps : -Infinity);
		const out: number[] = [];
		for (let j = 0; j < m; j++) if (scores[j] >= bar && (!accept || accept(j))) out.push(j);
		return out;
	}

	private put(id: string, vector: Float32Array | Uint8Array, payload: Payload): void {
		let i = this.index.get(id);
		if (i === undefined) {
			i = this.ids.length;
			this.matrix.reserve(i + 1);
			this.ids.push(id);
			this.payloads.push(payload);
			this.index.set(id, i);
			this.payloadIndex.add(i, payload);
		} else {
			this.payloadIndex.remove(i, this.payloads[i]);
			this.payloads[i] = payload;
			this.payloadIndex.add(i, payload);
		}
		if (vector instanceof Float32Array) this.matrix.write(i, vector);
		else this.matrix.writeBytes(i, vector);
	}

	/** Swap-remove keeps the matrix dense. */
	private drop(id: string): void {
		const i = this.index.get(id);
		if (i === undefined) return;
		const last = this.ids.length - 1;
		this.payloadIndex.remove(i, this.payloads[i]);
		if (i !== last) {
			this.payloadIndex.remove(last, this.payloads[last]);
			this.matrix.copyRow(last, i);
			this.ids[i] = this.ids[last];
			this.payloads[i] = this.payloads[last];
			this.index.set(this.ids[i], i);
			this.payloadIndex.add(i, this.payloads[i]);
		}
		this.ids.pop();
		this.payloads.pop();
		this.index.delete(id);
	}

	private encode(records: LogRecord[]): Buffer {
		const parts: Buffer[] = [];
		for (const r of records) {
			const body = cbor.encode(r);
			const head = Buffer.alloc(4);
			head.writeUInt32LE(body.length, 0);
			parts.push(head, body);
		}
		return Buffer.concat(parts);
	}

	private append(records: LogRecord[]): void {
		if (this.fd === null) throw new Error("embedded vector store is not open");
		fs.writeSync(this.fd, this.encode(records));
		if (this.opts.sync !== false) fs.fdatasyncSync(this.fd);
		this.logRecords += records.length;
		if (this.logRecords > 2 * this.ids.length + 1000 && this.logRecords > 10_000) this.compact();
	}

	private replay(buf: Buffer): void {
		let off = 0;
		while (off + 4 <= buf.length) {
			const len = buf.readUInt32LE(off);
			if (off + 4 + len > buf.length) break;
			let rec: LogRecord;
			try {
				rec = cbor.decode(buf.subarray(off + 4, off + 4 + len)) as LogRecord;
			} catch {
				break;
			}
			if (rec.op === "u" && rec.vector) {
				// A whole record of another dimension is not a torn write: refuse rather than truncate.
				if (rec.vector.length !== this.dimension * 4) throw new VectorStoreError(`${this.opts.file}: a stored vector has ${rec.vector.length / 4} dimensions, this index ${this.dimension}`);
				this.put(rec.id, rec.vector, rec.payload ?? {});
			} else if (rec.op === "d") this.drop(rec.id);
			this.logRecords++;
			off += 4 + len;
		}
		// Drop a torn tail so later appends start on a record boundary.
		if (off < buf.length) fs.truncateSync(this.opts.file, off);
	}

	/** Rewrite the log as one record per live point, atomically (write then rename). */
	private compact(): void {
		const tmp = this.opts.file + ".compact";
		const records: LogRecord[] = this.ids.map((id, i) => ({ op: "u", id, payload: this.payloads[i], vector: new Uint8Array(this.matrix.read(i).buffer) }));
		fs.writeFileSync(tmp, this.encode(records));
		const fd = fs.openSync(tmp, "r+");
		fs.fsyncSync(fd);
		fs.closeSync(fd);
		if (this.fd !== null) fs.closeSync(this.fd);
		fs.renameSync(tmp, this.opts.file);
		this.fd = fs.openSync(this.opts.file, "a");
		this.logRecords = records.length;
	}
}
