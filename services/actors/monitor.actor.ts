/**
 * The monitor actor: one Moleculer service per monitored camera (`monitor-<cameraId>`), on
 * the actors node that holds the camera's lease (services/monitors.service.ts). It watches
 * the stream all day with the session camera actors' frame source and key-frame sampling
 * (lib/video/frame-source.ts, lib/video/sampling.ts), one sample every `sampleInterval`
 * seconds, reconnecting with the source's backoff, and keeps the camera's live state:
 *
 * - status: online from the first frame of a connection; offline when the stream fails or
 *   ends, when it sends nothing for CAMERA_READ_TIMEOUT, or when no frame arrives for the read
 *   timeout plus two sampling intervals;
 * - fps and bitrate measured over the last 5 s of wall time from every video packet read
 *   (decoded or not): frames per second (the stream's declared rate until 1 s is measured),
 *   and kbit/s (1000 bits);
 * - latency: ms from the start of opening the stream to its first decoded frame, of the
 *   current connection (connect, RTSP set-up, waiting for a key frame, decoding);
 * - resolution "WxH" of the source, lastSeen (last frame), lastChecked (last report);
 * - uptime of the UTC day (uptimeDay, uptimeOnlineMs, uptimeObservedMs), resumed from the
 *   document (or from the actor before it on this node) when another actor watched the camera
 *   earlier that day;
 * - the latest preview: a 320 px wide JPEG in the blob store (`thumb-cam-<cameraId>.jpg`),
 *   at most every max(sampleInterval, 10 s).
 *
 * State goes to the registry with `cameras.reportState`, fenced by the lease token, at once on
 * a status change and otherwise every MONITOR_REPORT_MS; a stale token (LEASE_LOST) stops the
 * actor. A status change is broadcast (`live.camera.status`) and audited (`camera.online`,
 * `camera.offline`); an outage longer than CAMERA_OFFLINE_ALERT_S raises the camera's offline
 * alert (alerts.raise, cause `camera:<id>:offline`), resolved when it is back online.
 *
 * `onSample(frame)` is what the monitor does with a sampled frame: today the preview; the
 * next issue hands the frame to inference there (it runs beside the stream, never holding it
 * up: a sample that arrives while the previous one is still handled is skipped and counted).
 * The connection URL carries the camera's credentials: it is only opened, never logged.
 */
import type { ServiceBroker, ServiceSchema } from "moleculer";
import sharp from "sharp";
import type { Config } from "../../config";
import type { Lease } from "../../lib/recognition/placement";
import { redactUrl } from "../../lib/url";
import { liveFrames, type LiveEvent, type SourceStats, type VideoFrame } from "../../lib/video/frame-source";
import { auditRefusal, outboundPolicy } from "../outbound-guard";
import { accrueUptime, alertDue, boundedSampleInterval, samplePhase, laterUptime, RateMeter, resumeUptime, thumbnailDue, thumbnailName, THUMBNAIL_WIDTH, type Outage, type UptimeDay } from "../../lib/cameras/monitor";
import type { Implements } from "../schema";
import { ApiError } from "../../lib/errors";
import { FaceWatch, type FrameOutcome } from "./face-watch";
import { frameEvent, type FrameEvent } from "../../lib/detections/events";
import { recognitionDefaults } from "../console/site.service";
import type { RecognitionSettings } from "../../lib/detections/provider";

/** What `monitor-<cameraId>.detectFrame` answers (a send-frame on a monitored camera). */
export interface DetectedFrame extends FrameOutcome {
	capturedAt: number;
	doneAt: number;
	width: number;
	height: number;
}

/** A send-frame waiting for the monitor's next handled sample. */
interface FrameWaiter {
	resolve(r: DetectedFrame): void;
	reject(err: Error): void;
}

/** Up to this sampling interval, a send-frame waits for the next sample; beyond, it takes the latest frame at once. */
const WAIT_FOR_SAMPLE_S = 5;
/** Frame events of samples are sent to the log in batches, at most this often (ms) or this many. */
const EVENTS_FLUSH_MS = 1000;
const EVENTS_BATCH = 200;

