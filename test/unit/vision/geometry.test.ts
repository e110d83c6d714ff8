import { alignmentAffine, ARCFACE_TEMPLATE, estimateSimilarity } from "../../../lib/vision/align";
import { centreFace, decodeDetections, iou, nms, paddedImage, type Box } from "../../../lib/vision/detect";
import { decodeLandmarks, eyeSquares, fivePoints, landmarkRect, type Point } from "../../../lib/vision/landmarks";

describe("detection post-processing", () => {
	it("iou of identical, disjoint and half-overlapping boxes", () => {
		expect(iou([0, 0, 10, 10], [0, 0, 10, 10])).toBe(1);
		expect(iou([0, 0, 10, 10], [20, 20, 30, 30])).toBe(0);
		expect(iou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(50 / 150);
	});
	it("centreFace: the largest box containing the image centre, else the nearest box", () => {
		// lfw-dev Charles_Schumer_0002: the largest face is a neighbour's, off the centre.
		expect(centreFace([[149, 66, 244, 202], [84, 62, 162, 184]], 250, 250)).toBe(1);
		// Jiang_Zemin_0007: a small false box on the glasses, inside the face and nearer the centre.
		expect(centreFace([[80, 58, 193, 188], [117, 105, 142, 128]], 250, 250)).toBe(0);
		// No box contains the centre: the nearest one.
		expect(centreFace([[0, 0, 40, 40], [150, 140, 200, 190], [200, 0, 250, 60]], 250, 250)).toBe(1);
		expect(centreFace([], 250, 250)).toBe(-1);
	});
	it("nms keeps the best of overlapping boxes and separate faces", () => {
		const kept = nms([
			{ box: [0, 0, 10, 10], score: 0.8 },
			{ box: [1, 1, 11, 11], score: 0.9 },
			{ box: [50, 50, 60, 60], score: 0.75 }
		]);
		expect(kept.map(k => k.score)).toEqual([0.9, 0.75]);
	});
	it("decodes scores/boxes above the threshold into clipped image pixels", () => {
		const scores = Float32Array.from([0.9, 0.1, 0.05, 0.95, 0.2, 0.8]);
		const boxes = Float32Array.from([0, 0, 1, 1, 0.1, 0.2, 0.3, 0.4, -0.1, 0.5, 0.2, 1.2]);
		const d = decodeDetections(scores, boxes, [0, 0, 200, 100], 200, 100);
		expect(d).toHaveLength(2);
		expect(d[0].box.map(v => Math.round(v))).toEqual([20, 20, 60, 40]);
		expect(d[1].box.map(v => Math.round(v))).toEqual([0, 50, 40, 100]);
	});
	it("maps boxes found in the padded view back to image pixels", () => {
		const rect = paddedImage({ data: new Uint8Array(0), width: 100, height: 100 }, 0.25); // [-25,-25,150,150]
		const d = decodeDetections(Float32Array.from([0, 1]), Float32Array.from([0.2, 0.2, 0.8, 0.8]), rect, 100, 100);
		expect(d[0].box.map(v => Math.round(v))).toEqual([5, 5, 95, 95]);
	});
});

describe("alignment", () => {
	it("recovers a known similarity transform", () => {
		const [a, b, tx, ty] = [0.8 * Math.cos(0.3), 0.8 * Math.sin(0.3), 12, -7];
		const src: Point[] = [[10, 20], [50, 22], [30, 40], [15, 60], [48, 61]];
		const dst = src.map(([x, y]) => [a * x - b * y + tx, b * x + a * y + ty] as Point);
		const est = estimateSimilarity(src, dst);
		[a, b, tx, ty].forEach((v, i) => expect(est[i]).toBeCloseTo(v, 6));
	});
	it("the alignment map sends template points back onto the face's points", () => {
		// A face at twice the template size, rotated 20 degrees, somewhere in a photo.
		const r = (20 * Math.PI) / 180;
		const pts = ARCFACE_TEMPLATE.map(([x, y]) => [2 * (x * Math.cos(r) - y * Math.sin(r)) + 300, 2 * (x * Math.sin(r) + y * Math.cos(r)) + 150] as Point);
		const m = alignmentAffine(pts);
		ARCFACE_TEMPLATE.forEach(([u, v], i) => {
			expect(m[0] * u + m[1] * v + m[2]).toBeCloseTo(pts[i][0], 6);
			expect(m[3] * u + m[4] * v + m[5]).toBeCloseTo(pts[i][1], 6);
		});
	});
});

describe("landmarks", () => {
	const box: Box = [100, 50, 164, 114];
	it("crops a square 1.1x the box and maps crop units back to image pixels", () => {
		expect(landmarkRect([-10, 5, 50, 40])).toEqual([-13, -10.5, 66, 66]);
		const raw = new Float32Array(136).fill(0.5);
		const pts = decodeLandmarks(raw, box, 640, 480);
		expect(pts).toHaveLength(68);
		expect(pts[0]).toEqual([132, 82]); // the centre of the box maps to the centre of the crop
	});
	it("takes eye centres, nose tip and mouth corners as the 5 points", () => {
		const pts: Point[] = Array.from({ length: 68 }, (_, i) => [i, 2 * i]);
		const five = fivePoints(pts);
		expect(five).toEqual([[38.5, 77], [44.5, 89], [30, 60], [48, 96], [54, 108]]);
		const eyes = eyeSquares(pts);
		expect(eyes).toHaveLength(2);
		expect(eyes[0][2]).toBeCloseTo(Math.hypot(3, 6) * 1.6);
	});
});
