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
		const bad = await api(node.baseUrl, "/recognition/process-session", { method: "POST", body: "{not json" });
		expect(bad.status).toBe(400);
		expect(bad.body.code).toBe("INVALID_JSON");
		const huge = await api(node.baseUrl, "/recognition/process-session", { method: "POST", body: { slotId: 1, roomId: "x".repeat(node.cfg.maxBodyBytes) } });
		expect(huge.status).toBe(413);
		expect(huge.body.code).toBe("PAYLOAD_TOO_LARGE");
	});

	// The camera registry's CRUD routes are the console's (test/integration/console.cameras.test.ts).

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
