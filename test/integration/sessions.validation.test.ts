/**
 * process-session and stop-session over real HTTP: every validation error of the FUACS spec
 * with its own test, the codes beyond the spec, 401, 404 for an unknown slot, and
 * ALL_CAMERAS_FAILED when no camera answers.
 */
import net from "node:net";
import { api, startNode, type TestNode } from "../support/node";

const vec = (seed: number) => Array.from({ length: 512 }, (_, i) => Math.sin(i * seed + 1));

describe("recognition sessions: validation", () => {
	let node: TestNode;
	let closedPort: number;
	beforeAll(async () => {
		node = await startNode({ JAVA_BACKEND_URL: "http://127.0.0.1:9" });
		// A port with nothing listening: a camera that refuses connections.
		const srv = net.createServer();
		await new Promise<void>(r => srv.listen(0, "127.0.0.1", () => r()));
		closedPort = (srv.address() as net.AddressInfo).port;
		await new Promise<void>(r => srv.close(() => r()));
	});
	afterAll(() => node?.stop());

	const body = () => ({
		slotId: 1,
		roomId: 1,
		students: [
			{ userId: 201, fullName: "Tran Thi B", rollNumber: "HE180314", embeddingVector: vec(1), embeddingVersion: 1 },
			{ userId: 202, fullName: "Le Van C", rollNumber: "HE180315", embeddingVector: vec(2), embeddingVersion: 1 }
		],
		cameras: [{ id: 1, name: "Camera A101-01", rtspUrl: `rtsp://127.0.0.1:${closedPort}/stream1` }],
		config: { similarityThreshold: 0.85, scanInterval: 5, callbackUrl: "http://127.0.0.1:9/callback" }
	});
	const start = (b: unknown, key?: string | null) => api(node.baseUrl, "/recognition/process-session", { method: "POST", body: b, key });

	const cases: [string, () => unknown, string, string][] = [
		["no slotId", () => ({ ...body(), slotId: undefined }), "SLOT_ID_REQUIRED", "Slot ID is required"],
		["no students", () => ({ ...body(), students: undefined }), "STUDENTS_REQUIRED", "Students array is required"],
		["no cameras", () => ({ ...body(), cameras: undefined }), "CAMERAS_REQUIRED", "Cameras array is required"],
		["empty students", () => ({ ...body(), students: [] }), "STUDENTS_EMPTY", "Students array must not be empty"],
		["empty cameras", () => ({ ...body(), cameras: [] }), "CAMERAS_EMPTY", "Cameras array must not be empty"],
		["a 128-d embedding", () => ({ ...body(), students: [{ ...body().students[0], embeddingVector: vec(1).slice(0, 128) }] }), "INVALID_EMBEDDING_DIMENSION", "Embedding vector must have exactly 512 dimensions"],
		["threshold 1.5", () => ({ ...body(), config: { ...body().config, similarityThreshold: 1.5 } }), "INVALID_SIMILARITY_THRESHOLD", "Similarity threshold must be between 0.0 and 1.0"]
	];
	it.each(cases)("answers 400 for %s with the spec's code and message", async (_name, make, code, message) => {
		const { status, body: res } = await start(make());
		expect(status).toBe(400);
		expect(res).toEqual({ status: 400, message, code });
	});

	it.each([
		["an embedding of another embedder version", () => ({ ...body(), students: [body().students[0], { ...body().students[1], embeddingVersion: 9 }] }), "EMBEDDING_VERSION_MISMATCH"],
		["a malformed camera URL", () => ({ ...body(), cameras: [{ id: 1, name: "x", rtspUrl: "concat:/etc/passwd" }] }), "INVALID_CAMERA_URL"],
		["a callback URL that is not http(s)", () => ({ ...body(), config: { ...body().config, callbackUrl: "file:///tmp/x" } }), "INVALID_CALLBACK_URL"]
	])("answers 400 for %s with its own code", async (_name, make, code) => {
		const { status, body: res } = await start(make());
		expect(status).toBe(400);
		expect(res.code).toBe(code);
		if (code === "EMBEDDING_VERSION_MISMATCH") expect(res.message).toContain("202");
	});

	it("answers 401 without the API key", async () => {
		expect((await start(body(), null)).body).toEqual({ status: 401, message: "Invalid or missing API key", code: "INVALID_API_KEY" });
		expect((await api(node.baseUrl, "/recognition/stop-session", { method: "POST", body: { slotId: 1 }, key: "nope" })).status).toBe(401);
	});

	it("answers 500 ALL_CAMERAS_FAILED when no camera connects, and records it", async () => {
		const { status, body: res } = await start(body());
		expect(status).toBe(500);
		expect(res).toEqual({ status: 500, message: "Failed to connect to any camera. Cannot start session.", code: "ALL_CAMERAS_FAILED" });
		const audit = await node.broker.call<any[], object>("audit.find", { query: { action: "session.failed", slotId: 1 } });
		expect(audit).toHaveLength(1);
		expect(await node.broker.call("sessions.count", { query: { slotId: 1 } })).toBe(0);
	});

	it("answers stop-session with SLOT_ID_REQUIRED and 404 SESSION_NOT_FOUND", async () => {
		const missing = await api(node.baseUrl, "/recognition/stop-session", { method: "POST", body: {} });
		expect(missing.status).toBe(400);
		expect(missing.body).toEqual({ status: 400, message: "Slot ID is required", code: "SLOT_ID_REQUIRED" });
		const unknown = await api(node.baseUrl, "/recognition/stop-session", { method: "POST", body: { slotId: 4242 } });
		expect(unknown.status).toBe(404);
		expect(unknown.body).toEqual({ status: 404, message: "No active face recognition session found for slot 4242", code: "SESSION_NOT_FOUND" });
	});
});
