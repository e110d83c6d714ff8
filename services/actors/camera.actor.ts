/**
 * The camera actor: one Moleculer service per camera stream of a session
 * (`camera-<slotId>-<cameraId>`). It samples a frame every scanInterval from the live source
 * (reconnecting with backoff), sends it to `inference.analyze` on any inference node, and
 * hands the faces to its session actor. Its state (status, frames, lag) is reported to the
 * session document and pushed live.
 */
import type { ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { liveFrames, type LiveEvent } from "../../lib/video/frame-source";
import { auditRefusal, outboundPolicy } from "../outbound-guard";
import { redactUrl } from "../../lib/url";
import { framePayload } from "../../lib/cluster/frame-transport";
import type { AnalyzeResult } from "../../lib/vision/engine";
import type { Implements } from "../schema";
import { sessionActorName } from "./session.actor";

/** Errors after which a frame is sent again: the node was busy, went away or did not answer. */
const RETRYABLE = new Set(["INFERENCE_BUSY", "SERVICE_NOT_AVAILABLE", "SERVICE_NOT_FOUND", "REQUEST_REJECTED", "REQUEST_TIMEOUT", "REQUEST_SKIPPED"]);

export const cameraActorName = (slotId: number, cameraId: number) => `camera-${slotId}-${cameraId}`;

export interface CameraSpec {
	id: number;
	name: string;
	rtspUrl: string;
}

export interface CameraState {
	cameraId: number;
	status: "connecting" | "connected" | "disconnected" | "stopped";
	frames: number;
	lastFrameAt: string | null;
	/** How late the last sample arrived against its schedule, ms. */
	lagMs: number;
	/** Samples skipped because the previous one was still being analysed. */
	skipped: number;
	/** From the last sample's arrival to its results persisted, ms. */
	processingMs: number;
	frameRate: number | null;
	lastError: string | null;
}

interface Settings {
	slotId: number;
	cameraId: number;
	actor: "camera";
}

type Frame = { data: Buffer; width: number; height: number };

interface Methods {
	analyzeWithRetry(frame: Frame): Promise<AnalyzeResult>;
	setStatus(status: CameraState["status"], extra?: Record<string, unknown>): void;
	run(): Promise<void>;
	analyse(frame: Frame, started: number): Promise<void>;
}

export function cameraActor(cfg: Config, slotId: number, camera: CameraSpec, scanInterval: number): ServiceSchema<Settings, Methods, object> {
	const state: CameraState = { cameraId: camera.id, status: "connecting", frames: 0, skipped: 0, processingMs: 0, lastFrameAt: null, lagMs: 0, frameRate: null, lastError: null };
	const abort = new AbortController();
	let loop: Promise<void> | null = null;
	let inFlight: Promise<void> | null = null;
	/** A refusal of the outbound policy was audited (once per actor: it retries). */
	let refusalAudited = false;

	return {
		name: cameraActorName(slotId, camera.id),
		settings: { slotId, cameraId: camera.id, actor: "camera" },
		actions: {
			state: { visibility: "public", handler: () => ({ ...state }) }
		},
		methods: {
			/** inference.analyze, tried again (on another node, by the strategy) when one is busy, stopping or gone. */
			async analyzeWithRetry(frame: Frame) {
				for (let attempt = 0; ; attempt++) {
					try {
						// Raw to an engine in this process, JPEG across the transporter.
						const payload = await framePayload(frame, !!this.broker.getLocalService("inference"));
						return await this.broker.call("inference.analyze", payload, { timeout: 30_000 });
					} catch (err) {
						const type = (err as { type?: string }).type ?? "";
						if (attempt >= 2 || abort.signal.aborted || !RETRYABLE.has(type)) throw err;
						await new Promise(r => setTimeout(r, 100 * (attempt + 1)));
					}
				}
			},
			setStatus(status: CameraState["status"], extra: Record<string, unknown> = {}) {
				state.status = status;
				this.broker.broadcast("live.camera.status", { slotId, cameraId: camera.id, status, ...extra });
			},
			async run() {
				let due = 0;
				const frames = liveFrames(
					{ url: camera.rtspUrl },
					{
						everySeconds: scanInterval,
						transport: cfg.rtspTransport,
						connectTimeoutMs: cfg.cameraConnectTimeout,
						readTimeoutMs: cfg.cameraReadTimeout,
						signal: abort.signal,
						outbound: { policy: outboundPolicy(cfg), use: "camera" },
						onEvent: (e: LiveEvent) => {
							if (e.type === "connected") this.setStatus("connected", { openMs: e.openMs });
							else {
								state.lastError = e.reason;
								// Refused by the outbound policy (a redirect, a name now resolving elsewhere): audited once per actor.
								if (e.refusal && !refusalAudited) {
									refusalAudited = true;
									void auditRefusal(this.broker, null, { ...e.refusal, message: e.reason }, "camera", "rtspUrl", { slotId, cameraId: camera.id });
								}
								this.logger.warn("Camera disconnected", { slotId, cameraId: camera.id, code: e.code, reason: e.reason, retryInMs: e.retryInMs });
								this.setStatus("disconnected", { code: e.code, retryInMs: e.retryInMs });
							}
						}
					}
				);
				// Frames keep flowing while one is analysed: pausing the stream would make node-av's
				// demuxer spin on its full queue. A sample that arrives while the previous one is
				// still being analysed is skipped (and counted).
				for await (const frame of frames) {
					const started = Date.now();
					state.lagMs = due ? Math.max(0, started - due) : 0;
					due = started + scanInterval * 1000;
					state.frameRate = frame.frameRate;
					if (inFlight) {
						state.skipped++;
						continue;
					}
					state.frames++;
					state.lastFrameAt = new Date(started).toISOString();
					inFlight = this.analyse(frame, started).finally(() => (inFlight = null));
				}
				await inFlight;
			},
			async analyse(frame: Frame, started: number) {
				try {
					const res = await this.analyzeWithRetry(frame);
					await this.broker.call(sessionActorName(slotId) + ".faces", { cameraId: camera.id, frameAt: new Date(started), processingMs: Date.now() - started, faces: res.faces });
					state.processingMs = Date.now() - started;
				} catch (err) {
					if (abort.signal.aborted) return;
					state.lastError = (err as Error).message;
					this.logger.warn("Frame not processed", { slotId, cameraId: camera.id, error: (err as Error).message, code: (err as { type?: string }).type });
				}
			}
		} satisfies Implements<Methods, Settings>,
		started() {
			this.logger.info("Camera actor started", { slotId, cameraId: camera.id, url: redactUrl(camera.rtspUrl), scanInterval });
			loop = this.run().catch((err: Error) => {
				state.lastError = err.message;
				this.logger.error("Camera actor stopped on an error", { slotId, cameraId: camera.id, error: err.message });
			});
		},
		async stopped() {
			abort.abort();
			await loop;
			state.status = "stopped";
		}
	};
}
