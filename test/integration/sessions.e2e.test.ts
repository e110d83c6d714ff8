/**
 * A recognition session end to end, in one node with every service, on real parts: the
 * students are enrolled through embeddings/generate from videos of their photos, a real RTSP
 * server streams a room clip of real faces, the real vision engine recognises them, and a
 * real HTTP server plays the Java backend, answering 500 for a while and then 200.
 *
 * People (faces of @vladmandic/face-api's demo photos, test/support/face-video.ts):
 * - Anna: enrolled from sample1, seen in the room in sample3 (another photo of her);
 * - Bea: enrolled from a mirrored, darker copy of sample6 (the only photo of her there is),
 *   seen in the room in the original;
 * - Cleo: enrolled, never in the room;
 * - Dora: in the room, never enrolled (a stranger).
 */
import fs from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { io as ioClient, type Socket } from "socket.io-client";
import { FACES, makeFaceVideo, SAMPLES, type FaceBox } from "../support/face-video";
import { startJavaBackend, type JavaBackend } from "../support/java-backend";
import { api, startNode, tempDir, TEST_API_KEY, type TestNode } from "../support/node";
import { describeWithRtsp, startRtspServer, type RtspServer } from "../support/rtsp";
import { until } from "../support/until";

const SLOT = 77;
const ROOM = 3;
const DORA = { photo: SAMPLES[2], focus: [587, 327, 791, 607] as FaceBox };

