/**
 * The one way of declaring a parameter (lib/validation): fastest-validator rules whose coded
 * messages make a failure the API's own error, the shared definitions of shared concepts, and
 * the validator every broker uses.
 */
import { Errors, ServiceBroker } from "moleculer";
import { ApiError } from "../../lib/errors";
import { coded, decode, fails } from "../../lib/validation/coded";
import { callbackUrl, cameraId, cameraUrl, embeddingVector, mustBe, requiredUnless, similarityThreshold, slotId, unique } from "../../lib/validation/rules";
import { checker, ParamsValidator } from "../../lib/validation/validator";

const validator = new ParamsValidator();

function failure(schema: Record<string, unknown>, params: Record<string, unknown>): ApiError | Errors.ValidationError | null {
	try {
		validator.validate(params, schema);
		return null;
	} catch (e) {
		return e as ApiError;
	}
}
const codeOf = (schema: Record<string, unknown>, params: Record<string, unknown>) => {
	const e = failure(schema, params);
	return e === null ? "OK" : e instanceof ApiError ? e.type : `uncoded:${(e as Errors.ValidationError).type}`;
};

describe("coded messages", () => {
	it("say CODE: text, and nothing else is taken for a code", () => {
		expect(coded("SLOT_ID_REQUIRED", "Slot ID is required")).toBe("SLOT_ID_REQUIRED: Slot ID is required");
		expect(decode("SLOT_ID_REQUIRED: Slot ID is required")).toEqual({ code: "SLOT_ID_REQUIRED", message: "Slot ID is required" });
		expect(decode("The 'slotId' field is required.")).toBeNull();
		expect(decode("Slot ID: required")).toBeNull();
		expect(fails("X", "y", { required: coded("Z", "w") })).toEqual({ "*": "X: y", required: "Z: w" });
	});
});

