import { Errors } from "moleculer";
import { errorBody, errorEnvelope, saneRequestId, successBody, toProblem } from "../../../lib/api/envelopes";
import { ApiError } from "../../../lib/errors";

describe("envelopes", () => {
	it.each([
		[new ApiError(404, "USER_NOT_FOUND", "User not found: x"), { status: 404, code: "USER_NOT_FOUND", message: "User not found: x" }],
		[{ type: "entity.too.large", status: 413 }, { status: 413, code: "PAYLOAD_TOO_LARGE", message: "Request body is too large" }],
		[{ type: "entity.parse.failed" }, { status: 400, code: "INVALID_JSON", message: "Request body is not valid JSON" }],
		[new Errors.ServiceNotFoundError({ action: "x.y" }), { status: 503, code: "SERVICE_UNAVAILABLE", message: "No node can serve this request right now" }],
		[new Errors.RequestTimeoutError({ action: "x.y", nodeID: "n" }), { status: 504, code: "REQUEST_TIMEOUT", message: "The request timed out" }],
		[new Error("boom"), { status: 500, code: "INTERNAL_ERROR", message: "Internal server error" }]
	])("maps %p to one problem", (err, expected) => {
		expect(toProblem(err as never)).toEqual(expect.objectContaining(expected));
	});

	it("names each field of a validation failure, unknown fields by their own name", () => {
		const err = new Errors.ValidationError("Parameters validation error!", "VALIDATION_ERROR", [
			{ type: "email", field: "email", message: "The 'email' field must be a valid e-mail." },
			{ type: "objectStrict", field: "", message: "forbidden keys", actual: "shoeSize, hat" }
		]);
		const p = toProblem(err);
		expect(p.status).toBe(400);
		expect(p.details).toEqual([
			{ field: "email", issue: "The 'email' field must be a valid e-mail." },
			{ field: "shoeSize", issue: "unknown field shoeSize" },
			{ field: "hat", issue: "unknown field hat" }
		]);
	});

	it("shapes success and error per family", () => {
		const p = { status: 403, code: "FORBIDDEN", message: "no" };
		expect(errorBody("integration", p, "r1")).toEqual({ status: 403, message: "no", code: "FORBIDDEN" });
		expect(errorBody("console", p, "r1")).toEqual({ success: false, error: { code: "FORBIDDEN", message: "no" }, requestId: "r1" });
		expect(errorBody("console", { ...p, details: [{ field: "a", issue: "b" }] }, "r1")).toEqual({ success: false, error: { code: "FORBIDDEN", message: "no", details: [{ field: "a", issue: "b" }] }, requestId: "r1" });
		expect(successBody("integration", 200, "OK", { a: 1 }, false)).toEqual({ status: 200, message: "OK", data: { a: 1 } });
		expect(successBody("console", 200, "OK", { rows: [1, 2], page: 1, pageSize: 2, total: 5, totalPages: 3 }, true)).toEqual({ success: true, data: [1, 2], meta: { page: 1, pageSize: 2, total: 5, totalPages: 3 } });
		expect(successBody("console", 200, "OK", { a: 1 }, false)).toEqual({ success: true, data: { a: 1 } });
		expect(successBody("face", 200, "OK", { faces: [] }, false)).toEqual({ faces: [] });
		expect(errorEnvelope(new ApiError(400, "SLOT_ID_REQUIRED", "Slot ID is required"))).toEqual({ status: 400, message: "Slot ID is required", code: "SLOT_ID_REQUIRED" });
	});

	it("keeps a sane caller request id only", () => {
		expect(saneRequestId("trace-0123456789")).toBe("trace-0123456789");
		for (const bad of ["short", "<script>alert(1)</script>", "a".repeat(129), 42, undefined, "with space 12345"]) expect(saneRequestId(bad)).toBeNull();
	});
});
