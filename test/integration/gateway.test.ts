import { io as ioClient } from "socket.io-client";
import { api, startNode, TEST_API_KEY, type TestNode } from "../support/node";

describe("gateway: all services in one broker", () => {
	let node: TestNode;
	beforeAll(async () => {
		node = await startNode();
	});
	afterAll(() => node?.stop());

	it("answers /health without a key, with the spec's fields", async () => {
		const { status, body } = await api(node.baseUrl, "/health", { key: null });
		expect(status).toBe(200);
		expect(body.status).toBe(200);
		// Every role runs in this one broker: nothing is missing, so healthy.
		expect(body.message).toBe("Service is healthy");
		expect(body.data).toEqual(
			expect.objectContaining({
				service: "FUACS Face Recognition Service",
				version: expect.any(String),
				status: "healthy",
				uptime: expect.any(Number),
				activeSessions: 0,
				timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
			})
		);
		expect(body.data.components.sessions).toBe("up");
		expect(body.data.components.embeddings).toBe("up");
	});

	it("refuses a protected route without a key, or with a wrong one, with 401 INVALID_API_KEY", async () => {
		for (const key of [null, "wrong-key", TEST_API_KEY + "x", ""]) {
			const { status, body } = await api(node.baseUrl, "/recognition/sessions", { key });
			expect(status).toBe(401);
			expect(body).toEqual({ status: 401, message: "Invalid or missing API key", code: "INVALID_API_KEY" });
		}
	});

	it("wraps results in {status, message, data}", async () => {
		const { status, body } = await api(node.baseUrl, "/recognition/sessions");
		expect(status).toBe(200);
		expect(body).toEqual({ status: 200, message: "Active sessions retrieved successfully", data: [] });
	});

	it("answers unknown routes, bad JSON and oversized bodies with the error envelope", async () => {
		const missing = await api(node.baseUrl, "/nope");
		expect(missing.status).toBe(404);
		expect(missing.body).toEqual({ status: 404, message: "Not found", code: "NOT_FOUND" });
		const bad = await api(node.baseUrl, "/cameras", { method: "POST", body: "{not json" });
		expect(bad.status).toBe(400);
		expect(bad.body.code).toBe("INVALID_JSON");
		const huge = await api(node.baseUrl, "/cameras", { method: "POST", body: { cameraId: 1, rtspUrl: "rtsp://h/x", name: "x".repeat(node.cfg.maxBodyBytes) } });
		expect(huge.status).toBe(413);
		expect(huge.body.code).toBe("PAYLOAD_TOO_LARGE");
	});

	it("keeps a camera registry over REST, validating URLs and hiding credentials", async () => {
		const created = await api(node.baseUrl, "/cameras", { body: { cameraId: 7, name: "A101-01", rtspUrl: "rtsp://admin:secret@10.0.0.7:554/stream1", roomId: 3 } });
		expect(created.status).toBe(200);
		expect(created.body.data).toEqual(expect.objectContaining({ cameraId: 7, name: "A101-01", roomId: 3, rtspUrl: "rtsp://***:***@10.0.0.7:554/stream1" }));
		const got = await api(node.baseUrl, "/cameras/7");
		expect(got.body.data.rtspUrl).not.toContain("secret");
		const resolved = await node.broker.call<{ rtspUrl: string }, { cameraId: number }>("cameras.resolve", { cameraId: 7 });
		expect(resolved.rtspUrl).toBe("rtsp://admin:secret@10.0.0.7:554/stream1");
		const badScheme = await api(node.baseUrl, "/cameras", { body: { cameraId: 8, rtspUrl: "file:///etc/passwd" } });
		expect(badScheme.status).toBe(400);
		expect(badScheme.body.code).toBe("INVALID_CAMERA_URL");
		// The spec's camera objects name the id `id`: accepted as well.
		const specShaped = await api(node.baseUrl, "/cameras", { body: { id: 9, name: "A101-02", rtspUrl: "rtsp://10.0.0.9:554/stream1", roomId: 3 } });
		expect(specShaped.status).toBe(200);
		expect(specShaped.body.data).toEqual(expect.objectContaining({ cameraId: 9, name: "A101-02" }));
		const noId = await api(node.baseUrl, "/cameras", { body: { name: "x", rtspUrl: "rtsp://10.0.0.9:554/stream1" } });
		expect([noId.status, noId.body.code]).toEqual([400, "CAMERA_ID_REQUIRED"]);
		const noUrl = await api(node.baseUrl, "/cameras", { body: { id: 10 } });
		expect([noUrl.status, noUrl.body.code]).toEqual([400, "RTSP_URL_REQUIRED"]);
		const gone = await api(node.baseUrl, "/cameras/99");
		expect(gone.status).toBe(404);
		expect(gone.body.code).toBe("CAMERA_NOT_FOUND");
		expect((await api(node.baseUrl, "/cameras/7", { method: "DELETE" })).status).toBe(200);
		expect((await api(node.baseUrl, "/cameras/7")).status).toBe(404);
	});

	it("pushes live events over an authenticated Socket.IO connection", async () => {
		const origin = node.baseUrl.replace(/\/api\/v1$/, "");
		const refused = ioClient(origin, { auth: { apiKey: "wrong" }, transports: ["websocket"], reconnection: false });
		const refusal = await new Promise<string>(resolve => refused.on("connect_error", err => resolve(err.message)));
		expect(refusal).toBe("INVALID_API_KEY");
		refused.close();

		const client = ioClient(origin, { auth: { apiKey: TEST_API_KEY }, transports: ["websocket"], reconnection: false });
		await new Promise<void>((resolve, reject) => {
			client.on("connect", () => resolve());
			client.on("connect_error", reject);
		});
		const received = new Promise<unknown>(resolve => client.on("session.started", resolve));
		node.broker.broadcast("live.session.started", { slotId: 42, roomId: 1 });
		await expect(received).resolves.toEqual({ slotId: 42, roomId: 1 });
		client.close();
	});
});
