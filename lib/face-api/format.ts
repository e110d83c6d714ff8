/**
 * The seed-001 shapes of what the vision engine finds: boxes as {x1, y1, x2, y2, width,
 * height, center_x, center_y, confidence} in the pixels of the image the caller sent,
 * quality as a 0-100 score, the streaming protocol's [x, y, w, h]. Pure.
 */
import type { Box } from "../vision/detect";
import type { Point } from "../vision/landmarks";
import type { FaceQuality } from "../vision/quality";

export interface FoundFace {
	box: Box;
	score: number;
	landmarks: Point[];
	quality: FaceQuality;
	embedding?: number[];
	embeddingVersion?: number;
	liveness?: { score: number; probabilities: number[]; experimental: true };
}

export interface Found {
	/** The caller's image, pixels. */
	width: number;
	height: number;
	faces: FoundFace[];
	timings: Record<string, number>;
}

export const round = (x: number, digits = 2) => {
	const k = 10 ** digits;
	return Math.round(x * k) / k;
};

/**
 * Faces the engine found on the re-encoded image (`analysedWidth` wide) in the pixels of
 * the caller's own image (`width` x `height`), which may be larger.
 */
export function inCallerPixels(result: { width: number; faces: FoundFace[]; timings: Record<string, number> }, width: number, height: number): Found {
	const s = result.width > 0 ? width / result.width : 1;
	const faces =
		s === 1
			? result.faces
			: result.faces.map(f => ({
					...f,
					box: f.box.map(v => v * s) as Box,
					landmarks: f.landmarks.map(p => [p[0] * s, p[1] * s] as Point),
					quality: { ...f.quality, interocularPx: f.quality.interocularPx * s }
				}));
	return { width, height, faces, timings: result.timings };
}

export interface SeedBox {
	x1: number;
	y1: number;
	x2: number;
	y2: number;
	width: number;
	height: number;
	center_x: number;
	center_y: number;
	confidence: number;
}

/** The box clipped to the image, in whole pixels. */
export function seedBox(box: Box, score: number, width: number, height: number): SeedBox {
	const x1 = Math.max(0, Math.round(box[0]));
	const y1 = Math.max(0, Math.round(box[1]));
	const x2 = Math.min(width, Math.round(box[2]));
	const y2 = Math.min(height, Math.round(box[3]));
	return { x1, y1, x2, y2, width: x2 - x1, height: y2 - y1, center_x: (x1 + x2) / 2, center_y: (y1 + y2) / 2, confidence: round(score, 3) };
}

/** 0-100: the engine's combined quality (docs/vision.md). */
export const qualityScore = (q: FaceQuality) => round(q.overall * 100, 2);

/** Seed 003's bbox: [x, y, width, height], whole pixels. */
export function streamBox(box: Box, width: number, height: number): [number, number, number, number] {
	const b = seedBox(box, 0, width, height);
	return [b.x1, b.y1, b.width, b.height];
}

export const landmarksOut = (f: FoundFace) => f.landmarks.map(p => [Math.round(p[0]), Math.round(p[1])]);

export interface BatchItem {
	filename: string;
	success: boolean;
	result?: { face_count: number; [k: string]: unknown };
	error?: { code: string; message: string };
}

export function batchSummary(items: BatchItem[]) {
	const ok = items.filter(i => i.success);
	const faces = ok.reduce((n, i) => n + (i.result?.face_count ?? 0), 0);
	return {
		total_files: items.length,
		successful_detections: ok.length,
		failed_detections: items.length - ok.length,
		total_faces_detected: faces,
		average_faces_per_image: ok.length ? round(faces / ok.length, 2) : 0
	};
}
