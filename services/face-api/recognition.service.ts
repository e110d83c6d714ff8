/**
 * Face API, recognition (seed 001 "Face Recognition"): /api/face-recognition/*. Runs on
 * gateway nodes. A person here is a face profile of the console (person_id = employeeId,
 * person_name = name) in THE gallery (services/gallery.service.ts, written through
 * services/console/faces.service.ts): add-face makes or extends the console's profile,
 * recognize searches the same gallery the monitors match against. Photos added are judged
 * as the console's are (exactly one usable face). Similarities are calibrated
 * (lib/vision/similarity.ts); identity rules in lib/face-api/recognition.ts.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { PUBLIC } from "../../lib/api/route-facts";
import { ApiError } from "../../lib/errors";
import { landmarksOut, qualityScore, round, seedBox, type Found, type FoundFace } from "../../lib/face-api/format";
import { modelName, resolveModel } from "../../lib/face-api/models";
import { compareVerdict, identify, parseGallery, PERSON_ID, type GalleryHit, type Person } from "../../lib/face-api/recognition";
import { LatencyStats } from "../../lib/face-api/stats";
import { cosine } from "../../lib/vision/similarity";
import type { ImageUpload } from "../gateway/uploads";
import type { GatewayMeta } from "../schema";
import { BASE64_BODY_LIMIT, ModelSet, base64Param, elapsedMs, fromBase64, fromUpload, imageUpload, look, modelParam, uploadsParam, type CallerImage } from "./common";

const USE = "faceapi:use";
/** Clearing the gallery: only roles holding everything (admins, the integration key). */
export const CLEAR = "faceapi:admin";
/** Photos a person may have (the console's profile limit). */
const MAX_PHOTOS = 5;

const personParams = {
	person_id: { type: "string", min: 1, max: 64, trim: true, optional: true },
	person_name: { type: "string", min: 1, max: 200, trim: true, optional: true },
	department: { type: "string", max: 200, trim: true, optional: true },
	model_name: modelParam
} as const;
const thresholdParam = { type: "number", min: 0, max: 1, convert: true, optional: true } as const;
const topKParam = { type: "number", integer: true, min: 1, max: 20, convert: true, optional: true } as const;

interface PersonParams {
	person_id?: string;
	person_name?: string;
	department?: string;
	model_name?: string;
}

export interface RecognizeOptions {
	threshold: number;
	topK: number;
	maxFaces?: number;
}

export interface RecognizedFace {
	face: FoundFace;
	identity: ReturnType<typeof identify>;
}

interface Methods {
	embedder(requested: unknown, param?: string): Promise<{ model: string; version: number }>;
	recognizeFaces(ctx: Context, found: Found, o: RecognizeOptions): Promise<RecognizedFace[]>;
	enroll(ctx: Context<PersonParams, GatewayMeta>, uploads: ImageUpload[]): Promise<Record<string, unknown>>;
	mainFace(ctx: Context, img: CallerImage, field: string): Promise<FoundFace & { embedding: number[] }>;
}
interface Vars {
	models: ModelSet;
	stats: LatencyStats;
}

/** The person fields of a request, with the seed's names and clear codes. */
function personOf(p: PersonParams): { employeeId: string; name?: string; department?: string } {
	if (!p.person_id) throw new ApiError(400, "PERSON_ID_REQUIRED", "Field required: person_id (the person's employee id)");
	if (!PERSON_ID.test(p.person_id)) throw new ApiError(400, "INVALID_PERSON_ID", "person_id: 1-64 characters of A-Z a-z 0-9 . _ -");
	return { employeeId: p.person_id, name: p.person_name, department: p.department };
}

