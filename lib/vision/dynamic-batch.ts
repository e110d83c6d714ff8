/**
 * Give a per-face model a dynamic batch dimension, so the faces of one frame go through it
 * in one run (measured on the embedder: ~9% less time per face at four faces than one run
 * each). Exported models often fix the batch at 1: in their declared input and output shapes,
 * and in a final Reshape to [1, -1].
 *
 * Only models whose every operator works per sample on any batch are changed: convolutions,
 * pooling, element-wise ops, BatchNormalization, Gemm, Flatten, and Reshape to [1, -1], which
 * becomes Flatten(axis=1), the same for a batch of one. Anything that reads shapes (Shape,
 * Gather, Slice, Concat, other Reshapes, ...) leaves the model as it is.
 */
import { concat, decodeFields, enc, encodeNode, graphOf, GRAPH, intAttribute, readInt64Tensor, readNode, tensorName, valueName, withGraph, type NodeInfo, type WireField } from "./onnx-proto";

export interface BatchResult {
	model: Uint8Array;
	/** The model takes any batch size now (or already did). */
	batchable: boolean;
}

const PER_SAMPLE = new Set(["Conv", "PRelu", "Relu", "LeakyRelu", "Sigmoid", "Clip", "Add", "Mul", "Sub", "BatchNormalization", "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "Gemm", "Softmax", "Identity"]);

export function dynamicBatch(model: Uint8Array): BatchResult {
	const graph = graphOf(model);
	const initializers = new Map<string, Uint8Array>();
	for (const f of graph) if (f.no === GRAPH.initializer && f.type === 2) initializers.set(tensorName(f.bytes!), f.bytes!);

	// Each node read once: checked here, rewritten below.
	const nodeOf = new Map<WireField, NodeInfo>();
	for (const f of graph) if (f.no === GRAPH.node && f.type === 2) nodeOf.set(f, readNode(f.bytes!));
	const nodes = [...nodeOf.values()];
	for (const [{ bytes }, node] of nodeOf) {
		if (node.domain !== "") return { model, batchable: false };
		if (node.opType === "Reshape" ? !flattensBatchOfOne(initializers.get(node.inputs[1])) : !PER_SAMPLE.has(node.opType)) return { model, batchable: false };
		// Flatten must keep the batch axis; axis is 1 unless an attribute says otherwise.
		if (node.opType === "Flatten" && intAttribute(bytes!, "axis", 1) !== 1) return { model, batchable: false };
		// Gemm is per sample only with the batch as A's rows.
		if (node.opType === "Gemm" && intAttribute(bytes!, "transA", 0) !== 0) return { model, batchable: false };
		// Softmax over axis 0 would mix samples; opset 9's default axis 1 is per sample.
		if (node.opType === "Softmax" && intAttribute(bytes!, "axis", 1) === 0) return { model, batchable: false };
	}

	const inputs = graph.filter(f => f.no === GRAPH.input && !initializers.has(valueName(f.bytes!)));
	if (inputs.length === 0) return { model, batchable: false };
	// Reshape targets no node reads once the Reshapes are Flattens (onnxruntime would warn).
	const reshapeTargets = new Set(nodes.filter(n => n.opType === "Reshape").map(n => n.inputs[1]));
	for (const node of nodes) if (node.opType !== "Reshape") node.inputs.forEach(i => reshapeTargets.delete(i));
	const fields = graph
		// Shapes of intermediate values are optional hints, and would pin the batch again.
		.filter(f => f.no !== GRAPH.valueInfo)
		.filter(f => !(f.no === GRAPH.initializer && reshapeTargets.has(tensorName(f.bytes!))))
		.map(f => {
			if ((f.no === GRAPH.input && !initializers.has(valueName(f.bytes!))) || f.no === GRAPH.output) return enc.bytes(f.no, withBatchParam(f.bytes!));
			const node = nodeOf.get(f);
			if (node?.opType === "Reshape") return encodeNode({ opType: "Flatten", name: node.name, inputs: [node.inputs[0]], outputs: node.outputs, attributes: [{ name: "axis", int: 1 }] });
			return f.raw;
		});
	return { model: withGraph(model, fields), batchable: true };
}

/** A Reshape target of [1, -1]: flattening a batch of one. */
function flattensBatchOfOne(tensor: Uint8Array | undefined): boolean {
	const v = tensor ? readInt64Tensor(tensor) : null;
	return !!v && v.length === 2 && v[0] === 1n && v[1] === -1n;
}

/** A ValueInfoProto with its first dimension replaced by the symbol "batch". */
function withBatchParam(valueInfo: Uint8Array): Uint8Array {
	return rewriteNested(valueInfo, [2, 1, 2], shape => {
		let first = true;
		return concat(
			decodeFields(shape).map(d => {
				if (d.no !== 1 || d.type !== 2 || !first) return d.raw;
				first = false;
				return enc.message(1, [enc.string(2, "batch")]);
			})
		);
	});
}

/** Apply `fn` to the message at the field path `path` (type -> tensor_type -> shape). */
function rewriteNested(bytes: Uint8Array, path: number[], fn: (b: Uint8Array) => Uint8Array): Uint8Array {
	if (path.length === 0) return fn(bytes);
	const [head, ...rest] = path;
	return concat(decodeFields(bytes).map(f => (f.no === head && f.type === 2 ? enc.bytes(head, rewriteNested(f.bytes!, rest, fn)) : f.raw)));
}
