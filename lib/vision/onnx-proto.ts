/**
 * Just enough of the protobuf wire format and of onnx.proto to read an ONNX model's graph,
 * change some nodes and initializers, and write it back. Every field this module does not
 * know is kept byte for byte, so a model passes through unchanged except where edited.
 * Field numbers are those of onnx/onnx.proto (ModelProto.graph = 7, GraphProto.node = 1, ...).
 */

/** One field as it was on the wire: its number, wire type, payload, and the whole encoding. */
export interface WireField {
	no: number;
	type: number;
	/** Varint value (wire type 0), as a bigint so int64s survive. */
	varint?: bigint;
	/** Payload of a length-delimited field (wire type 2) or of a fixed32/64 (5/1). */
	bytes?: Uint8Array;
	raw: Uint8Array;
}

export class OnnxFormatError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "OnnxFormatError";
	}
}

function readVarint(buf: Uint8Array, pos: number): [bigint, number] {
	let v = 0n,
		shift = 0n;
	for (;;) {
		if (pos >= buf.length) throw new OnnxFormatError("truncated varint");
		const b = buf[pos++];
		v |= BigInt(b & 0x7f) << shift;
		if (b < 0x80) return [v, pos];
		shift += 7n;
		if (shift > 70n) throw new OnnxFormatError("varint too long");
	}
}

export function decodeFields(buf: Uint8Array): WireField[] {
	const out: WireField[] = [];
	let pos = 0;
	while (pos < buf.length) {
		const start = pos;
		const [tag, p] = readVarint(buf, pos);
		pos = p;
		const no = Number(tag >> 3n),
			type = Number(tag & 7n);
		const f: WireField = { no, type, raw: buf };
		if (type === 0) [f.varint, pos] = readVarint(buf, pos);
		else if (type === 2) {
			const [len, q] = readVarint(buf, pos);
			const end = q + Number(len);
			if (end > buf.length) throw new OnnxFormatError(`field ${no} runs past the end of its message`);
			f.bytes = buf.subarray(q, end);
			pos = end;
		} else if (type === 5 || type === 1) {
			const n = type === 5 ? 4 : 8;
			if (pos + n > buf.length) throw new OnnxFormatError("truncated fixed-size field");
			f.bytes = buf.subarray(pos, pos + n);
			pos += n;
		} else throw new OnnxFormatError(`unsupported wire type ${type} (field ${no})`);
		f.raw = buf.subarray(start, pos);
		out.push(f);
	}
	return out;
}

function varintBytes(v: bigint | number): number[] {
	let x = BigInt.asUintN(64, BigInt(v));
	const out: number[] = [];
	while (x >= 0x80n) {
		out.push(Number(x & 0x7fn) | 0x80);
		x >>= 7n;
	}
	out.push(Number(x));
	return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
	const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
	let o = 0;
	for (const p of parts) {
		out.set(p, o);
		o += p.length;
	}
	return out;
}

export const enc = {
	varint: (no: number, v: bigint | number) => Uint8Array.from([...varintBytes(no << 3), ...varintBytes(v)]),
	bytes: (no: number, b: Uint8Array) => concat([Uint8Array.from([...varintBytes((no << 3) | 2), ...varintBytes(b.length)]), b]),
	string: (no: number, s: string) => enc.bytes(no, new TextEncoder().encode(s)),
	message: (no: number, fields: Uint8Array[]) => enc.bytes(no, concat(fields))
};

const utf8 = new TextDecoder();
const str = (f: WireField) => utf8.decode(f.bytes!);

// onnx.proto field numbers used here.
export const MODEL = { graph: 7, opset: 8 } as const;
export const GRAPH = { node: 1, name: 2, initializer: 5, input: 11, output: 12, valueInfo: 13 } as const;
export const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 } as const;
export const ATTR = { name: 1, f: 2, i: 3, ints: 8, type: 20 } as const;
export const ATTR_TYPE = { FLOAT: 1, INT: 2, INTS: 7 } as const;
export const TENSOR = { dims: 1, dataType: 2, floatData: 4, int64Data: 7, name: 8, rawData: 9 } as const;
export const FLOAT = 1;
export const INT64 = 7;

