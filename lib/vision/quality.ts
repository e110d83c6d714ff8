/**
 * Face quality, from the detector box, the 5 alignment points and the aligned 112x112 crop.
 * Every measure is documented in docs/vision.md; `overall` is their product of [0,1]
 * sub-scores, so one bad aspect (tiny, blurred, dark, turned away, eyes shut) pulls it down.
 */
import type { Box } from "./detect";
import type { Point } from "./landmarks";

export interface FaceQuality {
	/** 0..1 combined score (product of the sub-scores below). */
	overall: number;
	/** Face box height as a share of the frame height (0..1). */
	faceSize: number;
	/** Distance between the eye centres in source pixels. */
	interocularPx: number;
	/** Laplacian variance of the aligned grey crop (0..~2000; < 50 is blurred). */
	sharpness: number;
	/** Mean grey level of the aligned face, 0..1. */
	brightness: number;
	/** RMS contrast (standard deviation of grey) of the aligned face, 0..1. */
	contrast: number;
	/** Head turn left/right in degrees, estimated from the 5 points (about ±10°). */
	yaw: number;
	/** Head tilt up/down in degrees, estimated from the 5 points (about ±10°). */
	pitch: number;
	/** In-plane rotation in degrees from the eye line (exact up to landmark error). */
	roll: number;
	/** Probability both eyes are open (the less open eye), or null without an eye model. */
	eyesOpen: number | null;
	/** The 0..1 sub-scores `overall` multiplies (named as the FUACS validate metrics). */
	scores: { faceSize: number; clarity: number; lighting: number; faceAngle: number; eyes: number };
}

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
const DEG = 180 / Math.PI;

/**
 * Grey statistics of the aligned crop (a CHW tensor of 3 planes, value = (pixel-127)/128),
 * over its central part (the template's face area, away from the black warp border).
 */
export function cropStats(tensor: Float32Array, offset: number, size = 112): { sharpness: number; brightness: number; contrast: number } {
	const plane = size * size;
	const x0 = 16,
		x1 = size - 16,
		y0 = 24,
		y1 = size - 8;
	const w = x1 - x0,
		h = y1 - y0;
	const grey = new Float32Array(w * h);
	for (let y = 0; y < h; y++)
		for (let x = 0; x < w; x++) {
			const i = offset + (y + y0) * size + x + x0;
			// Channel order does not matter much for grey statistics; use the mean of the three planes.
			grey[y * w + x] = ((tensor[i] + tensor[i + plane] + tensor[i + 2 * plane]) / 3) * 128 + 127;
		}
	let sum = 0,
		sum2 = 0;
	for (let i = 0; i < grey.length; i++) {
		sum += grey[i];
		sum2 += grey[i] * grey[i];
	}
	const mean = sum / grey.length;
	const std = Math.sqrt(Math.max(0, sum2 / grey.length - mean * mean));
	return { sharpness: laplacianVariance(grey, w, h), brightness: mean / 255, contrast: std / 255 };
}

/** Variance of the 4-neighbour Laplacian over the interior of a grey plane. */
export function laplacianVariance(grey: ArrayLike<number>, w: number, h: number): number {
	let sum = 0,
		sum2 = 0,
		n = 0;
	for (let y = 1; y < h - 1; y++)
		for (let x = 1; x < w - 1; x++) {
			const i = y * w + x;
			const l = grey[i - 1] + grey[i + 1] + grey[i - w] + grey[i + w] - 4 * grey[i];
			sum += l;
			sum2 += l * l;
			n++;
		}
	if (n === 0) return 0;
	const m = sum / n;
	return sum2 / n - m * m;
}

/**
 * Approximate head pose from the 5 points (eyes, nose, mouth corners). Roll is the eye
 * line's angle; yaw and pitch come from the nose tip's offset from the face's mid-line and
 * its height between the eyes and the mouth, against the frontal ArcFace template, taking
 * the nose to stand out ~0.55 interocular distances from the face plane.
 */
export function poseFromPoints(p: Point[]): { yaw: number; pitch: number; roll: number } {
	const [le, re, nose, lm, rm] = p;
	const roll = Math.atan2(re[1] - le[1], re[0] - le[0]);
	const c = Math.cos(-roll),
		s = Math.sin(-roll);
	const rot = (q: Point): Point => [q[0] * c - q[1] * s, q[0] * s + q[1] * c];
	const [L, R, N, ML, MR] = [le, re, nose, lm, rm].map(rot);
	const d = Math.hypot(R[0] - L[0], R[1] - L[1]) || 1;
	const eyeMid: Point = [(L[0] + R[0]) / 2, (L[1] + R[1]) / 2];
	const mouthMid: Point = [(ML[0] + MR[0]) / 2, (ML[1] + MR[1]) / 2];
	const midX = (eyeMid[0] + mouthMid[0]) / 2;
	const depth = 0.55 * d;
	const yaw = Math.atan2(N[0] - midX, depth);
	// Template: the nose sits 0.494 of the way from the eye line to the mouth line.
	const span = mouthMid[1] - eyeMid[1] || 1;
	const t = (N[1] - eyeMid[1]) / span;
	const pitch = Math.atan2((0.494 - t) * span, depth);
	return { yaw: yaw * DEG, pitch: pitch * DEG, roll: roll * DEG };
}

export function faceQuality(args: {
	box: Box;
	frameHeight: number;
	points: Point[];
	crop: { sharpness: number; brightness: number; contrast: number };
	eyesOpen: number | null;
}): FaceQuality {
	const { box, frameHeight, points, crop, eyesOpen } = args;
	const pose = poseFromPoints(points);
	const interocularPx = Math.hypot(points[1][0] - points[0][0], points[1][1] - points[0][1]);
	// Sub-scores: full marks from 40 px between the eyes, a sharp crop, mid-range light,
	// some contrast, within ~25° of frontal, eyes open.
	const faceSize = clamp01((interocularPx - 12) / (40 - 12));
	const clarity = clamp01(crop.sharpness / 100);
	const lighting = clamp01(1 - Math.abs(crop.brightness - 0.5) / 0.4) * clamp01(crop.contrast / 0.12);
	const faceAngle = clamp01(1 - Math.max(0, Math.max(Math.abs(pose.yaw), Math.abs(pose.pitch)) - 25) / 30);
	const eyes = eyesOpen === null ? 1 : clamp01(eyesOpen * 2);
	return {
		overall: faceSize * clarity * lighting * faceAngle * eyes,
		faceSize: clamp01((box[3] - box[1]) / frameHeight),
		interocularPx,
		sharpness: crop.sharpness,
		brightness: crop.brightness,
		contrast: crop.contrast,
		yaw: pose.yaw,
		pitch: pose.pitch,
		roll: pose.roll,
		eyesOpen,
		scores: { faceSize, clarity, lighting, faceAngle, eyes }
	};
}
