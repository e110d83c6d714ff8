/**
 * What a monitor actor does with the faces of a sampled frame: analyse it on an inference
 * node, match every face against THE gallery (the two best, calibrated similarity), follow the
 * faces across frames as tracks (lib/recognition/tracker.ts: the sessions' false-match guard),
 * and when a track's status changes (unknown, or confirmed as a person), persist its detection
 * with a thumbnail of its best face, then tell attendance (known employees only: a visitor's
 * detection says visitor and is never a sighting). A confirmed
 * track seen again refreshes its detection and attendance at most every REFRESH_MS.
 */
import sharp from "sharp";
import type { ServiceBroker } from "moleculer";
import { framePayload } from "../../lib/cluster/frame-transport";
import { RateGate } from "../../lib/alerts/alerts";
import { CameraTracker, candidatesOf, type GalleryPoint, type Track } from "../../lib/recognition/tracker";
import type { AnalyzeResult } from "../../lib/vision/engine";
import type { VideoFrame } from "../../lib/video/frame-source";
import type { DetectionView } from "../console/detections.service";

const REFRESH_MS = 30_000;

/** What a frame gave: faces found, the detections written from it, faces not decided yet (a first sighting). */
export interface FrameOutcome {
	faces: number;
	detections: DetectionView[];
	tentative: number;
}
const PROFILE_CACHE_MS = 60_000;

interface Profile {
	id: string;
	employeeId: string;
	name: string;
	department: string;
	category: "employee" | "visitor";
}

export class FaceWatch {
	private readonly tracker: CameraTracker;
	private profiles = new Map<string, { at: number; p: Profile | null }>();
	private written = new Map<string, number>();
	/** Tracks whose unknown face raised an alert (resolved if the track is recognised after all). */
	private alerted = new Set<string>();
	private readonly unknownGate: RateGate;

	constructor(
		private readonly broker: ServiceBroker,
		private readonly camera: { cameraId: number; name: string },
		private readonly opts: { threshold: number; sampleIntervalS: number; unknownFaceAlertS: number; minFaceSize?: number }
	) {
		this.unknownGate = new RateGate(opts.unknownFaceAlertS * 1000, 16);
		// A track ends after three missed samples (at least 5 s): one person walking past is one track.
		this.tracker = new CameraTracker({ threshold: opts.threshold, maxGapMs: Math.max(5000, 3 * opts.sampleIntervalS * 1000) });
	}

	forgetProfiles(): void {
		this.profiles.clear();
	}

	/**
	 * One frame's faces: analysed, matched, tracked, detections written. `writeSeen` (a
	 * send-frame) writes the detection of every decided track the frame shows, not only of
	 * those whose status changed. Answers the faces found and the detections written.
	 */
	async onFrame(frame: VideoFrame, at: number, o: { writeSeen?: boolean } = {}): Promise<FrameOutcome> {
		const payload = await framePayload(frame, !!this.broker.getLocalService("inference"));
		const result = await this.broker.call<AnalyzeResult, object>("inference.analyze", { ...payload, ...(this.opts.minFaceSize ? { minFaceSize: this.opts.minFaceSize } : {}) }, { timeout: 30_000 });
		const sx = frame.sourceWidth / result.width;
		const sy = frame.sourceHeight / result.height;
		const faces = await Promise.all(
			result.faces.map(async f => {
				const { best, second } = f.embedding
					? candidatesOf(await this.broker.call<GalleryPoint[], object>("gallery.search", { vector: f.embedding, limit: 2, embeddingVersion: f.embeddingVersion }))
					: { best: null, second: null };
				return { box: f.box, embedding: f.embedding ?? null, best, second, quality: f.quality.overall, raw: f };
			})
		);
		// Tracks that ended: their detection (and attendance) get their last frame and count.
		for (const t of this.tracker.expire(at)) {
			if (this.written.has(t.id)) await this.write(t, frame, sx, sy, t.lastAt);
			this.written.delete(t.id);
			this.alerted.delete(t.id);
		}
		const update = this.tracker.update(faces, at);
		const detections: DetectionView[] = [];
		for (const t of update.changed) detections.push(await this.write(t, frame, sx, sy, at));
		for (const t of update.seen) {
			if (update.changed.includes(t)) continue;
			if ((o.writeSeen && t.status !== "tentative") || (t.status === "authorized" && at - (this.written.get(t.id) ?? 0) >= REFRESH_MS)) detections.push(await this.write(t, frame, sx, sy, at));
		}
		const tentative = update.seen.filter(t => t.status === "tentative").length;
		return { faces: faces.length, detections, tentative };
	}

