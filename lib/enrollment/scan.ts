/**
 * Scan an enrollment video: sampled frames go to the vision engine while the next ones are
 * decoded (decode and inference overlap, a few requests in flight), and each frame's main
 * face (the largest) is kept with the measurements the quality metrics need.
 * No Moleculer here: the caller passes the frames and the analyse function.
 */
import type { VideoFrame } from "../video/frame-source";
import type { FaceMeasurement } from "./quality";

/** The parts of the vision engine's face the enrollment uses. */
export interface EngineFace {
	box: [number, number, number, number];
	embedding?: number[];
	embeddingVersion?: number;
	quality: { sharpness: number; brightness: number; contrast: number; yaw: number; pitch: number };
}

export interface ScannedFace {
	/** Index of the sampled frame (0-based) and its time in the video, seconds. */
	frame: number;
	timestamp: number;
	face: EngineFace;
	measurement: FaceMeasurement;
}

export interface ScanResult {
	totalFrames: number;
	faces: ScannedFace[];
}

/** The engine's answer; width and height are those of the image it analysed (a resent JPEG may be smaller). */
export type AnalyzeFrame = (frame: VideoFrame) => Promise<{ faces: EngineFace[]; width?: number; height?: number }>;

/** The largest face by box area, or null. */
export function mainFace<F extends EngineFace>(faces: readonly F[]): F | null {
	let best: F | null = null;
	let bestArea = -1;
	for (const f of faces) {
		const area = Math.max(0, f.box[2] - f.box[0]) * Math.max(0, f.box[3] - f.box[1]);
		if (area > bestArea) {
			best = f;
			bestArea = area;
		}
	}
	return best;
}

/** The quality inputs of a face in a frame of width x height (engine brightness/contrast are 0..1). */
export function measure(face: EngineFace, width: number, height: number): FaceMeasurement {
	const [x1, y1, x2, y2] = face.box;
	const bw = Math.max(0, Math.min(x2, width) - Math.max(x1, 0));
	const bh = Math.max(0, Math.min(y2, height) - Math.max(y1, 0));
	return {
		areaFraction: (bw * bh) / (width * height),
		centerX: (x1 + x2) / 2 / width,
		centerY: (y1 + y2) / 2 / height,
		sharpness: face.quality.sharpness,
		brightness: face.quality.brightness * 255,
		contrast: face.quality.contrast * 255,
		yaw: face.quality.yaw,
		pitch: face.quality.pitch
	};
}

/**
 * Analyse every frame, at most `inFlight` at a time, stopping after `maxSeconds` of video.
 * Frames are released as soon as their analysis is sent, so memory stays a few frames.
 */
export async function scanFrames(frames: AsyncIterable<VideoFrame>, analyze: AnalyzeFrame, opts: { inFlight?: number; maxSeconds?: number } = {}): Promise<ScanResult> {
	const inFlight = Math.max(1, opts.inFlight ?? 2);
	const maxSeconds = opts.maxSeconds ?? Infinity;
	const faces: ScannedFace[] = [];
	const running = new Set<Promise<void>>();
	let failure: unknown = null;
	let total = 0;
	for await (const frame of frames) {
		if (frame.timestamp > maxSeconds) break;
		const index = total++;
		const job = analyze(frame)
			.then(res => {
				const face = mainFace(res.faces);
				if (face) faces.push({ frame: index, timestamp: frame.timestamp, face, measurement: measure(face, res.width ?? frame.width, res.height ?? frame.height) });
			})
			.catch(err => {
				failure ??= err;
			});
		const tracked = job.finally(() => running.delete(tracked));
		running.add(tracked);
		if (failure) break;
		if (running.size >= inFlight) await Promise.race(running);
		if (failure) break;
	}
	await Promise.all(running);
	if (failure) throw failure;
	faces.sort((a, b) => a.frame - b.frame);
	return { totalFrames: total, faces };
}
