/**
 * Face detection around an UltraFace-style model: the frame stretched to the model's input,
 * RGB (x-127)/128; its output is per-prior [background, face] scores and decoded boxes
 * normalised to the input. Candidates above `threshold` go through greedy NMS.
 */
import { rectAffine, sampleToTensor, type RgbImage } from "./image";

export type Box = [number, number, number, number];

export interface Detection {
	/** x1, y1, x2, y2 in the pixels of the image passed in. */
	box: Box;
	score: number;
}

export const DETECT_THRESHOLD = 0.7;
export const NMS_IOU = 0.3;

/** The part of the image (x, y, w, h) the detector sees; may reach outside it (black padding). */
export type Rect = [number, number, number, number];

export const wholeImage = (image: RgbImage): Rect => [0, 0, image.width, image.height];

/**
 * The image with a black margin of `pad` times its size on every side: a face that fills
 * or overflows a tight crop is found once it has some context around it.
 */
export const paddedImage = (image: RgbImage, pad = 0.25): Rect => [-pad * image.width, -pad * image.height, image.width * (1 + 2 * pad), image.height * (1 + 2 * pad)];

/** The detector input tensor: `rect` of the image stretched to inW x inH, RGB, (x-127)/128, CHW. */
export function detectorInput(image: RgbImage, inW: number, inH: number, rect: Rect = wholeImage(image), out = new Float32Array(3 * inW * inH)): Float32Array {
	sampleToTensor(image, rectAffine(rect[0], rect[1], rect[2], rect[3], inW, inH), inW, inH, out, 0, { channels: "rgb", mean: 127, scale: 1 / 128 });
	return out;
}

export function iou(a: Box, b: Box): number {
	const ix = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
	const iy = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
	if (ix <= 0 || iy <= 0) return 0;
	const inter = ix * iy;
	const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
	return union > 0 ? inter / union : 0;
}

/** Greedy non-maximum suppression; input need not be sorted. */
/**
 * The face at the image's centre: the largest box that contains the centre, else the box
 * nearest to it; -1 without boxes. LFW's photos are centred on the named person, whose face
 * is not always the largest (a neighbour in a group photo); the largest box containing the
 * centre rather than the nearest box, as the detector can return a small false box inside a
 * face (low IoU with it, so NMS keeps both).
 */
export function centreFace(boxes: Box[], width: number, height: number): number {
	const cx = width / 2,
		cy = height / 2;
	const area = (b: Box) => (b[2] - b[0]) * (b[3] - b[1]);
	const dist = (b: Box) => Math.hypot((b[0] + b[2]) / 2 - cx, (b[1] + b[3]) / 2 - cy);
	let best = -1;
	boxes.forEach((b, i) => {
		if (b[0] <= cx && cx <= b[2] && b[1] <= cy && cy <= b[3] && (best < 0 || area(b) > area(boxes[best]))) best = i;
	});
	if (best >= 0 || !boxes.length) return best;
	best = 0;
	boxes.forEach((b, i) => {
		if (dist(b) < dist(boxes[best])) best = i;
	});
	return best;
}

export function nms(dets: Detection[], iouThreshold = NMS_IOU): Detection[] {
	const sorted = [...dets].sort((a, b) => b.score - a.score);
	const kept: Detection[] = [];
	for (const d of sorted) if (kept.every(k => iou(k.box, d.box) <= iouThreshold)) kept.push(d);
	return kept;
}

/**
 * Turn UltraFace outputs (scores [N,2], boxes [N,4] normalised to the detector's view
 * `rect`) into detections in image pixels, clipped to the width x height image.
 */
export function decodeDetections(scores: Float32Array, boxes: Float32Array, rect: Rect, width: number, height: number, threshold = DETECT_THRESHOLD, iouThreshold = NMS_IOU): Detection[] {
	const n = scores.length / 2;
	const [rx, ry, rw, rh] = rect;
	const cands: Detection[] = [];
	for (let i = 0; i < n; i++) {
		const s = scores[i * 2 + 1];
		if (s < threshold) continue;
		const x1 = Math.max(0, rx + boxes[i * 4] * rw);
		const y1 = Math.max(0, ry + boxes[i * 4 + 1] * rh);
		const x2 = Math.min(width, rx + boxes[i * 4 + 2] * rw);
		const y2 = Math.min(height, ry + boxes[i * 4 + 3] * rh);
		if (x2 - x1 < 1 || y2 - y1 < 1) continue;
		cands.push({ box: [x1, y1, x2, y2], score: s });
	}
	return nms(cands, iouThreshold);
}

/** UltraFace's anchor sizes (input pixels) per feature map, and the maps' strides. */
export const ULTRAFACE_MIN_BOXES = [[10, 16, 24], [32, 48], [64, 96], [128, 192, 256]];
export const ULTRAFACE_STRIDES = [8, 16, 32, 64];
const CENTER_VARIANCE = 0.1;
const SIZE_VARIANCE = 0.2;

/**
 * UltraFace's priors for an inW x inH input, as its training code makes them: per feature map
 * (ceil(size / stride) cells, centres at (i + 0.5) / cells), per cell row-major, per anchor
 * size, [cx, cy, w, h] normalised to the input and clipped to [0, 1].
 */
export function ultrafacePriors(inW: number, inH: number): Float32Array {
	const out: number[] = [];
	ULTRAFACE_STRIDES.forEach((stride, k) => {
		const fw = Math.ceil(inW / stride),
			fh = Math.ceil(inH / stride);
		for (let j = 0; j < fh; j++)
			for (let i = 0; i < fw; i++)
				for (const m of ULTRAFACE_MIN_BOXES[k]) out.push(clip01((i + 0.5) / fw), clip01((j + 0.5) / fh), clip01(m / inW), clip01(m / inH));
	});
	return Float32Array.from(out);
}

const clip01 = (v: number) => Math.min(1, Math.max(0, v));

/** SSD box decoding of raw regression [N, 4] against priors [N, 4] -> x1, y1, x2, y2 normalised. */
export function decodeRegression(regression: Float32Array, priors: Float32Array): Float32Array {
	if (regression.length !== priors.length) throw new Error(`regression has ${regression.length / 4} rows, priors ${priors.length / 4}`);
	const out = new Float32Array(regression.length);
	for (let i = 0; i < regression.length; i += 4) {
		const cx = regression[i] * CENTER_VARIANCE * priors[i + 2] + priors[i];
		const cy = regression[i + 1] * CENTER_VARIANCE * priors[i + 3] + priors[i + 1];
		const w = Math.exp(regression[i + 2] * SIZE_VARIANCE) * priors[i + 2];
		const h = Math.exp(regression[i + 3] * SIZE_VARIANCE) * priors[i + 3];
		out[i] = cx - w / 2;
		out[i + 1] = cy - h / 2;
		out[i + 2] = cx + w / 2;
		out[i + 3] = cy + h / 2;
	}
	return out;
}
