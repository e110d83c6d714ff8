import fs from "node:fs";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { decodeWeights, DLIB_INPUT_SIZE, faceRecognitionNetOnnx, foldConv } from "../../../lib/vision/dlib-resnet";
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
