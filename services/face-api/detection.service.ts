/**
 * Face API, detection (seed 001 "Face Detection"): /api/face-detection/*. Runs on gateway
 * nodes; the faces are found on any inference node. Boxes are in the pixels of the image
 * sent. The detector (UltraFace RFB-320) keeps candidates from 0.7 up, so a lower
 * `conf_threshold` finds nothing more; a higher one filters.
 */
import sharp from "sharp";
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { PUBLIC } from "../../lib/api/route-facts";
import { ApiError } from "../../lib/errors";
import { batchSummary, landmarksOut, qualityScore, seedBox, type BatchItem, type Found } from "../../lib/face-api/format";
import { modelName, resolveModel } from "../../lib/face-api/models";
import { LatencyStats } from "../../lib/face-api/stats";
import type { ImageUpload } from "../gateway/uploads";
import { BASE64_BODY_LIMIT, MAX_BATCH, ModelSet, base64Param, elapsedMs, fromBase64, fromUpload, imageUpload, look, mapLimit, maxFacesParam, modelParam, thresholdParam, uploadsParam, type CallerImage } from "./common";

const USE = "faceapi:use";
/** Images of one batch in flight on the inference nodes at once (each node queues INFERENCE_QUEUE). */
const BATCH_CONCURRENCY = 4;

interface DetectParams {
	model_name?: string;
	conf_threshold?: number;
	max_faces?: number;
}

interface Methods {
	detectOne(ctx: Context, img: CallerImage, p: DetectParams): Promise<Record<string, unknown>>;
}
interface Vars {
	models: ModelSet;
	stats: LatencyStats;
}

const detectParams = { model_name: modelParam, conf_threshold: thresholdParam, max_faces: maxFacesParam };

/** The seed's answer for one image's faces. */
export function detectionBody(found: Found, model: string, threshold: number) {
	const faces = found.faces
		.filter(f => f.score >= threshold)
		.map(f => ({
			bbox: seedBox(f.box, f.score, found.width, found.height),
			quality_score: qualityScore(f.quality),
			landmarks: landmarksOut(f),
			model_used: model
		}));
	return { faces, face_count: faces.length };
}

