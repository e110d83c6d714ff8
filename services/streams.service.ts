/**
 * Camera streams (actors role: the nodes that connect to cameras). FUACS spec sections 5
 * and 6: test-connection and capture-frame, and the preview files capture-frame saves.
 * Thin: opening, decoding and timing live in lib/video.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { lookupCameraAt, type CameraRecord } from "../lib/camera-lookup";
import { notFound, serverError } from "../lib/errors";
import { isoSeconds } from "../lib/time";
import { redactUrl } from "../lib/url";
import { VideoSourceError } from "../lib/video/errors";
import { grabFrames, type FrameSourceOptions } from "../lib/video/frame-source";
import { encodeJpegWithin } from "../lib/cluster/frame-transport";
import { nodeTag, previewName } from "../lib/video/previews";
import type { BlobInfo } from "../lib/store/blobs";
import { streamStability } from "../lib/video/stability";
import { coded, fails } from "../lib/validation/coded";
import { cameraId, cameraUrl, mustBe, requiredUnless } from "../lib/validation/rules";
import { checker } from "../lib/validation/validator";
import type { GatewayMeta, Implements } from "./schema";
import { guardUrl, outboundPolicy, rethrowRefusal } from "./outbound-guard";

/** test-connection captures this many frames (spec). */
const TEST_FRAMES = 10;
/** Preview JPEG: quality first, then a smaller size, until its base64 fits one NATS message. */
const PREVIEW_STEPS = [{ quality: 85 }, { quality: 70 }, { quality: 70, width: 1920 }, { quality: 60, width: 1280 }];
const PREVIEW_MAX_BYTES = 640 * 1024;

type Meta = GatewayMeta & { $previewForwarded?: boolean };

/** A camera's URL as the registry or the Java backend has it, held to the rule of a caller's. */
const checkRecordedUrl = checker({ rtspUrl: cameraUrl });

interface Settings {
	family: string;
}

interface Methods {
	findCamera(ctx: Context, cameraId: number): Promise<CameraRecord | null>;
}