describe("the validator", () => {
	it("answers a coded failure as ApiError(400, CODE, text), fastest-validator's placeholders filled", () => {
		const e = failure({ n: { type: "number", max: 3, messages: fails("TOO_BIG", "{field} is {actual}, at most {expected}") } }, { n: 5 }) as ApiError;
		expect(e).toBeInstanceOf(ApiError);
		expect([e.code, e.type, e.message]).toEqual([400, "TOO_BIG", "n is 5, at most 3"]);
	});

	it("keeps Moleculer's standard ValidationError for rules without a code", () => {
		const e = failure({ name: "string", age: { type: "number", min: 0 } }, { age: -1 }) as Errors.ValidationError;
		expect(e).toBeInstanceOf(Errors.ValidationError);
		expect([e.code, e.type]).toEqual([422, "VALIDATION_ERROR"]);
		expect(e.data).toEqual([
			{ type: "required", field: "name", message: "The 'name' field is required.", actual: undefined },
			{ type: "numberMin", field: "age", message: "The 'age' field must be greater than or equal to 0.", expected: 0, actual: -1 }
		]);
	});

	it("answers the first failure in schema order, the $$order codes before any other", () => {
		const a = { type: "number", messages: fails("A_BAD", "a") };
		const b = { type: "number", messages: fails("B_BAD", "b") };
		const c = { type: "number", messages: fails("C_BAD", "c") };
		expect(codeOf({ a, b, c }, { a: "x", b: "x", c: "x" })).toBe("A_BAD");
		expect(codeOf({ $$order: ["C_BAD", "B_BAD"], a, b, c }, { a: "x", b: "x", c: "x" })).toBe("C_BAD");
		expect(codeOf({ $$order: ["C_BAD", "B_BAD"], a, b, c }, { a: "x", b: "x", c: 1 })).toBe("B_BAD");
		expect(codeOf({ $$order: ["C_BAD", "B_BAD"], a, b, c }, { a: "x", b: 1, c: 1 })).toBe("A_BAD");
		// An uncoded failure first: the standard error, with every failure in its data.
		expect(codeOf({ first: "number", a }, { first: "x", a: "x" })).toBe("uncoded:VALIDATION_ERROR");
		expect((failure({ first: "number", a }, { first: "x", a: "x" }) as Errors.ValidationError).data.map((d: { message: string }) => d.message)).toEqual(["The 'first' field must be a number.", "a"]);
	});

	it("takes a blank string for no value where a rule says blankIsMissing", () => {
		const schema = {
			need: { type: "number", blankIsMissing: true, messages: fails("NEED_BAD", "bad", { required: coded("NEED_REQUIRED", "need is required") }) },
			maybe: { type: "number", convert: true, optional: true, blankIsMissing: true, messages: fails("MAYBE_BAD", "bad") },
			text: { type: "string", trim: true, optional: true, blankIsMissing: true }
		};
		expect(codeOf(schema, { need: "" })).toBe("NEED_REQUIRED");
		expect(codeOf(schema, { need: "  " })).toBe("NEED_REQUIRED");
		expect(codeOf(schema, { need: null })).toBe("NEED_REQUIRED");
		expect(codeOf(schema, { need: "1" })).toBe("NEED_BAD");
		const params: Record<string, unknown> = { need: 1, maybe: " ", text: " \t" };
		expect(failure(schema, params)).toBeNull();
		expect(params.maybe).toBeUndefined();
		expect(params.text).toBeUndefined();
		const given: Record<string, unknown> = { need: 1, maybe: " 7 ", text: " x " };
		validator.validate(given, schema);
		expect(given).toEqual({ need: 1, maybe: 7, text: "x" });
		// Without the flag a blank is a value like any other.
		expect(codeOf({ n: { type: "number", convert: true, messages: fails("N_BAD", "bad") } }, { n: "x" })).toBe("N_BAD");
	});

	it("covers the failures of the project's checks with a rule's '*' too", () => {
		const list = { type: "array", items: "object", custom: unique("id"), messages: fails("LIST_BAD", "bad", { duplicate: coded("DUPLICATE", "{actual} twice") }) };
		expect((failure({ list }, { list: [{ id: 1 }, { id: 2 }, { id: 1 }] }) as ApiError).message).toBe("1 twice");
		const odd = { type: "number", custom: mustBe(v => (v as number) % 2 === 1), messages: fails("NOT_ODD", "{field} must be odd") };
		expect((failure({ odd }, { odd: 2 }) as ApiError).message).toBe("odd must be odd");
		// And uncoded, they read as fastest-validator's own.
		expect((failure({ odd: { type: "number", custom: mustBe(v => (v as number) % 2 === 1) } }, { odd: 2 }) as Errors.ValidationError).data[0]).toMatchObject({ type: "invalid", field: "odd", message: "The 'odd' field is not valid." });
	});

	it("requires one of two params", () => {
		const schema = { $$order: ["ONE_REQUIRED"], a: { type: "number", optional: true }, b: { type: "string", optional: true, custom: requiredUnless("a"), messages: { requiredUnless: coded("ONE_REQUIRED", "a or b") } } };
		expect(codeOf(schema, {})).toBe("ONE_REQUIRED");
		expect(codeOf(schema, { a: 1 })).toBe("OK");
		expect(codeOf(schema, { b: "x" })).toBe("OK");
	});

	it("refuses a message fastest-validator could not embed", () => {
		expect(() => validator.compile({ a: { type: "number", messages: { number: 'say "no"' } } })).toThrow(/quotes/);
	});

	it("checks data from elsewhere by the same rules (checker)", () => {
		const check = checker({ rtspUrl: cameraUrl });
		const ok = { rtspUrl: " rtsp://cam/1 " };
		check(ok);
		expect(ok.rtspUrl).toBe("rtsp://cam/1");
		expect(() => check({ rtspUrl: "file:///etc/passwd" })).toThrow(expect.objectContaining({ type: "INVALID_CAMERA_URL" }));
	});
});