	private async profile(id: string): Promise<Profile | null> {
		const hit = this.profiles.get(id);
		if (hit && Date.now() - hit.at < PROFILE_CACHE_MS) return hit.p;
		const [p] = await this.broker.call<Profile[], object>("faces.byIds", { ids: [id] });
		this.profiles.set(id, { at: Date.now(), p: p ?? null });
		return p ?? null;
	}

	/** Persist the track's detection (thumbnail first), then attendance; the detection is broadcast by its store. */
	private async write(t: Track, frame: VideoFrame, sx: number, sy: number, at: number): Promise<DetectionView> {
		const person = t.status === "authorized" && t.identity ? await this.profile(t.identity.profileId) : null;
		let thumbnail: string | null = null;
		if (!this.written.has(t.id)) thumbnail = await this.thumbnail(t, frame).catch(() => null);
		const [x1, y1, x2, y2] = t.bestBox;
		const detection = await this.broker.call<DetectionView, object>("detections.record", {
			trackId: `${this.camera.cameraId}-${t.id}`,
			cameraId: this.camera.cameraId,
			cameraName: this.camera.name,
			personId: person?.id ?? null,
			employeeId: person?.employeeId ?? null,
			name: person?.name ?? null,
			department: person?.department ?? null,
			status: person ? (person.category === "visitor" ? "visitor" : "authorized") : "unknown",
			confidence: t.confidence,
			boundingBox: { x: Math.round(x1 * sx), y: Math.round(y1 * sy), width: Math.round((x2 - x1) * sx), height: Math.round((y2 - y1) * sy) },
			...(thumbnail ? { thumbnail } : {}),
			timestamp: new Date(t.firstAt),
			lastSeen: new Date(t.lastAt),
			frames: t.frames
		});
		this.written.set(t.id, at);
		// The one gate of attendance: a visitor's sighting never becomes one (no log, so no
		// headcount, records, statistics or Odoo, which all read the logs).
		if (person && person.category !== "visitor")
			await this.broker.call("attendanceLogs.recordSighting", {
				detectionId: `${detection.id}@${at}`,
				personId: person.id,
				employeeId: person.employeeId,
				name: person.name,
				department: person.department || null,
				cameraId: this.camera.cameraId,
				at: new Date(at),
				confidence: Math.min(1, t.confidence)
			});
		else if (t.status === "unknown") this.broker.broadcast("live.face.unknown", { cameraId: this.camera.cameraId, trackId: detection.id, at: new Date(at).toISOString() });
		if (person && this.alerted.delete(t.id)) await this.broker.call("alerts.resolve", { cause: this.unknownCause(t) }).catch(() => undefined);
		else if (!person && t.status === "unknown" && !this.alerted.has(t.id) && this.unknownGate.pass("camera", at)) {
			// One alert per unknown track, at most one per camera per UNKNOWN_FACE_ALERT_S.
			this.alerted.add(t.id);
			await this.broker
				.call("alerts.raise", {
					cause: this.unknownCause(t),
					type: "unknown_face",
					level: "medium",
					title: `Unknown face at ${this.camera.name}`,
					description: `A face not in the gallery was followed for ${t.frames} frame(s) at ${this.camera.name}`,
					cameraId: this.camera.cameraId,
					tags: ["face", "unknown"],
					details: { detectionId: detection.id, trackId: `${this.camera.cameraId}-${t.id}`, thumbnail, at: new Date(at).toISOString() }
				})
				.catch(() => undefined);
		}
		return detection;
	}

	private unknownCause(t: Track): string {
		return `camera:${this.camera.cameraId}:unknown-face:${t.id}`;
	}

	/** A small JPEG of the track's face (the analysed frame's box, with a margin). */
	private async thumbnail(t: Track, frame: VideoFrame): Promise<string> {
		const [x1, y1, x2, y2] = t.box;
		const m = 0.3 * (x2 - x1);
		const left = Math.max(0, Math.floor(x1 - m));
		const top = Math.max(0, Math.floor(y1 - m));
		const width = Math.max(1, Math.min(frame.width - left, Math.ceil(x2 - x1 + 2 * m)));
		const height = Math.max(1, Math.min(frame.height - top, Math.ceil(y2 - y1 + 2 * m)));
		const jpeg = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } }).extract({ left, top, width, height }).resize(112, 112, { fit: "cover" }).jpeg({ quality: 80 }).toBuffer();
		const name = `det-${this.camera.cameraId}-${t.id}.jpg`;
		await this.broker.call("blobs.put", { name, kind: "thumbnail", contentType: "image/jpeg", data: jpeg, ttlSeconds: 30 * 24 * 3600 });
		return name;
	}
}
