/**
 * dlib's face recognition ResNet (dlib_face_recognition_resnet_model_v1, 128-d) as face-api
 * ships it (FaceRecognitionNet: a tfjs weights manifest and a .bin of uint8-quantised
 * weights) rewritten as an ONNX model onnxruntime runs. Pure: weights in, model bytes out.
 *
 * The graph is face-api's forwardInput (src/faceRecognitionNet): input [1, 3, 150, 150] RGB
 * 0..255 (NCHW; face-api's is NHWC), minus the mean RGB [122.782, 117.001, 104.298], / 255;
 * conv 7x7/2 valid + ReLU, max pool 3x3/2 valid, residual blocks (3x3 same convs, the
 * down-sampling ones with a 3x3/2 valid conv and a 2x2/2 average-pooled shortcut whose missing
 * channels are zeros, the conv branch padded with a zero row and column where it came out one
 * smaller), global average, matmul by fc [256, 128]. Each conv's bias and its "scale layer"
 * (the affine layer dlib keeps in place of batch norm) are folded into the conv:
 * W'[o] = W[o] * s[o], b'[o] = b[o] * s[o] + beta[o]. Opset 10 (Pad takes its pads as an
 * attribute there).
 */
import { estimateSimilarity } from "./align";
import type { Affine } from "./image";
import type { Point } from "./landmarks";
import { enc, encodeFloatTensor, encodeModel, encodeNode, encodeValueInfo, GRAPH, type Attribute } from "./onnx-proto";

export const DLIB_INPUT_SIZE = 150;
export const DLIB_MEAN_RGB = [122.782, 117.001, 104.298];

interface WeightSpec {
	name: string;
	shape: number[];
	dtype: string;
	quantization?: { dtype: string; scale?: number; min?: number };
}

export interface WeightsManifest {
	weights: WeightSpec[];
	paths?: string[];
}

export interface Weights {
	shape: number[];
	data: Float32Array;
}

/** The manifest's tensors out of the concatenated .bin data (uint8/uint16 quantised as value = q * scale + min, or float32). */
export function decodeWeights(manifest: WeightsManifest[], bin: Uint8Array): Map<string, Weights> {
	const out = new Map<string, Weights>();
	let pos = 0;
	for (const spec of manifest.flatMap(m => m.weights)) {
		const n = spec.shape.reduce((a, b) => a * b, 1);
		const data = new Float32Array(n);
		const q = spec.quantization;
		if (spec.dtype !== "float32") throw new Error(`${spec.name}: dtype ${spec.dtype} is not supported`);
		if (!q) {
			if (pos + 4 * n > bin.length) throw new Error(`${spec.name}: the weights data is too short`);
			const view = new DataView(bin.buffer, bin.byteOffset + pos, 4 * n);
			for (let i = 0; i < n; i++) data[i] = view.getFloat32(4 * i, true);
			pos += 4 * n;
		} else if (q.dtype === "uint8" || q.dtype === "uint16") {
			const bytes = q.dtype === "uint8" ? 1 : 2;
			if (q.scale === undefined || q.min === undefined) throw new Error(`${spec.name}: quantisation without scale and min`);
			if (pos + bytes * n > bin.length) throw new Error(`${spec.name}: the weights data is too short`);
			const view = new DataView(bin.buffer, bin.byteOffset + pos, bytes * n);
			for (let i = 0; i < n; i++) data[i] = (bytes === 1 ? view.getUint8(i) : view.getUint16(2 * i, true)) * q.scale + q.min;
			pos += bytes * n;
		} else throw new Error(`${spec.name}: quantisation ${q.dtype} is not supported`);
		out.set(spec.name, { shape: spec.shape, data });
	}
	if (pos !== bin.length) throw new Error(`the weights data has ${bin.length} bytes, the manifest describes ${pos}`);
	return out;
}

/** Conv filters [kh, kw, in, out] (tfjs HWIO) with bias and scale folded in, as ONNX [out, in, kh, kw] and [out]. */
export function foldConv(filters: Weights, bias: Weights, scale: Weights, shift: Weights): { w: Weights; b: Weights } {
	const [kh, kw, ci, co] = filters.shape;
	if (bias.data.length !== co || scale.data.length !== co || shift.data.length !== co) throw new Error("conv, bias and scale sizes differ");
	const w = new Float32Array(co * ci * kh * kw);
	for (let y = 0; y < kh; y++)
		for (let x = 0; x < kw; x++)
			for (let i = 0; i < ci; i++)
				for (let o = 0; o < co; o++) w[((o * ci + i) * kh + y) * kw + x] = filters.data[((y * kw + x) * ci + i) * co + o] * scale.data[o];
	const b = Float32Array.from(bias.data, (v, o) => v * scale.data[o] + shift.data[o]);
	return { w: { shape: [co, ci, kh, kw], data: w }, b: { shape: [co], data: b } };
}

