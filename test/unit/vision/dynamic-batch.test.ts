import fs from "node:fs";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { dynamicBatch } from "../../../lib/vision/dynamic-batch";
import { prepareModel } from "../../../lib/vision/engine";
import { enc, encodeFloatTensor, encodeModel, encodeNode, encodeValueInfo, GRAPH } from "../../../lib/vision/onnx-proto";

const C = 4,
	H = 6,
	W = 6;
const int64Tensor = (name: string, values: number[]) =>
	enc.message(GRAPH.initializer, [enc.varint(1, values.length), enc.varint(2, 7), enc.string(8, name), enc.bytes(9, new Uint8Array(new BigInt64Array(values.map(BigInt)).buffer))]);

/** input [1,C,H,W] -> Conv 3x3 -> Relu -> Reshape [1,-1] (or a node that reads shapes) -> output. */
function perFaceModel(extra?: "shape-op"): Uint8Array {
	const weights = Float32Array.from({ length: C * C * 9 }, (_, i) => Math.cos(i * 0.7) * 0.2);
	const tail = extra === "shape-op" ? [encodeNode({ opType: "Shape", name: "s", inputs: ["r"], outputs: ["shape"] }), encodeNode({ opType: "Reshape", name: "flat", inputs: ["r", "shape"], outputs: ["output"] })] : [encodeNode({ opType: "Reshape", name: "flat", inputs: ["r", "target"], outputs: ["output"] })];
	return encodeModel({
		opset: 9,
		graph: [
			encodeNode({ opType: "Conv", name: "conv", inputs: ["input", "w"], outputs: ["x"], attributes: [{ name: "pads", ints: [1, 1, 1, 1] }] }),
			encodeNode({ opType: "Relu", name: "relu", inputs: ["x"], outputs: ["r"] }),
			...tail,
			encodeFloatTensor({ name: "w", dims: [C, C, 3, 3], data: weights }),
			int64Tensor("target", [1, -1]),
			encodeValueInfo(GRAPH.input, "input", [1, C, H, W]),
			encodeValueInfo(GRAPH.output, "output", extra === "shape-op" ? [1, C, H, W] : [1, C * H * W]),
			encodeValueInfo(GRAPH.valueInfo, "x", [1, C, H, W])
		]
	});
}

async function runAll(model: Uint8Array, inputName: string, shape: number[], batch: Float32Array[]): Promise<{ single: Float32Array[]; batched: Float32Array }> {
	const s = await ort.InferenceSession.create(model, { graphOptimizationLevel: "all", intraOpNumThreads: 1 });
	const out = s.outputNames[0];
	const single: Float32Array[] = [];
	for (const x of batch) single.push(Float32Array.from((await s.run({ [inputName]: new ort.Tensor("float32", x, [1, ...shape]) }))[out].data as Float32Array));
	const all = new Float32Array(batch.length * batch[0].length);
	batch.forEach((b, k) => all.set(b, k * b.length));
	const batched = (await s.run({ [inputName]: new ort.Tensor("float32", all, [batch.length, ...shape]) }))[out].data as Float32Array;
	await s.release();
	return { single, batched };
}

const sample = (n: number, len: number) => Array.from({ length: n }, (_, k) => Float32Array.from({ length: len }, (_, i) => Math.sin(i * 0.05 + k * 1.3)));

describe("dynamic batch", () => {
	it("a per-sample model takes a batch of three and gives each sample what it gives alone", async () => {
		const r = dynamicBatch(perFaceModel());
		expect(r.batchable).toBe(true);
		const xs = sample(3, C * H * W);
		const { single, batched } = await runAll(r.model, "input", [C, H, W], xs);
		expect(batched.length).toBe(3 * C * H * W);
		single.forEach((y, k) => y.forEach((v, i) => expect(Math.abs(batched[k * y.length + i] - v)).toBeLessThan(1e-6)));
	});

	it("the original refuses a batch of three (so the rewrite is what makes it work)", async () => {
		await expect(runAll(perFaceModel(), "input", [C, H, W], sample(3, C * H * W))).rejects.toThrow();
	});

	it("a model that reads shapes is left alone", () => {
		const model = perFaceModel("shape-op");
		const r = dynamicBatch(model);
		expect(r.batchable).toBe(false);
		expect(r.model).toBe(model);
	});

	it("a Gemm that takes the batch as A's columns (transA) is left alone", () => {
		const model = encodeModel({
			opset: 9,
			graph: [
				encodeNode({ opType: "Gemm", name: "fc", inputs: ["input", "b"], outputs: ["output"], attributes: [{ name: "transA", int: 1 }] }),
				encodeFloatTensor({ name: "b", dims: [4, 3], data: new Float32Array(12).fill(0.5) }),
				encodeValueInfo(GRAPH.input, "input", [4, 1]),
				encodeValueInfo(GRAPH.output, "output", [1, 3])
			]
		});
		expect(dynamicBatch(model)).toEqual({ model, batchable: false });
	});

	const modelFile = (f: string) => new Uint8Array(fs.readFileSync(path.join(__dirname, "../../../onnx-models", f)));
	it.each([
		["fr_feature.onnx", [3, 112, 112], true],
		["fr_landmark.onnx", [1, 64, 64], true],
		["fr_detect.onnx", [3, 240, 320], false]
	] as const)("the real %s (input %j): batchable %s, and a batch gives each face its own output", async (file, shape, batchable) => {
		const r = prepareModel(modelFile(file));
		expect(r.batchable).toBe(batchable);
		if (!batchable) return;
		const xs = sample(3, (shape as readonly number[]).reduce((a, b) => a * b, 1));
		const { single, batched } = await runAll(r.model, "input", [...shape], xs);
		const k = single[0].length;
		single.forEach((y, j) => {
			let maxDiff = 0,
				norm = 0;
			y.forEach((v, i) => {
				maxDiff = Math.max(maxDiff, Math.abs(batched[j * k + i] - v));
				norm = Math.max(norm, Math.abs(v));
			});
			expect(maxDiff / norm).toBeLessThan(1e-4);
		});
	});
});