/** Every face of `found` matched against the gallery (one search per face, the profiles asked once). */
export async function recognizeFound(ctx: Context, found: Found, o: RecognizeOptions): Promise<RecognizedFace[]> {
	const hits = await Promise.all(
		found.faces.map(f => (f.embedding ? ctx.call<GalleryHit[], object>("gallery.search", { vector: f.embedding, limit: Math.min(100, o.topK * MAX_PHOTOS + 5), embeddingVersion: f.embeddingVersion }) : Promise.resolve([] as GalleryHit[])))
	);
	const ids = [...new Set(hits.flat().map(h => h.payload.profileId))];
	const profiles = ids.length ? await ctx.call<(Person & { status: string })[], object>("faces.byIds", { ids }) : [];
	const people = new Map(profiles.filter(p => p.status === "active").map(p => [p.id, p]));
	return found.faces.map((face, i) => ({ face, identity: identify(hits[i], people, o.threshold, o.topK) }));
}

/** One face in the seed's shape, with what recognition found. */
export function recognizedOut(r: RecognizedFace, found: Found, model: string) {
	return {
		bbox: seedBox(r.face.box, r.face.score, found.width, found.height),
		quality_score: qualityScore(r.face.quality),
		landmarks: landmarksOut(r.face),
		has_identity: r.identity.has_identity,
		person_id: r.identity.person_id,
		identity_name: r.identity.identity_name,
		recognition_confidence: r.identity.recognition_confidence,
		match_reason: r.identity.reason,
		matches: r.identity.matches,
		model_used: model
	};
}

