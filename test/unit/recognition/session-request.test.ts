/**
 * process-session's params as the broker checks them: its schema (processSessionParams) run
 * by the project's validator, then the defaults (sessionRequest). A failure is the ApiError
 * the gateway answers with: status 400 and the code.
 */
import { ApiError } from "../../../lib/errors";
import { processSessionParams, sessionRequest, stopSessionParams, type SessionDefaults, type SessionParams } from "../../../lib/recognition/session-request";
import { ParamsValidator } from "../../../lib/validation/validator";

const validator = new ParamsValidator();
const defaults: SessionDefaults = { similarityThreshold: 0.85, scanInterval: 5, callbackUrl: null, embeddingVersion: 1 };
const vec = (seed = 1) => Array.from({ length: 512 }, (_, i) => Math.sin(i * seed + 1));
const valid = () => ({
	slotId: 1,
	roomId: 1,
	students: [
		{ userId: 201, fullName: "Tran Thi B", rollNumber: "HE180314", embeddingVector: vec(1), embeddingVersion: 1 },
		{ userId: 202, fullName: "Le Van C", rollNumber: "HE180315", embeddingVector: vec(2), embeddingVersion: 1 }
	],
	cameras: [{ id: 1, name: "Camera A101-01", rtspUrl: "rtsp://192.168.1.100:554/stream1" }],
	config: { similarityThreshold: 0.85, scanInterval: 5, callbackUrl: "http://java-backend:8080/api/v1/attendance/recognition-result" } as Record<string, unknown> | undefined
});

function parseSessionRequest(body: unknown, d: SessionDefaults = defaults) {
	const params = structuredClone(body) as Record<string, unknown>;
	validator.validate(params, processSessionParams(d.embeddingVersion));
	return sessionRequest(params as unknown as SessionParams, d);
}

function codeOf(body: unknown): string {
	try {
		parseSessionRequest(body);
	} catch (e) {
		expect(e).toBeInstanceOf(ApiError);
		expect((e as ApiError).code).toBe(400);
		return (e as ApiError).type;
	}
	return "OK";
}

describe("process-session validation", () => {
	it("accepts the spec's example", () => {
		const r = parseSessionRequest(valid());
		expect(r.slotId).toBe(1);
		expect(r.students).toHaveLength(2);
		expect(r.config).toEqual({ similarityThreshold: 0.85, scanInterval: 5, callbackUrl: "http://java-backend:8080/api/v1/attendance/recognition-result" });
	});

	it("checks in the spec's order", () => {
		expect(codeOf({})).toBe("SLOT_ID_REQUIRED");
		expect(codeOf({ slotId: 1 })).toBe("STUDENTS_REQUIRED");
		expect(codeOf({ slotId: 1, students: [] })).toBe("CAMERAS_REQUIRED");
		expect(codeOf({ slotId: 1, students: [], cameras: [] })).toBe("STUDENTS_EMPTY");
		expect(codeOf({ slotId: 1, students: [{}], cameras: [] })).toBe("CAMERAS_EMPTY");
		expect(codeOf({ ...valid(), students: [{ ...valid().students[0], embeddingVector: [1, 2, 3] }] })).toBe("INVALID_EMBEDDING_DIMENSION");
		expect(codeOf({ ...valid(), config: { ...valid().config, similarityThreshold: 1.2 } })).toBe("INVALID_SIMILARITY_THRESHOLD");
		expect(codeOf({ ...valid(), config: { ...valid().config, similarityThreshold: -0.1 } })).toBe("INVALID_SIMILARITY_THRESHOLD");
		expect(codeOf({ ...valid(), config: { ...valid().config, similarityThreshold: "high" } })).toBe("INVALID_SIMILARITY_THRESHOLD");
	});

	it("gives its own code to what the spec does not cover", () => {
		const v = valid();
		expect(codeOf({ ...v, students: [{ ...v.students[0], embeddingVersion: 2 }, { ...v.students[1], embeddingVersion: 3 }] })).toBe("EMBEDDING_VERSION_MISMATCH");
		expect(codeOf({ ...v, cameras: [{ id: 1, name: "x", rtspUrl: "file:///etc/passwd" }] })).toBe("INVALID_CAMERA_URL");
		expect(codeOf({ ...v, config: { ...v.config, callbackUrl: "ftp://backend/x" } })).toBe("INVALID_CALLBACK_URL");
		expect(codeOf({ ...v, config: { similarityThreshold: 0.85, scanInterval: 5 } })).toBe("CALLBACK_URL_REQUIRED");
		expect(codeOf({ ...v, slotId: "one" })).toBe("INVALID_SLOT_ID");
		expect(codeOf({ ...v, students: [v.students[0], v.students[0]] })).toBe("DUPLICATE_STUDENT");
		expect(codeOf({ ...v, cameras: [v.cameras[0], v.cameras[0]] })).toBe("DUPLICATE_CAMERA");
		expect(codeOf({ ...v, students: [{ ...v.students[0], embeddingVector: Array(512).fill(0) }] })).toBe("INVALID_EMBEDDING");
		expect(codeOf({ ...v, config: { ...v.config, scanInterval: 0 } })).toBe("INVALID_SCAN_INTERVAL");
	});

	it("names the userIds whose embedding version does not match", () => {
		const v = valid();
		try {
			parseSessionRequest({ ...v, students: [v.students[0], { ...v.students[1], embeddingVersion: 7 }] });
			throw new Error("expected a mismatch");
		} catch (e) {
			expect((e as Error).message).toContain("202");
			expect((e as Error).message).not.toContain("201");
		}
	});

	it("never echoes credentials of a bad camera URL", () => {
		const v = valid();
		try {
			parseSessionRequest({ ...v, cameras: [{ id: 1, name: "x", rtspUrl: "ftp://admin:secret@cam/x" }] });
		} catch (e) {
			expect((e as Error).message).not.toContain("secret");
		}
	});

	it("falls back to the configured defaults", () => {
		const r = parseSessionRequest({ ...valid(), config: undefined }, { ...defaults, callbackUrl: "http://java:8080/api/v1/attendance/recognition-result" });
		expect(r.config).toEqual({ similarityThreshold: 0.85, scanInterval: 5, callbackUrl: "http://java:8080/api/v1/attendance/recognition-result" });
	});
});

describe("stop-session validation", () => {
	const codeOfStop = (body: Record<string, unknown>) => {
		try {
			validator.validate(structuredClone(body), stopSessionParams);
			return "OK";
		} catch (e) {
			return (e as ApiError).type;
		}
	};
	it("requires an integer slotId >= 0, a blank one counting as none", () => {
		expect(codeOfStop({})).toBe("SLOT_ID_REQUIRED");
		expect(codeOfStop({ slotId: null })).toBe("SLOT_ID_REQUIRED");
		expect(codeOfStop({ slotId: "" })).toBe("SLOT_ID_REQUIRED");
		expect(codeOfStop({ slotId: "7" })).toBe("INVALID_SLOT_ID");
		expect(codeOfStop({ slotId: 1.5 })).toBe("INVALID_SLOT_ID");
		expect(codeOfStop({ slotId: 7 })).toBe("OK");
	});
});
