import fs from "node:fs";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { decodeWeights, DLIB_CHIP_POINTS, dlibChipAffine, dlibTemplatePoint, DLIB_INPUT_SIZE, faceRecognitionNetOnnx, foldConv } from "../../../lib/vision/dlib-resnet";
import type { Point } from "../../../lib/vision/landmarks";
import reference from "./dlib-resnet.tfjs.json";

const MODEL_DIR = path.join(__dirname, "../../../node_modules/@vladmandic/face-api/model");

/** The two inputs the reference was computed on (face-api's NHWC tensor, here read as NCHW). */
const pattern = (k: number, y: number, x: number, c: number) => (k === 0 ? (x * 7 + y * 13 + c * 50) % 256 : 127.5 + 127.5 * Math.sin(x / 9 + c) * Math.cos(y / 13 - c));

describe("dlib ResNet from face-api's weights to ONNX", () => {
	it("decodes uint8-quantised and float32 weights in manifest order", () => {
		const manifest = [
			{
				weights: [
					{ name: "a", shape: [2], dtype: "float32", quantization: { dtype: "uint8", scale: 0.5, min: -1 } },
					{ name: "b", shape: [1], dtype: "float32" }
				]
			}
		];
		const bin = new Uint8Array(6);
		bin.set([0, 4]);
		new DataView(bin.buffer).setFloat32(2, 2.5, true);
		const w = decodeWeights(manifest, bin);
		expect(Array.from(w.get("a")!.data)).toEqual([-1, 1]);
		expect(Array.from(w.get("b")!.data)).toEqual([2.5]);
		expect(() => decodeWeights(manifest, new Uint8Array(7))).toThrow(/7 bytes/);
	});

	it("folds bias and scale layer into the conv, HWIO to OIHW", () => {
		// 1x2 kernel, 1 in, 2 out channels: filters[y][x][i][o].
		const filters = { shape: [1, 2, 1, 2], data: Float32Array.of(1, 2, 3, 4) };
		const { w, b } = foldConv(filters, { shape: [2], data: Float32Array.of(0.5, -1) }, { shape: [2], data: Float32Array.of(2, 10) }, { shape: [2], data: Float32Array.of(1, 0) });
		expect(w.shape).toEqual([2, 1, 1, 2]);
		expect(Array.from(w.data)).toEqual([2, 6, 20, 40]);
		expect(Array.from(b.data)).toEqual([2, -10]);
	});

	it("gives face-api's tfjs descriptors on onnxruntime", async () => {
		const manifest = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, "face_recognition_model-weights_manifest.json"), "utf8"));
		const bin = new Uint8Array(fs.readFileSync(path.join(MODEL_DIR, manifest[0].paths[0])));
		const session = await ort.InferenceSession.create(faceRecognitionNetOnnx(manifest, bin), { intraOpNumThreads: 1, interOpNumThreads: 1 });
		const s = DLIB_INPUT_SIZE;
		for (const [k, expected] of reference.descriptors.entries()) {
			const x = new Float32Array(3 * s * s);
			for (let c = 0; c < 3; c++) for (let y = 0; y < s; y++) for (let u = 0; u < s; u++) x[(c * s + y) * s + u] = pattern(k, y, u, c);
			const out = (await session.run({ input: new ort.Tensor("float32", x, [1, 3, s, s]) })).descriptor;
			expect(out.dims).toEqual([1, 128]);
			const got = out.data as Float32Array;
			const maxDiff = Math.max(...expected.map((v, i) => Math.abs(v - got[i])));
			expect(maxDiff).toBeLessThan(1e-5);
		}
		await session.release();
	});
});

describe("dlib's face chip", () => {
	const apply = (m: number[], [u, v]: Point): Point => [m[0] * u + m[1] * v + m[2], m[3] * u + m[4] * v + m[5]];
	/** 68 points: dlib's template moved by a similarity (scale 2, 30 degrees, offset (40, 10)); jaw and brows anywhere. */
	const face = (): Point[] => {
		const r = Math.PI / 6;
		return Array.from({ length: 68 }, (_, i) => {
			const [x, y] = i >= 17 ? dlibTemplatePoint(i) : [i, i];
			return [40 + 2 * (Math.cos(r) * x - Math.sin(r) * y), 10 + 2 * (Math.sin(r) * x + Math.cos(r) * y)] as Point;
		});
	};
	it("aligns on 33 points: nose, eyes, upper lip and inner mouth, not brows, jaw or lower lip", () => {
		expect(DLIB_CHIP_POINTS).toHaveLength(33);
		expect(DLIB_CHIP_POINTS[0]).toBe(27);
		expect(DLIB_CHIP_POINTS).not.toContain(57);
		expect(DLIB_CHIP_POINTS).toContain(64);
	});
	it("maps the template onto the face, the chip's pixels spread over size * scale - 1 image pixels", () => {
		const pts = face();
		const m = dlibChipAffine(pts);
		// scale 2: 150 chip pixels span 299 image pixels, so one chip pixel is 299/149 image pixels.
		expect(Math.hypot(m[0], m[3])).toBeCloseTo(299 / 149, 9);
		expect(Math.atan2(m[3], m[0])).toBeCloseTo(Math.PI / 6, 9);
		// The chip's centre pixel (74.5) lands where the similarity puts template point (75, 75), less half the stretch.
		const k = 299 / 149;
		const centre = apply(m, [74.5, 74.5]);
		const t = apply([2 * Math.cos(Math.PI / 6), -2 * Math.sin(Math.PI / 6), 40, 2 * Math.sin(Math.PI / 6), 2 * Math.cos(Math.PI / 6), 10], [75, 75]);
		expect(centre[0]).toBeCloseTo(t[0], 6);
		expect(centre[1]).toBeCloseTo(t[1], 6);
		// A template point lands on its face point to within the 1-pixel stretch.
		const [x, y] = dlibTemplatePoint(30);
		const p = apply(m, [74.5 + (x - 75) * (2 / k), 74.5 + (y - 75) * (2 / k)]);
		expect(p[0]).toBeCloseTo(pts[30][0], 6);
		expect(p[1]).toBeCloseTo(pts[30][1], 6);
		expect(() => dlibChipAffine(pts.slice(0, 5))).toThrow(/68 points/);
	});
});