describeWithRtsp("a recognition session end to end", () => {
	let node: TestNode;
	let rtsp: RtspServer;
	let backend: JavaBackend;
	let work: string;
	let socket: Socket;
	const live: { event: string; payload: any }[] = [];
	const students: Record<string, unknown>[] = [];

	const enroll = async (name: string, face: { photo: string; focus: FaceBox }, submissionId: number) => {
		await makeFaceVideo(path.join(work, "uploads", "identity", String(submissionId), `${name}.mp4`), { ...face, fps: 10, seconds: 3, motion: "zoom" });
		const res = await api(node.baseUrl, "/embeddings/generate", { body: { videoUrl: `/uploads/identity/${submissionId}/${name}.mp4`, submissionId } });
		expect(res.status).toBe(200);
		return res.body.data as { embeddingVector: number[]; embeddingVersion: number };
	};
	const reports = () => node.broker.call<any[], object>("recognitions.find", { query: { slotId: SLOT, kind: "report" } });
	const body = () => ({
		slotId: SLOT,
		roomId: ROOM,
		students,
		cameras: [{ id: 5, name: "Camera A101-01", rtspUrl: rtsp.url("/room") }],
		config: { similarityThreshold: 0.85, scanInterval: 1, callbackUrl: backend.url }
	});

	beforeAll(async () => {
		work = tempDir("rollcall-session-e2e-");
		// Bea's enrollment photo: her only photo mirrored and darkened, so it is not the room's picture.
		const beaPhoto = path.join(work, "bea-enrollment.jpg");
		const { width } = await sharp(FACES.bea.photo).metadata();
		await sharp(FACES.bea.photo).flop().modulate({ brightness: 0.8 }).jpeg({ quality: 85 }).toFile(beaPhoto);
		const [x1, y1, x2, y2] = FACES.bea.focus;
		const beaMirrored = { photo: beaPhoto, focus: [width! - x2, y1, width! - x1, y2] as FaceBox };

		// The room: Anna, the stranger and Bea take turns; the RTSP file mount replays it.
		const room = path.join(work, "room.mp4");
		await makeFaceVideo(room, { segments: [FACES.annaAgain, DORA, FACES.bea].map(f => ({ ...f, seconds: 3 })), fps: 10 });
		rtsp = await startRtspServer({ files: { "/room": room } });
		backend = await startJavaBackend();
		backend.answer(500);

		node = await startNode({
			UPLOADS_DIR: path.join(work, "uploads"),
			DATA_DIR: path.join(work, "data"),
			CALLBACK_POLL_MS: "200",
			CALLBACK_RETRY_BASE_MS: "100",
			CALLBACK_RETRY_MAX_MS: "500",
			STOP_FLUSH_MS: "5000",
			MAX_SESSIONS: "1"
		});
		const people: [string, { photo: string; focus: FaceBox }, number][] = [
			["anna", FACES.anna, 1],
			["bea", beaMirrored, 2],
			["cleo", FACES.cleo, 3]
		];
		for (const [name, face, userId] of people) {
			const e = await enroll(name, face, userId);
			students.push({ userId, fullName: name, rollNumber: `HE18000${userId}`, embeddingVector: e.embeddingVector, embeddingVersion: e.embeddingVersion });
		}

		socket = ioClient(node.baseUrl.replace(/\/api\/v1$/, ""), { auth: { apiKey: TEST_API_KEY, slots: [SLOT] }, transports: ["websocket"], reconnection: false });
		await new Promise<void>((resolve, reject) => {
			socket.on("connect", () => resolve());
			socket.on("connect_error", reject);
		});
		socket.onAny((event, payload) => live.push({ event, payload }));
	}, 240_000);

	afterAll(async () => {
		socket?.close();
		await node?.stop();
		await rtsp?.stop();
		await backend?.close();
		if (work) fs.rmSync(work, { recursive: true, force: true });
	});

	it("starts the session at once with the spec's answer, and refuses a second start of the slot with 409", async () => {
		// Two starts of one slot at the same moment (a retried request): exactly one wins.
		const [a, b] = await Promise.all([0, 1].map(() => api(node.baseUrl, "/recognition/process-session", { body: body() })));
		expect([a.status, b.status].sort()).toEqual([200, 409]);
		const res = a.status === 200 ? a : b;
		expect((a.status === 409 ? a : b).body.code).toBe("SESSION_ALREADY_EXISTS");
		expect(await node.broker.call("sessions.count", { query: { slotId: SLOT } })).toBe(1);
		expect(res.body.message).toBe("Face recognition session started successfully");
		expect(res.body.data).toEqual({
			slotId: SLOT,
			roomId: ROOM,
			totalStudents: 3,
			totalCameras: 1,
			activeCameras: 1,
			failedCameras: 0,
			config: { similarityThreshold: 0.85, scanInterval: 1 },
			sessionStartedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
		});

		const again = await api(node.baseUrl, "/recognition/process-session", { body: body() });
		expect(again.status).toBe(409);
		expect(again.body).toEqual({ status: 409, message: `Face recognition session already exists for slot ${SLOT}`, code: "SESSION_ALREADY_EXISTS" });

		// MAX_SESSIONS=1: another slot must wait for this one to stop.
		const other = await api(node.baseUrl, "/recognition/process-session", { body: { ...body(), slotId: SLOT + 1 } });
		expect(other.status).toBe(429);
		expect(other.body).toEqual({ status: 429, message: "At most 1 sessions can run at once; stop one first", code: "MAX_SESSIONS_REACHED" });

		const health = await api(node.baseUrl, "/health", { key: null });
		expect(health.body.data.activeSessions).toBe(1);
		const sessions = await api(node.baseUrl, "/recognition/sessions");
		expect(sessions.body.data).toEqual([expect.objectContaining({ slotId: SLOT, roomId: ROOM, totalStudents: 3, totalCameras: 1, servedBy: node.broker.nodeID })]);
	});

	it("keeps results pending while the backend answers 500, retrying the same recognitionIds", async () => {
		// Both people in the room are recognised while the backend is down.
		const pending = await until("Anna and Bea reported", reports, r => new Set(r.map(x => x.userId)).size >= 2, 90_000);
		expect(pending.every(r => ["pending", "delivered"].includes(r.delivery))).toBe(true);
		await until("failed deliveries", () => backend.requests.filter(r => r.status === 500).length, n => n >= 4, 30_000);
		expect(backend.delivered()).toEqual([]);
		// What was sent is what was persisted first: every id the backend saw is a stored report.
		const stored = new Set((await reports()).map(r => r.recognitionId));
		const seen = backend.requests.flatMap(r => r.body.results.map(x => x.recognitionId));
		expect(seen.length).toBeGreaterThan(0);
		for (const id of seen) expect(stored.has(id)).toBe(true);
		expect((await reports()).every(r => r.delivery === "pending")).toBe(true);
	}, 120_000);

	it("delivers every result exactly once when the backend recovers: the enrolled people in the room, nobody else", async () => {
		backend.answer(200);
		const delivered = await until("Anna and Bea delivered", () => backend.delivered(), d => new Set(d.map(r => r.userId)).size >= 2, 30_000);
		// Keep scanning a few more loops of the clip: nobody is reported twice, nobody else ever.
		await new Promise(r => setTimeout(r, 6000));
		const all = backend.delivered();
		expect(all.map(r => r.userId).sort()).toEqual([1, 2]);
		expect(new Set(all.map(r => r.recognitionId)).size).toBe(all.length);
		expect(all).toHaveLength(delivered.length);

		const req = backend.requests.find(r => r.status === 200)!;
		expect(req.headers["x-api-key"]).toBe(TEST_API_KEY);
		expect(req.body).toMatchObject({ slotId: SLOT, roomId: ROOM, batchId: expect.any(String) });
		for (const r of all) {
			expect(Object.keys(r).sort()).toEqual(["cameraId", "confidence", "embeddingVersion", "fullName", "recognitionId", "recognizedAt", "rollNumber", "userId"]);
			expect(r).toMatchObject({ cameraId: 5, embeddingVersion: 1, rollNumber: `HE18000${r.userId}`, fullName: r.userId === 1 ? "anna" : "bea" });
			expect(r.confidence).toBeGreaterThanOrEqual(0.85);
			expect(r.recognizedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
		}
		// The ids that failed while the backend was down are the ones delivered now: no new results.
		const failedIds = new Set(backend.requests.filter(r => r.status === 500).flatMap(r => r.body.results.map(x => x.recognitionId)));
		for (const id of failedIds) expect(all.map(r => r.recognitionId)).toContain(id);
		expect((await reports()).every(r => r.delivery === "delivered")).toBe(true);

		// The stranger is a face on record as unknown, never a student.
		const unknown = await node.broker.call<any[], object>("recognitions.find", { query: { slotId: SLOT, kind: "unknown" } });
		expect(unknown.length).toBeGreaterThan(0);
		expect(unknown.every(u => u.userId === null && u.box.length === 4)).toBe(true);
		// Attendance: one document per student seen, with later sightings counted.
		const attendance = await node.broker.call<any[], object>("attendance.find", { query: { slotId: SLOT } });
		expect(attendance.map(a => a.userId).sort()).toEqual([1, 2]);
		expect(Math.max(...attendance.map(a => a.sightings))).toBeGreaterThan(2);

		// The live view heard the recognitions and the deliveries of this slot.
		expect(live.filter(e => e.event === "recognition").map(e => e.payload.userId).sort()).toEqual([1, 2]);
		expect(live.some(e => e.event === "callback.delivered" && e.payload.slotId === SLOT)).toBe(true);
		expect(live.some(e => e.event === "face.unknown")).toBe(true);
		expect(live.some(e => e.event === "attendance.updated")).toBe(true);
	}, 60_000);

	it("reports metrics computed from what happened", async () => {
		const { status, body: res } = await api(node.baseUrl, "/metrics");
		expect(status).toBe(200);
		const m = res.data;
		expect(m.service).toMatchObject({ activeSessions: 1, totalSessionsToday: 1 });
		expect(m.recognition.totalRecognitions).toBeGreaterThanOrEqual(4);
		expect(m.recognition.averageConfidence).toBeGreaterThanOrEqual(0.85);
		expect(m.recognition.averageProcessingTime).toBeGreaterThan(0);
		expect(m.recognition.recognitionRate).toBeGreaterThan(0);
		expect(m.recognition.recognitionRate).toBeLessThan(1); // Dora is a face nobody matched
		expect(m.embedding).toMatchObject({ totalGenerated: 3, successRate: 1 });
		expect(m.embedding.averageQuality).toBeGreaterThanOrEqual(0.7);
		expect(m.cameras).toMatchObject({ totalCameras: 1, activeCameras: 1, failedCameras: 0 });
		expect(m.cameras.averageFrameRate).toBeGreaterThan(0);
		expect(m.callbacks).toMatchObject({ pending: 0, delivered: 2, failed: 0 });
	});

	it("stops with the spec's answer, counting the results delivered; a second stop is 404", async () => {
		const res = await api(node.baseUrl, "/recognition/stop-session", { body: { slotId: SLOT } });
		expect(res.status).toBe(200);
		expect(res.body).toEqual({
			status: 200,
			message: "Face recognition session stopped successfully",
			data: { slotId: SLOT, sessionDuration: expect.any(Number), totalRecognitions: 2, sessionStoppedAt: expect.stringMatching(/Z$/) }
		});
		expect(res.body.data.sessionDuration).toBeGreaterThan(5);
		expect(node.broker.getLocalService(`session-${SLOT}`)).toBeFalsy();
		expect(node.broker.getLocalService(`camera-${SLOT}-5`)).toBeFalsy();
		expect((await api(node.baseUrl, "/health", { key: null })).body.data.activeSessions).toBe(0);
		// Today's figures outlive the session.
		const metrics = (await api(node.baseUrl, "/metrics")).body.data;
		expect(metrics.service).toMatchObject({ activeSessions: 0, totalSessionsToday: 1 });
		expect(metrics.recognition.averageProcessingTime).toBeGreaterThan(0);

		const again = await api(node.baseUrl, "/recognition/stop-session", { body: { slotId: SLOT } });
		expect(again.status).toBe(404);
		expect(again.body.code).toBe("SESSION_NOT_FOUND");

		const audit = await node.broker.call<any[], object>("audit.find", { query: { slotId: SLOT } });
		expect(audit.map(a => a.action)).toEqual(expect.arrayContaining(["session.started", "session.stopped"]));
		expect(live.map(e => e.event)).toEqual(expect.arrayContaining(["session.started", "session.stopped"]));
		// Nothing was delivered twice over the whole session.
		const ids = backend.delivered().map(r => r.recognitionId);
		expect(new Set(ids).size).toBe(ids.length);
		expect(ids).toHaveLength(2);
	}, 30_000);

	it("runs the slot again as a new session: its students are reported again, and its stop counts only its own results", async () => {
		const before = new Set(backend.delivered().map(r => r.recognitionId));
		const res = await api(node.baseUrl, "/recognition/process-session", { body: body() });
		expect(res.status).toBe(200);
		const fresh = () => backend.delivered().filter(r => !before.has(r.recognitionId));
		await until("Anna and Bea delivered for the new session", fresh, d => new Set(d.map(r => r.userId)).size >= 2, 60_000);
		const stop = await api(node.baseUrl, "/recognition/stop-session", { body: { slotId: SLOT } });
		expect(stop.status).toBe(200);
		expect(stop.body.data.totalRecognitions).toBe(2);
		expect(fresh().map(r => r.userId).sort()).toEqual([1, 2]);
		const ids = backend.delivered().map(r => r.recognitionId);
		expect(new Set(ids).size).toBe(ids.length);
		expect(ids).toHaveLength(4);
		// One attendance document per student and session.
		const attendance = await node.broker.call<any[], object>("attendance.find", { query: { slotId: SLOT } });
		expect(attendance.map(a => a.userId).sort()).toEqual([1, 1, 2, 2]);
		expect(new Set(attendance.map(a => a.sessionId)).size).toBe(2);
	}, 90_000);
});