export const monitorActorName = (cameraId: number) => `monitor-${cameraId}`;

/** A monitored camera's document as `cameras.monitorDoc` answers it. */
export interface MonitorDoc extends Lease {
	_id?: string;
	cameraId: number;
	/** The console's id (`CAM-07`). */
	id: string;
	name: string;
	enabled: boolean;
	streamType?: string;
	streamUrl?: string;
	sampleInterval?: number | null;
	status?: string;
	uptimeDay?: string | null;
	uptimeOnlineMs?: number | null;
	uptimeObservedMs?: number | null;
	version?: number;
	updatedAt?: string | Date;
}

/** The live fields of a camera document, as `cameras.reportState` takes them. */
export interface CameraLiveState {
	status?: "online" | "offline";
	/** Frames per second, measured. */
	fps?: number;
	/** kbit/s, measured. */
	bitrate?: number;
	/** ms from opening the stream to its first frame (this connection). */
	latency?: number | null;
	resolution?: string | null;
	lastSeen?: string | null;
	lastChecked?: string;
	thumbnail?: string | null;
	uptimeDay?: string;
	uptimeOnlineMs?: number;
	uptimeObservedMs?: number;
}

export type MonitorStatus = "connecting" | "online" | "offline" | "stopped";

/** What `monitor-<cameraId>.state` answers (the REPL's `actors`). */
export interface MonitorState {
	cameraId: number;
	id: string;
	token: number;
	status: MonitorStatus;
	sampleInterval: number;
	fps: number | null;
	bitrateKbps: number | null;
	latencyMs: number | null;
	resolution: string | null;
	lastSeen: string | null;
	lastChecked: string | null;
	thumbnail: string | null;
	/** Samples handed to onSample, and those skipped because the previous was still handled. */
	samples: number;
	skipped: number;
	/** How late the last sample arrived against its schedule, ms. */
	lagMs: number;
	/** How long onSample took for the last sample it handled, ms. */
	processingMs: number;
	connects: number;
	offlineSince: string | null;
	alerted: boolean;
	uptime: UptimeDay;
	lastError: string | null;
}

/** One handled sample, for benches (`monitor-<cameraId>.lags`). */
export interface SampleTiming {
	at: number;
	lagMs: number;
	processingMs: number;
}

interface Settings {
	cameraId: number;
	actor: "monitor";
}

interface Methods {
	run(): Promise<void>;
	received(frame: VideoFrame, at: number): void;
	onSample(frame: VideoFrame, at: number, waiters?: FrameWaiter[]): Promise<void>;
	detectNow(): Promise<DetectedFrame>;
	flushEvents(): Promise<void>;
	loadRecognition(): Promise<void>;
	keepThumbnail(frame: VideoFrame, at: number): Promise<void>;
	onEvent(e: LiveEvent): void;
	setStatus(status: "online" | "offline", why: { code?: string; reason?: string }): void;
	accrue(now: number): void;
	tick(): void;
	liveState(now: number): CameraLiveState;
	report(): Promise<void>;
	sendReport(): Promise<void>;
	announce(sent: CameraLiveState, previousStatus: string | null): Promise<void>;
	raiseAlert(outage: Outage): Promise<void>;
	resolveAlert(): Promise<void>;
	leaseLost(err: Error): void;
}

/** The alert cause of a camera's outage. */
export const offlineCause = (cameraId: number) => `camera:${cameraId}:offline`;

/** How often the actor accounts uptime, checks for stale streams and due reports, ms. */
const TICK_MS = 250;
const TIMINGS_KEPT = 200;

export interface MonitorActorOptions {
	/** The day's uptime as the previous actor of this camera on this node left it. */
	uptime?: UptimeDay;
	/** Told the day's uptime when the actor stops (for the next one here). */
	onStopped?: (uptime: UptimeDay) => void;
}

