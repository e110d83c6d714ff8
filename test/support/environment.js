/**
 * Jest runs each test file in its own realm, and onnxruntime-node then rejects typed
 * arrays made there ("must be type of Float32Array"). Share the host's constructors.
 * Also hands node-av (ESM-only) to lib/video/av.ts.
 */
const { TestEnvironment } = require("jest-environment-node");

const SHARED = ["Float32Array", "Float64Array", "Int8Array", "Int16Array", "Int32Array", "Uint8Array", "Uint8ClampedArray", "Uint16Array", "Uint32Array", "BigInt64Array", "BigUint64Array", "ArrayBuffer", "SharedArrayBuffer", "DataView"];

class RollcallEnvironment extends TestEnvironment {
	constructor(config, context) {
		super(config, context);
		for (const name of SHARED) this.global[name] = globalThis[name];
		this.global.Buffer = Buffer;
		// node-av is ESM-only: Jest's registry cannot require it, Node 22's own require can
		// (lib/video/av.ts takes it from here under Jest). Loaded on first use only.
		Object.defineProperty(this.global, "__nodeAv", { get: () => require("node-av"), configurable: true });
	}
}

module.exports = RollcallEnvironment;
