/**
 * Jest runs each test file in its own realm, and onnxruntime-node then rejects typed
 * arrays made there ("must be type of Float32Array"). Share the host's constructors.
 */
const { TestEnvironment } = require("jest-environment-node");

const SHARED = ["Float32Array", "Float64Array", "Int8Array", "Int16Array", "Int32Array", "Uint8Array", "Uint8ClampedArray", "Uint16Array", "Uint32Array", "BigInt64Array", "BigUint64Array", "ArrayBuffer", "SharedArrayBuffer", "DataView"];

class RollcallEnvironment extends TestEnvironment {
	constructor(config, context) {
		super(config, context);
		for (const name of SHARED) this.global[name] = globalThis[name];
		this.global.Buffer = Buffer;
	}
}

module.exports = RollcallEnvironment;
