/**
 * 5-point similarity alignment to the ArcFace 112x112 template: the least-squares
 * similarity (scale, rotation, translation; no reflection) from the face's points to the
 * template, inverted into the dst->src map the sampler needs.
 */
import { sampleToTensor, type Affine, type RgbImage, type SampleOptions } from "./image";
import type { Point } from "./landmarks";

export const ALIGNED_SIZE = 112;

/** ArcFace (insightface) reference points for a 112x112 crop. */
export const ARCFACE_TEMPLATE: Point[] = [
	[38.2946, 51.6963],
	[73.5318, 51.5014],
	[56.0252, 71.7366],
	[41.5493, 92.3655],
	[70.7299, 92.2041]
];

/** Least-squares similarity src -> dst as [a, b, tx, ty]: x' = a x - b y + tx, y' = b x + a y + ty. */
export function estimateSimilarity(src: Point[], dst: Point[]): [number, number, number, number] {
	const n = src.length;
	if (n < 2 || n !== dst.length) throw new Error("estimateSimilarity needs two equal lists of at least 2 points");
	let sx = 0,
		sy = 0,
		dx = 0,
		dy = 0;
	for (let i = 0; i < n; i++) {
		sx += src[i][0];
		sy += src[i][1];
		dx += dst[i][0];
		dy += dst[i][1];
	}
	sx /= n;
	sy /= n;
	dx /= n;
	dy /= n;
	let num1 = 0,
		num2 = 0,
		den = 0;
	for (let i = 0; i < n; i++) {
		const px = src[i][0] - sx,
			py = src[i][1] - sy;
		const qx = dst[i][0] - dx,
			qy = dst[i][1] - dy;
		num1 += px * qx + py * qy;
		num2 += px * qy - py * qx;
		den += px * px + py * py;
	}
	if (den === 0) throw new Error("estimateSimilarity: source points coincide");
	const a = num1 / den;
	const b = num2 / den;
	return [a, b, dx - (a * sx - b * sy), dy - (b * sx + a * sy)];
}

/** The dst->src map of the alignment of `points` onto the template. */
export function alignmentAffine(points: Point[], template: Point[] = ARCFACE_TEMPLATE): Affine {
	const [a, b, tx, ty] = estimateSimilarity(points, template);
	// Inverse of [[a,-b],[b,a]] is [[a,b],[-b,a]] / (a^2+b^2).
	const d = a * a + b * b;
	const ia = a / d,
		ib = b / d;
	return [ia, ib, -(ia * tx + ib * ty), -ib, ia, -(-ib * tx + ia * ty)];
}

/** Write the aligned 112x112 face into a CHW tensor. */
export function alignedInput(image: RgbImage, points: Point[], out: Float32Array, offset: number, opts: SampleOptions): void {
	sampleToTensor(image, alignmentAffine(points), ALIGNED_SIZE, ALIGNED_SIZE, out, offset, opts);
}
