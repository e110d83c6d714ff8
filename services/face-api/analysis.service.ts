/**
 * Face API, analysis (seed 001 "Face Analysis"): /api/face-analysis/*. Runs on gateway
 * nodes: detection, recognition against THE gallery (as /api/face-recognition/recognize) and
 * quality in one pass, by `mode` (full_analysis, detection_only, recognition_only), with the
 * seed's `statistics` and `performance` (seconds) blocks. The "enhanced" routes
 * (face-analysis/*) add each face's quality breakdown and the per-stage timings.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { PUBLIC } from "../../lib/api/route-facts";
import { ApiError } from "../../lib/errors";
import { modeOf, modeRuns, performanceBlock, qualityDetails, statistics, type Mode } from "../../lib/face-api/analysis";
import { landmarksOut, qualityScore, round, seedBox, type BatchItem, type Found } from "../../lib/face-api/format";
import { modelName, resolveModel } from "../../lib/face-api/models";
import { LatencyStats } from "../../lib/face-api/stats";
import type { ImageUpload } from "../gateway/uploads";
import type { GatewayMeta } from "../schema";
import { BASE64_BODY_LIMIT, MAX_BATCH, ModelSet, base64Param, elapsedMs, fromBase64, fromUpload, imageUpload, look, mapLimit, maxFacesParam, modelParam, thresholdParam, uploadsParam, type CallerImage } from "./common";
import { recognizeFound } from "./recognition.service";

const USE = "faceapi:use";
const BATCH_CONCURRENCY = 4;

interface AnalyzeParams {
	mode?: string;
	recognition_model?: string;
	model_name?: string;
	detection_model?: string;
	conf_threshold?: number;
	similarity_threshold?: number;
	max_faces?: number;
}

const analyzeParams = {
	mode: { type: "string", max: 40, optional: true },
	recognition_model: modelParam,
	model_name: modelParam,
	detection_model: modelParam,
	conf_threshold: thresholdParam,
	similarity_threshold: thresholdParam,
	max_faces: maxFacesParam
} as const;

interface Methods {
	analyzeOne(ctx: Context, img: CallerImage, p: AnalyzeParams, enhanced: boolean): Promise<Record<string, unknown> & { faces: unknown[] }>;
}
interface Vars {
	models: ModelSet;
	stats: LatencyStats;
}

export default function faceAnalysisService(cfg: Config): ServiceSchema<{ family: string; resource: string }, Methods, Vars> {
	const route = (summary: string, extra: object = {}) => ({ permission: USE, audit: false as const, openapi: { summary, tags: ["face-analysis"], errors: ["FILE_REQUIRED", "INVALID_MODE", "UNKNOWN_MODEL", "INVALID_IMAGE", "INVALID_BASE64"] }, ...extra });
	return {
		name: "faceAnalysis",
		settings: { family: "face", resource: "face-api" },
		actions: {
			health: {
				rest: "GET /api/face-analysis/health",
				permission: PUBLIC,
				openapi: { summary: "Analysis service status: inference, the gallery and the face profiles reachable", tags: ["face-analysis"] },
				async handler(ctx: Context<unknown, GatewayMeta>) {
					const ok = (p: Promise<unknown>) =>
						p.then(
							() => true,
							() => false
						);
					const [info, gallery, profiles] = await Promise.all([this.models.get().catch(() => null), ok(ctx.call("gallery.health", {}, { timeout: 3000 })), ok(ctx.call("faces.byIds", { ids: [] }, { timeout: 3000 }))]);
					if (!info) ctx.meta.$statusCode = 503;
					return {
						status: info && gallery && profiles ? "healthy" : info ? "degraded" : "unavailable",
						service: "face_analysis",
						modes: ["full_analysis", "detection_only", "recognition_only"],
						detection_model: info?.models.detector ? modelName(info.models.detector) : null,
						recognition_model: info?.models.embedder ? modelName(info.models.embedder) : null,
						inference_available: !!info,
						gallery_available: gallery
					};
				}
			},

			analyze: {
				rest: "POST /api/face-analysis/analyze",
				...route("Detection, recognition and quality of one image (multipart file, mode, recognition_model, conf_threshold, similarity_threshold, max_faces)"),
				upload: imageUpload("file"),
				params: { ...analyzeParams, uploads: uploadsParam, $$strict: "remove" },
				handler(ctx: Context<AnalyzeParams & { uploads?: ImageUpload[] }>) {
					return this.analyzeOne(ctx, fromUpload(ctx.params.uploads?.[0], "file"), ctx.params, false);
				}
			},

			analyzeJson: {
				rest: "POST /api/face-analysis/analyze-json",
				...route("Analysis of one image given as base64 or a data URL (image_base64, mode, ...)", { bodyLimit: BASE64_BODY_LIMIT }),
				params: { ...analyzeParams, image_base64: { ...base64Param, optional: true }, $$strict: "remove" },
				async handler(ctx: Context<AnalyzeParams & { image_base64?: string }>) {
					return this.analyzeOne(ctx, await fromBase64(ctx.params.image_base64, "image_base64"), ctx.params, false);
				}
			},

			enhancedAnalyze: {
				rest: "POST /api/face-analysis/face-analysis/analyze",
				...route("Enhanced analysis of one image (multipart file): each face's quality breakdown and the per-stage timings too"),
				upload: imageUpload("file"),
				params: { ...analyzeParams, uploads: uploadsParam, $$strict: "remove" },
				handler(ctx: Context<AnalyzeParams & { uploads?: ImageUpload[] }>) {
					return this.analyzeOne(ctx, fromUpload(ctx.params.uploads?.[0], "file"), ctx.params, true);
				}
			},

			enhancedAnalyzeBase64: {
				rest: "POST /api/face-analysis/face-analysis/analyze-base64",
				...route("Enhanced analysis of one image given as base64 or a data URL (image_base64)", { bodyLimit: BASE64_BODY_LIMIT }),
				params: { ...analyzeParams, image_base64: { ...base64Param, optional: true }, $$strict: "remove" },
				async handler(ctx: Context<AnalyzeParams & { image_base64?: string }>) {
					return this.analyzeOne(ctx, await fromBase64(ctx.params.image_base64, "image_base64"), ctx.params, true);
				}
			},

			batch: {
				rest: "POST /api/face-analysis/face-analysis/batch",
				...route(`Enhanced analysis of up to ${MAX_BATCH} images (multipart files); each file succeeds or fails alone`),
				upload: imageUpload("files", MAX_BATCH),
				params: { ...analyzeParams, uploads: uploadsParam, $$strict: "remove" },
				async handler(ctx: Context<AnalyzeParams & { uploads?: ImageUpload[] }>) {
					const t = performance.now();
					const uploads = ctx.params.uploads ?? [];
					if (uploads.length === 0) throw new ApiError(400, "FILE_REQUIRED", "Field required: files");
					const mode = modeOf(ctx.params.mode);
					const items = await mapLimit(uploads, BATCH_CONCURRENCY, async (u): Promise<BatchItem & { result?: { face_count: number; statistics?: ReturnType<typeof statistics> } }> => {
						try {
							const r = await this.analyzeOne(ctx, fromUpload(u, "files"), { ...ctx.params, mode }, true);
							return { filename: u.filename, success: true, result: r as never };
						} catch (err) {
							const e = err as { type?: string; code?: number; message?: string };
							if (typeof e.code === "number" && (e.code >= 500 || e.type === "UNKNOWN_MODEL")) throw err;
							return { filename: u.filename, success: false, error: { code: String(e.type ?? "INVALID_IMAGE"), message: e.message ?? "failed" } };
						}
					});
					const ok = items.filter(i => i.success);
					const faces = ok.reduce((n, i) => n + (i.result?.face_count ?? 0), 0);
					const identified = ok.reduce((n, i) => n + (i.result?.statistics?.identified_faces ?? 0), 0);
					const ms = elapsedMs(t);
					this.stats.record(`batch:${mode}`, ms, { images: uploads.length, faces });
					return {
						success: true,
						mode,
						batch_summary: { total_files: items.length, successful_analyses: ok.length, failed_analyses: items.length - ok.length, total_faces: faces, identified_faces: modeRuns(mode).recognition ? identified : null, average_faces_per_image: ok.length ? round(faces / ok.length, 2) : 0 },
						individual_results: items,
						performance: performanceBlock(ms, 0, faces, uploads.length)
					};
				}
			}
		},

		methods: {
			async analyzeOne(ctx: Context, img: CallerImage, p: AnalyzeParams, enhanced: boolean) {
				const t = performance.now();
				const mode: Mode = modeOf(p.mode);
				const runs = modeRuns(mode);
				const info = await this.models.get();
				const detector = resolveModel(info.models, "detector", p.detection_model, "detection_model");
				const embedder = resolveModel(info.models, "embedder", p.recognition_model ?? p.model_name, p.recognition_model !== undefined ? "recognition_model" : "model_name");
				const found: Found & { ms: number } = await look(ctx, img, { embed: runs.recognition, maxFaces: p.max_faces ?? 20 });
				const threshold = p.conf_threshold ?? 0.5;
				const kept: Found = { ...found, faces: found.faces.filter(f => f.score >= threshold) };
				const tr = performance.now();
				const recognized = runs.recognition ? await recognizeFound(ctx, kept, { threshold: p.similarity_threshold ?? cfg.similarityThreshold, topK: 5 }) : null;
				const recognitionMs = performance.now() - tr;
				const faces = kept.faces.map((f, i) => {
					const id = recognized?.[i].identity;
					return {
						bbox: seedBox(f.box, f.score, kept.width, kept.height),
						...(runs.quality ? { quality_score: qualityScore(f.quality) } : {}),
						...(id ? { has_identity: id.has_identity, person_id: id.person_id, identity_name: id.identity_name, recognition_confidence: id.recognition_confidence, match_reason: id.reason, matches: id.matches } : {}),
						...(enhanced ? { landmarks: landmarksOut(f), ...(runs.quality ? { quality: qualityDetails(f.quality) } : {}) } : {})
					};
				});
				const ms = elapsedMs(t);
				this.stats.record(`analyze:${mode}`, ms, { faces: faces.length });
				return {
					success: true,
					mode,
					faces,
					face_count: faces.length,
					statistics: statistics(faces, runs.recognition),
					performance: { ...performanceBlock(ms, found.ms, faces.length), ...(enhanced ? { recognition_time: round(recognitionMs / 1000, 3), stages_ms: Object.fromEntries(Object.entries(found.timings).map(([k, v]) => [k, round(v, 2)])) } : {}) },
					image: { width: kept.width, height: kept.height },
					models_used: { detection: detector, recognition: runs.recognition ? embedder : null }
				};
			}
		},

		created() {
			this.models = new ModelSet(this.broker);
			this.stats = new LatencyStats();
		}
	};
}