export function monitorActor(cfg: Config, doc: MonitorDoc, token: number, connectionUrl: string, opts: MonitorActorOptions = {}): ServiceSchema<Settings, Methods, object> {
	const { cameraId } = doc;
	const interval = boundedSampleInterval(doc.sampleInterval, cfg.monitorSampleInterval);
	const shown = redactUrl(connectionUrl);
	const abort = new AbortController();
	const stats: SourceStats = { packets: 0, bytes: 0, decodedPackets: 0, frames: 0, mode: "key" };
	const meter = new RateMeter(5000);
	const timings: SampleTiming[] = [];
	const state: MonitorState = {
		cameraId,
		id: doc.id,
		token,
		status: "connecting",
		sampleInterval: interval,
		fps: null,
		bitrateKbps: null,
		latencyMs: null,
		resolution: null,
		lastSeen: null,
		lastChecked: null,
		thumbnail: null,
		samples: 0,
		skipped: 0,
		lagMs: 0,
		processingMs: 0,
		connects: 0,
		offlineSince: null,
		alerted: false,
		uptime: laterUptime(resumeUptime(doc, Date.now()), opts.uptime),
		lastError: null
	};
	let loop: Promise<void> | null = null;
	let handling: Promise<void> | null = null;
	let thumbAt: number | null = null;
	let timer: NodeJS.Timeout | undefined;
	let lastAccrued = Date.now();
	let lastFrameAt = 0;
	/** When the packet count last grew (the stream is sending). */
	let lastPacketAt = Date.now();
	let lastPackets = 0;
	let declaredFps: number | null = null;
	let due = 0;
	/** Set by a connect, cleared by its first frame: when the open began and how long it took. */
	let opening: { at: number; openMs: number } | null = null;
	/** A refusal of the outbound policy was audited (once per actor: a monitor retries for ever). */
	let refusalAudited = false;
	let outage: Outage | null = null;
	let reporting: Promise<void> = Promise.resolve();
	let lastReportAt = 0;
	let reportFailing = false;
	let lost = false;
	let stopping = false;
	let watch: FaceWatch | null = null;
	let watchWarnedAt = 0;
	/** The newest frame received, and when. */
	let latest: { frame: VideoFrame; at: number } | null = null;
	let waiters: FrameWaiter[] = [];
	let events: FrameEvent[] = [];
	let eventsFlushedAt = Date.now();
	let flushing: Promise<void> = Promise.resolve();
	/** The recognition settings (site.recognition), the configuration's until read. */
	let recognition: RecognitionSettings = recognitionDefaults(cfg);
	const newWatch = () =>
		new FaceWatch(this_broker(), { cameraId, name: doc.name }, { threshold: recognition.similarityThreshold, minFaceSize: recognition.minFaceSize, sampleIntervalS: interval, unknownFaceAlertS: cfg.unknownFaceAlertS });
	let brokerRef: ServiceBroker | null = null;
	const this_broker = () => brokerRef!;

	return {
		name: monitorActorName(cameraId),
		settings: { cameraId, actor: "monitor" },
		actions: {
			state: {
				visibility: "public",
				handler: () => ({ ...state, fps: state.status === "online" ? state.fps : 0, uptime: { ...state.uptime } })
			},
			lags: { visibility: "public", handler: () => timings.slice() },
			/** A send-frame: this camera's frame now (the next sample, or the latest frame when samples are far apart), its faces and detections. */
			detectFrame: {
				visibility: "public",
				handler(this: { detectNow(): Promise<DetectedFrame> }) {
					return this.detectNow();
				}
			}
		},
		events: {
			// A profile renamed, archived or deleted: matches name it anew.
			"faces.changed"() {
				watch?.forgetProfiles();
			},
			// The recognition settings changed: the next sample is matched with them (its tracks start anew).
			"site.changed"(ctx: { params: { recognition?: RecognitionSettings } }) {
				const r = ctx.params?.recognition;
				if (!r) return;
				if (r.similarityThreshold !== recognition.similarityThreshold || r.minFaceSize !== recognition.minFaceSize) watch = null;
				recognition = { ...recognition, ...r };
			}
		},
		methods: {
			async run() {
				const frames = liveFrames(
					{ url: connectionUrl },
					{
						everySeconds: interval,
						// Cameras watched from the same instant sample at instants spread over the interval
						// (golden-ratio steps by camera id), not all at once: a node's samples come as a
						// steady trickle, not a burst every interval that holds up everything else.
						phaseSeconds: samplePhase(cameraId, interval),
						transport: cfg.rtspTransport,
						connectTimeoutMs: cfg.cameraConnectTimeout,
						readTimeoutMs: cfg.cameraReadTimeout,
						signal: abort.signal,
						outbound: { policy: outboundPolicy(cfg), use: "camera" },
						stats,
						onEvent: e => this.onEvent(e)
					}
				);
				// Frames keep flowing while a sample is handled (pausing the stream would make
				// node-av's demuxer spin on its full queue).
				for await (const frame of frames) {
					const at = Date.now();
					this.received(frame, at);
					if (handling) {
						state.skipped++;
						continue;
					}
					state.samples++;
					const asked = waiters;
					waiters = [];
					handling = this.onSample(frame, at, asked)
						.catch((err: Error) => {
							state.lastError = err.message;
							this.logger.warn("Sample not handled", { cameraId, error: err.message });
						})
						.finally(() => (handling = null));
				}
				await handling;
			},

			/** Every sampled frame: the camera is alive (status, resolution, lastSeen, latency, lag). */
			received(frame: VideoFrame, at: number) {
				state.lagMs = due ? Math.max(0, at - due) : 0;
				due = at + interval * 1000;
				lastFrameAt = at;
				declaredFps = frame.frameRate;
				state.lastSeen = new Date(at).toISOString();
				state.resolution = `${frame.sourceWidth}x${frame.sourceHeight}`;
				latest = { frame, at };
				if (opening) {
					state.latencyMs = Math.round(opening.openMs + (performance.now() - opening.at));
					opening = null;
				}
				if (state.status !== "online") this.setStatus("online", {});
			},

			/** What the monitor does with a sample: today the preview thumbnail (next: inference). */
			async onSample(frame: VideoFrame, at: number, asked: FrameWaiter[] = []) {
				const t0 = performance.now();
				if (thumbnailDue(thumbAt, at, interval)) await this.keepThumbnail(frame, at);
				// The faces: matched against the gallery, tracked, detections and attendance.
				watch ??= newWatch();
				try {
					if (lost || abort.signal.aborted) throw new Error("The monitor is stopping");
					const outcome = await watch.onFrame(frame, at, { writeSeen: asked.length > 0 });
					const done: DetectedFrame = { ...outcome, capturedAt: at, doneAt: Date.now(), width: frame.sourceWidth, height: frame.sourceHeight };
					// A sample a send-frame waited for is logged by the send-frame (with its job).
					if (asked.length) for (const w of asked) w.resolve(done);
					else events.push(frameEvent({ cameraId, cameraName: doc.name, capturedAt: at, doneAt: done.doneAt, source: "monitor" }, { faces: outcome.faces, detections: outcome.detections.map(d => d.id) }));
				} catch (err) {
					if (asked.length) for (const w of asked) w.reject(err as Error);
					else if (!lost && !abort.signal.aborted) events.push(frameEvent({ cameraId, cameraName: doc.name, capturedAt: at, doneAt: Date.now(), source: "monitor" }, { error: (err as Error).message }));
					// No inference node, or a store away: this sample goes unrecognised, the next one tries again.
					if (Date.now() - watchWarnedAt > 30_000) {
						watchWarnedAt = Date.now();
						this.logger.warn("Faces of a sample not recognised", { cameraId, error: (err as Error).message });
					}
				}
				state.processingMs = Math.round(performance.now() - t0);
				timings.push({ at, lagMs: state.lagMs, processingMs: state.processingMs });
				if (timings.length > TIMINGS_KEPT) timings.shift();
			},

			detectNow() {
				if (lost || stopping) return Promise.reject(new ApiError(409, "MONITOR_STOPPING", `The monitor of camera ${cameraId} is stopping`));
				// Samples far apart: the latest frame, now (after the sample being handled, if any).
				if (interval > WAIT_FOR_SAMPLE_S && latest) {
					const { frame, at } = latest;
					const run = (async () => {
						await handling;
						watch ??= newWatch();
						const outcome = await watch.onFrame(frame, Math.max(at, Date.now() - 1), { writeSeen: true });
						return { ...outcome, capturedAt: at, doneAt: Date.now(), width: frame.sourceWidth, height: frame.sourceHeight };
					})();
					handling = run.then(
						() => undefined,
						() => undefined
					);
					return run;
				}
				return new Promise<DetectedFrame>((resolve, reject) => {
					const timer = setTimeout(() => {
						waiters = waiters.filter(w => w !== waiter);
						reject(new ApiError(504, "FRAME_TIMEOUT", `No frame from camera ${cameraId} within ${Math.round(cfg.sendFrameTimeoutMs / 1000)} s`));
					}, cfg.sendFrameTimeoutMs);
					const waiter: FrameWaiter = {
						resolve: r => (clearTimeout(timer), resolve(r)),
						reject: e => (clearTimeout(timer), reject(e))
					};
					waiters.push(waiter);
				});
			},

			/** The sampled frames' events to the log (one batch at a time; a batch that fails is dropped, counted in the log). */
			flushEvents() {
				eventsFlushedAt = Date.now();
				if (events.length === 0) return flushing;
				const batch = events;
				events = [];
				flushing = flushing.then(() =>
					this.broker.call("detectionEvents.recordMany", { events: batch }, { timeout: 10_000 }).then(
						() => undefined,
						(err: Error) => this.logger.warn("Detection events not logged", { cameraId, events: batch.length, error: err.message })
					)
				);
				return flushing;
			},

			async loadRecognition() {
				try {
					recognition = { ...recognition, ...(await this.broker.call<RecognitionSettings, object>("site.recognition", {}, { timeout: 5000 })) };
				} catch (err) {
					this.logger.debug("Recognition settings not read: the configuration's", { cameraId, error: (err as Error).message });
				}
			},

			async keepThumbnail(frame: VideoFrame, at: number) {
				thumbAt = at;
				try {
					let img = sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } });
					if (frame.width > THUMBNAIL_WIDTH) img = img.resize(THUMBNAIL_WIDTH);
					const data = await img.jpeg({ quality: 70 }).toBuffer();
					if (lost || abort.signal.aborted) return;
					const name = thumbnailName(cameraId);
					await this.broker.call("blobs.put", { name, kind: "thumbnail", contentType: "image/jpeg", data });
					state.thumbnail = name;
				} catch (err) {
					this.logger.warn("Thumbnail not kept", { cameraId, error: (err as Error).message });
				}
			},

			onEvent(e: LiveEvent) {
				if (e.type === "connected") {
					state.connects++;
					opening = { at: performance.now(), openMs: e.openMs };
					meter.reset();
					return;
				}
				opening = null;
				state.lastError = `${e.code}: ${e.reason}`;
				// Refused by the outbound policy (a redirect, a name now resolving elsewhere): audited once per actor.
				if (e.refusal && !refusalAudited) {
					refusalAudited = true;
					void auditRefusal(this.broker, null, { ...e.refusal, message: e.reason }, "camera", "streamUrl", { cameraId });
				}
				this.logger.debug("Camera stream lost", { cameraId, code: e.code, reason: e.reason, retryInMs: e.retryInMs });
				this.setStatus("offline", { code: e.code, reason: e.reason });
			},

			setStatus(status: "online" | "offline", why: { code?: string; reason?: string }) {
				if (state.status === status || stopping) return;
				const now = Date.now();
				// The time until now counts as the old status.
				this.accrue(now);
				state.status = status;
				if (status === "offline") {
					outage = { since: now, alerted: false };
					state.offlineSince = new Date(now).toISOString();
					state.alerted = false;
					this.logger.warn("Camera offline", { cameraId, id: doc.id, code: why.code ?? null, reason: why.reason ?? null, url: shown });
				} else {
					outage = null;
					state.offlineSince = null;
					state.alerted = false;
					this.logger.info("Camera online", { cameraId, id: doc.id, latencyMs: state.latencyMs, resolution: state.resolution });
					void this.resolveAlert();
				}
				void this.report();
			},

			/** Measure the rates; count the time since the last call as observed (online or not). */
			accrue(now: number) {
				meter.add(now, stats.packets, stats.bytes ?? 0);
				if (stats.packets !== lastPackets) {
					lastPackets = stats.packets;
					lastPacketAt = now;
				}
				state.fps = meter.fps() ?? declaredFps;
				state.bitrateKbps = meter.kbps();
				// While the first connection is still being made, nothing is observed yet.
				if (state.status === "online" || state.status === "offline") state.uptime = accrueUptime(state.uptime, lastAccrued, now, state.status === "online");
				lastAccrued = now;
			},

			/** Account, notice a stale stream, raise a due alert, report when due. */
			tick() {
				const now = Date.now();
				this.accrue(now);
				if (stopping || lost) return;
				// The source notices a silent stream too, but only once its blocked read returns.
				if (state.status === "online" && now - lastPacketAt >= cfg.cameraReadTimeout) {
					state.lastError = `READ_TIMEOUT: No data for ${Math.round((now - lastPacketAt) / 100) / 10} seconds`;
					this.setStatus("offline", { code: "READ_TIMEOUT", reason: `No data for ${Math.round((now - lastPacketAt) / 100) / 10} seconds` });
					return;
				}
				if (state.status === "online" && now - lastFrameAt > cfg.cameraReadTimeout + 2 * interval * 1000) {
					state.lastError = "NO_FRAMES: no frame within the read timeout";
					this.setStatus("offline", { code: "NO_FRAMES", reason: `No frame for ${Math.round((now - lastFrameAt) / 100) / 10} seconds` });
					return;
				}
				if (alertDue(outage, now, cfg.cameraOfflineAlertS * 1000)) {
					outage!.alerted = true;
					state.alerted = true;
					void this.raiseAlert(outage!);
				}
				if (now - lastReportAt >= cfg.monitorReportMs) void this.report();
				if (events.length >= EVENTS_BATCH || (events.length && now - eventsFlushedAt >= EVENTS_FLUSH_MS)) void this.flushEvents();
			},

			liveState(now: number): CameraLiveState {
				const online = state.status === "online";
				const s: CameraLiveState = {
					fps: online ? (state.fps ?? 0) : 0,
					bitrate: online ? (state.bitrateKbps ?? 0) : 0,
					latency: state.latencyMs,
					resolution: state.resolution,
					lastSeen: state.lastSeen,
					lastChecked: new Date(now).toISOString(),
					uptimeDay: state.uptime.day,
					uptimeOnlineMs: Math.round(state.uptime.onlineMs),
					uptimeObservedMs: Math.round(state.uptime.observedMs)
				};
				if (online || state.status === "offline") s.status = state.status as "online" | "offline";
				if (state.thumbnail) s.thumbnail = state.thumbnail;
				return s;
			},

			/** Persist the live state (one report at a time, each with the state of its moment). */
			report() {
				lastReportAt = Date.now();
				reporting = reporting.then(() => this.sendReport());
				return reporting;
			},

			async sendReport() {
				if (lost) return;
				const now = Date.now();
				const sent = this.liveState(now);
				try {
					const res = await this.broker.call<{ ok: boolean; previousStatus?: string | null }, object>("cameras.reportState", { cameraId, token, state: sent }, { timeout: 10_000 });
					state.lastChecked = sent.lastChecked!;
					if (reportFailing) this.logger.info("Camera state reported again", { cameraId });
					reportFailing = false;
					if (sent.status && (res?.previousStatus ?? null) !== sent.status) await this.announce(sent, res?.previousStatus ?? null);
				} catch (err) {
					if ((err as { type?: string }).type === "LEASE_LOST") return this.leaseLost(err as Error);
					if (!reportFailing) this.logger.warn("Camera state not reported", { cameraId, error: (err as Error).message });
					reportFailing = true;
				}
			},

			/** A persisted status change: an event for live views and an audit entry. */
			async announce(sent: CameraLiveState, previousStatus: string | null) {
				const at = new Date().toISOString();
				this.broker.broadcast("live.camera.status", { cameraId, id: doc.id, status: sent.status, fps: sent.fps ?? null, resolution: sent.resolution ?? null, lastSeen: sent.lastSeen ?? null, at });
				await this.broker
					.call("audit.record", {
						action: `camera.${sent.status}`,
						cameraId,
						severity: sent.status === "offline" ? "warning" : "info",
						details: { id: doc.id, name: doc.name, previousStatus, fps: sent.fps ?? null, resolution: sent.resolution ?? null, latencyMs: sent.latency ?? null, reason: sent.status === "offline" ? state.lastError : null, node: this.broker.nodeID }
					})
					.catch((err: Error) => this.logger.warn("Camera status not audited", { cameraId, error: err.message }));
			},

			/** An outage past CAMERA_OFFLINE_ALERT_S: the camera's offline alert (one per cause, so a failover only counts a repeat). */
			async raiseAlert(o: Outage) {
				const since = new Date(o.since).toISOString();
				const offlineForS = Math.round((Date.now() - o.since) / 1000);
				this.logger.warn("Camera offline alert", { cameraId, id: doc.id, since, offlineForS });
				await this.broker
					.call("alerts.raise", {
						cause: offlineCause(cameraId),
						type: "camera_offline",
						level: "high",
						title: `Camera offline: ${doc.name}`,
						description: `${doc.name} (${doc.id}) has sent nothing since ${since}: ${state.lastError ?? "no frames"}`,
						cameraId,
						tags: ["camera"],
						details: { id: doc.id, name: doc.name, since, offlineForS, reason: state.lastError, node: this.broker.nodeID }
					})
					.catch((err: Error) => this.logger.warn("Camera offline alert not raised", { cameraId, error: err.message }));
			},

			/** Back online: the offline alert's cause has passed. */
			async resolveAlert() {
				await this.broker.call("alerts.resolve", { cause: offlineCause(cameraId) }).catch((err: Error) => this.logger.warn("Camera offline alert not resolved", { cameraId, error: err.message }));
			},

			/** Another node holds the camera now (or it was disabled): stop at once, write nothing more. */
			leaseLost(err: Error) {
				if (lost) return;
				lost = true;
				abort.abort();
				if (stopping) return;
				this.logger.warn("Monitor lease lost: stopping", { cameraId, leaseToken: token, error: err.message });
				// Not awaited: the supervisor destroys this service, which waits for its loop.
				this.broker.call("monitors.lost", { cameraId, token }, { nodeID: this.broker.nodeID }).catch((e: Error) => this.logger.warn("Monitor not stopped after its lease was lost", { cameraId, error: e.message }));
			}
		} satisfies Implements<Methods, Settings>,

		started() {
			this.logger.info("Monitor actor started", { cameraId, id: doc.id, url: shown, sampleInterval: interval, leaseToken: token });
			brokerRef = this.broker;
			timer = setInterval(() => this.tick(), TICK_MS);
			loop = this.loadRecognition().then(() => this.run()).catch((err: Error) => {
				state.lastError = err.message;
				this.logger.error("Monitor actor stopped on an error", { cameraId, error: err.message });
				this.setStatus("offline", { code: (err as { code?: string }).code ?? "ERROR", reason: err.message });
			});
		},

		async stopped() {
			stopping = true;
			clearInterval(timer);
			abort.abort();
			await loop;
			await handling;
			for (const w of waiters.splice(0)) w.reject(new ApiError(409, "MONITOR_STOPPING", `The monitor of camera ${cameraId} stopped`));
			await this.flushEvents();
			// The last of the day's uptime and rates, while the lease is still held.
			this.accrue(Date.now());
			if (!lost) await this.report().catch(() => undefined);
			else await reporting.catch(() => undefined);
			state.status = "stopped";
			opts.onStopped?.({ ...state.uptime });
		}
	};
}
