/**
 * The embedding gallery (storage role): 512-d face embeddings in Qdrant (QDRANT_URL) or the
 * embedded exact index. Vectors cross the transporter as number arrays or Float32Arrays (CBOR).
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { badRequest } from "../lib/errors";
import { createVectorStore, EMBEDDING_DIMENSION, embeddingGuard, type Payload, type VectorFilter, type VectorStore } from "../lib/store";

const vector = { type: "any" } as const;
const filter = { type: "object", optional: true } as const;

export default function embeddingsService(cfg: Config): ServiceSchema<{ dimension: number; backend: "qdrant" | "embedded" }, object, object> {
	let store: VectorStore;
	const guard = embeddingGuard;
	return {
		name: "embeddings",
		settings: { dimension: EMBEDDING_DIMENSION, backend: cfg.qdrantUrl ? "qdrant" : "embedded" },
		actions: {
			upsert: {
				params: { points: { type: "array", min: 1, max: 10000, items: { type: "object", props: { id: "string", vector, payload: { type: "object", optional: true } } } } },
				handler(ctx: Context<{ points: { id: string; vector: number[]; payload?: Payload }[] }>) {
					return guard(async () => {
						await store.upsert(ctx.params.points.map(p => ({ id: p.id, vector: p.vector, payload: p.payload ?? {} })));
						return { upserted: ctx.params.points.length };
					});
				}
			},
			search: {
				params: { vector, limit: { type: "number", integer: true, min: 1, max: 1000, default: 10 }, filter, minScore: { type: "number", optional: true } },
				handler(ctx: Context<{ vector: number[]; limit: number; filter?: VectorFilter; minScore?: number }>) {
					return guard(() => store.search(ctx.params.vector, { limit: ctx.params.limit, filter: ctx.params.filter, minScore: ctx.params.minScore }));
				}
			},
			get: {
				params: { id: "string" },
				async handler(ctx: Context<{ id: string }>) {
					const p = await store.get(ctx.params.id);
					return p && { id: p.id, vector: Array.from(p.vector), payload: p.payload };
				}
			},
			remove: {
				params: { ids: { type: "array", items: "string", optional: true }, filter },
				async handler(ctx: Context<{ ids?: string[]; filter?: VectorFilter }>) {
					if (ctx.params.ids) return { removed: await store.remove(ctx.params.ids) };
					if (ctx.params.filter && Object.keys(ctx.params.filter).length > 0) return { removed: await store.removeWhere(ctx.params.filter) };
					throw badRequest("IDS_OR_FILTER_REQUIRED", "Either ids or a non-empty filter is required");
				}
			},
			/** Every point matching a (non-empty) filter, vectors as number arrays. */
			fetch: {
				params: { filter: { type: "object", minProps: 1 }, limit: { type: "number", integer: true, min: 1, max: 100_000, default: 100_000 } },
				async handler(ctx: Context<{ filter: VectorFilter; limit: number }>) {
					const points = await store.list(ctx.params.filter, ctx.params.limit);
					return points.map(p => ({ id: p.id, vector: Array.from(p.vector), payload: p.payload }));
				}
			},
			count: {
				params: { filter },
				handler(ctx: Context<{ filter?: VectorFilter }>) {
					return store.count(ctx.params.filter);
				}
			},
			/** Reachability probe used by /health. */
			async health() {
				await store.count();
				return { ok: true, backend: cfg.qdrantUrl ? "qdrant" : "embedded" };
			}
		},
		async started() {
			store = createVectorStore(cfg);
			await store.open();
		},
		async stopped() {
			await store?.close();
		}
	};
}
