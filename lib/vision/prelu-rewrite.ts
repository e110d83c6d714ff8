/**
 * An exact rewrite of per-channel PRelu for onnxruntime's CPU engine.
 *
 * Why: onnxruntime runs convolutions in its blocked NCHWc layout, but has no NCHWc PRelu,
 * so around every PRelu it converts the tensor out of that layout and back, and its
 * broadcasting PRelu kernel is slow besides. In the MobileFaceNet embedder (33 PRelus)
 * that was a third of the run. Here each PRelu becomes two 1x1 depthwise convolutions,
 * which stay in NCHWc and fuse their Relu and Add:
 *
 *   PRelu(x) = a*x + (1-a)*Relu(x) = a*x + Relu((1-a)*x)      (per channel, valid for a < 1)
 *
 * The function is the same (equal up to float rounding), so embeddings keep their
 * embeddingVersion and calibration. A PRelu with a slope >= 1 in any channel, or whose
 * slope is not a constant [C,1,1], is left as it is.
 */
import { concat, encodeFloatTensor, encodeNode, graphOf, GRAPH, readFloatTensor, readNode, tensorName, withGraph, type FloatTensor } from "./onnx-proto";

export interface RewriteResult {
	model: Uint8Array;
	rewritten: number;
	kept: number;
}

export function rewritePRelu(model: Uint8Array): RewriteResult {
	const graph = graphOf(model);
	const initializers = new Map<string, Uint8Array>();
	const names = new Set<string>();
	for (const f of graph) {
		if (f.no === GRAPH.initializer && f.type === 2) {
			const name = tensorName(f.bytes!);
			initializers.set(name, f.bytes!);
			names.add(name);
		} else if (f.no === GRAPH.node && f.type === 2) for (const o of readNode(f.bytes!).outputs) names.add(o);
	}
	const fresh = (base: string) => {
		let name = base;
		for (let i = 1; names.has(name); i++) name = `${base}_${i}`;
		names.add(name);
		return name;
	};

	let rewritten = 0,
		kept = 0;
	const added: Uint8Array[] = [];
	const replacedSlopes = new Set<string>();
	const stillUsed = new Set<string>();
	const fields = graph.map(f => {
		if (f.no !== GRAPH.node || f.type !== 2) return f.raw;
		const node = readNode(f.bytes!);
		if (node.opType !== "PRelu" || node.domain !== "") {
			node.inputs.forEach(i => stillUsed.add(i));
			return f.raw;
		}
		const slope = initializers.has(node.inputs[1]) ? readFloatTensor(initializers.get(node.inputs[1])!) : null;
		const a = slope && perChannel(slope);
		if (!a || a.some(v => !(v < 1))) {
			kept++;
			node.inputs.forEach(i => stillUsed.add(i));
			return f.raw;
		}
		rewritten++;
		replacedSlopes.add(node.inputs[1]);
		const c = a.length;
		const [x] = node.inputs,
			[y] = node.outputs;
		const base = node.name || y;
		const wPos = fresh(`${base}/relu_scale`),
			wLin = fresh(`${base}/linear_scale`);
		const tPos = fresh(`${base}/scaled`),
			tRelu = fresh(`${base}/relu`),
			tLin = fresh(`${base}/linear`);
		added.push(
			encodeFloatTensor({ name: wPos, dims: [c, 1, 1, 1], data: a.map(v => 1 - v) }),
			encodeFloatTensor({ name: wLin, dims: [c, 1, 1, 1], data: a })
		);
		const depthwise = [
			{ name: "group", int: c },
			{ name: "kernel_shape", ints: [1, 1] }
		];
		return concat([
			encodeNode({ opType: "Conv", name: tPos, inputs: [x, wPos], outputs: [tPos], attributes: depthwise }),
			encodeNode({ opType: "Relu", name: tRelu, inputs: [tPos], outputs: [tRelu] }),
			encodeNode({ opType: "Conv", name: tLin, inputs: [x, wLin], outputs: [tLin], attributes: depthwise }),
			encodeNode({ opType: "Add", name: fresh(`${base}/sum`), inputs: [tLin, tRelu], outputs: [y] })
		]);
	});
	if (rewritten === 0) return { model, rewritten, kept };
	// Slopes no node reads any more are dropped (onnxruntime would warn about each).
	const unused = (i: number) => {
		const f = graph[i];
		if (f.no !== GRAPH.initializer || f.type !== 2) return false;
		const name = tensorName(f.bytes!);
		return replacedSlopes.has(name) && !stillUsed.has(name);
	};
	return { model: withGraph(model, [...fields.filter((_, i) => !unused(i)), ...added]), rewritten, kept };
}

/** The slopes of a [C,1,1] (or [1,C,1,1]) tensor, one per channel; null for any other shape. */
function perChannel(t: FloatTensor): Float32Array | null {
	const d = t.dims[0] === 1 && t.dims.length === 4 ? t.dims.slice(1) : t.dims;
	if (d.length !== 3 || d[1] !== 1 || d[2] !== 1 || t.data.length !== d[0]) return null;
	return t.data;
}