export default function faceRecognitionService(cfg: Config): ServiceSchema<{ family: string; resource: string }, Methods, Vars> {
	const defaultThreshold = cfg.similarityThreshold;
	return {
		name: "faceRecognition",
		settings: { family: "face", resource: "face-api" },
		actions: {
			health: {
				rest: "GET /api/face-recognition/health",
				permission: PUBLIC,
				openapi: { summary: "Recognition service status: inference, the gallery and the face profiles reachable", tags: ["face-recognition"] },
				async handler(ctx: Context<unknown, GatewayMeta>) {
					const ok = (p: Promise<unknown>) =>
						p.then(
							() => true,
							() => false
						);
					const [info, gallery, profiles] = await Promise.all([this.models.get().catch(() => null), ok(ctx.call("gallery.health", {}, { timeout: 3000 })), ok(ctx.call("faces.byIds", { ids: [] }, { timeout: 3000 }))]);
					const healthy = !!info && gallery && profiles;
					if (!info && !gallery && !profiles) ctx.meta.$statusCode = 503;
					return { status: healthy ? "healthy" : "degraded", service: "face_recognition", model: info?.models.embedder ? modelName(info.models.embedder) : null, inference_available: !!info, gallery_available: gallery, profiles_available: profiles };
				}
			},

			extractEmbedding: {
				rest: "POST /api/face-recognition/extract-embedding",
				permission: USE,
				audit: false,
				upload: imageUpload("file"),
				openapi: { summary: "The embedding of the largest face of an image (multipart file, model_name)", tags: ["face-recognition"], errors: ["FILE_REQUIRED", "NO_FACE_DETECTED", "UNKNOWN_MODEL", "INVALID_IMAGE"] },
				params: { model_name: modelParam, uploads: uploadsParam, $$strict: "remove" },
				async handler(ctx: Context<{ model_name?: string; uploads?: ImageUpload[] }>) {
					const t = performance.now();
					const { model, version } = await this.embedder(ctx.params.model_name);
					const img = fromUpload(ctx.params.uploads?.[0], "file");
					const face = await this.mainFace(ctx, img, "file");
					const ms = elapsedMs(t);
					this.stats.record(`extract-embedding:${model}`, ms, { faces: 1 });
					return {
						success: true,
						embedding: face.embedding.map(x => round(x, 6)),
						dimension: face.embedding.length,
						embedding_version: version,
						bbox: seedBox(face.box, face.score, img.width, img.height),
						quality_score: qualityScore(face.quality),
						model_used: model,
						processing_time: ms
					};
				}
			},

			addFace: {
				rest: "POST /api/face-recognition/add-face",
				permission: "faces:write",
				upload: { ...imageUpload("file"), keep: "blob" },
				audit: { omit: ["uploads"] },
				openapi: {
					summary: "Add a photo of a person (multipart person_id, person_name, file): makes or extends the console's face profile of that employee id",
					tags: ["face-recognition"],
					errors: ["FILE_REQUIRED", "PERSON_ID_REQUIRED", "NO_FACE_DETECTED", "MULTIPLE_FACES", "LOW_QUALITY_FACE", "TOO_MANY_IMAGES", "UNKNOWN_MODEL"]
				},
				params: { ...personParams, uploads: uploadsParam, $$strict: "remove" },
				async handler(ctx: Context<PersonParams & { uploads?: ImageUpload[] }, GatewayMeta>) {
					const uploads = ctx.params.uploads ?? [];
					if (!uploads.length) throw new ApiError(400, "FILE_REQUIRED", "Field required: file");
					return this.enroll(ctx, uploads.slice(0, 1));
				}
			},

			addFaceJson: {
				rest: "POST /api/face-recognition/add-face-json",
				permission: "faces:write",
				bodyLimit: BASE64_BODY_LIMIT,
				audit: { omit: ["image_base64"] },
				openapi: { summary: "Add a photo of a person given as base64 or a data URL (person_id, person_name, image_base64)", tags: ["face-recognition"], errors: ["IMAGE_REQUIRED", "INVALID_BASE64", "PERSON_ID_REQUIRED", "NO_FACE_DETECTED", "MULTIPLE_FACES", "LOW_QUALITY_FACE"] },
				params: { ...personParams, image_base64: { ...base64Param, optional: true }, $$strict: "remove" },
				async handler(ctx: Context<PersonParams & { image_base64?: string }, GatewayMeta>) {
					personOf(ctx.params);
					const img = await fromBase64(ctx.params.image_base64, "image_base64", "image.jpg");
					const saved = await ctx.call<{ name: string }, object>("blobs.put", { kind: "upload", contentType: "image/jpeg", data: img.jpeg, ttlSeconds: 3600 });
					return this.enroll(ctx, [{ filename: img.filename, blob: saved.name, width: img.width, height: img.height }]);
				}
			},

			registerMultiple: {
				rest: "POST /api/face-recognition/register-multiple",
				permission: "faces:write",
				upload: { ...imageUpload("files", MAX_PHOTOS), keep: "blob" },
				audit: { omit: ["uploads"] },
				openapi: {
					summary: `Add up to ${MAX_PHOTOS} photos of one person at once (multipart person_id, person_name, files); all are usable or none is kept`,
					tags: ["face-recognition"],
					errors: ["FILE_REQUIRED", "PERSON_ID_REQUIRED", "NO_FACE_DETECTED", "MULTIPLE_FACES", "LOW_QUALITY_FACE", "TOO_MANY_IMAGES"]
				},
				params: { ...personParams, uploads: uploadsParam, $$strict: "remove" },
				async handler(ctx: Context<PersonParams & { uploads?: ImageUpload[] }, GatewayMeta>) {
					const uploads = ctx.params.uploads ?? [];
					if (!uploads.length) throw new ApiError(400, "FILE_REQUIRED", "Field required: files");
					return this.enroll(ctx, uploads);
				}
			},

			recognize: {
				rest: "POST /api/face-recognition/recognize",
				permission: USE,
				audit: false,
				upload: imageUpload("file"),
				openapi: {
					summary: "Recognise every face of an image against the gallery (multipart file, similarity_threshold, top_k, max_faces, model_name); similarities calibrated (0.85 = false-match rate 1e-3)",
					tags: ["face-recognition"],
					errors: ["FILE_REQUIRED", "UNKNOWN_MODEL", "INVALID_IMAGE"]
				},
				params: { model_name: modelParam, similarity_threshold: thresholdParam, top_k: topKParam, max_faces: { type: "number", integer: true, min: 1, max: 100, convert: true, optional: true }, uploads: uploadsParam, $$strict: "remove" },
				async handler(ctx: Context<{ model_name?: string; similarity_threshold?: number; top_k?: number; max_faces?: number; uploads?: ImageUpload[] }>) {
					const t = performance.now();
					const { model } = await this.embedder(ctx.params.model_name);
					const img = fromUpload(ctx.params.uploads?.[0], "file");
					const found = await look(ctx, img, { embed: true, maxFaces: ctx.params.max_faces ?? 20 });
					const threshold = ctx.params.similarity_threshold ?? defaultThreshold;
					const rec = await this.recognizeFaces(ctx, found, { threshold, topK: ctx.params.top_k ?? 5 });
					const faces = rec.map(r => recognizedOut(r, found, model));
					const ms = elapsedMs(t);
					this.stats.record(`recognize:${model}`, ms, { faces: faces.length });
					return { success: true, faces, face_count: faces.length, identified_faces: faces.filter(f => f.has_identity).length, similarity_threshold: threshold, image: { width: found.width, height: found.height }, model_used: model, total_processing_time: ms };
				}
			},

			compare: {
				rest: "POST /api/face-recognition/compare",
				permission: USE,
				audit: false,
				bodyLimit: BASE64_BODY_LIMIT,
				openapi: {
					summary: "Compare the largest faces of two images (face1_image_base64, face2_image_base64: base64 or data URLs; model_name, similarity_threshold); processing_time in seconds",
					tags: ["face-recognition"],
					errors: ["IMAGE_REQUIRED", "INVALID_BASE64", "NO_FACE_DETECTED", "UNKNOWN_MODEL"]
				},
				params: { face1_image_base64: { ...base64Param, optional: true }, face2_image_base64: { ...base64Param, optional: true }, model_name: modelParam, similarity_threshold: thresholdParam, $$strict: "remove" },
				async handler(ctx: Context<{ face1_image_base64?: string; face2_image_base64?: string; model_name?: string; similarity_threshold?: number }>) {
					const t = performance.now();
					const { model } = await this.embedder(ctx.params.model_name);
					const [a, b] = await Promise.all([fromBase64(ctx.params.face1_image_base64, "face1_image_base64"), fromBase64(ctx.params.face2_image_base64, "face2_image_base64")]);
					const [fa, fb] = await Promise.all([this.mainFace(ctx, a, "face1_image_base64"), this.mainFace(ctx, b, "face2_image_base64")]);
					const verdict = compareVerdict(cosine(fa.embedding, fb.embedding), ctx.params.similarity_threshold ?? defaultThreshold);
					const ms = elapsedMs(t);
					this.stats.record(`compare:${model}`, ms, { images: 2, faces: 2 });
					return {
						success: true,
						...verdict,
						model_used: model,
						face1: { bbox: seedBox(fa.box, fa.score, a.width, a.height), quality_score: qualityScore(fa.quality) },
						face2: { bbox: seedBox(fb.box, fb.score, b.width, b.height), quality_score: qualityScore(fb.quality) },
						processing_time: round(ms / 1000, 3)
					};
				}
			},

			galleryGet: {
				rest: "GET /api/face-recognition/gallery/get",
				permission: "faces:read",
				openapi: { summary: "The gallery, a page of people at a time (page, page_size, include_embeddings): the document gallery/set takes", tags: ["face-recognition"] },
				params: {
					page: { type: "number", integer: true, min: 1, convert: true, optional: true },
					page_size: { type: "number", integer: true, min: 1, max: 1000, convert: true, optional: true },
					include_embeddings: { type: "boolean", convert: true, optional: true },
					$$strict: "remove"
				},
				async handler(ctx: Context<{ page?: number; page_size?: number; include_embeddings?: boolean }>) {
					const info = await this.models.get();
					const page = ctx.params.page ?? 1;
					const size = ctx.params.page_size ?? 100;
					const withEmbeddings = ctx.params.include_embeddings ?? true;
					const res = await ctx.call<{ total: number; people: { employeeId: string; name: string; department: string; status: string; images: { id: string; source: string; quality: number; embeddingVersion: number; createdAt: string; vector?: number[] }[] }[] }, object>("faces.galleryPage", { offset: (page - 1) * size, limit: size, withEmbeddings });
					const gallery: Record<string, unknown> = {};
					for (const p of res.people)
						gallery[p.employeeId] = {
							person_name: p.name,
							department: p.department,
							status: p.status,
							embedding_count: p.images.length,
							...(withEmbeddings ? { embeddings: p.images.filter(i => i.vector).map(i => ({ embedding: i.vector!.map(x => round(x, 6)), quality: i.quality, source: i.source, face_id: i.id })) } : {})
						};
					return { success: true, embedding_version: info.embeddingVersion, model: info.models.embedder ? modelName(info.models.embedder) : null, total_persons: res.total, page, page_size: size, total_pages: Math.ceil(res.total / size), gallery };
				}
			},

			gallerySet: {
				rest: "POST /api/face-recognition/gallery/set",
				permission: "faces:write",
				bodyLimit: 32 * 1024 * 1024,
				audit: { omit: ["gallery"] },
				openapi: {
					summary: "Set people's embeddings (the document gallery/get answers: {embedding_version, gallery: {person_id: {person_name, embeddings}}}): each person given keeps exactly these; others are untouched",
					tags: ["face-recognition"],
					errors: ["INVALID_GALLERY", "EMBEDDING_VERSION_MISMATCH", "TOO_MANY_PEOPLE"]
				},
				params: { gallery: { type: "any", optional: true }, embedding_version: { type: "any", optional: true }, $$strict: "remove" },
				async handler(ctx: Context<{ gallery?: unknown; embedding_version?: unknown }, GatewayMeta>) {
					const info = await this.models.get();
					const people = parseGallery(ctx.params, 512, info.embeddingVersion);
					const res = await ctx.call<{ created: number; updated: number; embeddings: number }, object>("faces.setEmbeddings", { embeddingVersion: info.embeddingVersion, people }, { timeout: 120_000 });
					ctx.meta.$audit = { resourceId: "gallery", message: `Gallery set: ${people.length} person(s), ${res.created} new, ${res.updated} replaced, ${res.embeddings} embedding(s)` };
					return { success: true, persons: people.length, created: res.created, updated: res.updated, embeddings: res.embeddings };
				}
			},

			galleryClear: {
				rest: "DELETE /api/face-recognition/gallery/clear",
				permission: CLEAR,
				openapi: {
					summary: "Delete every person of the gallery: the console's face profiles, their embeddings and photos (admin only; confirm=true required)",
					tags: ["face-recognition"],
					errors: ["CONFIRMATION_REQUIRED"]
				},
				params: { confirm: { type: "string", max: 16, optional: true }, $$strict: "remove" },
				async handler(ctx: Context<{ confirm?: string }, GatewayMeta>) {
					if (ctx.params.confirm !== "true") throw new ApiError(400, "CONFIRMATION_REQUIRED", "Clearing deletes every face profile, embedding and photo: send confirm=true to do it");
					const res = await ctx.call<{ people: number; images: number }, object>("faces.clearAll", {}, { timeout: 600_000 });
					ctx.meta.$audit = { resourceId: "gallery", severity: "critical", message: `Gallery cleared: ${res.people} person(s), ${res.images} photo/embedding(s) deleted` };
					this.logger.warn("Gallery cleared", { people: res.people, images: res.images, by: ctx.meta.user?.email ?? ctx.meta.user?.name });
					return { success: true, deleted_persons: res.people, deleted_faces: res.images, message: "Gallery cleared" };
				}
			},

			galleryInfo: {
				rest: "GET /api/face-recognition/gallery/info",
				permission: USE,
				openapi: { summary: "Gallery statistics: people by status, faces, embeddings searchable", tags: ["face-recognition"] },
				async handler(ctx: Context) {
					const [info, stats, points] = await Promise.all([this.models.get(), ctx.call<Record<string, number>, object>("faces.stats", {}), ctx.call<number, object>("gallery.count", {})]);
					return {
						success: true,
						total_persons: stats.people,
						active_persons: stats.active,
						pending_persons: stats.pending,
						archived_persons: stats.archived,
						total_faces: stats.images,
						faces_with_photo: stats.photos,
						total_embeddings: points,
						embedding_dimension: 512,
						embedding_version: info.embeddingVersion,
						model: info.models.embedder ? modelName(info.models.embedder) : null
					};
				}
			},

			databaseStatus: {
				rest: "GET /api/face-recognition/database/status",
				permission: USE,
				openapi: { summary: "Where the gallery lives and whether it answers", tags: ["face-recognition"] },
				async handler(ctx: Context) {
					const t = performance.now();
					const [points, people] = await Promise.all([ctx.call<number, object>("gallery.count", {}).catch(() => null), ctx.call<{ people: number }, object>("faces.stats", {}).catch(() => null)]);
					const gallery = ctx.broker.registry.getServiceList({ onlyAvailable: true }).find(s => s.name === "gallery") as { settings?: { backend?: string } } | undefined;
					return {
						success: true,
						status: points !== null && people !== null ? "connected" : "unavailable",
						vector_store: { backend: gallery?.settings?.backend ?? null, reachable: points !== null, embeddings: points },
						profile_store: { backend: cfg.mongoUri ? "mongodb" : "nedb", reachable: people !== null, persons: people?.people ?? null },
						response_time_ms: elapsedMs(t)
					};
				}
			},

			modelsAvailable: {
				rest: "GET /api/face-recognition/models/available",
				permission: USE,
				openapi: { summary: "Recognition models this cluster runs (names accepted as model_name and recognition_model)", tags: ["face-recognition"] },
				async handler() {
					const info = await this.models.get();
					const e = info.models.embedder!;
					return { success: true, default_model: modelName(e), aliases: ["auto", "default"], models: [{ name: modelName(e), kind: e.kind, version: e.version, file: e.file, sha256: e.sha256, embedding_size: 512, embedding_version: info.embeddingVersion, input_size: [112, 112] }] };
				}
			}
		},

		methods: {
			async embedder(requested: unknown, param = "model_name") {
				const info = await this.models.get();
				return { model: resolveModel(info.models, "embedder", requested, param), version: info.embeddingVersion };
			},

			async mainFace(ctx: Context, img: CallerImage, field: string) {
				const found = await look(ctx, img, { embed: true, maxFaces: 1 });
				const face = found.faces[0];
				if (!face?.embedding) throw new ApiError(400, "NO_FACE_DETECTED", `${field}: no face was found in the image`);
				return face as FoundFace & { embedding: number[] };
			},

			recognizeFaces(ctx: Context, found: Found, o: RecognizeOptions) {
				return recognizeFound(ctx, found, o);
			},

			async enroll(ctx: Context<PersonParams, GatewayMeta>, uploads: ImageUpload[]) {
				const t = performance.now();
				let person;
				try {
					person = personOf(ctx.params);
					await this.embedder(ctx.params.model_name);
				} catch (err) {
					for (const u of uploads) if (u.blob) await ctx.call("blobs.remove", { name: u.blob }).catch(() => undefined);
					throw err;
				}
				const res = await ctx.call<{ created: boolean; added: string[]; profile: { id: string; name: string; employeeId: string; imageCount: number; images: { id: string; quality: number }[] } }, object>("faces.enroll", { ...person, uploads });
				const p = res.profile;
				ctx.meta.$audit = { resourceId: p.id, message: `Face API: ${res.created ? "registered" : "added to"} ${p.name} (${p.employeeId}) ${res.added.length} photo(s)` };
				const added = p.images.filter(i => res.added.includes(i.id));
				return {
					success: true,
					person_id: p.employeeId,
					person_name: p.name,
					profile_id: p.id,
					created: res.created,
					face_ids: res.added,
					quality_scores: added.map(i => round(i.quality * 100, 2)),
					faces_in_person: p.imageCount,
					model_used: (await this.embedder(ctx.params.model_name)).model,
					processing_time: elapsedMs(t),
					message: `${res.added.length} face(s) added to ${p.employeeId}`
				};
			}
		},

		created() {
			this.models = new ModelSet(this.broker);
			this.stats = new LatencyStats();
		}
	};
}

