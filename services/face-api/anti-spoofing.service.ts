/**
 * Face API, anti-spoofing (seed 001 "Anti-Spoofing"): /api/anti-spoofing/*. Runs on gateway
 * nodes; the liveness model (config/models.json `liveness`, MiniFASNet-like by its I/O) runs
 * on the inference nodes. It is EXPERIMENTAL: its class meanings are undocumented upstream
 * (class 1 is taken as "real", the MiniFASNet convention), no presentation-attack set is at
 * hand to measure it, and on real photos of real people it often says "fake"
 * (docs/measurements.md). Every answer says so; no accuracy is claimed.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { PUBLIC } from "../../lib/api/route-facts";
import { livenessVerdict, overallLiveness, spoofRegion } from "../../lib/face-api/analysis";
import { round } from "../../lib/face-api/format";
import { modelName } from "../../lib/face-api/models";
import { ApiError } from "../../lib/errors";
import type { ImageUpload } from "../gateway/uploads";
import type { GatewayMeta } from "../schema";
import { BASE64_BODY_LIMIT, ModelSet, base64Param, fromBase64, fromUpload, imageUpload, look, maxFacesParam, thresholdParam, uploadsParam, type CallerImage } from "./common";

const USE = "faceapi:use";
export const EXPERIMENTAL_NOTE =
	"Experimental: the liveness model's class meanings are undocumented upstream and it has not been measured against presentation attacks here; on real photos it often answers 'fake'. Do not use it to grant access.";

interface SpoofParams {
	confidence_threshold?: number;
	max_faces?: number;
}

interface Methods {
	check(ctx: Context, img: CallerImage, p: SpoofParams): Promise<Record<string, unknown>>;
}
interface Vars {
	models: ModelSet;
}

const spoofParams = { confidence_threshold: thresholdParam, max_faces: maxFacesParam } as const;

export default function antiSpoofingService(_cfg: Config): ServiceSchema<{ family: string; resource: string }, Methods, Vars> {
	return {
		name: "antiSpoofing",
		settings: { family: "face", resource: "face-api" },
		actions: {
			health: {
				rest: "GET /api/anti-spoofing/health",
				permission: PUBLIC,
				openapi: { summary: "Anti-spoofing service status (the model is experimental)", tags: ["anti-spoofing"] },
				async handler(ctx: Context<unknown, GatewayMeta>) {
					const info = await this.models.get().catch(() => null);
					const model = info?.models.liveness;
					if (!info) ctx.meta.$statusCode = 503;
					return { status: info && model ? "healthy" : info ? "degraded" : "unavailable", service: "anti_spoofing", model: model ? modelName(model) : null, experimental: true, inference_available: !!info };
				}
			},

			detectUpload: {
				rest: "POST /api/anti-spoofing/detect-upload",
				permission: USE,
				audit: false,
				upload: { ...imageUpload("image"), missing: { code: "FILE_REQUIRED", message: "Field required: image (multipart/form-data)" } },
				openapi: { summary: "Liveness of each face of an image (multipart image, confidence_threshold); experimental, processing_time in seconds", tags: ["anti-spoofing"], errors: ["FILE_REQUIRED", "INVALID_IMAGE", "MODEL_UNAVAILABLE"] },
				params: { ...spoofParams, uploads: uploadsParam, $$strict: "remove" },
				handler(ctx: Context<SpoofParams & { uploads?: ImageUpload[] }>) {
					return this.check(ctx, fromUpload(ctx.params.uploads?.[0], "image"), ctx.params);
				}
			},

			detectBase64: {
				rest: "POST /api/anti-spoofing/detect-base64",
				permission: USE,
				audit: false,
				bodyLimit: BASE64_BODY_LIMIT,
				openapi: { summary: "Liveness of each face of an image given as base64 or a data URL (image_base64); experimental", tags: ["anti-spoofing"], errors: ["IMAGE_REQUIRED", "INVALID_BASE64", "INVALID_IMAGE"] },
				params: { ...spoofParams, image_base64: { ...base64Param, optional: true }, $$strict: "remove" },
				async handler(ctx: Context<SpoofParams & { image_base64?: string }>) {
					return this.check(ctx, await fromBase64(ctx.params.image_base64, "image_base64"), ctx.params);
				}
			},

			modelInfo: {
				rest: "GET /api/anti-spoofing/model-info",
				permission: USE,
				openapi: { summary: "The liveness model: what it is, and that it is experimental (no accuracy claimed)", tags: ["anti-spoofing"] },
				async handler() {
					const info = await this.models.get();
					const m = info.models.liveness;
					if (!m) throw new ApiError(503, "MODEL_UNAVAILABLE", "No liveness model is loaded on the inference nodes");
					return {
						success: true,
						model: modelName(m),
						kind: m.kind,
						version: m.version,
						file: m.file,
						sha256: m.sha256,
						input_size: [128, 128],
						crop: "the detector's box grown 2.7x, RGB 0-255",
						output: "softmax of 3 classes; class 1 is read as real (MiniFASNet convention; undocumented upstream)",
						status: "experimental",
						experimental: true,
						accuracy: null,
						accuracy_note: "Not measured: no presentation-attack set is available here. The real-face pass rate measured on real photos is in docs/measurements.md (anti-spoofing).",
						default_confidence_threshold: 0.5,
						note: EXPERIMENTAL_NOTE
					};
				}
			}
		},

		methods: {
			async check(ctx: Context, img: CallerImage, p: SpoofParams) {
				const t = performance.now();
				const info = await this.models.get();
				if (!info.models.liveness) throw new ApiError(503, "MODEL_UNAVAILABLE", "No liveness model is loaded on the inference nodes");
				const found = await look(ctx, img, { liveness: true, maxFaces: p.max_faces ?? 20 });
				const threshold = p.confidence_threshold ?? 0.5;
				const faces = found.faces
					.filter(f => f.liveness)
					.map((f, i) => ({
						face_id: i + 1,
						...livenessVerdict(f.liveness!.score, threshold),
						probabilities: f.liveness!.probabilities.map(x => round(x, 4)),
						region: spoofRegion(f.box, f.landmarks as [number, number][], found.width, found.height),
						detection_confidence: round(f.score, 3)
					}));
				const overall = overallLiveness(faces);
				return {
					success: true,
					faces_detected: faces.length,
					faces_analysis: faces,
					overall_result: overall,
					confidence_threshold: threshold,
					model: modelName(info.models.liveness),
					experimental: true,
					processing_time: round((performance.now() - t) / 1000, 3),
					message: faces.length === 0 ? "No face detected" : overall.is_real ? "Real face(s) detected (experimental model)" : "Spoofing suspected (experimental model)",
					note: EXPERIMENTAL_NOTE
				};
			}
		},

		created() {
			this.models = new ModelSet(this.broker);
		}
	};
}
