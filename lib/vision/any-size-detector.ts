/**
 * UltraFace at any input size. The published detector is fully convolutional, but its graph
 * ends in the SSD box decoding with the priors of a 320x240 input baked in as constants
 * ([1, 4420, 2] centres and sizes), which pins the input size. This rewrite cuts the graph
 * before that decoding: it outputs the class scores (after the softmax) and the raw box
 * regression, both [1, N, ...] for N priors of whatever input it is given, and declares the
 * input's height and width dynamic. The priors are then made in JavaScript
 * (`ultrafacePriors` in detect.ts) and applied by `decodeRegression`, which the engine checks
 * at load against the constants of the model itself (`bakedPriors`).
 */
import { decodeFields, enc, graphOf, GRAPH, readFloatTensor, readNode, tensorName, valueName, withGraph, type NodeInfo, type WireField } from "./onnx-proto";

export interface AnySizeDetector {
	model: Uint8Array;
	/** Output names: softmaxed scores [1, N, 2] and raw regression [1, N, 4]. */
	scores: string;
	regression: string;
}

export class AnySizeError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "AnySizeError";
	}
}

/** The scores output's Softmax, and the Concat of the regression heads that the box decoding starts from. */
function decodingInputs(nodes: NodeInfo[], scoresName: string): { regression: string } {
	const producer = new Map<string, NodeInfo>();
	for (const n of nodes) for (const o of n.outputs) producer.set(o, n);
	const softmax = producer.get(scoresName);
	if (!softmax || softmax.opType !== "Softmax") throw new AnySizeError(`the detector's "${scoresName}" output is not a Softmax`);
	const logits = producer.get(softmax.inputs[0]);
	if (!logits || logits.opType !== "Concat") throw new AnySizeError("the detector's scores do not come from a Concat of heads");
	// The regression heads are concatenated the same way; the box decoding reads that Concat.
	const concats = nodes.filter(n => n.opType === "Concat" && n !== logits && n.inputs.length === logits.inputs.length && n.inputs.every(i => producer.get(i)?.opType === "Reshape"));
	if (concats.length !== 1) throw new AnySizeError(`expected one Concat of regression heads, found ${concats.length}`);
	return { regression: concats[0].outputs[0] };
}

/** A ValueInfoProto of a float tensor whose dims are numbers or named symbols. */
function valueInfo(fieldNo: number, name: string, dims: (number | string)[]): Uint8Array {
	const shape = enc.message(
		2,
		dims.map(d => (typeof d === "number" ? enc.message(1, [enc.varint(1, d)]) : enc.message(1, [enc.string(2, d)])))
	);
	return enc.message(fieldNo, [enc.string(1, name), enc.message(2, [enc.message(1, [enc.varint(1, 1), shape])])]);
}

/** The detector cut before its box decoding, with a dynamic input height and width. */
export function anySizeDetector(model: Uint8Array, inputName: string, scoresName = "scores"): AnySizeDetector {
	const graph = graphOf(model);
	const nodeFields = graph.filter(f => f.no === GRAPH.node && f.type === 2);
	const infos = new Map<WireField, NodeInfo>(nodeFields.map(f => [f, readNode(f.bytes!)]));
	const nodes = [...infos.values()];
	const { regression } = decodingInputs(nodes, scoresName);

	// Keep only the nodes the two outputs need.
	const producer = new Map<string, NodeInfo>();
	for (const n of nodes) for (const o of n.outputs) producer.set(o, n);
	const needed = new Set<NodeInfo>();
	const todo = [scoresName, regression];
	while (todo.length) {
		const n = producer.get(todo.pop()!);
		if (!n || needed.has(n)) continue;
		needed.add(n);
		todo.push(...n.inputs);
	}
	const used = new Set(nodes.filter(n => needed.has(n)).flatMap(n => n.inputs));
	const inputs = graph.filter(f => f.no === GRAPH.input);
	if (!inputs.some(f => valueName(f.bytes!) === inputName)) throw new AnySizeError(`the detector has no input "${inputName}"`);

	const fields: Uint8Array[] = [];
	for (const f of graph) {
		// Shapes of intermediate values are optional hints that would pin the size.
		if (f.no === GRAPH.valueInfo || f.no === GRAPH.output) continue;
		if (f.no === GRAPH.node && f.type === 2 && !needed.has(infos.get(f)!)) continue;
		// Initializers only the cut decoding read (its constants) go with it.
		if (f.no === GRAPH.initializer && f.type === 2 && !used.has(tensorName(f.bytes!))) continue;
		if (f.no === GRAPH.input && valueName(f.bytes!) === inputName) {
			fields.push(valueInfo(GRAPH.input, inputName, ["batch", 3, "height", "width"]));
			continue;
		}
		if (f.no === GRAPH.input && !used.has(valueName(f.bytes!))) continue;
		fields.push(f.raw);
	}
	fields.push(valueInfo(GRAPH.output, scoresName, ["batch", "priors", 2]), valueInfo(GRAPH.output, regression, ["batch", "priors", 4]));
	return { model: withGraph(model, fields), scores: scoresName, regression };
}


/**
 * The priors baked into the published graph's decoding, as [cx, cy, w, h] per prior
 * (normalised), read from its Constant nodes: the centres are the constant added after the
 * centre variance, the sizes the constant the centre offsets are multiplied by.
 */
export function bakedPriors(model: Uint8Array, regression: string): Float32Array | null {
	const graph = graphOf(model);
	const nodes = graph.filter(f => f.no === GRAPH.node && f.type === 2).map(f => ({ info: readNode(f.bytes!), bytes: f.bytes! }));
	const constants = new Map<string, Float32Array>();
	for (const n of nodes) if (n.info.opType === "Constant") {
		const t = constantTensor(n.bytes);
		if (t) constants.set(n.info.outputs[0], t);
	}
	const consumers = (v: string) => nodes.filter(n => n.info.inputs.includes(v)).map(n => n.info);
	// regression -> Slice (centre part) -> Mul(variance) -> Mul(sizes) -> Add(centres)
	for (const slice of consumers(regression).filter(n => n.opType === "Slice")) {
		const mul1 = consumers(slice.outputs[0]).find(n => n.opType === "Mul");
		const mul2 = mul1 && consumers(mul1.outputs[0]).find(n => n.opType === "Mul");
		const add = mul2 && consumers(mul2.outputs[0]).find(n => n.opType === "Add");
		if (!mul2 || !add) continue;
		const sizes = constants.get(mul2.inputs.find(i => constants.has(i) && constants.get(i)!.length > 2) ?? "");
		const centres = constants.get(add.inputs.find(i => constants.has(i)) ?? "");
		if (!sizes || !centres || sizes.length !== centres.length) continue;
		const n = sizes.length / 2;
		const out = new Float32Array(n * 4);
		for (let i = 0; i < n; i++) out.set([centres[2 * i], centres[2 * i + 1], sizes[2 * i], sizes[2 * i + 1]], 4 * i);
		return out;
	}
	return null;
}

/** A Constant node's `value` tensor, when it is a float tensor. */
function constantTensor(nodeBytes: Uint8Array): Float32Array | null {
	for (const f of decodeFields(nodeBytes)) {
		if (f.no !== 5 || f.type !== 2) continue;
		const attr = decodeFields(f.bytes!);
		const t = attr.find(a => a.no === 5 && a.type === 2);
		if (t) return readFloatTensor(t.bytes!)?.data ?? null;
	}
	return null;
}
