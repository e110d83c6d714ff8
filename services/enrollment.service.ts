/**
 * Enrollment (actors role: it reads videos from UPLOADS_DIR or an http(s) URL). FUACS spec
 * sections 3 and 4:
 *   generate({videoUrl, submissionId}): one 512-d embedding from an enrollment video, sampled
 *     every 0.5 s, combining the best frames of the one person in it (lib/enrollment/aggregate);
 *   validate(stream of the uploaded file): quality metrics and feedback, sampled every 1 s.
 * Frames are decoded here and analysed on any inference node; both record what happened in
 * the audit log (`embedding.generate`, `embedding.validate`) for the metrics endpoint.
 */
import fs from "node:fs";
import type { Readable } from "node:stream";
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { InferenceClientMixin } from "../mixins/inference-client.mixin";
import { ApiError, badRequest, notFound, serverError } from "../lib/errors";
import { aggregateEmbeddings, MultipleIdentitiesError } from "../lib/enrollment/aggregate";
import { sniffContainer } from "../lib/enrollment/container";
import { frameMetrics, overallQuality, videoQualityReport } from "../lib/enrollment/quality";
import { scanFrames, type EngineFace, type ScanResult } from "../lib/enrollment/scan";
import { spoolUpload, UploadTooLargeError } from "../lib/enrollment/spool";
import { resolveVideoLocation, VideoLocationError, type VideoLocation } from "../lib/enrollment/video-location";
import { redactUrl } from "../lib/url";
import { framePayload } from "../lib/cluster/frame-transport";
import { VideoSourceError } from "../lib/video/errors";
import { openFrames, type VideoFrame } from "../lib/video/frame-source";
import { submissionId, videoUrl } from "../lib/validation/rules";
import type { Implements } from "./schema";
import { auditRefusal, guardUrl, notAllowed, outboundPolicy, refusalOf } from "./outbound-guard";

/** Sampling periods of the spec: generate every 0.5 s, validate every 1 s. */
export const GENERATE_EVERY_SECONDS = 0.5;
export const VALIDATE_EVERY_SECONDS = 1;

const round2 = (x: number) => Math.round(x * 100) / 100;

type Meta = { $message?: string };

interface Settings {
	family: string;
	frameWidth: number;
	maxSeconds: number;
	minQuality: number;
	maxUploadBytes: number;
}

interface Methods {
	locate(videoUrl: string): VideoLocation;
	scan(ctx: Context, location: VideoLocation, everySeconds: number, embed: boolean): Promise<ScanResult>;
	toApiError(err: unknown): ApiError;
	audit(ctx: Context, action: string, details: Record<string, unknown>): Promise<void>;
}

