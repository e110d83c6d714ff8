/**
 * GET /api/v1/cameras/test-connection, /cameras/capture-frame and /files/:name (FUACS spec
 * sections 5 and 6) through the real gateway, against GStreamer's RTSP server on 127.0.0.1.
 */
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import sharp from "sharp";
import { isPreviewName } from "../../lib/video/previews";
import { api, startNode, TEST_API_KEY, type TestNode } from "../support/node";
import { describeWithRtsp, startRtspServer, type RtspServer } from "../support/rtsp";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

async function closedPort(): Promise<number> {
	const s = net.createServer();
	await new Promise<void>(r => s.listen(0, "127.0.0.1", () => r()));
	const port = (s.address() as net.AddressInfo).port;
	await new Promise(r => s.close(r));
	return port;
}

describeWithRtsp("camera endpoints against a real RTSP server", () => {
	let node: TestNode;
	let rtsp: RtspServer;
	let java: http.Server;
	let silent: net.Server;
	const silentSockets: net.Socket[] = [];
	let silentPort: number;
	const q = (params: Record<string, string | number>) => "?" + new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();

	beforeAll(async () => {
		rtsp = await startRtspServer({ live: { "/live": { width: 640, height: 360, fps: 25, keyint: 25 } } });
		// The Java backend's camera lookup: camera 42 is known there only.
		java = http.createServer((req, res) => {
			if (req.url === "/api/v1/cameras/43") return; // a backend that never answers
			if (req.url === "/api/v1/cameras/44") return void res.writeHead(502).end(); // a failing one
			// The lookup carries the shared key, as every call between Rollcall and the backend.
			if (req.headers["x-api-key"] !== TEST_API_KEY) return void res.writeHead(401).end();
			if (req.url === "/api/v1/cameras/42") {
				res.writeHead(200, { "Content-Type": "application/json" });
				res.end(JSON.stringify({ status: 200, message: "OK", data: { id: 42, name: "B202-01", rtspUrl: rtsp.url("/live", "viewer:javapass"), roomId: 5 } }));
			} else {
				res.writeHead(404, { "Content-Type": "application/json" });
				res.end(JSON.stringify({ status: 404, message: "Camera not found", code: "CAMERA_NOT_FOUND" }));
			}
		});
		await new Promise<void>(r => java.listen(0, "127.0.0.1", () => r()));
		silent = net.createServer(s => silentSockets.push(s));
		await new Promise<void>(r => silent.listen(0, "127.0.0.1", () => r()));
		silentPort = (silent.address() as net.AddressInfo).port;
		node = await startNode({ JAVA_BACKEND_URL: `http://127.0.0.1:${(java.address() as net.AddressInfo).port}`, PREVIEW_MAX_FILES: "2", CAMERA_LOOKUP_TIMEOUT: "1000" });
	}, 60_000);

	afterAll(async () => {
		await node?.stop();
		await rtsp?.stop();
		java?.closeAllConnections();
		await new Promise(r => java?.close(r));
		for (const s of silentSockets) s.destroy();
		await new Promise(r => silent?.close(r));
	});

	it("refuses both endpoints and files without the API key", async () => {
		for (const route of ["/cameras/test-connection" + q({ rtspUrl: rtsp.url("/live") }), "/cameras/capture-frame" + q({ rtspUrl: rtsp.url("/live") }), "/files/camera_preview_1729339200_0a1b2c3d_0a1b2c3d.jpg"]) {
			const { status, body } = await api(node.baseUrl, route, { key: null });
			expect(status).toBe(401);
			expect(body).toEqual({ status: 401, message: "Invalid or missing API key", code: "INVALID_API_KEY" });
		}
	});

	it("test-connection: connects to a live stream and reports rate, resolution, latency and stability", async () => {
		const { status, body } = await api(node.baseUrl, "/cameras/test-connection" + q({ rtspUrl: rtsp.url("/live") }));
		expect(status).toBe(200);
		expect(body.status).toBe(200);
		expect(body.message).toBe("Camera connection successful");
		expect(Object.keys(body.data).sort()).toEqual(["connected", "frameRate", "latency", "resolution", "rtspUrl", "stability", "testedAt"]);
		expect(body.data.rtspUrl).toBe(rtsp.url("/live"));
		expect(body.data.connected).toBe(true);
		expect(body.data.frameRate).toBeCloseTo(25, 0);
		expect(body.data.resolution).toEqual({ width: 640, height: 360 });
		expect(Number.isInteger(body.data.latency)).toBe(true);
		expect(body.data.latency).toBeGreaterThan(0);
		expect(body.data.latency).toBeLessThan(10_000);
		expect(body.data.stability).toBe("stable");
		expect(body.data.testedAt).toMatch(ISO);
	});

	it("test-connection: never returns the credentials of the URL it was given", async () => {
		const { status, body } = await api(node.baseUrl, "/cameras/test-connection" + q({ rtspUrl: rtsp.url("/live", "admin:s3cret") }));
		expect(status).toBe(200);
		expect(body.data.connected).toBe(true);
		expect(body.data.rtspUrl).toBe(rtsp.url("/live", "***:***"));
		expect(JSON.stringify(body)).not.toContain("s3cret");
	});

	it("test-connection: 400 RTSP_URL_REQUIRED without a URL, 400 INVALID_CAMERA_URL for another scheme", async () => {
		for (const route of ["/cameras/test-connection", "/cameras/test-connection?rtspUrl=", "/cameras/test-connection?rtspUrl=%20"]) {
			const { status, body } = await api(node.baseUrl, route);
			expect(status).toBe(400);
			expect(body).toEqual({ status: 400, message: "RTSP URL is required", code: "RTSP_URL_REQUIRED" });
		}
		for (const bad of ["file:///etc/passwd", "concat:/etc/passwd|/etc/hosts", "subfile:,start,0,end,0,:/etc/passwd", "ftp://admin:s3cret@h/x"]) {
			const { status, body } = await api(node.baseUrl, "/cameras/test-connection" + q({ rtspUrl: bad }));
			expect(status).toBe(400);
			expect(body.code).toBe("INVALID_CAMERA_URL");
			expect(body.message).not.toContain("s3cret");
		}
	});

	it("test-connection: a closed port and a wrong path answer 200 connected:false quickly", async () => {
		const port = await closedPort();
		let t = Date.now();
		const refused = await api(node.baseUrl, "/cameras/test-connection" + q({ rtspUrl: `rtsp://127.0.0.1:${port}/stream1` }));
		expect(Date.now() - t).toBeLessThan(2000);
		expect(refused.status).toBe(200);
		expect(refused.body.message).toBe("Camera connection failed");
		expect(refused.body.data).toEqual({ rtspUrl: `rtsp://127.0.0.1:${port}/stream1`, connected: false, error: "Connection refused", testedAt: expect.stringMatching(ISO) });
		t = Date.now();
		const wrong = await api(node.baseUrl, "/cameras/test-connection" + q({ rtspUrl: rtsp.url("/nothing-here") }));
		expect(Date.now() - t).toBeLessThan(3000);
		expect(wrong.body.data.connected).toBe(false);
		expect(wrong.body.data.error).toMatch(/404/);
	});

	it("test-connection: a server that accepts and never answers times out after 10 seconds", async () => {
		const t = Date.now();
		const { status, body } = await api(node.baseUrl, "/cameras/test-connection" + q({ rtspUrl: `rtsp://127.0.0.1:${silentPort}/stream1` }));
		const took = Date.now() - t;
		expect(status).toBe(200);
		expect(body).toEqual({
			status: 200,
			message: "Camera connection failed",
			data: { rtspUrl: `rtsp://127.0.0.1:${silentPort}/stream1`, connected: false, error: "Connection timeout after 10 seconds", testedAt: expect.stringMatching(ISO) }
		});
		expect(took).toBeGreaterThanOrEqual(9900);
		expect(took).toBeLessThan(12_000);
	}, 20_000);

	it("capture-frame: a server that accepts and never answers fails with 500 FRAME_CAPTURE_FAILED after 10 seconds", async () => {
		const t = Date.now();
		const { status, body } = await api(node.baseUrl, "/cameras/capture-frame" + q({ rtspUrl: `rtsp://viewer:pw@127.0.0.1:${silentPort}/stream1` }));
		const took = Date.now() - t;
		expect(status).toBe(500);
		expect(body).toEqual({ status: 500, message: "Failed to capture frame: Connection timeout after 10 seconds", code: "FRAME_CAPTURE_FAILED" });
		expect(took).toBeGreaterThanOrEqual(9900);
		expect(took).toBeLessThan(12_000);
	}, 20_000);

	it("capture-frame: a live frame as a JPEG data URL, at the source resolution", async () => {
		const { status, body } = await api(node.baseUrl, "/cameras/capture-frame" + q({ rtspUrl: rtsp.url("/live", "admin:s3cret") }));
		expect(status).toBe(200);
		expect(body.message).toBe("Frame captured successfully");
		expect(Object.keys(body.data).sort()).toEqual(["capturedAt", "format", "image", "resolution", "rtspUrl"]);
		expect(body.data.format).toBe("base64");
		expect(body.data.rtspUrl).toBe(rtsp.url("/live", "***:***"));
		expect(body.data.resolution).toEqual({ width: 640, height: 360 });
		expect(body.data.capturedAt).toMatch(ISO);
		expect(body.data.image).toMatch(/^data:image\/jpeg;base64,\/9j\//);
		const jpeg = Buffer.from(body.data.image.split(",")[1], "base64");
		const meta = await sharp(jpeg).metadata();
		expect([meta.format, meta.width, meta.height]).toEqual(["jpeg", 640, 360]);
		const stats = await sharp(jpeg).stats();
		expect(stats.channels[0].max - stats.channels[0].min).toBeGreaterThan(100);
	});

	it("capture-frame: a registered camera by id, saved as a file and served at /files/:name", async () => {
		// As a session registers its cameras (the camera CRUD routes are the console's now).
		const saved = await node.broker.call<{ id: string }, object>("cameras.register", { cameraId: 7, name: "A101-01", rtspUrl: rtsp.url("/live", "admin:s3cret"), roomId: 3 });
		expect(saved.id).toBe("CAM-07");
		const { status, body } = await api(node.baseUrl, "/cameras/capture-frame" + q({ cameraId: 7, format: "file" }));
		expect(status).toBe(200);
		expect(Object.keys(body.data).sort()).toEqual(["cameraId", "capturedAt", "filePath", "fileUrl", "format", "resolution", "rtspUrl"]);
		expect(body.data.cameraId).toBe(7);
		expect(body.data.format).toBe("file");
		expect(body.data.rtspUrl).toBe(rtsp.url("/live", "***:***"));
		expect(body.data.fileUrl).toMatch(/^\/api\/v1\/files\/camera_preview_\d{10}_[0-9a-f]{8}_[0-9a-f]{8}\.jpg$/);
		// Kept in the blob store (a folder here, GridFS with MongoDB), served by any gateway.
		expect(path.dirname(body.data.filePath)).toBe(node.cfg.blobsDir);
		expect(path.basename(body.data.filePath)).toBe(path.basename(body.data.fileUrl));
		const res = await fetch(node.baseUrl.replace(/\/api\/v1$/, "") + body.data.fileUrl, { headers: { "X-API-Key": TEST_API_KEY } });
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toMatch(/^image\/jpeg/);
		const bytes = Buffer.from(await res.arrayBuffer());
		expect(bytes.equals(fs.readFileSync(body.data.filePath))).toBe(true);
		expect((await sharp(bytes).metadata()).width).toBe(640);
	});

	it("capture-frame: keeps only the newest previews (PREVIEW_MAX_FILES=2)", async () => {
		const urls: string[] = [];
		for (let i = 0; i < 3; i++) {
			const { body } = await api(node.baseUrl, "/cameras/capture-frame" + q({ rtspUrl: rtsp.url("/live"), format: "file" }));
			urls.push(body.data.fileUrl);
		}
		const left = fs.readdirSync(node.cfg.blobsDir).filter(isPreviewName);
		expect(left).toHaveLength(2);
		expect(left.sort()).toEqual(urls.slice(1).map(u => path.basename(u)).sort());
	});

	it("capture-frame: a camera known only to the Java backend; 404 CAMERA_NOT_FOUND when nobody knows it; 500 when the backend cannot say", async () => {
		const found = await api(node.baseUrl, "/cameras/capture-frame" + q({ cameraId: 42 }));
		expect(found.status).toBe(200);
		expect(found.body.data.cameraId).toBe(42);
		expect(found.body.data.rtspUrl).toBe(rtsp.url("/live", "***:***"));
		expect(found.body.data.resolution).toEqual({ width: 640, height: 360 });
		const missing = await api(node.baseUrl, "/cameras/capture-frame" + q({ cameraId: 1 }));
		expect(missing.status).toBe(404);
		expect(missing.body).toEqual({ status: 404, message: "Camera not found: 1", code: "CAMERA_NOT_FOUND" });
		// A backend that does not answer costs the lookup timeout (CAMERA_LOOKUP_TIMEOUT=1000), no
		// more, and is not taken for "no such camera".
		const t = Date.now();
		const slow = await api(node.baseUrl, "/cameras/capture-frame" + q({ cameraId: 43 }));
		expect(slow.status).toBe(500);
		expect(slow.body).toEqual({ status: 500, message: "Failed to capture frame: camera lookup timed out", code: "FRAME_CAPTURE_FAILED" });
		expect(Date.now() - t).toBeGreaterThanOrEqual(950);
		expect(Date.now() - t).toBeLessThan(2500);
		const failing = await api(node.baseUrl, "/cameras/capture-frame" + q({ cameraId: 44 }));
		expect(failing.status).toBe(500);
		expect(failing.body.code).toBe("FRAME_CAPTURE_FAILED");
		expect(failing.body.message).toContain("502");
	});

	it("capture-frame: 400 without cameraId or rtspUrl, 400 for a bad format or scheme, 500 FRAME_CAPTURE_FAILED when capture fails", async () => {
		const none = await api(node.baseUrl, "/cameras/capture-frame");
		expect(none.status).toBe(400);
		expect(none.body).toEqual({ status: 400, message: "Either cameraId or rtspUrl is required", code: "CAMERA_ID_OR_RTSP_URL_REQUIRED" });
		// Blank values are no values: `?cameraId=` is not camera 0, and `?cameraId=&rtspUrl=...` uses the URL.
		const blank = await api(node.baseUrl, "/cameras/capture-frame?cameraId=&rtspUrl=");
		expect(blank.body).toEqual({ status: 400, message: "Either cameraId or rtspUrl is required", code: "CAMERA_ID_OR_RTSP_URL_REQUIRED" });
		const blankId = await api(node.baseUrl, "/cameras/capture-frame" + q({ cameraId: "", rtspUrl: rtsp.url("/live") }));
		expect(blankId.status).toBe(200);
		expect(blankId.body.data.cameraId).toBeUndefined();
		for (const bad of ["abc", "1.5", "-3", "70000"]) {
			const r = await api(node.baseUrl, "/cameras/capture-frame" + q({ cameraId: bad }));
			expect([r.status, r.body.code]).toEqual([400, "INVALID_CAMERA_ID"]);
		}
		const format = await api(node.baseUrl, "/cameras/capture-frame" + q({ rtspUrl: rtsp.url("/live"), format: "png" }));
		expect(format.status).toBe(400);
		expect(format.body.code).toBe("INVALID_FORMAT");
		const scheme = await api(node.baseUrl, "/cameras/capture-frame" + q({ rtspUrl: "file:///etc/passwd" }));
		expect(scheme.status).toBe(400);
		expect(scheme.body.code).toBe("INVALID_CAMERA_URL");
		const port = await closedPort();
		const failed = await api(node.baseUrl, "/cameras/capture-frame" + q({ rtspUrl: `rtsp://admin:s3cret@127.0.0.1:${port}/x` }));
		expect(failed.status).toBe(500);
		expect(failed.body).toEqual({ status: 500, message: "Failed to capture frame: Connection refused", code: "FRAME_CAPTURE_FAILED" });
		const wrong = await api(node.baseUrl, "/cameras/capture-frame" + q({ rtspUrl: rtsp.url("/nothing-here") }));
		expect(wrong.status).toBe(500);
		expect(wrong.body.code).toBe("FRAME_CAPTURE_FAILED");
	});

	it("files: names only; traversal and other files are refused, unknown previews are 404", async () => {
		fs.writeFileSync(path.join(node.cfg.blobsDir, "secret.txt"), "not a preview");
		// Sent byte for byte (fetch would normalise the dot segments away before they arrive).
		const raw = (route: string) =>
			new Promise<{ status: number; body: any }>((resolve, reject) => {
				const { port } = new URL(node.baseUrl);
				const req = http.get({ host: "127.0.0.1", port, path: "/api/v1" + route, headers: { "X-API-Key": TEST_API_KEY } }, res => {
					let text = "";
					res.on("data", d => (text += d));
					res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
				});
				req.on("error", reject);
			});
		for (const name of ["..%2Fapi-key", "..%2F..%2Fetc%2Fpasswd", "%2E%2E%2Fapi-key", "secret.txt", "camera_preview_1729339200_0a1b2c3d_0a1b2c3d.jpg%00.txt", "..", "%2E%2E", "camera_preview_1729339200_0a1b2c3d_0a1b2c3d.jpg.."]) {
			const { status, body } = await raw(`/files/${name}`);
			expect([status, body.code]).toEqual([400, "INVALID_FILE_NAME"]);
		}
		// A real path below files/ matches no route at all.
		for (const route of ["/files/../api-key", "/files/../../etc/passwd"]) {
			const { status, body } = await raw(route);
			expect([status, body.code]).toEqual([404, "NOT_FOUND"]);
		}
		const { status, body } = await api(node.baseUrl, "/files/camera_preview_1729339200_0a1b2c3d_0a1b2c3d.jpg");
		expect(status).toBe(404);
		expect(body).toEqual({ status: 404, message: "File not found: camera_preview_1729339200_0a1b2c3d_0a1b2c3d.jpg", code: "FILE_NOT_FOUND" });
	});
});
