/**
 * The camera registry as the console uses it, over real HTTP on a real broker, with a real
 * RTSP server for the connection test and the snapshot: CRUD with paging, filters and
 * optimistic concurrency; credentials masked, sealed at rest and absent from logs; import all
 * or nothing; export round trip; the FUACS sessions' numeric ids in the same registry.
 */
import fs from "node:fs";
import path from "node:path";
import { ADMIN, CONSOLE_ENV, call, login } from "../support/console";
import { startNode, TEST_API_KEY, type TestNode } from "../support/node";
import { describeWithRtsp, startRtspServer, type RtspServer } from "../support/rtsp";

const SECRET = "s3cr3t-camera-pass";

describe("console: cameras", () => {
	let node: TestNode;
	let admin: string;
	const logs: string[] = [];
	const write = process.stdout.write.bind(process.stdout);
	const writeErr = process.stderr.write.bind(process.stderr);
	beforeAll(async () => {
		// Every log line of the node (on stdout or stderr), to prove the password never reaches one.
		const tap = (orig: typeof write) =>
			((chunk: string | Uint8Array, ...rest: unknown[]) => {
				logs.push(String(chunk));
				return (orig as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
			}) as typeof process.stdout.write;
		process.stdout.write = tap(write);
		process.stderr.write = tap(writeErr);
		node = await startNode({ ...CONSOLE_ENV, LOG_LEVEL: "debug", SERVICES: "gateway,storage" });
		admin = (await login(node, ADMIN.email, ADMIN.password)).accessToken;
	});
	afterAll(async () => {
		await node?.stop();
		process.stdout.write = write;
		process.stderr.write = writeErr;
	});

	it("creates cameras with CAM-NN ids, masks credentials, seals them at rest", async () => {
		const r = await call(node, "/cameras", { token: admin, body: { name: "Main Entrance", location: "Building A - Lobby", streamType: "RTSP", streamUrl: `rtsp://admin:${SECRET}@10.10.1.12:554/stream`, tags: ["primary", "entry"], enabled: false } });
		expect(r.status).toBe(201);
		expect(r.body.data).toEqual(
			expect.objectContaining({ id: "CAM-01", cameraId: 1, name: "Main Entrance", streamUrl: "rtsp://10.10.1.12:554/stream", ipAddress: "10.10.1.12", status: "offline", enabled: false, version: 1, tags: ["primary", "entry"] })
		);
		expect(r.body.data.credentials).toEqual({ username: "admin", password: expect.stringMatching(/^•+ss$/) });
		const own = await call(node, "/cameras", { token: admin, body: { id: "LOBBY-2", name: "Lobby 2", streamUrl: "rtsp://10.10.1.13/stream", username: "viewer", password: SECRET, enabled: false } });
		expect(own.status).toBe(201);
		expect(own.body.data).toEqual(expect.objectContaining({ id: "LOBBY-2", cameraId: 2 }));
		const dup = await call(node, "/cameras", { token: admin, body: { id: "LOBBY-2", name: "again", streamUrl: "rtsp://10.10.1.14/s" } });
		expect(dup.status).toBe(409);
		expect(dup.body.error.code).toBe("CAMERA_EXISTS");
		const bad = await call(node, "/cameras", { token: admin, body: { name: "x", streamUrl: "file:///etc/passwd" } });
		expect(bad.status).toBe(400);
		expect(bad.body.error.code).toBe("INVALID_CAMERA_URL");

		// At rest: neither the NeDB file nor any answer or log line holds the password.
		await new Promise(r => setTimeout(r, 100));
		const file = fs.readFileSync(path.join(node.dataDir, "cameras.db"), "utf8");
		expect(file).toContain("v1:");
		expect(file).not.toContain(SECRET);
		const list = await call(node, "/cameras", { token: admin });
		expect(JSON.stringify(list.body)).not.toContain(SECRET);
		expect(logs.length).toBeGreaterThan(0);
		expect(logs.join("")).not.toContain(SECRET);
		// Those who connect get it back.
		expect((await node.broker.call<{ rtspUrl: string }, object>("cameras.resolve", { cameraId: 2 })).rtspUrl).toBe(`rtsp://viewer:${SECRET}@10.10.1.13/stream`);
	});

	it("lists with paging and filters, and finds a camera by either id", async () => {
		for (let i = 0; i < 4; i++) await call(node, "/cameras", { token: admin, body: { name: `Hall ${i}`, location: i < 2 ? "Block B" : "Block C", streamType: "RTSP", streamUrl: `rtsp://10.0.2.${i}/s`, enabled: i % 2 === 0 } });
		const page = await call(node, "/cameras?page=2&pageSize=2", { token: admin });
		expect(page.body.meta).toEqual({ page: 2, pageSize: 2, total: 6, totalPages: 3 });
		const enabled = await call(node, "/cameras?enabled=true", { token: admin });
		expect(enabled.body.data.map((c: any) => c.name)).toEqual(["Hall 0", "Hall 2"]);
		const search = await call(node, "/cameras?search=block%20c", { token: admin });
		expect(search.body.data.map((c: any) => c.name)).toEqual(["Hall 2", "Hall 3"]);
		expect((await call(node, "/cameras?status=offline&streamType=RTSP", { token: admin })).body.meta.total).toBe(6);
		expect((await call(node, "/cameras/CAM-03", { token: admin })).body.data.name).toBe("Hall 0");
		expect((await call(node, "/cameras/3", { token: admin })).body.data.id).toBe("CAM-03");
		const missing = await call(node, "/cameras/CAM-99", { token: admin });
		expect(missing.status).toBe(404);
		expect(missing.body.error.code).toBe("CAMERA_NOT_FOUND");
	});

	it("updates with optimistic concurrency: a stale version answers 409", async () => {
		const cam = (await call(node, "/cameras/CAM-04", { token: admin })).body.data;
		const ok = await call(node, "/cameras/CAM-04", { method: "PUT", token: admin, body: { name: "Hall 1 renamed", version: cam.version } });
		expect(ok.status).toBe(200);
		expect(ok.body.data).toEqual(expect.objectContaining({ name: "Hall 1 renamed", version: cam.version + 1 }));
		const stale = await call(node, "/cameras/CAM-04", { method: "PUT", token: admin, body: { name: "lost update", version: cam.version } });
		expect(stale.status).toBe(409);
		expect(stale.body.error.code).toBe("VERSION_CONFLICT");
		const state = await call(node, "/cameras/CAM-04/state", { method: "PATCH", token: admin, body: { enabled: true } });
		expect(state.body.data).toEqual(expect.objectContaining({ enabled: true, version: cam.version + 2 }));
		const stop = await call(node, "/cameras/CAM-04/stop-stream", { method: "POST", token: admin });
		expect(stop.body.data.enabled).toBe(false);
		const health = await call(node, "/cameras/CAM-04/health", { token: admin });
		expect(health.body.data).toEqual(expect.objectContaining({ id: "CAM-04", enabled: false, status: "offline", monitoredBy: null }));
		// A new URL with credentials in it: the credentials move out of it.
		const moved = await call(node, "/cameras/CAM-04", { method: "PUT", token: admin, body: { streamUrl: `rtsp://op:${SECRET}@10.0.9.9/s` } });
		expect(moved.body.data.streamUrl).toBe("rtsp://10.0.9.9/s");
		expect(moved.body.data.credentials.username).toBe("op");
		const del = await call(node, "/cameras/CAM-06", { method: "DELETE", token: admin });
		expect(del.status).toBe(204);
		expect((await call(node, "/cameras/CAM-06", { token: admin })).status).toBe(404);
	});

	it("imports all or nothing, and round-trips an export", async () => {
		const exported = await call(node, "/cameras/export", { token: admin });
		expect(exported.status).toBe(200);
		const count = exported.body.data.cameras.length;
		expect(JSON.stringify(exported.body)).not.toContain(SECRET);

		const refused = await call(node, "/cameras/import", {
			token: admin,
			body: { cameras: [{ name: "Good", streamUrl: "rtsp://10.0.3.1/s" }, { name: "Bad URL", streamUrl: "ftp://10.0.3.2/s" }, { streamUrl: "rtsp://10.0.3.3/s" }] }
		});
		expect(refused.status).toBe(400);
		expect(refused.body.error.code).toBe("IMPORT_REFUSED");
		const fields = refused.body.error.details.map((d: any) => d.field);
		expect(fields).toEqual(expect.arrayContaining(["cameras[1].streamUrl", "cameras[2].name"]));
		expect((await call(node, "/cameras", { token: admin })).body.meta.total).toBe(count);

		// The export into a fresh node: the same cameras, ids and numbers.
		const other = await startNode({ ...CONSOLE_ENV, SERVICES: "gateway,storage" });
		try {
			const token = (await login(other, ADMIN.email, ADMIN.password)).accessToken;
			const imported = await call(other, "/cameras/import", { token, body: exported.body.data });
			expect(imported.status).toBe(201);
			expect(imported.body.data.imported).toBe(count);
			const back = await call(other, "/cameras/export", { token });
			const strip = (cams: any[]) => cams.map(c => ({ ...c }));
			expect(strip(back.body.data.cameras)).toEqual(strip(exported.body.data.cameras));
			const again = await call(other, "/cameras/import", { token, body: exported.body.data });
			expect(again.status).toBe(400);
			expect(again.body.error.code).toBe("IMPORT_REFUSED");
		} finally {
			await other.stop();
		}
	});

	it("keeps the FUACS sessions' numeric cameras in the same registry, for capture-frame", async () => {
		const r = await node.broker.call<{ id: string; cameraId: number }, object>("cameras.register", { cameraId: 42, name: "A101-01", rtspUrl: `rtsp://admin:${SECRET}@10.0.0.42:554/s1`, roomId: 3 });
		expect(r).toEqual({ id: "CAM-42", cameraId: 42 });
		const cam = (await call(node, "/cameras/42", { token: admin })).body.data;
		expect(cam).toEqual(expect.objectContaining({ id: "CAM-42", name: "A101-01", roomId: 3, enabled: false, streamUrl: "rtsp://10.0.0.42:554/s1" }));
		// The old camera routes belong to the console now: the integration key is not a console login.
		const withKey = await fetch(`${node.baseUrl}/cameras`, { headers: { "X-API-Key": TEST_API_KEY } });
		expect(withKey.status).toBe(401);
		const summary = await call(node, "/cameras/summary", { token: admin });
		expect(summary.body.data.find((s: any) => s.id === "CAM-42")).toEqual({ id: "CAM-42", cameraId: 42, detectionsToday: 0, unknownFaces: 0, uptimePercent: 0 });
	});
});

describeWithRtsp("console: camera connection test and snapshot on a real RTSP server", () => {
	let node: TestNode;
	let rtsp: RtspServer;
	let admin: string;
	beforeAll(async () => {
		rtsp = await startRtspServer({ live: { "/cam": { width: 640, height: 360, fps: 10 } } });
		node = await startNode({ ...CONSOLE_ENV });
		admin = (await login(node, ADMIN.email, ADMIN.password)).accessToken;
	});
	afterAll(async () => {
		await node?.stop();
		await rtsp?.stop();
	});

	it("tests the connection and takes a snapshot kept in the blob store", async () => {
		const cam = (await call(node, "/cameras", { token: admin, body: { name: "Test source", streamUrl: rtsp.url("/cam"), enabled: false } })).body.data;
		const t = await call(node, `/cameras/${cam.id}/test-connection`, { method: "POST", token: admin });
		expect(t.status).toBe(200);
		expect(t.body.data).toEqual(expect.objectContaining({ success: true, latencyMs: expect.any(Number), message: expect.stringMatching(/^Connection OK/) }));
		const snap = await call(node, `/cameras/${cam.id}/snapshot`, { method: "POST", token: admin });
		expect(snap.status).toBe(201);
		expect(snap.body.data).toEqual({ assetId: expect.stringMatching(/^snapshot-/), url: expect.stringMatching(/^\/api\/v1\/assets\/snapshot-/), timestamp: expect.any(String) });
		const root = node.baseUrl.replace(/\/api\/v1$/, "");
		const img = await fetch(root + snap.body.data.url, { headers: { Authorization: `Bearer ${admin}` } });
		expect(img.status).toBe(200);
		expect(img.headers.get("content-type")).toBe("image/jpeg");
		const bytes = Buffer.from(await img.arrayBuffer());
		expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
		const anonymous = await fetch(root + snap.body.data.url);
		expect(anonymous.status).toBe(401);
	});
});