/** The name of a TensorProto (field 8) or a ValueInfoProto (field 1). */
export function tensorName(bytes: Uint8Array): string {
	return stringField(bytes, TENSOR.name);
}
export function valueName(bytes: Uint8Array): string {
	return stringField(bytes, 1);
}
function stringField(bytes: Uint8Array, no: number): string {
	const f = decodeFields(bytes).find(f => f.no === no && f.type === 2);
	return f ? str(f) : "";
}

/** A repeated int64 field's values, whether written packed or one field each. */
function int64s(f: WireField): bigint[] {
	if (f.type === 0) return [BigInt.asIntN(64, f.varint!)];
	const out: bigint[] = [];
	for (let p = 0, b = f.bytes!; p < b.length; ) {
		const [v, q] = readVarint(b, p);
		out.push(BigInt.asIntN(64, v));
		p = q;
	}
	return out;
}

/** An int64 TensorProto's values (raw or int64_data); null for any other element type. */
export function readInt64Tensor(bytes: Uint8Array): bigint[] | null {
	let type = 0;
	const values: bigint[] = [];
	for (const f of decodeFields(bytes)) {
		if (f.no === TENSOR.dataType) type = Number(f.varint);
		else if (f.no === TENSOR.int64Data) values.push(...int64s(f));
		else if (f.no === TENSOR.rawData) {
			const v = new DataView(f.bytes!.buffer, f.bytes!.byteOffset, f.bytes!.byteLength);
			for (let p = 0; p + 8 <= f.bytes!.length; p += 8) values.push(v.getBigInt64(p, true));
		}
	}
	return type === INT64 ? values : null;
}

/** A node's integer attribute, or `def` when it has none of that name. */
export function intAttribute(nodeBytes: Uint8Array, name: string, def: number): number {
	for (const f of decodeFields(nodeBytes)) {
		if (f.no !== NODE.attribute || f.type !== 2) continue;
		const a = decodeFields(f.bytes!);
		const n = a.find(x => x.no === ATTR.name && x.type === 2);
		if (!n || str(n) !== name) continue;
		const i = a.find(x => x.no === ATTR.i && x.type === 0);
		return i ? Number(BigInt.asIntN(64, i.varint!)) : def;
	}
	return def;
}

export interface NodeInfo {
	opType: string;
	domain: string;
	name: string;
	inputs: string[];
	outputs: string[];
}

export function readNode(bytes: Uint8Array): NodeInfo {
	const n: NodeInfo = { opType: "", domain: "", name: "", inputs: [], outputs: [] };
	for (const f of decodeFields(bytes)) {
		if (f.no === NODE.input) n.inputs.push(str(f));
		else if (f.no === NODE.output) n.outputs.push(str(f));
		else if (f.no === NODE.name) n.name = str(f);
		else if (f.no === NODE.opType) n.opType = str(f);
		else if (f.no === NODE.domain) n.domain = str(f);
	}
	return n;
}

export interface Attribute {
	name: string;
	int?: number;
	ints?: number[];
	float?: number;
}

function encodeAttribute(a: Attribute): Uint8Array[] {
	const parts = [enc.string(ATTR.name, a.name)];
	if (a.int !== undefined) parts.push(enc.varint(ATTR.i, a.int), enc.varint(ATTR.type, ATTR_TYPE.INT));
	else if (a.ints) parts.push(...a.ints.map(v => enc.varint(ATTR.ints, v)), enc.varint(ATTR.type, ATTR_TYPE.INTS));
	else if (a.float !== undefined) {
		const b = new Uint8Array(4);
		new DataView(b.buffer).setFloat32(0, a.float, true);
		parts.push(concat([Uint8Array.from(varintBytes((ATTR.f << 3) | 5)), b]), enc.varint(ATTR.type, ATTR_TYPE.FLOAT));
	}
	return parts;
}

