/**
 * GET /detections/live on a real gateway and storage node: answered from memory fed by the
 * detections' own writes (`detections.record`), so every write is in the very next answer,
 * though answers are kept between writes; newest first across cameras, per camera on
 * request, `limit` honoured; one track is one entry however often it is written. The
 * gateway keeps a verified token's claims, but a signed-out token is refused at once.
 */
import { ADMIN, CONSOLE_ENV, call, login } from "../support/console";
import { startNode, type TestNode } from "../support/node";

describe("live detections", () => {
	let node: TestNode;
	let admin: string;
	let seq = 0;
	const record = (trackId: string, cameraId: number, at = new Date(Date.now() + seq++)) =>
		node.broker.call("detections.record", { trackId, cameraId, name: trackId, status: "unknown", confidence: 0.5, boundingBox: { x: 1, y: 2, width: 30, height: 30 }, timestamp: at, lastSeen: at, frames: 1 });
	const live = async (query = "") => {
		const r = await call(node, `/detections/live${query}`, { token: admin });
		expect(r.status).toBe(200);
		return (r.body.data as { trackId: string }[]).map(d => d.trackId);
	};

	beforeAll(async () => {
		node = await startNode({ ...CONSOLE_ENV, SERVICES: "gateway,storage", RATE_LIMIT_PER_MINUTE: "0" });
		admin = (await login(node, ADMIN.email, ADMIN.password)).accessToken;
	});
	afterAll(() => node?.stop());

	test("every write is in the next answer, newest first, one entry per track", async () => {
		await record("a", 1);
		expect(await live()).toEqual(["a"]);
		expect(await live()).toEqual(["a"]); // the kept answer
		await record("b", 2);
		expect(await live()).toEqual(["b", "a"]);
		expect(await live("?cameraId=1")).toEqual(["a"]);
		await record("c", 1);
		expect(await live("?cameraId=1")).toEqual(["c", "a"]);
		expect(await live("?limit=2")).toEqual(["c", "b"]);
		// The same track seen again moves to the front, once.
		await record("a", 1);
		expect(await live()).toEqual(["a", "c", "b"]);
		expect(await live("?cameraId=1")).toEqual(["a", "c"]);
		expect(await live("?cameraId=3")).toEqual([]);
	});

	test("a camera keeps its newest 100; bad parameters get the documented error", async () => {
		for (let i = 0; i < 105; i++) await record(`many-${i}`, 7);
		const kept = await live("?cameraId=7&limit=100");
		expect(kept).toHaveLength(100);
		expect(kept[0]).toBe("many-104");
		expect(kept[99]).toBe("many-5");
		const bad = await call(node, "/detections/live?limit=101", { token: admin });
		expect(bad.status).toBe(400);
		expect(bad.body.error.code).toBe("VALIDATION_ERROR");
	});

	test("a token signed out is refused at once, though its signature was verified before", async () => {
		const session = await login(node, ADMIN.email, ADMIN.password);
		expect((await call(node, "/detections/live", { token: session.accessToken })).status).toBe(200);
		const out = await call(node, "/auth/logout", { method: "POST", token: session.accessToken, body: { refreshToken: session.refreshToken } });
		expect(out.status).toBeLessThan(300);
		const after = await call(node, "/detections/live", { token: session.accessToken });
		expect(after.status).toBe(401);
		expect(after.body.error.code).toBe("INVALID_TOKEN");
	});
});
