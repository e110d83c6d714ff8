/**
 * Face profiles (storage role; seed 002 "Face Registration", seed 004's users with faces):
 * a person (employeeId, name, department) with up to five photos. Every photo was decoded
 * safely at the gateway (lib/images/safe-image.ts) and must hold exactly one usable face;
 * its embedding goes into THE gallery (services/gallery.service.ts), its photo into the blob
 * store. A request whose photos are not all usable is refused whole (400, naming each photo
 * and why): nothing of it is kept. Deleting a profile or a photo removes its embeddings and
 * blobs in the same operation; nothing of it remains searchable.
 */
import crypto from "node:crypto";
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { DbMixin } from "../../mixins/db.mixin";
import { pageParams, paged, pageQuery, type PageParams } from "../../lib/api/paging";
import { judgePhoto, type PhotoVerdict } from "../../lib/recognition/photo";
import { ApiError, notFound } from "../../lib/errors";
import type { AnalyzeResult } from "../../lib/vision/engine";
import type { ImageUpload } from "../gateway/uploads";
import { galleryPointId } from "../gallery.service";
import type { DbServiceVars, GatewayMeta } from "../schema";

export const MAX_IMAGES = 5;

export const CATEGORIES = ["employee", "visitor"] as const;
export type Category = (typeof CATEGORIES)[number];
const categoryParam = { type: "enum", values: [...CATEGORIES], optional: true } as const;
export const categoryOf = (d: { category?: Category }): Category => d.category ?? "employee";

export interface FaceImage {
	id: string;
	/** The photo; none for an embedding given without a photo (face API gallery/set). */
	blob?: string;
	/** photo: registered from a photo; embedding: an embedding given as such (no photo kept). */
	source?: "photo" | "embedding";
	filename: string;
	width: number;
	height: number;
	box: [number, number, number, number];
	quality: number;
	embeddingVersion: number;
	createdAt: Date;
}

export interface ProfileDoc {
	_id: string;
	employeeId: string;
	name: string;
	department: string;
	/** employee (absent on profiles made before categories: read as employee) or visitor: recognised, never counted for attendance. */
	category?: Category;
	/** pending: no usable photo; active: matched; archived: kept, never matched. */
	status: "pending" | "active" | "archived";
	archived: boolean;
	images: FaceImage[];
	createdAt: Date;
	updatedAt: Date;
	version: number;
}

const imageView = (p: ProfileDoc, i: FaceImage) => ({
	id: i.id,
	url: i.blob ? `/api/v1/assets/${i.blob}` : null,
	source: i.source ?? "photo",
	filename: i.filename,
	width: i.width,
	height: i.height,
	quality: i.quality,
	embeddingVersion: i.embeddingVersion,
	createdAt: new Date(i.createdAt).toISOString(),
	profileId: p._id
});

const statusOf = (archived: boolean, images: FaceImage[]): ProfileDoc["status"] => (archived ? "archived" : images.length ? "active" : "pending");

const PROFILE_RESPONSE = {
	type: "object",
	properties: {
		id: { type: "string" },
		employeeId: { type: "string" },
		name: { type: "string" },
		department: { type: "string" },
		category: { type: "string", enum: [...CATEGORIES], description: "visitor: recognised (detections say visitor), never counted for attendance" },
		status: { type: "string", enum: ["pending", "active", "archived"] },
		imageCount: { type: "integer" },
		thumbnail: { type: ["string", "null"] },
		images: { type: "array", items: { type: "object" } },
		version: { type: "integer" }
	}
};

const uploadsParam = {
	type: "array",
	max: MAX_IMAGES + 1,
	optional: true,
	items: { type: "object", props: { filename: "string", blob: { type: "string", optional: true }, width: { type: "number", optional: true }, height: { type: "number", optional: true }, error: { type: "object", optional: true } } }
} as const;

const images = (maxBytes: number) => ({
	mode: "images" as const,
	field: "images",
	maxFiles: MAX_IMAGES,
	maxBytes,
	missing: { code: "IMAGES_REQUIRED", message: "Send the photos as multipart/form-data, field images" },
	tooLarge: { code: "PAYLOAD_TOO_LARGE", message: `At most ${MAX_IMAGES} photos of ${Math.round(maxBytes / 1048576)} MB` }
});

