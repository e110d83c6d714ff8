/**
 * Send-frame (actors role; seed 002 `POST /detections/send-frame`): a camera's frame taken now
 * and run through inference and gallery matching exactly as the monitors do
 * (services/actors/face-watch.ts), as a background job of kind `send-frame`
 * (mixins/job-worker.mixin.ts; its state and result at `GET /jobs/{id}`, pushed on the
 * `detections` live channel as `detection-job` messages from `detections.job` events).
 *
 * A monitored camera's frame comes from its monitor actor (`monitor-<cameraId>.detectFrame`:
 * the next sample, or the latest frame when its samples are more than 5 s apart), matched on
 * the monitor's own tracks, so a person already followed keeps their track. A camera not
 * monitored (disabled) has its stream opened once (two samples 0.5 s apart, within the
 * camera timeouts), matched on tracks of that job only: a face is decided as on a monitored
 * camera (a second sighting or a very high score), else counted `tentative`. Either way
 * the detections written are in the job's result, and the frame is logged in the per-frame
 * event log (detectionEvents) before the job completes.
 */
import type { Context, Service, ServiceBroker, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { JobWorkerMixin, type JobControl } from "../mixins/job-worker.mixin";
import { frameEvent } from "../lib/detections/events";
import type { RecognitionSettings } from "../lib/detections/provider";
import { ApiError } from "../lib/errors";
import type { JobDoc } from "../lib/jobs/jobs";
import { grabFrames } from "../lib/video/frame-source";
import { VideoSourceError } from "../lib/video/errors";
import { monitorActorName, type DetectedFrame } from "./actors/monitor.actor";
import { FaceWatch } from "./actors/face-watch";
import { recognitionDefaults } from "./console/site.service";
import type { DetectionView } from "./console/detections.service";
import { outboundPolicy } from "./outbound-guard";
import type { GatewayMeta } from "./schema";

export const SEND_FRAME_KIND = "send-frame";
const DAY_MS = 86_400_000;

interface SendFrameParams {
	cameraId: number;
	cameraName: string;
}

export default function detectionFramesService(cfg: Config): ServiceSchema<{ family: string; resource: string }> {
	/** A camera not monitored: open it once, two samples, matched on tracks of this job. */
	async function fromStream(svc: { broker: ServiceBroker }, p: SendFrameParams, signal: AbortSignal): Promise<DetectedFrame> {
		const conn = await svc.broker.call<{ url: string; name: string } | null, object>("cameras.connection", { cameraId: p.cameraId });
		if (!conn?.url) throw new ApiError(404, "CAMERA_NOT_FOUND", `Camera not found: ${p.cameraId}`);
		const recognition = await svc.broker.call<RecognitionSettings, object>("site.recognition", {}).catch(() => recognitionDefaults(cfg));
		const opened = Date.now();
		let grab;
		try {
			grab = await grabFrames({ url: conn.url }, 2, { everySeconds: 0.5, connectTimeoutMs: cfg.cameraConnectTimeout, readTimeoutMs: cfg.cameraReadTimeout, transport: cfg.rtspTransport, outbound: { policy: outboundPolicy(cfg), use: "camera" }, signal });
		} catch (err) {
			const reason = err instanceof VideoSourceError ? `${err.code}: ${err.message}` : (err as Error).message;
			throw new ApiError(502, "FRAME_CAPTURE_FAILED", `Failed to capture a frame of camera ${p.cameraId}: ${reason}`);
		}
		const watch = new FaceWatch(svc.broker, { cameraId: p.cameraId, name: conn.name ?? p.cameraName }, { threshold: recognition.similarityThreshold, minFaceSize: recognition.minFaceSize, sampleIntervalS: 0.5, unknownFaceAlertS: cfg.unknownFaceAlertS });
		const written = new Map<string, DetectionView>();
		let last: DetectedFrame | null = null;
		for (const [i, frame] of grab.frames.entries()) {
			const at = opened + Math.round(grab.arrivalsMs[i]);
			const outcome = await watch.onFrame(frame, at, { writeSeen: i === grab.frames.length - 1 });
			for (const d of outcome.detections) written.set(d.id, d);
			last = { ...outcome, detections: [...written.values()], capturedAt: at, doneAt: Date.now(), width: frame.sourceWidth, height: frame.sourceHeight };
		}
		return last!;
	}

	return {
		name: "detectionFrames",
		mixins: [
			JobWorkerMixin({
				kind: SEND_FRAME_KIND,
				leaseMs: 60_000,
				pollMs: 5000,
				concurrency: 2,
				progressEvent: "detections.job",
				progressExtra: (job, result) => ({ cameraId: (job.params as unknown as SendFrameParams).cameraId, result }),
				expiresAt: () => new Date(Date.now() + 7 * DAY_MS),
				async run(this: Service, job: JobDoc, control: JobControl) {
					const p = job.params as unknown as SendFrameParams;
					const actor = monitorActorName(p.cameraId);
					const monitored = (this.broker.registry.getServiceList({ onlyAvailable: true }) as { name: string }[]).some(s => s.name === actor);
					const started = Date.now();
					let done: DetectedFrame;
					try {
						done = monitored
							? await this.broker.call<DetectedFrame, object>(`${actor}.detectFrame`, {}, { timeout: cfg.sendFrameTimeoutMs + 35_000 })
							: await fromStream(this, p, control.signal);
					} catch (err) {
						const code = (err as { type?: string; code?: string }).type ?? "ERROR";
						await this.broker.call("detectionEvents.record", {
							event: frameEvent({ cameraId: p.cameraId, cameraName: p.cameraName, capturedAt: started, doneAt: Date.now(), source: "send-frame", jobId: job._id }, { error: `${code}: ${(err as Error).message}` })
						});
						throw err;
					}
					const event = await this.broker.call<{ id: string }, object>("detectionEvents.record", {
						event: frameEvent({ cameraId: p.cameraId, cameraName: p.cameraName, capturedAt: done.capturedAt, doneAt: done.doneAt, source: "send-frame", jobId: job._id }, { faces: done.faces, detections: done.detections.map(d => d.id) })
					});
					this.logger.info("Send-frame done", { cameraId: p.cameraId, jobId: job._id, via: monitored ? "monitor" : "stream", faces: done.faces, detections: done.detections.length });
					return {
						cameraId: p.cameraId,
						cameraName: p.cameraName,
						via: monitored ? "monitor" : "stream",
						capturedAt: new Date(done.capturedAt).toISOString(),
						latencyMs: Math.max(0, done.doneAt - done.capturedAt),
						resolution: `${done.width}x${done.height}`,
						faces: done.faces,
						tentative: done.tentative,
						detections: done.detections,
						eventId: event.id
					};
				}
			})
		],
		settings: { family: "console", resource: "detection" },
		actions: {
			sendFrame: {
				rest: "POST /detections/send-frame",
				permission: "cameras:write",
				status: 202,
				openapi: {
					summary: "Take a camera's frame now and detect its faces (a job: GET /jobs/{jobId}, and `detection-job` messages on the detections channel)",
					tags: ["detections"],
					response: { type: "object", properties: { jobId: { type: "string" }, status: { type: "string" }, cameraId: { type: "integer" } } },
					errors: ["CAMERA_NOT_FOUND"]
				},
				params: { cameraId: { type: "string", min: 1, max: 64, convert: true }, $$strict: true },
				async handler(ctx: Context<{ cameraId: string }, GatewayMeta>) {
					// By console id (CAM-07) or number; 404 CAMERA_NOT_FOUND otherwise.
					const camera = await ctx.call<{ id: string; cameraId: number; name: string }, object>("cameras.get", { id: ctx.params.cameraId });
					const job = await ctx.call<{ id: string; status: string }, object>("jobs.create", {
						kind: SEND_FRAME_KIND,
						userId: ctx.meta.user?.kind === "user" ? ctx.meta.user.id : null,
						params: { cameraId: camera.cameraId, cameraName: camera.name }
					});
					ctx.meta.$audit = { resourceId: camera.id, message: `Send-frame job ${job.id}` };
					return { jobId: job.id, status: job.status, cameraId: camera.cameraId };
				}
			}
		}
	};
}
