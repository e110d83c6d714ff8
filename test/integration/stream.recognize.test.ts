/**
 * Streaming recognition (seed 003) on a real node with the real models, over a real WebSocket
 * client: a person registered as a console face profile, clips of a moving face (made from the
 * face-api sample photos, decoded with the project's video code) streamed frame by frame:
 * results for every accepted frame in order, one stable track id over a clip, the registered
 * person recognised by user_id (employeeId) and name, a stranger unknown; frames over
 * MAX_FRAME_RATE (or sent while one is analysed) dropped and counted, never queued; bad
 * credentials refused before the upgrade; bad frames answered with coded errors and the
 * connection kept; the results' recognition logs readable at GET /recognition-logs.
 */
import path from "node:path";
import { ADMIN, CONSOLE_ENV, accountOf, call, login } from "../support/console";
import { faceCrop, FACES, makeFaceVideo, type FaceBox } from "../support/face-video";
import { startNode, tempDir, TEST_API_KEY, type TestNode } from "../support/node";
import { until } from "../support/until";
import { clipFrames, StreamClient, streamUrl, type StreamMessage } from "../support/stream";


/** Send the frames one by one, each once the previous one is answered and its slot (1 / rate) has come. */
async function streamPaced(c: StreamClient, frames: Buffer[], rate: number, firstId = 1): Promise<StreamMessage[]> {
	const answers: StreamMessage[] = [];
	let last = 0;
	for (let i = 0; i < frames.length; i++) {
		const wait = last + 1000 / rate - Date.now();
		if (wait > 0) await new Promise(r => setTimeout(r, wait + 5));
		last = Date.now();
		c.frame(firstId + i, frames[i]);
		answers.push(await c.answerOf(firstId + i));
	}
	return answers;
}