interface Methods {
	byId(id: string): Promise<ProfileDoc>;
	view(d: ProfileDoc, withImages?: boolean): Record<string, unknown>;
	/** Judge and keep the photos of a request: all usable, or a 400 naming each refused one (nothing kept). */
	admit(ctx: Context, profileId: string, employeeId: string, uploads: ImageUpload[], active: boolean): Promise<FaceImage[]>;
	forget(d: ProfileDoc, imgs: FaceImage[]): Promise<void>;
}
type Vars = DbServiceVars;

export default function facesService(cfg: Config): ServiceSchema<{ family: string; resource: string }, Methods, Vars> {
	return {
		name: "faces",
		mixins: [DbMixin("faces", cfg)],
		settings: { family: "console", resource: "face" },
		actions: {
			list: {
				rest: "GET /faces",
				permission: "faces:read",
				paged: true,
				openapi: { summary: "Face profiles", tags: ["faces"], response: PROFILE_RESPONSE },
				params: {
					...pageParams,
					department: { type: "string", max: 200, optional: true },
					status: { type: "enum", values: ["pending", "active", "archived"], optional: true },
					category: categoryParam,
					search: { type: "string", max: 100, trim: true, optional: true },
					$$strict: true
				},
				async handler(ctx: Context<PageParams & { department?: string; status?: string; category?: Category; search?: string }>) {
					const p = ctx.params;
					const query: Record<string, unknown> = {};
					if (p.department) query.department = p.department;
					if (p.status) query.status = p.status;
					let docs: ProfileDoc[] = await this.adapter.find({ query, sort: ["name"] });
					// Filtered here: profiles made before categories have none (employee).
					if (p.category) docs = docs.filter(d => categoryOf(d) === p.category);
					const s = p.search?.toLowerCase();
					if (s) docs = docs.filter(d => d.name.toLowerCase().includes(s) || d.employeeId.toLowerCase().includes(s));
					const { offset, limit } = pageQuery(p);
					return paged(docs.slice(offset, offset + limit).map(d => this.view(d)), docs.length, p);
				}
			},

			create: {
				rest: "POST /faces",
				permission: "faces:write",
				status: 201,
				upload: images(cfg.faceImageMaxBytes),
				openapi: {
					summary: "Register a person with up to 5 photos (multipart: name, employeeId, department, category employee (default) or visitor, images[]); each photo must show exactly one usable face",
					tags: ["faces"],
					response: PROFILE_RESPONSE,
					errors: ["NO_FACE_DETECTED", "MULTIPLE_FACES", "LOW_QUALITY_FACE", "INVALID_IMAGE", "IMAGE_TOO_LARGE", "EMPLOYEE_ID_TAKEN", "TOO_MANY_IMAGES"]
				},
				params: {
					name: { type: "string", min: 1, max: 200, trim: true },
					employeeId: { type: "string", min: 1, max: 64, trim: true, pattern: "^[A-Za-z0-9._-]+$" },
					department: { type: "string", max: 200, trim: true, optional: true },
					category: categoryParam,
					uploads: uploadsParam,
					$$strict: true
				},
				async handler(ctx: Context<{ name: string; employeeId: string; department?: string; category?: Category; uploads?: ImageUpload[] }, GatewayMeta>) {
					const { name, employeeId, department } = ctx.params;
					if ((await this.adapter.count({ query: { employeeId } })) > 0) throw new ApiError(409, "EMPLOYEE_ID_TAKEN", `A profile with employeeId ${employeeId} exists`);
					const id = crypto.randomUUID();
					const imgs = await this.admit(ctx, id, employeeId, ctx.params.uploads ?? [], true);
					const now = new Date();
					const doc: ProfileDoc = { _id: id, employeeId, name, department: department ?? "", category: ctx.params.category ?? "employee", status: statusOf(false, imgs), archived: false, images: imgs, createdAt: now, updatedAt: now, version: 1 };
					try {
						await this.adapter.insert(doc);
					} catch (err) {
						await this.forget(doc, imgs);
						if (/unique|duplicate/i.test((err as Error).message)) throw new ApiError(409, "EMPLOYEE_ID_TAKEN", `A profile with employeeId ${employeeId} exists`);
						throw err;
					}
					ctx.meta.$audit = { resourceId: id, message: `Registered ${name} (${employeeId}) with ${imgs.length} photo(s)` };
					this.broker.broadcast("faces.changed", { profileId: id });
					return this.view(doc, true);
				}
			},

			get: {
				rest: "GET /faces/:id",
				permission: "faces:read",
				openapi: { summary: "One face profile with its photos", tags: ["faces"], response: PROFILE_RESPONSE, errors: ["FACE_NOT_FOUND"] },
				params: { id: { type: "string", max: 64 }, $$strict: true },
				async handler(ctx: Context<{ id: string }>) {
					return this.view(await this.byId(ctx.params.id), true);
				}
			},

			update: {
				rest: "PUT /faces/:id",
				permission: "faces:write",
				openapi: { summary: "Change a profile (archived: kept, never matched; category employee or visitor)", tags: ["faces"], response: PROFILE_RESPONSE, errors: ["FACE_NOT_FOUND", "VERSION_CONFLICT", "EMPLOYEE_ID_TAKEN"] },
				params: {
					id: { type: "string", max: 64 },
					name: { type: "string", min: 1, max: 200, trim: true, optional: true },
					employeeId: { type: "string", min: 1, max: 64, trim: true, pattern: "^[A-Za-z0-9._-]+$", optional: true },
					department: { type: "string", max: 200, trim: true, optional: true },
					category: categoryParam,
					archived: { type: "boolean", optional: true },
					version: { type: "number", integer: true, min: 1, optional: true },
					$$strict: true
				},
				async handler(ctx: Context<{ id: string; name?: string; employeeId?: string; department?: string; category?: Category; archived?: boolean; version?: number }>) {
					const { id, version, ...changes } = ctx.params;
					const doc = await this.byId(id);
					if (version !== undefined && version !== doc.version) throw new ApiError(409, "VERSION_CONFLICT", `Profile ${id} changed meanwhile (version ${doc.version})`);
					if (changes.employeeId && changes.employeeId !== doc.employeeId && (await this.adapter.count({ query: { employeeId: changes.employeeId } })) > 0)
						throw new ApiError(409, "EMPLOYEE_ID_TAKEN", `A profile with employeeId ${changes.employeeId} exists`);
					const archived = changes.archived ?? doc.archived;
					const set = { ...changes, archived, status: statusOf(archived, doc.images), updatedAt: new Date(), version: doc.version + 1 };
					const n = await this.adapter.updateMany({ _id: id, version: doc.version }, { $set: set });
					if (n !== 1) throw new ApiError(409, "VERSION_CONFLICT", `Profile ${id} changed meanwhile`);
					// The points say whether they are matched, and whose they are.
					if (archived !== doc.archived || (changes.employeeId && changes.employeeId !== doc.employeeId))
						await ctx.call("gallery.patch", { profileId: id, set: { active: !archived, employeeId: changes.employeeId ?? doc.employeeId } });
					this.broker.broadcast("faces.changed", { profileId: id });
					return this.view(await this.byId(id), true);
				}
			},

			remove: {
				rest: "DELETE /faces/:id",
				permission: "faces:write",
				status: 204,
				openapi: { summary: "Delete a profile: its embeddings and photos go with it", tags: ["faces"], errors: ["FACE_NOT_FOUND"] },
				params: { id: { type: "string", max: 64 }, $$strict: true },
				async handler(ctx: Context<{ id: string }, GatewayMeta>) {
					const doc = await this.byId(ctx.params.id);
					// Unsearchable first, then gone.
					await ctx.call("gallery.remove", { profileId: doc._id });
					await this.adapter.removeById(doc._id);
					await this.forget(doc, doc.images);
					ctx.meta.$audit = { resourceId: doc._id, message: `Deleted ${doc.name} (${doc.employeeId}) and ${doc.images.length} photo(s)` };
					this.broker.broadcast("faces.changed", { profileId: doc._id, deleted: true });
					return null;
				}
			},

			images: {
				rest: "GET /faces/:id/images",
				permission: "faces:read",
				openapi: { summary: "A profile's photos", tags: ["faces"], response: { type: "array", items: { type: "object" } } },
				params: { id: { type: "string", max: 64 }, $$strict: true },
				async handler(ctx: Context<{ id: string }>) {
					const doc = await this.byId(ctx.params.id);
					return doc.images.map(i => imageView(doc, i));
				}
			},

			addImages: {
				rest: "POST /faces/:id/images",
				permission: "faces:write",
				status: 201,
				upload: images(cfg.faceImageMaxBytes),
				openapi: { summary: "Add photos to a profile (at most 5 in all)", tags: ["faces"], response: PROFILE_RESPONSE, errors: ["NO_FACE_DETECTED", "MULTIPLE_FACES", "LOW_QUALITY_FACE", "TOO_MANY_IMAGES"] },
				params: { id: { type: "string", max: 64 }, uploads: uploadsParam, $$strict: true },
				async handler(ctx: Context<{ id: string; uploads?: ImageUpload[] }, GatewayMeta>) {
					const doc = await this.byId(ctx.params.id);
					const uploads = ctx.params.uploads ?? [];
					if (uploads.length === 0) throw new ApiError(400, "IMAGES_REQUIRED", "No photo in the request (multipart field images)");
					if (doc.images.length + uploads.length > MAX_IMAGES) throw new ApiError(400, "TOO_MANY_IMAGES", `A profile has at most ${MAX_IMAGES} photos (${doc.images.length} now)`);
					const imgs = await this.admit(ctx, doc._id, doc.employeeId, uploads, !doc.archived);
					const all = [...doc.images, ...imgs];
					const n = await this.adapter.updateMany({ _id: doc._id, version: doc.version }, { $set: { images: all, status: statusOf(doc.archived, all), updatedAt: new Date(), version: doc.version + 1 } });
					if (n !== 1) {
						await ctx.call("gallery.remove", { ids: imgs.map(i => galleryPointId(doc._id, i.id)) });
						await this.forget(doc, imgs);
						throw new ApiError(409, "VERSION_CONFLICT", `Profile ${doc._id} changed meanwhile`);
					}
					ctx.meta.$audit = { resourceId: doc._id, message: `Added ${imgs.length} photo(s) to ${doc.name}` };
					this.broker.broadcast("faces.changed", { profileId: doc._id });
					return this.view(await this.byId(doc._id), true);
				}
			},

			removeImage: {
				rest: "DELETE /faces/:id/images/:imageId",
				permission: "faces:write",
				status: 204,
				openapi: { summary: "Remove one photo: its embedding and blob go with it", tags: ["faces"], errors: ["FACE_NOT_FOUND", "IMAGE_NOT_FOUND"] },
				params: { id: { type: "string", max: 64 }, imageId: { type: "string", max: 64 }, $$strict: true },
				async handler(ctx: Context<{ id: string; imageId: string }, GatewayMeta>) {
					const doc = await this.byId(ctx.params.id);
					const img = doc.images.find(i => i.id === ctx.params.imageId);
					if (!img) throw notFound("IMAGE_NOT_FOUND", `Photo not found: ${ctx.params.imageId}`);
					await ctx.call("gallery.remove", { ids: [galleryPointId(doc._id, img.id)] });
					const rest = doc.images.filter(i => i.id !== img.id);
					await this.adapter.updateById(doc._id, { $set: { images: rest, status: statusOf(doc.archived, rest), updatedAt: new Date(), version: doc.version + 1 } });
					await this.forget(doc, [img]);
					ctx.meta.$audit = { resourceId: doc._id, message: `Removed photo ${img.id} of ${doc.name}` };
					this.broker.broadcast("faces.changed", { profileId: doc._id });
					return null;
				}
			},

			/**
			 * The face API's add-face (not routed): the profile of `employeeId` gets the photos
			 * (upload blobs, judged as the console's are), made first if there is none. The
			 * caller audits.
			 */
			enroll: {
				visibility: "public",
				params: {
					employeeId: { type: "string", min: 1, max: 64, pattern: "^[A-Za-z0-9._-]+$" },
					name: { type: "string", min: 1, max: 200, optional: true },
					department: { type: "string", max: 200, optional: true },
					uploads: { ...uploadsParam, optional: false, min: 1 }
				},
				async handler(ctx: Context<{ employeeId: string; name?: string; department?: string; uploads: ImageUpload[] }>) {
					const { employeeId, uploads } = ctx.params;
						const [doc]: ProfileDoc[] = await this.adapter.find({ query: { employeeId }, limit: 1 });
						if (doc) {
							if (doc.images.length + uploads.length > MAX_IMAGES) throw new ApiError(400, "TOO_MANY_IMAGES", `A person has at most ${MAX_IMAGES} photos (${employeeId} has ${doc.images.length})`);
							const imgs = await this.admit(ctx, doc._id, doc.employeeId, uploads, !doc.archived);
							const all = [...doc.images, ...imgs];
							const n = await this.adapter.updateMany({ _id: doc._id, version: doc.version }, { $set: { images: all, status: statusOf(doc.archived, all), updatedAt: new Date(), version: doc.version + 1 } });
							if (n !== 1) {
								await ctx.call("gallery.remove", { ids: imgs.map(i => galleryPointId(doc._id, i.id)) });
								await this.forget(doc, imgs);
								throw new ApiError(409, "VERSION_CONFLICT", `The profile of ${employeeId} changed meanwhile; try again`);
							}
							this.broker.broadcast("faces.changed", { profileId: doc._id });
							return { created: false, added: imgs.map(i => i.id), profile: this.view(await this.byId(doc._id), true) };
						}
						const id = crypto.randomUUID();
						const imgs = await this.admit(ctx, id, employeeId, uploads, true);
						const now = new Date();
						const made: ProfileDoc = { _id: id, employeeId, name: ctx.params.name || employeeId, department: ctx.params.department ?? "", status: statusOf(false, imgs), archived: false, images: imgs, createdAt: now, updatedAt: now, version: 1 };
						try {
							await this.adapter.insert(made);
						} catch (err) {
							await ctx.call("gallery.remove", { profileId: id });
							await this.forget(made, imgs);
							// Made meanwhile by another request: the photos are gone with this attempt; the caller tries again.
							if (/unique|duplicate/i.test((err as Error).message)) throw new ApiError(409, "VERSION_CONFLICT", `The profile of ${employeeId} was made meanwhile; try again`);
							throw err;
						}
						this.broker.broadcast("faces.changed", { profileId: id });
						return { created: true, added: imgs.map(i => i.id), profile: this.view(made, true) };
				}
			},

			/**
			 * The face API's gallery/set (not routed): each person's embeddings become exactly
			 * the ones given (photos and embeddings they had are removed), the profile made when
			 * missing. Embeddings of another version than the engine's are refused by the caller.
			 */
			setEmbeddings: {
				visibility: "public",
				params: {
					embeddingVersion: { type: "number", integer: true },
					people: {
						type: "array",
						min: 1,
						max: 1000,
						items: {
							type: "object",
							props: {
								employeeId: { type: "string", min: 1, max: 64, pattern: "^[A-Za-z0-9._-]+$" },
								name: { type: "string", min: 1, max: 200, optional: true },
								department: { type: "string", max: 200, optional: true },
								embeddings: { type: "array", min: 1, max: MAX_IMAGES, items: { type: "object", props: { vector: { type: "array", items: "number" }, quality: { type: "number", optional: true } } } }
							}
						}
					}
				},
				async handler(ctx: Context<{ embeddingVersion: number; people: { employeeId: string; name?: string; department?: string; embeddings: { vector: number[]; quality?: number }[] }[] }>) {
					const { embeddingVersion, people } = ctx.params;
					const ids = people.map(p => p.employeeId);
					if (new Set(ids).size !== ids.length) throw new ApiError(400, "DUPLICATE_PERSON", "Each person_id may appear once per request");
					const existing: ProfileDoc[] = await this.adapter.find({ query: { employeeId: { $in: ids } } });
					const byEmployee = new Map(existing.map(d => [d.employeeId, d]));
					const now = new Date();
					const fresh: ProfileDoc[] = [];
					const points: { id: string; vector: number[]; payload: Record<string, unknown> }[] = [];
					const replaced: { doc: ProfileDoc; images: FaceImage[] }[] = [];
					for (const p of people) {
						const old = byEmployee.get(p.employeeId);
						const profileId = old?._id ?? crypto.randomUUID();
						const images: FaceImage[] = p.embeddings.map(e => ({ id: crypto.randomUUID(), source: "embedding", filename: "embedding", width: 0, height: 0, box: [0, 0, 0, 0], quality: e.quality ?? 0, embeddingVersion, createdAt: now }));
						const active = !(old?.archived ?? false);
						images.forEach((img, i) => points.push({ id: galleryPointId(profileId, img.id), vector: p.embeddings[i].vector, payload: { profileId, imageId: img.id, employeeId: p.employeeId, embeddingVersion, quality: img.quality, active } }));
						if (old) replaced.push({ doc: old, images });
						else fresh.push({ _id: profileId, employeeId: p.employeeId, name: p.name || p.employeeId, department: p.department ?? "", status: "active", archived: false, images, createdAt: now, updatedAt: now, version: 1 });
					}
					// The old points go, the new ones come, then the documents say so.
					for (const r of replaced) await ctx.call("gallery.remove", { profileId: r.doc._id });
					for (let i = 0; i < points.length; i += 1000) await ctx.call("gallery.upsert", { points: points.slice(i, i + 1000) });
					if (fresh.length) await this.adapter.insertMany(fresh);
					for (const r of replaced) {
						const p = people.find(x => x.employeeId === r.doc.employeeId)!;
						await this.adapter.updateById(r.doc._id, { $set: { images: r.images, name: p.name || r.doc.name, status: statusOf(r.doc.archived, r.images), updatedAt: now, version: r.doc.version + 1 } });
						await this.forget(r.doc, r.doc.images);
					}
					this.broker.broadcast("faces.changed", {});
					return { created: fresh.length, updated: replaced.length, embeddings: points.length };
				}
			},

			/** The face API's gallery/get (not routed): profiles by employeeId, a page at a time, with their embeddings if asked. */
			galleryPage: {
				visibility: "public",
				params: { offset: { type: "number", integer: true, min: 0 }, limit: { type: "number", integer: true, min: 1, max: 1000 }, withEmbeddings: { type: "boolean" } },
				async handler(ctx: Context<{ offset: number; limit: number; withEmbeddings: boolean }>) {
					const total: number = await this.adapter.count({});
					const docs: ProfileDoc[] = await this.adapter.find({ sort: ["employeeId"], offset: ctx.params.offset, limit: ctx.params.limit });
					const vectors = ctx.params.withEmbeddings && docs.length ? await ctx.call<Record<string, { id: string; vector: number[] }[]>, object>("gallery.listByProfile", { profileIds: docs.map(d => d._id) }) : {};
					return {
						total,
						people: docs.map(d => ({
							profileId: d._id,
							employeeId: d.employeeId,
							name: d.name,
							department: d.department,
							status: d.status,
							images: d.images.map(i => ({ id: i.id, source: i.source ?? "photo", quality: i.quality, embeddingVersion: i.embeddingVersion, createdAt: new Date(i.createdAt).toISOString(), vector: vectors[d._id]?.find(v => v.id === galleryPointId(d._id, i.id))?.vector }))
						}))
					};
				}
			},

			/** The face API's gallery/clear (not routed): every profile, its embeddings and photos. */
			clearAll: {
				visibility: "public",
				async handler(ctx: Context) {
					const docs: ProfileDoc[] = await this.adapter.find({});
					let images = 0;
					for (const d of docs) {
						// Unsearchable first, then gone.
						await ctx.call("gallery.remove", { profileId: d._id });
						await this.adapter.removeById(d._id);
						await this.forget(d, d.images);
						images += d.images.length;
					}
					this.broker.broadcast("faces.changed", {});
					return { people: docs.length, images };
				}
			},

			/** Counts for the face API's gallery/info and database/status (not routed). */
			stats: {
				visibility: "public",
				async handler() {
					const docs: ProfileDoc[] = await this.adapter.find({});
					const by = (s: string) => docs.filter(d => d.status === s).length;
					return { people: docs.length, active: by("active"), pending: by("pending"), archived: by("archived"), images: docs.reduce((n, d) => n + d.images.length, 0), photos: docs.reduce((n, d) => n + d.images.filter(i => i.blob).length, 0) };
				}
			},

			/** Profiles by id, for matches and history (not routed). */
			byIds: {
				visibility: "public",
				params: { ids: { type: "array", items: "string", max: 1000 } },
				async handler(ctx: Context<{ ids: string[] }>) {
					const docs: ProfileDoc[] = await this.adapter.find({ query: { _id: { $in: ctx.params.ids } } });
					return docs.map(d => ({ id: d._id, employeeId: d.employeeId, name: d.name, department: d.department, category: categoryOf(d), status: d.status }));
				}
			}
		},

		methods: {
			async byId(id: string) {
				const doc: ProfileDoc | null = await this.adapter.findById(id);
				if (!doc) throw notFound("FACE_NOT_FOUND", `Face profile not found: ${id}`);
				return doc;
			},

			view(d: ProfileDoc, withImages = false) {
				return {
					id: d._id,
					employeeId: d.employeeId,
					name: d.name,
					department: d.department,
					category: categoryOf(d),
					status: d.status,
					imageCount: d.images.length,
					thumbnail: d.images.find(i => i.blob) ? `/api/v1/assets/${d.images.find(i => i.blob)!.blob}` : null,
					...(withImages ? { images: d.images.map(i => imageView(d, i)) } : {}),
					createdAt: new Date(d.createdAt).toISOString(),
					updatedAt: new Date(d.updatedAt).toISOString(),
					version: d.version
				};
			},

			async admit(ctx: Context, profileId: string, employeeId: string, uploads: ImageUpload[], active: boolean) {
				if (uploads.length > MAX_IMAGES) throw new ApiError(400, "TOO_MANY_IMAGES", `At most ${MAX_IMAGES} photos`);
				const verdicts: { upload: ImageUpload; verdict: PhotoVerdict | null; data?: Buffer; error?: { code: string; message: string } }[] = [];
				for (const u of uploads) {
					if (u.error || !u.blob) {
						verdicts.push({ upload: u, verdict: null, error: u.error ?? { code: "INVALID_IMAGE", message: `${u.filename}: not stored` } });
						continue;
					}
					const blob = await ctx.call<{ data: Buffer }, object>("blobs.get", { name: u.blob });
					const analysis = await ctx.call<AnalyzeResult, object>("inference.analyze", { image: blob.data, maxFaces: 10, minFaceSize: 20 });
					const verdict = judgePhoto(analysis, { minInterocularPx: cfg.faceMinInterocularPx, minSharpness: 15, maxPose: 40 });
					verdicts.push({ upload: u, verdict, data: blob.data, error: verdict.ok ? undefined : { code: verdict.code, message: `${u.filename}: ${verdict.message}` } });
				}
				const refused = verdicts.filter(v => v.error);
				if (refused.length) {
					for (const v of verdicts) if (v.upload.blob) await ctx.call("blobs.remove", { name: v.upload.blob }).catch(() => undefined);
					const first = refused[0].error!;
					throw new ApiError(400, first.code, refused.map(r => r.error!.message).join("; "), {
						details: verdicts.flatMap((v, i) => (v.error ? [{ field: `images[${i}]`, issue: `${v.error.code}: ${v.error.message}` }] : []))
					});
				}
				// Every photo is usable: keep them, then make them searchable.
				const now = new Date();
				const kept: FaceImage[] = [];
				for (const v of verdicts) {
					const ok = v.verdict as PhotoVerdict & { ok: true };
					const id = crypto.randomUUID();
					const blob = `face-${profileId}-${id}.jpg`;
					await ctx.call("blobs.put", { name: blob, kind: "face", contentType: "image/jpeg", data: v.data });
					await ctx.call("blobs.remove", { name: v.upload.blob! });
					kept.push({ id, blob, source: "photo", filename: v.upload.filename, width: v.upload.width ?? 0, height: v.upload.height ?? 0, box: ok.face.box, quality: ok.quality, embeddingVersion: ok.face.embeddingVersion ?? 0, createdAt: now });
				}
				if (kept.length)
					await ctx.call("gallery.upsert", {
						points: kept.map((img, i) => {
							const face = (verdicts[i].verdict as PhotoVerdict & { ok: true }).face;
							return { id: galleryPointId(profileId, img.id), vector: face.embedding, payload: { profileId, imageId: img.id, employeeId, embeddingVersion: img.embeddingVersion, quality: img.quality, active } };
						})
					});
				return kept;
			},

			async forget(_d: ProfileDoc, imgs: FaceImage[]) {
				for (const i of imgs) if (i.blob) await this.broker.call("blobs.remove", { name: i.blob }).catch(() => undefined);
			}
		}
	};
}