export default function streamsService(cfg: Config): ServiceSchema<Settings, Methods, object> {
	const sourceOptions: FrameSourceOptions = {
		connectTimeoutMs: cfg.cameraConnectTimeout,
		readTimeoutMs: cfg.cameraReadTimeout,
		transport: cfg.rtspTransport,
		// Every URL opened here is a caller's (or recorded for one): under the outbound policy.
		outbound: { policy: outboundPolicy(cfg), use: "camera" }
	};

	return {
		name: "streams",
		settings: { family: "integration" },
		actions: {
			testConnection: {
				rest: "GET /cameras/test-connection",
				permission: "cameras:read",
				message: "Camera connection successful",
				params: { rtspUrl: cameraUrl },
				async handler(ctx: Context<{ rtspUrl: string }, Meta>) {
					const url = ctx.params.rtspUrl;
					const shown = redactUrl(url);
					await guardUrl(ctx, cfg, url, "camera", "rtspUrl");
					try {
						// Tiny output frames: only timing and the source size matter here.
						const grab = await grabFrames({ url }, TEST_FRAMES, { ...sourceOptions, width: 64 });
						const first = grab.frames[0];
						const intervals = grab.arrivalsMs.slice(1).map((t, i) => t - grab.arrivalsMs[i]);
						return {
							rtspUrl: shown,
							connected: true,
							frameRate: grab.frameRate === null ? null : Math.round(grab.frameRate * 100) / 100,
							resolution: { width: first.sourceWidth, height: first.sourceHeight },
							latency: grab.latencyMs,
							stability: streamStability(intervals),
							testedAt: isoSeconds()
						};
					} catch (err) {
						if (!(err instanceof VideoSourceError)) throw err;
						await rethrowRefusal(ctx, err, "camera", "rtspUrl");
						this.logger.info("Camera connection test failed", { rtspUrl: shown, code: err.code, error: err.message });
						ctx.meta.$message = "Camera connection failed";
						return { rtspUrl: shown, connected: false, error: err.message, testedAt: isoSeconds() };
					}
				}
			},

			captureFrame: {
				rest: "GET /cameras/capture-frame",
				permission: "cameras:read",
				message: "Frame captured successfully",
				params: {
					// The spec's check first: one of the two (a blank query value is none).
					$$order: ["CAMERA_ID_OR_RTSP_URL_REQUIRED"],
					cameraId: { ...cameraId, convert: true, optional: true },
					format: { type: "enum", values: ["base64", "file"], optional: true, messages: fails("INVALID_FORMAT", "Format must be base64 or file") },
					rtspUrl: {
						...cameraUrl,
						optional: true,
						custom: [cameraUrl.custom, requiredUnless("cameraId")],
						messages: { ...(cameraUrl.messages as Record<string, string>), requiredUnless: coded("CAMERA_ID_OR_RTSP_URL_REQUIRED", "Either cameraId or rtspUrl is required") }
					}
				},
				async handler(ctx: Context<{ cameraId?: number; rtspUrl?: string; format?: "base64" | "file" }, Meta>) {
					const { cameraId } = ctx.params;
					const format = ctx.params.format ?? "base64";
					let url: string;
					if (cameraId !== undefined) {
						const camera: CameraRecord | null = await this.findCamera(ctx, cameraId);
						if (typeof camera?.rtspUrl !== "string" || camera.rtspUrl.trim() === "") throw notFound("CAMERA_NOT_FOUND", `Camera not found: ${cameraId}`);
						const recorded = { rtspUrl: camera.rtspUrl };
						checkRecordedUrl(recorded);
						url = recorded.rtspUrl;
					} else url = ctx.params.rtspUrl!;
					const shown = redactUrl(url);
					const field = cameraId !== undefined ? "cameraId" : "rtspUrl";
					await guardUrl(ctx, cfg, url, "camera", field);

					let jpeg: Buffer;
					let resolution: { width: number; height: number };
					try {
						const grab = await grabFrames({ url }, 1, sourceOptions);
						const frame = grab.frames[0];
						resolution = { width: frame.sourceWidth, height: frame.sourceHeight };
						jpeg = await encodeJpegWithin(frame, PREVIEW_MAX_BYTES, PREVIEW_STEPS);
					} catch (err) {
						await rethrowRefusal(ctx, err, "camera", field);
						const reason = err instanceof VideoSourceError ? err.message : "could not encode the frame";
						this.logger.warn("Frame capture failed", { cameraId, rtspUrl: shown, error: reason });
						throw serverError("FRAME_CAPTURE_FAILED", `Failed to capture frame: ${reason}`);
					}
					const capturedAt = isoSeconds();
					const base = { ...(cameraId !== undefined ? { cameraId } : {}), rtspUrl: shown, format };
					if (format === "base64") return { ...base, image: `data:image/jpeg;base64,${jpeg.toString("base64")}`, resolution, capturedAt };

					// Kept in the blob store, so any gateway serves it (GET /api/v1/files/:name).
					const name = previewName(nodeTag(this.broker.nodeID));
					const saved = await ctx.call<BlobInfo, object>("blobs.put", { name, kind: "preview", contentType: "image/jpeg", data: jpeg, ttlSeconds: cfg.previewMaxAge });
					return { ...base, filePath: saved.location ?? name, fileUrl: `/api/v1/files/${name}`, resolution, capturedAt };
				}
			},
		},
		methods: {
			/** Rollcall's registry first, then the Java backend; null when neither knows the camera. */
			async findCamera(ctx: Context, cameraId: number): Promise<CameraRecord | null> {
				try {
					const own = await ctx.call<CameraRecord | null, { cameraId: number }>("cameras.resolve", { cameraId }, { timeout: 5000 });
					if (own) return own;
				} catch (err) {
					this.logger.warn("Camera registry unavailable", { cameraId, error: (err as Error).message });
				}
				if (!cfg.javaBackendUrl) return null;
				try {
					return await lookupCameraAt(cfg.javaBackendUrl, cfg.cameraLookupPath, cameraId, cfg.cameraLookupTimeout, { "X-API-Key": cfg.apiKey });
				} catch (err) {
					// Down or failing is not "no such camera": the caller hears that the capture failed.
					const reason = (err as Error).name === "TimeoutError" ? "camera lookup timed out" : `camera lookup failed (${(err as Error).message})`;
					this.logger.warn("Camera lookup at the Java backend failed", { cameraId, error: reason });
					throw serverError("FRAME_CAPTURE_FAILED", `Failed to capture frame: ${reason}`);
				}
			}
		} satisfies Implements<Methods, Settings>
	};
}