export default function enrollmentService(cfg: Config): ServiceSchema<Settings, Methods, object> {
	const MB = Math.round(cfg.maxUploadBytes / (1024 * 1024));

	return {
		name: "enrollment",
		mixins: [InferenceClientMixin],
		settings: {
			family: "integration",
			frameWidth: cfg.enrollFrameWidth,
			maxSeconds: cfg.enrollMaxSeconds,
			minQuality: cfg.enrollMinQuality,
			maxUploadBytes: cfg.maxUploadBytes
		},
		actions: {
			generate: {
				rest: "POST /embeddings/generate",
				permission: "embeddings:write",
				message: "Face embedding generated successfully",
				params: { videoUrl, submissionId },
				async handler(ctx: Context<{ videoUrl: string; submissionId: number }>) {
					const { videoUrl, submissionId } = ctx.params;
					const started = performance.now();
					const shown = redactUrl(videoUrl);
					const log = { submissionId, videoUrl: shown };
					try {
						const location = this.locate(videoUrl);
						if (location.kind === "url") await guardUrl(ctx, cfg, location.url, "video", "videoUrl");
						const scan: ScanResult = await this.scan(ctx, location, GENERATE_EVERY_SECONDS, true);
						if (scan.faces.length === 0) throw badRequest("NO_FACE_DETECTED", "No face detected in video. Please record video with clear face visibility.");
						const version = scan.faces[0].face.embeddingVersion;
						const frames = scan.faces.map(f => ({ embedding: f.face.embedding!, quality: overallQuality(frameMetrics(f.measurement)) }));
						let combined;
						try {
							combined = aggregateEmbeddings(frames);
						} catch (err) {
							if (err instanceof MultipleIdentitiesError)
								throw badRequest("MULTIPLE_IDENTITIES", `The video shows two different people as the main face (${err.mainFrames} and ${err.otherFrames} frames). Please record one person only.`);
							throw err;
						}
						const quality = round2(combined.quality);
						if (quality < cfg.enrollMinQuality)
							throw badRequest("LOW_QUALITY_FACE", `Face quality too low (score: ${quality.toFixed(2)}). Please record in better lighting and ensure face is clearly visible.`, { quality });
						const processingTime = round2((performance.now() - started) / 1000);
						const result = {
							submissionId,
							embeddingVector: Array.from(combined.embedding),
							embeddingVersion: version,
							quality,
							faceDetected: true,
							totalFrames: scan.totalFrames,
							framesWithFace: scan.faces.length,
							framesUsed: combined.framesUsed,
							processingTime
						};
						this.logger.info("Enrollment embedding generated", { ...log, quality, totalFrames: scan.totalFrames, framesWithFace: scan.faces.length, framesUsed: combined.framesUsed, processingTime });
						await this.audit(ctx, "embedding.generate", { ok: true, submissionId, quality, processingTime, totalFrames: scan.totalFrames, framesWithFace: scan.faces.length });
						return result;
					} catch (err) {
						// A redirect (or a name now resolving elsewhere) refused while opening: audited like one at the door.
						const refused = refusalOf(err);
						if (refused) await auditRefusal(this.broker, ctx, refused, "video", "videoUrl");
						const api = this.toApiError(err);
						const processingTime = round2((performance.now() - started) / 1000);
						(api.code >= 500 ? this.logger.error : this.logger.info).call(this.logger, "Enrollment refused", { ...log, code: api.type, error: api.message, processingTime });
						await this.audit(ctx, "embedding.generate", { ok: false, submissionId, code: api.type, processingTime, quality: (api.data as { quality?: number } | undefined)?.quality });
						throw api;
					}
				}
			},

			validate: {
				rest: "POST /embeddings/validate",
				permission: "embeddings:write",
				// The multipart field `video` is streamed here as it arrives (services/gateway/uploads.ts).
				upload: {
					field: "video",
					maxBytes: cfg.maxUploadBytes,
					missing: { code: "VIDEO_FILE_REQUIRED", message: "Video file is required" },
					tooLarge: { code: "FILE_TOO_LARGE", message: `Video file exceeds maximum size of ${MB}MB` }
				},
				params: { filename: { type: "string", optional: true }, mimetype: { type: "string", optional: true } },
				async handler(ctx: Context<{ filename?: string; mimetype?: string }, Meta>) {
					const stream = (ctx as unknown as { stream?: Readable | null }).stream;
					if (!stream) throw badRequest("VIDEO_FILE_REQUIRED", "Video file is required");
					const started = performance.now();
					let spooled: { path: string; bytes: number; head: Buffer } | null = null;
					try {
						try {
							spooled = await spoolUpload(stream, cfg.uploadsTmpDir, cfg.maxUploadBytes);
						} catch (err) {
							if (err instanceof UploadTooLargeError) throw badRequest("FILE_TOO_LARGE", `Video file exceeds maximum size of ${MB}MB`);
							throw err;
						}
						if (spooled.bytes === 0) throw badRequest("VIDEO_FILE_REQUIRED", "Video file is required");
						if (!sniffContainer(spooled.head)) throw badRequest("INVALID_FILE_FORMAT", "Invalid video format. Allowed: MP4, MOV, AVI");
						const scan: ScanResult = await this.scan(ctx, { kind: "file", path: spooled.path }, VALIDATE_EVERY_SECONDS, false);
						if (scan.faces.length === 0) throw badRequest("NO_FACE_DETECTED", "No face detected in video");
						const report = videoQualityReport(scan.faces.map(f => f.measurement));
						ctx.meta.$message = report.isAcceptable ? "Video quality is good" : "Video quality needs improvement";
						const processingTime = round2((performance.now() - started) / 1000);
						await this.audit(ctx, "embedding.validate", { ok: true, quality: report.quality, isAcceptable: report.isAcceptable, bytes: spooled.bytes, processingTime });
						return {
							quality: report.quality,
							faceDetected: true,
							isAcceptable: report.isAcceptable,
							metrics: report.metrics,
							feedback: report.feedback,
							totalFrames: scan.totalFrames,
							framesWithFace: scan.faces.length,
							processingTime
						};
					} catch (err) {
						const api = this.toApiError(err);
						await this.audit(ctx, "embedding.validate", { ok: false, code: api.type, bytes: spooled?.bytes });
						throw api;
					} finally {
						if (spooled) fs.rmSync(spooled.path, { force: true });
					}
				}
			}
		},
		methods: {
			locate(videoUrl: string): VideoLocation {
				try {
					return resolveVideoLocation(videoUrl, cfg.uploadsDir);
				} catch (err) {
					if (err instanceof VideoLocationError)
						throw err.code === "VIDEO_FILE_NOT_FOUND" ? notFound("VIDEO_FILE_NOT_FOUND", `Video file not found: ${videoUrl}`) : badRequest(err.code, err.message);
					throw err;
				}
			},

			/** Decode sampled frames and analyse them on the inference nodes (embeddings only for generate). */
			async scan(ctx: Context, location: VideoLocation, everySeconds: number, embed: boolean): Promise<ScanResult> {
				const spec = location.kind === "file" ? { file: location.path } : { url: location.url };
				const frames = openFrames(spec, {
					everySeconds,
					width: cfg.enrollFrameWidth,
					threads: cfg.enrollDecodeThreads,
					fastDecode: true,
					inline: cfg.enrollDecodeInline,
					skipUnsampled: cfg.enrollDecodeSkipUnsampled,
					connectTimeoutMs: cfg.cameraConnectTimeout,
					readTimeoutMs: cfg.cameraReadTimeout,
					outbound: { policy: outboundPolicy(cfg), use: "video" }
				});
				const local = !!this.broker.getLocalService("inference");
				const analyze = async (f: VideoFrame) =>
					ctx.call<{ faces: EngineFace[]; width: number; height: number }, object>(embed ? "inference.analyze" : "inference.detect", { ...(await framePayload(f, local)), maxFaces: 1 });
				const result = await scanFrames(frames, analyze, { inFlight: 2, maxSeconds: cfg.enrollMaxSeconds });
				if (result.totalFrames === 0) throw new VideoSourceError("DECODE_FAILED", "no decodable video frame");
				return result;
			},

			/** Any failure as the spec's error: video problems are VIDEO_PROCESSING_FAILED (404 for a missing remote file). */
			toApiError(err: unknown): ApiError {
				if (err instanceof ApiError) return err;
				if (err instanceof VideoSourceError) {
					const refused = refusalOf(err);
					if (refused) return notAllowed(refused, "videoUrl");
					if (err.code === "CONNECT_FAILED" && /404|not found/i.test(err.message)) return notFound("VIDEO_FILE_NOT_FOUND", "Video file not found");
					return serverError("VIDEO_PROCESSING_FAILED", `Failed to process video: ${err.message}`);
				}
				const e = err as ApiError;
				// Broker errors (no inference node, busy, timeout) pass through: the gateway maps them.
				if (e && typeof e.type === "string" && typeof e.code === "number") return e;
				return serverError("VIDEO_PROCESSING_FAILED", `Failed to process video: ${(err as Error)?.message ?? String(err)}`);
			},

			async audit(ctx: Context, action: string, details: Record<string, unknown>) {
				try {
					await ctx.call("audit.record", { action, details: Object.fromEntries(Object.entries(details).filter(([, v]) => v !== undefined)) });
				} catch (err) {
					this.logger.warn("Audit record failed", { action, error: (err as Error).message });
				}
			}
		} satisfies Implements<Methods, Settings>
	};
}