/** A NodeProto, as GraphProto's field `node`. */
export function encodeNode(n: { opType: string; name: string; inputs: string[]; outputs: string[]; attributes?: Attribute[] }): Uint8Array {
	return enc.message(GRAPH.node, [
		...n.inputs.map(s => enc.string(NODE.input, s)),
		...n.outputs.map(s => enc.string(NODE.output, s)),
		enc.string(NODE.name, n.name),
		enc.string(NODE.opType, n.opType),
		...(n.attributes ?? []).map(a => enc.message(NODE.attribute, encodeAttribute(a)))
	]);
}

export interface FloatTensor {
	name: string;
	dims: number[];
	data: Float32Array;
}

/** A float TensorProto (raw little-endian data), as GraphProto's field `initializer`. */
export function encodeFloatTensor(t: FloatTensor, fieldNo: number = GRAPH.initializer): Uint8Array {
	const raw = new Uint8Array(t.data.length * 4);
	const view = new DataView(raw.buffer);
	t.data.forEach((v, i) => view.setFloat32(i * 4, v, true));
	return enc.message(fieldNo, [...t.dims.map(d => enc.varint(TENSOR.dims, d)), enc.varint(TENSOR.dataType, FLOAT), enc.string(TENSOR.name, t.name), enc.bytes(TENSOR.rawData, raw)]);
}

/** A float TensorProto's name, dims and values; null for any other element type. */
export function readFloatTensor(bytes: Uint8Array): FloatTensor | null {
	let name = "",
		type = 0,
		raw: Uint8Array | undefined;
	const dims: number[] = [];
	const floats: number[] = [];
	for (const f of decodeFields(bytes)) {
		if (f.no === TENSOR.name) name = str(f);
		else if (f.no === TENSOR.dataType) type = Number(f.varint);
		else if (f.no === TENSOR.rawData) raw = f.bytes;
		else if (f.no === TENSOR.dims) dims.push(...int64s(f).map(Number));
		else if (f.no === TENSOR.floatData) {
			const b = f.bytes!;
			const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
			for (let p = 0; p + 4 <= b.length; p += 4) floats.push(view.getFloat32(p, true));
		}
	}
	if (type !== FLOAT) return null;
	let data: Float32Array;
	if (raw) {
		const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
		data = new Float32Array(raw.length / 4);
		for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(i * 4, true);
	} else data = Float32Array.from(floats);
	return { name, dims, data };
}

/** A ValueInfoProto of a float tensor with fixed dims, as GraphProto's `input` or `output`. */
export function encodeValueInfo(fieldNo: number, name: string, dims: number[]): Uint8Array {
	const shape = enc.message(2, dims.map(d => enc.message(1, [enc.varint(1, d)])));
	const tensorType = enc.message(1, [enc.varint(1, FLOAT), shape]);
	return enc.message(fieldNo, [enc.string(1, name), enc.message(2, [tensorType])]);
}

/** A whole ModelProto from graph parts (used to build small models in tests). */
export function encodeModel(parts: { opset: number; graph: Uint8Array[] }): Uint8Array {
	return concat([
		enc.varint(1, 7), // ir_version
		enc.message(MODEL.graph, parts.graph),
		enc.message(MODEL.opset, [enc.string(1, ""), enc.varint(2, parts.opset)])
	]);
}

/** Replace the graph of a model, keeping every other field of the ModelProto as it was. */
export function withGraph(model: Uint8Array, graphFields: Uint8Array[]): Uint8Array {
	const fields = decodeFields(model);
	if (!fields.some(f => f.no === MODEL.graph)) throw new OnnxFormatError("the model has no graph");
	return concat(fields.map(f => (f.no === MODEL.graph && f.type === 2 ? enc.message(MODEL.graph, graphFields) : f.raw)));
}

export function graphOf(model: Uint8Array): WireField[] {
	const g = decodeFields(model).find(f => f.no === MODEL.graph && f.type === 2);
	if (!g) throw new OnnxFormatError("the model has no graph");
	return decodeFields(g.bytes!);
}
