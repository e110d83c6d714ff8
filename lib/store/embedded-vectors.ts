/**
 * Exact cosine search in process, persisted as an append-only log under DATA_DIR.
 * Vectors are stored normalised in one contiguous Float32Array, so a query is one
 * linear pass of dot products (measured in bench/vectors.ts: 100k x 512 per query).
 * Log records: [u32 length][CBOR {op, id, payload?, vector?}]; a torn tail record
 * (crash mid-write) is dropped on open. The log is compacted when it is mostly garbage.
 */
import fs from "node:fs";
import path from "node:path";
import { Encoder } from "cbor-x";
import { matches, normalizedCopy, type Payload, type SearchOptions, type VectorFilter, type VectorHit, type VectorPoint, type VectorStore } from "./vectors";

const cbor = new Encoder({ useRecords: false });

interface LogRecord {
	op: "u" | "d";
	id: string;
	payload?: Payload;
	vector?: Uint8Array;
}

/** Dot product of q with data[off..off+d); four accumulators let V8 pipeline the adds. */
function dot(q: Float32Array, data: Float32Array, off: number, d: number): number {
	let s0 = 0,
		s1 = 0,
		s2 = 0,
		s3 = 0;
	let j = 0;
	for (; j + 3 < d; j += 4) {
		s0 += q[j] * data[off + j];
		s1 += q[j + 1] * data[off + j + 1];
		s2 += q[j + 2] * data[off + j + 2];
		s3 += q[j + 3] * data[off + j + 3];
	}
	for (; j < d; j++) s0 += q[j] * data[off + j];
	return s0 + s1 + s2 + s3;
}

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
	private data: Float32Array;
	private fd: number | null = null;
	private logRecords = 0;

	constructor(private readonly opts: EmbeddedVectorStoreOptions) {
		this.dimension = opts.dimension;
		this.data = new Float32Array(1024 * opts.dimension);
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
		this.append(prepared.map(p => ({ op: "u" as const, id: p.id, payload: p.payload, vector: new Uint8Array(p.vector.buffer) })));
		for (const p of prepared) this.put(p.id, p.vector, p.payload);
	}

	async search(vector: ArrayLike<number>, opts: SearchOptions): Promise<VectorHit[]> {
		const q = normalizedCopy(vector, this.dimension);
		const limit = Math.max(1, Math.floor(opts.limit));
		const minScore = opts.minScore ?? -Infinity;
		const d = this.dimension;
		const data = this.data;
		// Top-k kept sorted descending; k is small, so insertion beats a heap.
		const topScore: number[] = [];
		const topIdx: number[] = [];
		for (let i = 0, n = this.ids.length; i < n; i++) {
			if (opts.filter && !matches(this.payloads[i], opts.filter)) continue;
			const s = dot(q, data, i * d, d);
			if (s < minScore) continue;
			if (topScore.length === limit && s <= topScore[limit - 1]) continue;
			let k = topScore.length === limit ? limit - 1 : topScore.length;
			while (k > 0 && topScore[k - 1] < s) {
				topScore[k] = topScore[k - 1];
				topIdx[k] = topIdx[k - 1];
				k--;
			}
			topScore[k] = s;
			topIdx[k] = i;
		}
		return topIdx.map((i, r) => ({ id: this.ids[i], score: Math.min(1, Math.max(-1, topScore[r])), payload: { ...this.payloads[i] } }));
	}

	async get(id: string) {
		const i = this.index.get(String(id));
		if (i === undefined) return null;
		return { id: this.ids[i], vector: this.data.slice(i * this.dimension, (i + 1) * this.dimension), payload: { ...this.payloads[i] } };
	}

	async remove(ids: string[]): Promise<number> {
		const present = ids.map(String).filter(id => this.index.has(id));
		if (present.length === 0) return 0;
		this.append(present.map(id => ({ op: "d" as const, id })));
		for (const id of present) this.drop(id);
		return present.length;
	}

	async removeWhere(filter: VectorFilter): Promise<number> {
		return this.remove(this.ids.filter((_, i) => matches(this.payloads[i], filter)));
	}

	async count(filter?: VectorFilter): Promise<number> {
		if (!filter) return this.ids.length;
		let n = 0;
		for (const p of this.payloads) if (matches(p, filter)) n++;
		return n;
	}

	async list(filter: VectorFilter, limit = 100_000) {
		const out: { id: string; vector: Float32Array; payload: Payload }[] = [];
		for (let i = 0; i < this.ids.length && out.length < limit; i++)
			if (matches(this.payloads[i], filter)) out.push({ id: this.ids[i], vector: this.data.slice(i * this.dimension, (i + 1) * this.dimension), payload: { ...this.payloads[i] } });
		return out;
	}

	private put(id: string, vector: Float32Array, payload: Payload): void {
		let i = this.index.get(id);
		if (i === undefined) {
			i = this.ids.length;
			if ((i + 1) * this.dimension > this.data.length) {
				const grown = new Float32Array(this.data.length * 2);
				grown.set(this.data);
				this.data = grown;
			}
			this.ids.push(id);
			this.payloads.push(payload);
			this.index.set(id, i);
		} else {
			this.payloads[i] = payload;
		}
		this.data.set(vector, i * this.dimension);
	}

	/** Swap-remove keeps the matrix dense. */
	private drop(id: string): void {
		const i = this.index.get(id);
		if (i === undefined) return;
		const last = this.ids.length - 1;
		if (i !== last) {
			const d = this.dimension;
			this.data.copyWithin(i * d, last * d, (last + 1) * d);
			this.ids[i] = this.ids[last];
			this.payloads[i] = this.payloads[last];
			this.index.set(this.ids[i], i);
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
				const bytes = Uint8Array.from(rec.vector);
				this.put(rec.id, new Float32Array(bytes.buffer, 0, this.dimension), rec.payload ?? {});
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
		const records: LogRecord[] = this.ids.map((id, i) => ({
			op: "u",
			id,
			payload: this.payloads[i],
			vector: new Uint8Array(this.data.slice(i * this.dimension, (i + 1) * this.dimension).buffer)
		}));
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
