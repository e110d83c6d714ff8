/**
 * The production embedding store: Qdrant through @qdrant/js-client-rest, cosine distance.
 * Qdrant ids must be UUIDs or integers, so our string ids map to a name-based UUID and
 * the original id travels in the payload as `_id`.
 */
import crypto from "node:crypto";
import { QdrantClient } from "@qdrant/js-client-rest";
import { normalizedCopy, type Payload, type SearchOptions, type VectorFilter, type VectorHit, type VectorPoint, type VectorStore } from "./vectors";

export interface QdrantVectorStoreOptions {
	url: string;
	collection: string;
	dimension: number;
	apiKey?: string;
}

export function pointUuid(id: string): string {
	const h = crypto.createHash("sha1").update("rollcall:" + id).digest();
	h[6] = (h[6] & 0x0f) | 0x50; // version 5
	h[8] = (h[8] & 0x3f) | 0x80; // RFC 4122 variant
	const x = h.subarray(0, 16).toString("hex");
	return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

function toFilter(filter?: VectorFilter) {
	if (!filter || Object.keys(filter).length === 0) return undefined;
	return { must: Object.entries(filter).map(([key, value]) => ({ key, match: { value } })) };
}

function strip(payload: Record<string, unknown> | null | undefined): { id: string; payload: Payload } {
	const { _id, ...rest } = (payload ?? {}) as Record<string, unknown>;
	return { id: String(_id), payload: rest as Payload };
}

export class QdrantVectorStore implements VectorStore {
	readonly dimension: number;
	private client: QdrantClient;

	constructor(private readonly opts: QdrantVectorStoreOptions) {
		this.dimension = opts.dimension;
		this.client = new QdrantClient({ url: opts.url, apiKey: opts.apiKey, checkCompatibility: false });
	}

	async open(): Promise<void> {
		const { exists } = await this.client.collectionExists(this.opts.collection);
		if (!exists) {
			await this.client.createCollection(this.opts.collection, { vectors: { size: this.dimension, distance: "Cosine" } });
		}
	}

	async close(): Promise<void> {}

	async upsert(points: VectorPoint[]): Promise<void> {
		if (points.length === 0) return;
		await this.client.upsert(this.opts.collection, {
			wait: true,
			points: points.map(p => ({
				id: pointUuid(String(p.id)),
				vector: Array.from(normalizedCopy(p.vector, this.dimension)),
				payload: { ...p.payload, _id: String(p.id) }
			}))
		});
	}

	async search(vector: ArrayLike<number>, opts: SearchOptions): Promise<VectorHit[]> {
		const res = await this.client.query(this.opts.collection, {
			query: Array.from(normalizedCopy(vector, this.dimension)),
			limit: Math.max(1, Math.floor(opts.limit)),
			filter: toFilter(opts.filter),
			score_threshold: opts.minScore,
			with_payload: true,
			params: { exact: true }
		});
		return res.points.map(p => ({ ...strip(p.payload), score: p.score }));
	}

	async get(id: string) {
		const res = await this.client.retrieve(this.opts.collection, { ids: [pointUuid(String(id))], with_payload: true, with_vector: true });
		if (res.length === 0) return null;
		const { payload } = strip(res[0].payload);
		return { id: String(id), vector: Float32Array.from(res[0].vector as number[]), payload };
	}

	async remove(ids: string[]): Promise<number> {
		if (ids.length === 0) return 0;
		const uuids = ids.map(id => pointUuid(String(id)));
		const existing = await this.client.retrieve(this.opts.collection, { ids: uuids, with_payload: false, with_vector: false });
		if (existing.length > 0) await this.client.delete(this.opts.collection, { wait: true, points: existing.map(p => p.id) });
		return existing.length;
	}

	async removeWhere(filter: VectorFilter): Promise<number> {
		const n = await this.count(filter);
		if (n > 0) await this.client.delete(this.opts.collection, { wait: true, filter: toFilter(filter) ?? { must: [] } });
		return n;
	}

	async list(filter: VectorFilter, limit = 100_000) {
		const out: { id: string; vector: Float32Array; payload: Payload }[] = [];
		let offset: string | number | undefined | null = undefined;
		do {
			const page: { points: { payload?: Record<string, unknown> | null; vector?: unknown }[]; next_page_offset?: unknown } = await this.client.scroll(this.opts.collection, {
				filter: toFilter(filter),
				limit: Math.min(1000, limit - out.length),
				offset: offset ?? undefined,
				with_payload: true,
				with_vector: true
			});
			for (const p of page.points) {
				const { id, payload } = strip(p.payload);
				out.push({ id, vector: Float32Array.from(p.vector as number[]), payload });
			}
			offset = (page.next_page_offset as string | number | null | undefined) ?? null;
		} while (offset !== null && out.length < limit);
		return out;
	}

	async count(filter?: VectorFilter): Promise<number> {
		const res = await this.client.count(this.opts.collection, { filter: toFilter(filter), exact: true });
		return res.count;
	}
}
