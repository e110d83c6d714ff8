/**
 * The gallery (storage role): the face embeddings of the console's face profiles, in their
 * own collection of the vector store (Qdrant `rollcall_gallery` with QDRANT_URL, else the
 * embedded index in DATA_DIR/gallery.vectors). The one gallery: the console's face profiles,
 * the monitors' matching, and the face API (services/face-api/recognition.service.ts) all read and write it here.
 * Points: id `face:<profileId>:<imageId>`, payload {profileId, imageId, employeeId,
 * embeddingVersion, quality, active}; only active points are matched.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { badRequest } from "../lib/errors";
import { createVectorStore, embeddingGuard, type Payload, type VectorFilter, type VectorStore } from "../lib/store";

interface Vars {
	store: VectorStore;
}

const guard = embeddingGuard;

export const galleryPointId = (profileId: string, imageId: string) => `face:${profileId}:${imageId}`;

export default function galleryService(cfg: Config): ServiceSchema<{ backend: string }, object, Vars> {
	return {
		name: "gallery",
		settings: { backend: cfg.qdrantUrl ? "qdrant" : "embedded" },
		actions: {
			upsert: {
				visibility: "public",
				params: { points: { type: "array", min: 1, max: 1000, items: { type: "object", props: { id: "string", vector: "any", payload: "object" } } } },
				handler(ctx: Context<{ points: { id: string; vector: number[]; payload: Payload }[] }>) {
					return guard(async () => {
						await this.store.upsert(ctx.params.points);
						return { upserted: ctx.params.points.length };
					});
				}
			},
			/** The best active matches of a face, highest cosine first. */
			search: {
				visibility: "public",
				params: { vector: "any", limit: { type: "number", integer: true, min: 1, max: 100, default: 5 }, minScore: { type: "number", optional: true }, embeddingVersion: { type: "number", integer: true, optional: true } },
				handler(ctx: Context<{ vector: number[]; limit: number; minScore?: number; embeddingVersion?: number }>) {
					const filter: VectorFilter = { active: true };
					if (ctx.params.embeddingVersion !== undefined) filter.embeddingVersion = ctx.params.embeddingVersion;
					return guard(() => this.store.search(ctx.params.vector, { limit: ctx.params.limit, minScore: ctx.params.minScore, filter }));
				}
			},
			/** Change the payload of a profile's points: `active` (archived profiles are never matched), `employeeId`. */
			patch: {
				visibility: "public",
				params: { profileId: "string", set: { type: "object", props: { active: { type: "boolean", optional: true }, employeeId: { type: "string", optional: true } } } },
				async handler(ctx: Context<{ profileId: string; set: Payload }>) {
					const points = await this.store.list({ profileId: ctx.params.profileId }, 100);
					if (points.length) await this.store.upsert(points.map(p => ({ id: p.id, vector: p.vector, payload: { ...p.payload, ...ctx.params.set } })));
					return { updated: points.length };
				}
			},
			remove: {
				visibility: "public",
				params: { ids: { type: "array", items: "string", optional: true }, profileId: { type: "string", optional: true } },
				async handler(ctx: Context<{ ids?: string[]; profileId?: string }>) {
					if (ctx.params.ids) return { removed: await this.store.remove(ctx.params.ids) };
					if (ctx.params.profileId) return { removed: await this.store.removeWhere({ profileId: ctx.params.profileId }) };
					throw badRequest("FILTER_REQUIRED", "ids or profileId is required");
				}
			},
			/** The points of some profiles, with their vectors (the face API's gallery/get), by profile id. */
			listByProfile: {
				visibility: "public",
				params: { profileIds: { type: "array", items: "string", max: 1000 } },
				async handler(ctx: Context<{ profileIds: string[] }>) {
					const out: Record<string, { id: string; vector: number[] }[]> = {};
					for (const profileId of ctx.params.profileIds) out[profileId] = (await this.store.list({ profileId }, 100)).map(p => ({ id: p.id, vector: Array.from(p.vector) }));
					return out;
				}
			},
			count: {
				visibility: "public",
				params: { profileId: { type: "string", optional: true } },
				handler(ctx: Context<{ profileId?: string }>) {
					return this.store.count(ctx.params.profileId ? { profileId: ctx.params.profileId } : undefined);
				}
			},
			health: {
				visibility: "public",
				async handler() {
					await this.store.count();
					return { ok: true };
				}
			}
		},
		created() {
			this.store = createVectorStore(cfg, "gallery");
		},
		async started() {
			await this.store.open();
		},
		async stopped() {
			await this.store.close();
		}
	};
}