describe("shared definitions", () => {
	it("slotId: an integer >= 0, required", () => {
		expect([undefined, null, "", " "].map(v => codeOf({ slotId }, { slotId: v }))).toEqual(Array(4).fill("SLOT_ID_REQUIRED"));
		expect([-1, 1.5, "7", true].map(v => codeOf({ slotId }, { slotId: v }))).toEqual(Array(4).fill("INVALID_SLOT_ID"));
		expect([0, 7].map(v => codeOf({ slotId }, { slotId: v }))).toEqual(["OK", "OK"]);
	});

	it("cameraId: the spec's short, 1..32767, the same rule in every service", () => {
		const id = { ...cameraId, convert: true };
		expect([0, -3, 32768, 70000, 1.5, "abc"].map(v => codeOf({ id }, { id: v }))).toEqual(Array(6).fill("INVALID_CAMERA_ID"));
		expect([1, 32767, "42"].map(v => codeOf({ id }, { id: v }))).toEqual(["OK", "OK", "OK"]);
		expect(codeOf({ cameraId }, {})).toBe("CAMERA_ID_REQUIRED");
	});

	it("embeddingVector: 512 finite numbers, not all zero", () => {
		const v = Array.from({ length: 512 }, (_, i) => Math.sin(i));
		expect(codeOf({ embeddingVector }, { embeddingVector: v })).toBe("OK");
		expect(codeOf({ embeddingVector }, { embeddingVector: v.slice(0, 128) })).toBe("INVALID_EMBEDDING_DIMENSION");
		expect(codeOf({ embeddingVector }, { embeddingVector: "x" })).toBe("INVALID_EMBEDDING_DIMENSION");
		expect(codeOf({ embeddingVector }, {})).toBe("INVALID_EMBEDDING_DIMENSION");
		expect(codeOf({ embeddingVector }, { embeddingVector: [...v.slice(1), "1"] })).toBe("INVALID_EMBEDDING");
		expect(codeOf({ embeddingVector }, { embeddingVector: Array(512).fill(0) })).toBe("INVALID_EMBEDDING");
	});

	it("similarityThreshold: 0.0 to 1.0", () => {
		expect([-0.1, 1.01, "high", null].map(v => codeOf({ t: similarityThreshold }, { t: v }))).toEqual(Array(4).fill("INVALID_SIMILARITY_THRESHOLD"));
		expect([0, 0.85, 1].map(v => codeOf({ t: similarityThreshold }, { t: v }))).toEqual(["OK", "OK", "OK"]);
	});

	it("URL kinds: a camera's (rtsp, rtsps, http, https) and a callback's (http, https), never echoing credentials", () => {
		for (const bad of ["file:///etc/passwd", "concat:/etc/passwd|/etc/hosts", "ftp://admin:s3cret@h/x", "rtsp://", 5]) {
			const e = failure({ u: cameraUrl }, { u: bad }) as ApiError;
			expect(e.type).toBe("INVALID_CAMERA_URL");
			expect(e.message).not.toContain("s3cret");
		}
		expect(codeOf({ u: cameraUrl }, { u: " " })).toBe("RTSP_URL_REQUIRED");
		expect(["rtsp://10.0.0.1:554/s", "rtsps://h/s", "http://h/s", "HTTPS://h/s"].map(u => codeOf({ u: cameraUrl }, { u }))).toEqual(Array(4).fill("OK"));
		expect(["rtsp://h/s", "file:///tmp/x"].map(u => codeOf({ u: callbackUrl }, { u }))).toEqual(["INVALID_CALLBACK_URL", "INVALID_CALLBACK_URL"]);
		expect(codeOf({ u: callbackUrl }, { u: "https://backend/cb" })).toBe("OK");
	});
});

describe("the validator in a broker", () => {
	const broker = new ServiceBroker({ logger: false, nodeID: "validation-test", validator: new ParamsValidator() });
	broker.createService({
		name: "probe",
		actions: {
			coded: { params: { slotId }, handler: ctx => ctx.params.slotId },
			plain: { params: { name: { type: "string", min: 2 } }, handler: ctx => ctx.params.name }
		}
	});
	beforeAll(() => broker.start());
	afterAll(() => broker.stop());

	it("rejects a call with the API's error for a coded rule, and the standard one otherwise", async () => {
		expect(await broker.call("probe.coded", { slotId: 3 })).toBe(3);
		await expect(broker.call("probe.coded", { slotId: "" })).rejects.toMatchObject({ name: "ApiError", code: 400, type: "SLOT_ID_REQUIRED", message: "Slot ID is required" });
		const err = (await broker.call("probe.plain", { name: "x" }).catch(e => e)) as Errors.ValidationError;
		expect(err).toBeInstanceOf(Errors.ValidationError);
		expect(err.type).toBe("VALIDATION_ERROR");
		expect(err.data).toEqual([{ type: "stringMin", field: "name", message: "The 'name' field length must be greater than or equal to 2 characters long.", expected: 2, actual: 1, nodeID: "validation-test", action: "probe.plain" }]);
	});
});