const BLOCKS: [string, "residual" | "down"][] = [
	["conv32_1", "residual"],
	["conv32_2", "residual"],
	["conv32_3", "residual"],
	["conv64_down", "down"],
	["conv64_1", "residual"],
	["conv64_2", "residual"],
	["conv64_3", "residual"],
	["conv128_down", "down"],
	["conv128_1", "residual"],
	["conv128_2", "residual"],
	["conv256_down", "down"],
	["conv256_1", "residual"],
	["conv256_2", "residual"],
	["conv256_down_out", "down"]
];

/** Output side of a square valid conv/pool. */
const valid = (size: number, k: number, s: number) => Math.floor((size - k) / s) + 1;

/** The ONNX model (input "input" [1, 3, 150, 150] RGB 0..255, output "descriptor" [1, 128]). */
export function faceRecognitionNetOnnx(manifest: WeightsManifest[], bin: Uint8Array): Uint8Array {
	const weights = decodeWeights(manifest, bin);
	const get = (name: string) => {
		const w = weights.get(name);
		if (!w) throw new Error(`the weights have no ${name}`);
		return w;
	};
	const nodes: Uint8Array[] = [];
	const inits: Uint8Array[] = [];
	let n = 0;
	const init = (name: string, w: Weights) => {
		inits.push(encodeFloatTensor({ name, dims: w.shape, data: w.data }));
		return name;
	};
	const node = (opType: string, inputs: string[], attributes?: Attribute[]) => {
		const out = `${opType.toLowerCase()}_${n++}`;
		nodes.push(encodeNode({ opType, name: out, inputs, outputs: [out], attributes }));
		return out;
	};
	const conv = (x: string, prefix: string, stride: number, same: boolean, relu: boolean) => {
		const filters = get(`${prefix}/conv/filters`);
		const { w, b } = foldConv(filters, get(`${prefix}/conv/bias`), get(`${prefix}/scale/weights`), get(`${prefix}/scale/biases`));
		const k = filters.shape[0];
		const p = same ? (k - 1) / 2 : 0;
		const y = node("Conv", [x, init(`${prefix}/w`, w), init(`${prefix}/b`, b)], [
			{ name: "kernel_shape", ints: [k, k] },
			{ name: "strides", ints: [stride, stride] },
			{ name: "pads", ints: [p, p, p, p] }
		]);
		return { y: relu ? node("Relu", [y]) : y, channels: filters.shape[3] };
	};

	let x = node("Sub", ["input", init("mean_rgb", { shape: [1, 3, 1, 1], data: Float32Array.from(DLIB_MEAN_RGB) })]);
	x = node("Mul", [x, init("inv_255", { shape: [1], data: Float32Array.of(1 / 255) })]);
	let c = conv(x, "conv32_down", 2, false, true);
	x = node("MaxPool", [c.y], [
		{ name: "kernel_shape", ints: [3, 3] },
		{ name: "strides", ints: [2, 2] }
	]);
	let size = valid(valid(DLIB_INPUT_SIZE, 7, 2), 3, 2);
	let channels = c.channels;
	for (const [prefix, kind] of BLOCKS) {
		if (kind === "residual") {
			const a = conv(x, `${prefix}/conv1`, 1, true, true);
			const b = conv(a.y, `${prefix}/conv2`, 1, true, false);
			x = node("Relu", [node("Add", [b.y, x])]);
			continue;
		}
		const a = conv(x, `${prefix}/conv1`, 2, false, true);
		const b = conv(a.y, `${prefix}/conv2`, 1, true, false);
		let branch = b.y;
		const convSize = valid(size, 3, 2);
		const poolSize = valid(size, 2, 2);
		if (convSize !== poolSize) branch = node("Pad", [branch], [{ name: "pads", ints: [0, 0, 0, 0, 0, 0, poolSize - convSize, poolSize - convSize] }]);
		let shortcut = node("AveragePool", [x], [
			{ name: "kernel_shape", ints: [2, 2] },
			{ name: "strides", ints: [2, 2] }
		]);
		if (b.channels !== channels) shortcut = node("Pad", [shortcut], [{ name: "pads", ints: [0, 0, 0, 0, 0, b.channels - channels, 0, 0] }]);
		x = node("Relu", [node("Add", [shortcut, branch])]);
		size = poolSize;
		channels = b.channels;
	}
	const pooled = node("Flatten", [node("GlobalAveragePool", [x])]);
	const fc = get("fc");
	nodes.push(encodeNode({ opType: "MatMul", name: "descriptor", inputs: [pooled, init("fc", fc)], outputs: ["descriptor"] }));
	return encodeModel({
		opset: 10,
		graph: [
			...nodes,
			enc.string(GRAPH.name, "dlib_face_recognition_resnet_model_v1"),
			...inits,
			encodeValueInfo(GRAPH.input, "input", [1, 3, DLIB_INPUT_SIZE, DLIB_INPUT_SIZE]),
			encodeValueInfo(GRAPH.output, "descriptor", [1, fc.shape[1]])
		]
	});
}

