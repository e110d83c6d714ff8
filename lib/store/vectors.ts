/**
 * The embedding store interface. Two implementations: EmbeddedVectorStore (exact cosine
 * search in process, persisted under DATA_DIR) and QdrantVectorStore (production). Both
 * pass test/integration/embeddings.conformance.test.ts.
 */

/** Dimensions of a face embedding (the embedder's output, the FUACS spec's 512). */
export const EMBEDDING_DIMENSION = 512;

export type Payload = Record<string, string | number | boolean | null>;
/** Equality match on payload fields; every field must match. */
export type VectorFilter = Record<string, string | number | boolean>;

export interface VectorPoint {
	id: string;
	vector: ArrayLike<number>;
	payload: Payload;
}

export interface VectorHit {
	id: string;
	/** Cosine similarity of the (normalised) vectors, in [-1, 1]. */
	score: number;
	payload: Payload;
}

export interface SearchOptions {
	limit: number;
	filter?: VectorFilter;
	minScore?: number;
}

export interface VectorStore {
	readonly dimension: number;
	open(): Promise<void>;
	close(): Promise<void>;
	upsert(points: VectorPoint[]): Promise<void>;
	search(vector: ArrayLike<number>, opts: SearchOptions): Promise<VectorHit[]>;
	get(id: string): Promise<{ id: string; vector: Float32Array; payload: Payload } | null>;
	/** Removes points by id; returns how many existed. */
	remove(ids: string[]): Promise<number>;
	/** Removes every point whose payload matches; returns how many. */
	removeWhere(filter: VectorFilter): Promise<number>;
	count(filter?: VectorFilter): Promise<number>;
	/** Every point whose payload matches, with its vector (a session's students, say). */
	list(filter: VectorFilter, limit?: number): Promise<{ id: string; vector: Float32Array; payload: Payload }[]>;
}

export class VectorStoreError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "VectorStoreError";
	}
}

/** Copy to a Float32Array and L2-normalise; rejects wrong dimensions and non-finite values. */
export function normalizedCopy(v: ArrayLike<number>, dimension: number): Float32Array {
	if (!v || v.length !== dimension) throw new VectorStoreError(`vector must have ${dimension} dimensions, got ${v?.length}`);
	const out = new Float32Array(dimension);
	let sum = 0;
	for (let i = 0; i < dimension; i++) {
		const x = Number(v[i]);
		if (!Number.isFinite(x)) throw new VectorStoreError(`vector has a non-finite value at ${i}`);
		out[i] = x;
		sum += x * x;
	}
	if (sum === 0) throw new VectorStoreError("vector must not be all zeros");
	const inv = 1 / Math.sqrt(sum);
	for (let i = 0; i < dimension; i++) out[i] *= inv;
	return out;
}

export function matches(payload: Payload, filter?: VectorFilter): boolean {
	if (!filter) return true;
	for (const k in filter) if (payload[k] !== filter[k]) return false;
	return true;
}
