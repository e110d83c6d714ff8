import fs from "node:fs";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { decodeFields, encodeFloatTensor, encodeModel, encodeNode, encodeValueInfo, graphOf, GRAPH, OnnxFormatError, readNode } from "../../../lib/vision/onnx-proto";
import { rewritePRelu } from "../../../lib/vision/prelu-rewrite";

const C = 16,
	H = 5,
	W = 7;

/** input -> Conv 3x3 -> PRelu(slopes) -> output, as onnx bytes. */
function convPRelu(slopes: Float32Array): Uint8Array {
	const weights = Float32Array.from({ length: C * C * 9 }, (_, i) => Math.sin(i * 0.37) * 0.3);
	return encodeModel({
		opset: 9,
		graph: [
			encodeNode({ opType: "Conv", name: "conv", inputs: ["input", "w"], outputs: ["x"], attributes: [{ name: "pads", ints: [1, 1, 1, 1] }] }),
			encodeNode({ opType: "PRelu", name: "act", inputs: ["x", "slope"], outputs: ["output"] }),
			encodeFloatTensor({ name: "w", dims: [C, C, 3, 3], data: weights }),
			encodeFloatTensor({ name: "slope", dims: [C, 1, 1], data: slopes }),
			encodeValueInfo(GRAPH.input, "input", [1, C, H, W]),
			encodeValueInfo(GRAPH.output, "output", [1, C, H, W])
		]
	});
}

async function run(model: Uint8Array, input: Float32Array): Promise<Float32Array> {
	const s = await ort.InferenceSession.create(model, { graphOptimizationLevel: "all", intraOpNumThreads: 1 });
	const out = await s.run({ input: new ort.Tensor("float32", input, [1, C, H, W]) });
	await s.release();
	return out.output.data as Float32Array;
}

const ops = (model: Uint8Array) => graphOf(model).filter(f => f.no === GRAPH.node).map(f => readNode(f.bytes!).opType);
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const input = Float32Array.from({ length: C * H * W }, (_, i) => Math.cos(i * 0.91) * 2);

describe("PRelu rewrite", () => {
	it("turns a per-channel PRelu (negative, zero and positive slopes) into depthwise convs computing the same values", async () => {
		const slopes = Float32Array.from({ length: C }, (_, i) => -0.8 + i * 0.11); // -0.8 .. 0.85, includes ~0
		slopes[3] = 0;
		const model = convPRelu(slopes);
		const r = rewritePRelu(model);
		expect([r.rewritten, r.kept]).toEqual([1, 0]);
		expect(ops(r.model)).toEqual(["Conv", "Conv", "Relu", "Conv", "Add"]);
		const before = await run(model, input);
		const after = await run(r.model, input);
		expect(before.some(v => v < 0)).toBe(true); // the negative side is exercised
		expect(maxDiff(before, after)).toBeLessThan(1e-5);
	});

	it("leaves a PRelu with a slope of 1 or more alone, and the model unchanged", async () => {
		const slopes = new Float32Array(C).fill(0.25);
		slopes[5] = 1.2;
		const model = convPRelu(slopes);
		const r = rewritePRelu(model);
		expect([r.rewritten, r.kept]).toEqual([0, 1]);
		expect(r.model).toBe(model);
	});

	it("keeps every other field of the model byte for byte", () => {
		const model = convPRelu(new Float32Array(C).fill(0.1));
		const r = rewritePRelu(model);
		const others = (m: Uint8Array) => decodeFields(m).filter(f => f.no !== 7).map(f => Buffer.from(f.raw).toString("hex"));
		expect(others(r.model)).toEqual(others(model));
		const graphOthers = (m: Uint8Array) => graphOf(m).filter(f => f.no !== GRAPH.node && f.no !== GRAPH.initializer).map(f => Buffer.from(f.raw).toString("hex"));
		expect(graphOthers(r.model)).toEqual(graphOthers(model));
	});

	it("rejects bytes that are not a protobuf model", () => {
		expect(() => rewritePRelu(Uint8Array.from([0x3a, 0x50, 1, 2]))).toThrow(OnnxFormatError);
		expect(() => rewritePRelu(Uint8Array.from([0x08, 0x07]))).toThrow(/no graph/);
	});

	const embedder = path.join(__dirname, "../../../onnx-models/fr_feature.onnx");
	it("the real embedder: 32 of its 33 PRelus rewritten, the same embedding of a face-like input", async () => {
		const model = new Uint8Array(fs.readFileSync(embedder));
		const r = rewritePRelu(model);
		expect([r.rewritten, r.kept]).toEqual([32, 1]); // the first layer has a slope above 1
		const x = Float32Array.from({ length: 3 * 112 * 112 }, (_, i) => Math.sin(i * 0.013) * 0.9);
		const run1 = async (m: Uint8Array) => {
			const s = await ort.InferenceSession.create(m, { graphOptimizationLevel: "all", intraOpNumThreads: 1 });
			const out = (await s.run({ input: new ort.Tensor("float32", x, [1, 3, 112, 112]) })).output.data as Float32Array;
			await s.release();
			return out;
		};
		const [a, b] = [await run1(model), await run1(r.model)];
		const norm = (v: Float32Array) => Math.hypot(...v);
		let dot = 0;
		for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
		expect(dot / (norm(a) * norm(b))).toBeGreaterThan(0.999999);
		expect(maxDiff(a, b) / norm(a)).toBeLessThan(1e-4);
	});
});
