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

/** The detector input tensor: `image` stretched to inW x inH, RGB, (x-127)/128, CHW. */
export function detectorInput(image: RgbImage, inW: number, inH: number, out = new Float32Array(3 * inW * inH)): Float32Array {
	sampleToTensor(image, rectAffine(0, 0, image.width, image.height, inW, inH), inW, inH, out, 0, { channels: "rgb", mean: 127, scale: 1 / 128 });
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
export function nms(dets: Detection[], iouThreshold = NMS_IOU): Detection[] {
	const sorted = [...dets].sort((a, b) => b.score - a.score);
	const kept: Detection[] = [];
	for (const d of sorted) if (kept.every(k => iou(k.box, d.box) <= iouThreshold)) kept.push(d);
	return kept;
}

/**
 * Turn UltraFace outputs (scores [N,2], boxes [N,4] normalised) into detections in the
 * pixels of a width x height image, clipped to it.
 */
export function decodeDetections(scores: Float32Array, boxes: Float32Array, width: number, height: number, threshold = DETECT_THRESHOLD, iouThreshold = NMS_IOU): Detection[] {
	const n = scores.length / 2;
	const cands: Detection[] = [];
	for (let i = 0; i < n; i++) {
		const s = scores[i * 2 + 1];
		if (s < threshold) continue;
		const x1 = Math.max(0, boxes[i * 4] * width);
		const y1 = Math.max(0, boxes[i * 4 + 1] * height);
		const x2 = Math.min(width, boxes[i * 4 + 2] * width);
		const y2 = Math.min(height, boxes[i * 4 + 3] * height);
		if (x2 - x1 < 1 || y2 - y1 < 1) continue;
		cands.push({ box: [x1, y1, x2, y2], score: s });
	}
	return nms(cands, iouThreshold);
}