/**
 * dlib's mean face (iBUG 68-point order, points 17-67) in units of the face chip, from
 * get_face_chip_details (dlib/image_transforms/interpolation.h).
 */
const MEAN_FACE_X = [
	0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124, 0.904991, 0.98004, 0.490127, 0.490127, 0.490127, 0.490127, 0.36688, 0.426036, 0.490127, 0.554217,
	0.613373, 0.121737, 0.187122, 0.265825, 0.334606, 0.260918, 0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335, 0.254149, 0.340985, 0.428858, 0.490127, 0.551395,
	0.639268, 0.726104, 0.642159, 0.556721, 0.490127, 0.423532, 0.338094, 0.290379, 0.428096, 0.490127, 0.552157, 0.689874, 0.553364, 0.490127, 0.42689
];
const MEAN_FACE_Y = [
	0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891, 0.0187482, 0.038915, 0.106454, 0.203352, 0.307009, 0.409805, 0.515625, 0.587326, 0.609345, 0.628106,
	0.609345, 0.587326, 0.216423, 0.178758, 0.179852, 0.231733, 0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099, 0.780233, 0.745405, 0.727388, 0.742578,
	0.727388, 0.745405, 0.780233, 0.864805, 0.902192, 0.909281, 0.902192, 0.864805, 0.784792, 0.778746, 0.785343, 0.778746, 0.784792, 0.824182, 0.831803, 0.824182
];

/** The 68-point indices dlib aligns on: 27-67 without the lower lip (55-59, 65-67); eyebrows and jaw are left out. */
export const DLIB_CHIP_POINTS = Array.from({ length: 41 }, (_, i) => 27 + i).filter(i => !((55 <= i && i <= 59) || (65 <= i && i <= 67)));

/** dlib's template position of 68-point `i` in a `size` px chip with `padding` (0.25 for the face recognition model). */
export function dlibTemplatePoint(i: number, size = DLIB_INPUT_SIZE, padding = 0.25): Point {
	return [((padding + MEAN_FACE_X[i - 17]) / (2 * padding + 1)) * size, ((padding + MEAN_FACE_Y[i - 17]) / (2 * padding + 1)) * size];
}

/**
 * The chip dlib cuts for its face recognition model (get_face_chip_details(shape, 150, 0.25)
 * then extract_image_chip), as the dst->src map of lib/vision/image.ts's sampler: the
 * least-squares similarity from the template to the face's points (chip -> image), whose
 * scale and rotation dlib keeps around the image of the chip's centre, with the chip's
 * `size` pixels spread over a rectangle of size * scale - 1 image pixels (centered_drect).
 */
export function dlibChipAffine(points68: Point[], size = DLIB_INPUT_SIZE, padding = 0.25): Affine {
	if (points68.length !== 68) throw new Error(`dlibChipAffine needs 68 points, got ${points68.length}`);
	const from = DLIB_CHIP_POINTS.map(i => dlibTemplatePoint(i, size, padding));
	const [a, b, tx, ty] = estimateSimilarity(from, DLIB_CHIP_POINTS.map(i => points68[i]));
	const scale = Math.hypot(a, b),
		angle = Math.atan2(b, a);
	const h = Math.floor(size / 2);
	const cx = a * h - b * h + tx,
		cy = b * h + a * h + ty;
	const k = (size * scale - 1) / (size - 1);
	const c = Math.cos(angle) * k,
		s = Math.sin(angle) * k,
		o = (size - 1) / 2;
	return [c, -s, cx - c * o + s * o, s, c, cy - s * o - c * o];
}