export default function faceDetectionService(_cfg: Config): ServiceSchema<{ family: string; resource: string }, Methods, Vars> {
	return {
		name: "faceDetection",
		settings: { family: "face", resource: "face-api" },
		actions: {
			health: {
				rest: "GET /api/face-detection/health",
				permission: PUBLIC,
				openapi: { summary: "Detection service status", tags: ["face-detection"] },
				async handler() {
					const info = await this.models.get().catch(() => null);
					return { status: info ? "healthy" : "unavailable", service: "face_detection", model: info?.models.detector ? modelName(info.models.detector) : null, inference_available: !!info };
				}
			},

			detect: {
				rest: "POST /api/face-detection/detect",
				permission: USE,
				audit: false,
				upload: imageUpload("file"),
				openapi: { summary: "Detect faces in one image (multipart file, model_name, conf_threshold, max_faces)", tags: ["face-detection"], errors: ["FILE_REQUIRED", "UNKNOWN_MODEL", "INVALID_IMAGE", "UNSUPPORTED_IMAGE_FORMAT", "IMAGE_TOO_LARGE"] },
				params: { ...detectParams, uploads: uploadsParam, $$strict: "remove" },
				async handler(ctx: Context<DetectParams & { uploads?: ImageUpload[] }>) {
					return this.detectOne(ctx, fromUpload(ctx.params.uploads?.[0], "file"), ctx.params);
				}
			},

			detectBase64: {
				rest: "POST /api/face-detection/detect-base64",
				permission: USE,
				audit: false,
				bodyLimit: BASE64_BODY_LIMIT,
				openapi: { summary: "Detect faces in one image given as base64 or a data URL (image_base64)", tags: ["face-detection"], errors: ["IMAGE_REQUIRED", "INVALID_BASE64", "UNKNOWN_MODEL", "INVALID_IMAGE"] },
				params: { image_base64: { ...base64Param, optional: true }, ...detectParams, $$strict: "remove" },
				async handler(ctx: Context<DetectParams & { image_base64?: string }>) {
					return this.detectOne(ctx, await fromBase64(ctx.params.image_base64, "image_base64"), ctx.params);
				}
			},

			detectBatch: {
				rest: "POST /api/face-detection/detect-batch",
				permission: USE,
				audit: false,
				upload: imageUpload("files", MAX_BATCH),
				openapi: { summary: `Detect faces in up to ${MAX_BATCH} images (multipart files); each file succeeds or fails alone`, tags: ["face-detection"], errors: ["FILE_REQUIRED", "TOO_MANY_IMAGES", "UNKNOWN_MODEL"] },
				params: { ...detectParams, uploads: uploadsParam, $$strict: "remove" },
				async handler(ctx: Context<DetectParams & { uploads?: ImageUpload[] }>) {
					const t = performance.now();
					const uploads = ctx.params.uploads ?? [];
					if (uploads.length === 0) throw new ApiError(400, "FILE_REQUIRED", "Field required: files");
					const info = await this.models.get();
					const model = resolveModel(info.models, "detector", ctx.params.model_name);
					const items = await mapLimit(uploads, BATCH_CONCURRENCY, async (u): Promise<BatchItem> => {
						try {
							const result = (await this.detectOne(ctx, fromUpload(u, "files"), { ...ctx.params, model_name: model })) as { face_count: number };
							return { filename: u.filename, success: true, result };
						} catch (err) {
							const e = err as { type?: string; code?: number; message?: string };
							// A broken file fails alone; a node that cannot serve fails the batch.
							if (typeof e.code === "number" && e.code >= 500) throw err;
							return { filename: u.filename, success: false, error: { code: String(e.type ?? "INVALID_IMAGE"), message: e.message ?? "failed" } };
						}
					});
					const ms = elapsedMs(t);
					this.stats.record(`detect-batch:${model}`, ms, { images: uploads.length, faces: items.reduce((n, i) => n + (i.result?.face_count ?? 0), 0) });
					return { batch_summary: batchSummary(items), individual_results: items, total_processing_time: ms, images_per_second: Math.round((uploads.length / (ms / 1000)) * 10) / 10, success: true };
				}
			},

			testDetection: {
				rest: "POST /api/face-detection/test-detection",
				permission: USE,
				audit: false,
				openapi: { summary: "Run the detector on a synthetic 640x480 image without a face: the pipeline works end to end (0 faces expected)", tags: ["face-detection"] },
				params: { model_name: modelParam, $$strict: "remove" },
				async handler(ctx: Context<DetectParams>) {
					// A grey gradient made here: nothing face-like, so 0 faces is the correct answer.
					const w = 640,
						h = 480;
					const px = Buffer.alloc(w * h * 3);
					for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px.fill(Math.round((x / w) * 200 + 30), (y * w + x) * 3, (y * w + x) * 3 + 3);
					const jpeg = await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg().toBuffer();
					const body = await this.detectOne(ctx, { filename: "synthetic.jpg", jpeg, width: w, height: h }, ctx.params);
					return { ...body, test_image: { width: w, height: h, kind: "synthetic gradient, no face" }, expected_faces: 0 };
				}
			},

			modelsAvailable: {
				rest: "GET /api/face-detection/models/available",
				permission: USE,
				openapi: { summary: "Detection models this cluster runs (names accepted as model_name)", tags: ["face-detection"] },
				async handler() {
					const info = await this.models.get();
					const d = info.models.detector!;
					return {
						success: true,
						default_model: modelName(d),
						aliases: ["auto", "default"],
						models: [{ name: modelName(d), kind: d.kind, version: d.version, file: d.file, sha256: d.sha256, input_size: [320, 240], min_confidence: 0.7 }]
					};
				}
			},

			modelsStatus: {
				rest: "GET /api/face-detection/models/status",
				permission: USE,
				openapi: { summary: "Detection model status on the inference nodes", tags: ["face-detection"] },
				async handler(ctx: Context) {
					const nodes = ctx.broker.registry
						.getServiceList({ onlyAvailable: true })
						.filter(s => s.name === "inference")
						.map(s => String(s.nodeID));
					const info = await this.models.get().catch(() => null);
					return { success: true, loaded: !!info, model_set: info?.set ?? null, detector: info?.models.detector ? { name: modelName(info.models.detector), sha256: info.models.detector.sha256 } : null, inference_nodes: nodes, device: "cpu (onnxruntime-node)" };
				}
			},

			performanceStats: {
				rest: "GET /api/face-detection/performance/stats",
				permission: USE,
				openapi: { summary: "Measured request times of this gateway, per endpoint and model (the last 1000 requests)", tags: ["face-detection"] },
				handler() {
					return { success: true, measured_on: ctxNode(this.broker.nodeID), stats: this.stats.summary() };
				}
			}
		},

		methods: {
			async detectOne(ctx: Context, img: CallerImage, p: DetectParams) {
				const info = await this.models.get();
				const model = resolveModel(info.models, "detector", p.model_name);
				const t = performance.now();
				try {
					const found = await look(ctx, img, { maxFaces: p.max_faces ?? 20 });
					const body = detectionBody(found, model, p.conf_threshold ?? 0.5);
					const ms = elapsedMs(t);
					const faces = body.faces.map(f => ({ ...f, processing_time: Math.round(found.ms * 100) / 100 }));
					this.stats.record(`detect:${model}`, ms, { faces: faces.length });
					return { faces, face_count: faces.length, image: { width: found.width, height: found.height }, total_processing_time: ms, success: true };
				} catch (err) {
					this.stats.failed(`detect:${model}`);
					throw err;
				}
			}
		},

		created() {
			this.models = new ModelSet(this.broker);
			this.stats = new LatencyStats();
		}
	};
}

const ctxNode = (nodeID: string) => ({ node: nodeID, unit: "ms" });