describe("streaming recognition: ws /ws/recognize", () => {
	let node: TestNode;
	let admin: string;
	let anna: Buffer[];
	let bea: Buffer[];
	beforeAll(async () => {
		const work = tempDir("rollcall-stream-");
		node = await startNode({ ...CONSOLE_ENV, DATA_DIR: path.join(work, "data"), RATE_LIMIT_PER_MINUTE: "0", MAX_FRAME_RATE: "5", RECOGNITION_LOG_INTERVAL_MS: "1000" });
		admin = (await login(node, ADMIN.email, ADMIN.password)).accessToken;
		// Anna registered from her first photo; the clip shows her other photo, panning (640x360).
		const fd = new FormData();
		fd.append("name", "Anna");
		fd.append("employeeId", "EMP-ANNA");
		fd.append("images", new Blob([new Uint8Array(await faceCrop(FACES.anna))], { type: "image/jpeg" }), "anna.jpg");
		const res = await fetch(node.baseUrl + "/faces", { method: "POST", headers: { Authorization: `Bearer ${admin}` }, body: fd });
		expect(res.status).toBe(201);
		await makeFaceVideo(path.join(work, "anna.mp4"), { photo: FACES.annaAgain.photo, focus: FACES.annaAgain.focus, width: 640, height: 360, seconds: 3, fps: 10, motion: "pan", faceScale: 0.8 });
		await makeFaceVideo(path.join(work, "bea.mp4"), { photo: FACES.bea.photo, focus: FACES.bea.focus, width: 640, height: 360, seconds: 2, fps: 10, motion: "zoom", faceScale: 0.8 });
		anna = await clipFrames(path.join(work, "anna.mp4"), { every: 2 });
		bea = await clipFrames(path.join(work, "bea.mp4"), { every: 2 });
		expect(anna.length).toBe(15);
		expect(bea.length).toBe(10);
	}, 120_000);
	afterAll(() => node?.stop());

	it("answers every frame of a clip in order, one stable track, the registered person by user_id", async () => {
		const c = await StreamClient.connect(streamUrl(node, `?token=${admin}`));
		const hello = c.messages[0];
		expect(hello).toEqual(expect.objectContaining({ type: "connected", session_id: expect.any(String), max_frame_rate: 5, max_frame_bytes: 10 * 1024 * 1024 }));
		const answers = await streamPaced(c, anna, 5);
		expect(answers.map(a => a.type)).toEqual(anna.map(() => "recognition_result"));
		// The results, as received: every frame's, in the order sent.
		const results = c.messages.filter(m => m.type === "recognition_result");
		expect(results.map(r => r.frame_id)).toEqual(anna.map((_, i) => i + 1));
		for (const r of results) {
			expect(r.faces).toHaveLength(1);
			expect(typeof r.timestamp).toBe("number");
			expect(r.processing_ms).toBeGreaterThan(0);
			expect(r.dropped_frames).toBe(0);
			const [x, y, w, h] = r.faces[0].bbox;
			expect(x).toBeGreaterThanOrEqual(0);
			expect(y).toBeGreaterThanOrEqual(0);
			expect(x + w).toBeLessThanOrEqual(640);
			expect(y + h).toBeLessThanOrEqual(360);
			// The clip frames the face box at 80% of the frame height (the detector's box is a little taller).
			expect(h).toBeGreaterThan(180);
			expect(h).toBeLessThanOrEqual(360);
		}
		// One track over the whole clip; its face moves (the pan), the id does not.
		const tracks = new Set(results.map(r => r.faces[0].track_id));
		expect([...tracks]).toEqual([results[0].faces[0].track_id]);
		expect(typeof results[0].faces[0].track_id).toBe("string");
		const xs = results.map(r => r.faces[0].bbox[0]);
		expect(Math.max(...xs) - Math.min(...xs)).toBeGreaterThan(5);
		// Recognised within two frames (the false-match guard), then every frame.
		const recognized = results.map(r => r.faces[0]).filter(f => f.status === "recognized");
		expect(recognized.length).toBeGreaterThanOrEqual(results.length - 1);
		for (const f of recognized) expect(f).toEqual(expect.objectContaining({ user_id: "EMP-ANNA", user_name: "Anna", is_unknown: false }));
		for (const f of recognized) expect(f.confidence).toBeGreaterThanOrEqual(node.cfg.similarityThreshold);
		expect(results.some(r => r.faces[0].is_unknown)).toBe(false);
		const stats = await c.stats();
		expect(stats).toEqual(expect.objectContaining({ frames_received: 15, frames_accepted: 15, frames_dropped: 0, results: 15, errors: 0, faces: 15 }));

		// The results were logged before they were sent: the track's first face, its change, then one a second.
		const logs = await call(node, `/recognition-logs?sessionId=${hello.session_id}&pageSize=100`, { token: admin });
		expect(logs.status).toBe(200);
		const rows = logs.body.data as any[];
		expect(rows.length).toBeGreaterThanOrEqual(2);
		expect(rows.length).toBeLessThan(15);
		expect(logs.body.meta).toEqual(expect.objectContaining({ total: rows.length, page: 1 }));
		for (const row of rows) expect(row).toEqual(expect.objectContaining({ sessionId: hello.session_id, trackId: results[0].faces[0].track_id, framePosition: expect.objectContaining({ width: expect.any(Number) }) }));
		expect(rows.filter(r => r.userId === "EMP-ANNA" && !r.isUnknown && r.status === "recognized").length).toBeGreaterThanOrEqual(1);
		// Paging and the person filter.
		const page = await call(node, `/recognition-logs?sessionId=${hello.session_id}&pageSize=1&page=2`, { token: admin });
		expect(page.body.data).toHaveLength(1);
		expect(page.body.data[0].id).toBe(rows[1].id);
		const byUser = await call(node, `/recognition-logs?userId=EMP-ANNA&pageSize=100`, { token: admin });
		expect(byUser.body.data.every((r: any) => r.userId === "EMP-ANNA")).toBe(true);
		await c.close();
	}, 60_000);

	it("follows a stranger as one unknown track, with nobody's user_id", async () => {
		const c = await StreamClient.connect(streamUrl(node), { "X-API-Key": TEST_API_KEY });
		const answers = await streamPaced(c, bea, 5, 100);
		expect(answers.map(a => a.type)).toEqual(bea.map(() => "recognition_result"));
		expect(new Set(answers.map(a => a.faces[0].track_id)).size).toBe(1);
		// Unknown from the second frame on (tentative before), never anyone.
		for (const a of answers) expect(a.faces[0]).toEqual(expect.objectContaining({ user_id: null, user_name: null }));
		expect(answers[0].faces[0].status).toBe("tentative");
		for (const a of answers.slice(1)) expect(a.faces[0]).toEqual(expect.objectContaining({ is_unknown: true, status: "unknown" }));
		for (const a of answers) expect(a.faces[0].confidence).toBeLessThan(node.cfg.similarityThreshold);
		// Each connection has its own tracks, numbered from 1.
		expect(answers[0].faces[0].track_id).toBe("1");
		await c.close();
	}, 60_000);

	it("drops frames beyond MAX_FRAME_RATE and frames sent while one is analysed, counts them, queues none", async () => {
		const c = await StreamClient.connect(streamUrl(node, `?api_key=${TEST_API_KEY}`));
		// A burst of 20 frames at once: the first is analysed, each next one replaces the waiting one.
		for (let i = 1; i <= 20; i++) c.frame(i, anna[i % anna.length]);
		const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => c.answerOf(i + 1)));
		const results = answers.filter(a => a.type === "recognition_result");
		const dropped = answers.filter(a => a.type === "frame_dropped");
		expect(results.length + dropped.length).toBe(20);
		// Only the first and the newest are analysed; the 18 between were dropped while the first ran.
		expect(results.map(r => r.frame_id)).toEqual([1, 20]);
		expect(dropped.map(d => d.frame_id)).toEqual(Array.from({ length: 18 }, (_, i) => i + 2));
		expect(dropped.every(d => d.reason === "busy")).toBe(true);
		expect(results[1].dropped_frames).toBe(18);

		// A sender at 15 frames a second for 2 s: about 5 a second analysed, the rest dropped as over the rate or busy.
		const t0 = Date.now();
		for (let i = 0; i < 30; i++) {
			c.frame(1000 + i, anna[i % anna.length]);
			await new Promise(r => setTimeout(r, Math.max(0, t0 + (i + 1) * 66.7 - Date.now())));
		}
		const later = await Promise.all(Array.from({ length: 30 }, (_, i) => c.answerOf(1000 + i)));
		const analysed = later.filter(a => a.type === "recognition_result");
		const elapsed = (Date.now() - t0) / 1000;
		expect(analysed.length).toBeLessThanOrEqual(Math.ceil(elapsed * 5) + 1);
		expect(analysed.length).toBeGreaterThanOrEqual(5);
		expect(later.filter(a => a.type === "frame_dropped").length).toBe(30 - analysed.length);
		// In order, and the last frame sent is never the one dropped (the newest is kept).
		const ids = analysed.map(a => a.frame_id as number);
		expect(ids).toEqual([...ids].sort((a, b) => a - b));
		expect(ids[ids.length - 1]).toBe(1029);
		const stats = await c.stats();
		expect(stats).toEqual(expect.objectContaining({ frames_received: 50, frames_accepted: 2 + analysed.length, frames_dropped: 48 - analysed.length, results: 2 + analysed.length }));
		expect(stats.dropped_rate + stats.dropped_busy).toBe(stats.frames_dropped);
		await c.close();

		// A connection asking for a lower rate (one frame every 2 s): frames sent after an answer wait for the rate, the newest kept.
		const slow = await StreamClient.connect(streamUrl(node, `?api_key=${TEST_API_KEY}&max_frame_rate=0.5`));
		expect(slow.messages[0].max_frame_rate).toBe(0.5);
		const sentAt = Date.now();
		slow.frame(1, anna[0]);
		expect((await slow.answerOf(1)).type).toBe("recognition_result");
		for (const id of [2, 3, 4]) slow.frame(id, anna[id]);
		expect(await slow.answerOf(2)).toEqual(expect.objectContaining({ type: "frame_dropped", reason: "rate" }));
		expect(await slow.answerOf(3)).toEqual(expect.objectContaining({ type: "frame_dropped", reason: "rate" }));
		expect((await slow.answerOf(4)).type).toBe("recognition_result");
		expect(Date.now() - sentAt).toBeGreaterThanOrEqual(1990);
		expect(await slow.stats()).toEqual(expect.objectContaining({ frames_received: 4, frames_accepted: 2, frames_dropped: 2, dropped_rate: 2, dropped_busy: 0 }));
		await slow.close();
		// Never above the gateway's own.
		await expect(StreamClient.connect(streamUrl(node, `?api_key=${TEST_API_KEY}&max_frame_rate=50`))).rejects.toMatchObject({ status: 400, body: { code: "INVALID_MAX_FRAME_RATE" } });
	}, 60_000);

	it("answers broken frames with coded errors and keeps the connection; pings", async () => {
		const c = await StreamClient.connect(streamUrl(node, `?token=${admin}`));
		c.send({ type: "frame", data: "this is not base64!!", timestamp: 1, frame_id: 1 });
		expect(await c.answerOf(1)).toEqual({ type: "error", code: "INVALID_BASE64", message: expect.stringContaining("not valid base64"), frame_id: 1 });
		c.send({ type: "frame", data: Buffer.from("hello, world").toString("base64"), frame_id: 2 });
		expect(await c.answerOf(2)).toEqual(expect.objectContaining({ type: "error", code: "UNSUPPORTED_IMAGE_FORMAT", frame_id: 2 }));
		// A JPEG cut short: its header is there, its pixels are not.
		c.send({ type: "frame", data: anna[0].subarray(0, 400).toString("base64"), frame_id: 3 });
		expect(await c.answerOf(3)).toEqual(expect.objectContaining({ type: "error", code: "INVALID_IMAGE", frame_id: 3 }));
		c.send({ type: "frame", frame_id: 4 });
		expect(await c.answerOf(4)).toEqual(expect.objectContaining({ type: "error", code: "IMAGE_REQUIRED", frame_id: 4 }));
		c.send("{not json");
		expect((await c.next(m => m.type === "error" && m.code === "INVALID_MESSAGE")).frame_id).toBeNull();
		c.send({ type: "frame", data: anna[0].toString("base64") });
		expect((await c.next(m => m.type === "error" && m.code === "INVALID_FRAME_ID")).frame_id).toBeNull();
		c.send({ type: "ping" });
		expect(await c.next(m => m.type === "pong")).toEqual({ type: "pong", timestamp: expect.any(Number) });
		// Still open: a good frame, as a data URL, gets its result.
		c.frame(5, anna[0], { dataUrl: true, timestamp: 1234567890 });
		const r = await c.answerOf(5);
		expect(r).toEqual(expect.objectContaining({ type: "recognition_result", frame_id: 5, timestamp: 1234567890 }));
		expect(r.faces).toHaveLength(1);
		expect(c.closed).toBeNull();
		expect(await c.stats()).toEqual(expect.objectContaining({ frames_invalid: 4, errors: 2, results: 1 }));
		await c.close();
	}, 60_000);

	it("refuses bad credentials and roles without the face API before the upgrade", async () => {
		const refused = async (url: string, headers: Record<string, string> = {}) => {
			try {
				const c = await StreamClient.connect(url, headers);
				await c.close();
				return "connected";
			} catch (err) {
				const e = err as { status?: number; body?: { code?: string } };
				return [e.status, e.body?.code];
			}
		};
		expect(await refused(streamUrl(node))).toEqual([401, "UNAUTHORIZED"]);
		expect(await refused(streamUrl(node, "?api_key=wrong-key-0123456789"))).toEqual([401, "INVALID_API_KEY"]);
		expect(await refused(streamUrl(node), { "X-API-Key": "wrong-key-0123456789" })).toEqual([401, "INVALID_API_KEY"]);
		expect((await refused(streamUrl(node, "?token=not.a.token")))[0]).toBe(401);
		const viewer = await accountOf(node, admin, "ROLE-VIEWER", "stream-viewer@rollcall.test");
		expect(await refused(streamUrl(node, `?token=${viewer.token}`))).toEqual([403, "FORBIDDEN"]);
		const operator = await accountOf(node, admin, "ROLE-OPERATOR", "stream-operator@rollcall.test");
		expect(await refused(streamUrl(node, `?token=${operator.token}`))).toBe("connected");
		expect(await refused(streamUrl(node), { Authorization: `Bearer ${operator.token}` })).toBe("connected");
		// Signing out ends the login's stream connection (the live relay's watch): closed 1008 with the code.
		const stream = await StreamClient.connect(streamUrl(node, `?token=${operator.token}`));
		expect((await call(node, "/auth/logout", { body: { refreshToken: operator.refreshToken } })).status).toBe(204);
		expect(await stream.next(m => m.type === "error" && m.code === "TOKEN_REVOKED", 10_000, 0)).toEqual(expect.objectContaining({ frame_id: null }));
		expect(await until("the stream closed", () => stream.closed, c => c !== null, 10_000)).toEqual({ code: 1008, reason: "TOKEN_REVOKED" });
		// A Viewer reads the recognition logs (attendance:read), without a token nobody does.
		expect((await call(node, "/recognition-logs", { token: viewer.token })).status).toBe(200);
		expect((await call(node, "/recognition-logs")).status).toBe(401);
	}, 60_000);

	it("leaves the live channels' /ws as it was", async () => {
		const WebSocket = (await import("ws")).default;
		const ws = new WebSocket(streamUrl(node, `?token=${admin}`).replace("/ws/recognize", "/ws"));
		const pong = await new Promise<any>((resolve, reject) => {
			ws.once("open", () => ws.send(JSON.stringify({ type: "ping" })));
			ws.on("message", (d: Buffer) => {
				const m = JSON.parse(d.toString());
				if (m.type === "pong") resolve(m);
			});
			ws.once("error", reject);
		});
		expect(pong.type).toBe("pong");
		await new Promise<void>(resolve => {
			ws.once("close", () => resolve());
			ws.close();
		});
	});
});
