/**
 * 68-point landmarks: the detector box stretched to a 64x64 grey crop (/256), the model's
 * 136 outputs in crop units mapped back to image pixels; the 5 points the ArcFace alignment
 * needs (eye centres, nose tip, mouth corners) are taken from them.
 */
import type { Box } from "./detect";
import { rectAffine, sampleToTensor, type RgbImage } from "./image";

export type Point = [number, number];
export const LANDMARK_SIZE = 64;

/**
 * The crop rectangle (x, y, w, h) the landmark model sees: a square around the box's centre,
 * 1.1x the box's longer side. Measured on faces-dev (d' of same vs different cosines): the
 * raw, taller-than-wide box 6.35, the square 6.61, 1.1x 6.94, 1.2x 7.00, 1.3x 6.78.
 * Where it reaches outside the image the sampler pads with black, keeping the face's shape.
 */
export const LANDMARK_MARGIN = 1.1;

export function landmarkRect(box: Box, _width?: number, _height?: number): [number, number, number, number] {
	const side = LANDMARK_MARGIN * Math.max(box[2] - box[0], box[3] - box[1], 1);
	return [(box[0] + box[2]) / 2 - side / 2, (box[1] + box[3]) / 2 - side / 2, side, side];
}

export function landmarkInput(image: RgbImage, box: Box, out = new Float32Array(LANDMARK_SIZE * LANDMARK_SIZE), offset = 0): Float32Array {
	const [x, y, w, h] = landmarkRect(box, image.width, image.height);
	sampleToTensor(image, rectAffine(x, y, w, h, LANDMARK_SIZE, LANDMARK_SIZE), LANDMARK_SIZE, LANDMARK_SIZE, out, offset, { channels: "grey", mean: 0, scale: 1 / 256 });
	return out;
}

/** Model output (68 x,y pairs in crop units) -> image pixels. */
export function decodeLandmarks(raw: ArrayLike<number>, box: Box, width: number, height: number): Point[] {
	const [x, y, w, h] = landmarkRect(box, width, height);
	const pts: Point[] = [];
	for (let i = 0; i < 68; i++) pts.push([x + raw[i * 2] * w, y + raw[i * 2 + 1] * h]);
	return pts;
}

function mean(pts: Point[], idx: number[]): Point {
	let sx = 0,
		sy = 0;
	for (const i of idx) {
		sx += pts[i][0];
		sy += pts[i][1];
	}
	return [sx / idx.length, sy / idx.length];
}

/**
 * The 5 alignment points in image order (as the ArcFace template): the eye on the image's
 * left (the subject's right, points 36-41), the other eye (42-47), nose tip (30), mouth
 * corners (48, 54).
 */
export function fivePoints(pts: Point[]): Point[] {
	return [mean(pts, [36, 37, 38, 39, 40, 41]), mean(pts, [42, 43, 44, 45, 46, 47]), pts[30], pts[48], pts[54]];
}

/** Square eye crops (x, y, side) around points 36-41 and 42-47, 1.6x the eye's width. */
export function eyeSquares(pts: Point[]): [number, number, number][] {
	return [
		[36, 39],
		[42, 45]
	].map(([a, b]) => {
		const idx = [a, a + 1, a + 2, a + 3, a + 4, a + 5];
		const c = mean(pts, idx);
		const side = Math.max(4, Math.hypot(pts[b][0] - pts[a][0], pts[b][1] - pts[a][1]) * 1.6);
		return [c[0] - side / 2, c[1] - side / 2, side] as [number, number, number];
	});
}
