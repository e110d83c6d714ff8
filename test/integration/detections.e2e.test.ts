/**
 * The CCTV loop end to end, with the real models and a real RTSP camera: two people
 * registered as face profiles through the console, a monitored camera showing them and a
 * stranger; the monitor actor tracks the faces and writes detections (authorized for the two,
 * unknown for the stranger, one per track, never the stranger as anyone), served live from
 * the gateway's memory within 100 ms of being written; the stranger raises one unknown-face alert.
 */
import path from "node:path";
import sharp from "sharp";
import { ADMIN, CONSOLE_ENV, call, login } from "../support/console";
import { faceCrop, FACES, makeFaceVideo, SAMPLES, type FaceBox } from "../support/face-video";
import { startNode, tempDir, type TestNode } from "../support/node";
import { describeWithRtsp, startRtspServer, type RtspServer } from "../support/rtsp";
import { until } from "../support/until";

const DORA = { photo: SAMPLES[2], focus: [587, 327, 791, 607] as FaceBox };


describeWithRtsp("detections: a monitored camera, the gallery, tracks", () => {
	let node: TestNode;
	let rtsp: RtspServer;
	let admin: string;
	const people: Record<string, string> = {};

	beforeAll(async () => {
		const work = tempDir("rollcall-detections-e2e-");
		// The room: Anna, a stranger and Bea take turns (the RTSP file mount replays it).
		const room = path.join(work, "room.mp4");
		await makeFaceVideo(room, { segments: [FACES.annaAgain, DORA, FACES.bea].map(f => ({ ...f, seconds: 3 })), fps: 10 });
		rtsp = await startRtspServer({ files: { "/room": room } });
		node = await startNode({ ...CONSOLE_ENV, DATA_DIR: path.join(work, "data"), RATE_LIMIT_PER_MINUTE: "0" });
		admin = (await login(node, ADMIN.email, ADMIN.password)).accessToken;
		// Registered from other photos than the room shows: Anna's first sample, Bea mirrored.
		for (const [employeeId, name, photo] of [
			["EMP-ANNA", "Anna", await faceCrop(FACES.anna)],
			["EMP-BEA", "Bea", await faceCrop(FACES.bea, { mirrored: true })]
		] as const) {
			const fd = new FormData();
			fd.append("name", name);
			fd.append("employeeId", employeeId);
			fd.append("images", new Blob([new Uint8Array(photo)], { type: "image/jpeg" }), `${name}.jpg`);
			const res = await fetch(node.baseUrl + "/faces", { method: "POST", headers: { Authorization: `Bearer ${admin}` }, body: fd });
			const body = (await res.json()) as any;
			expect(res.status).toBe(201);
			people[employeeId] = body.data.id;
		}
	}, 120_000);
	afterAll(async () => {
		await node?.stop();
		await rtsp?.stop();
	});

	it("writes one detection per track: the two registered people authorized, the stranger unknown", async () => {
		const cam = await call(node, "/cameras", { token: admin, body: { name: "Room A101", streamUrl: rtsp.url("/room"), sampleInterval: 0.5, enabled: true } });
		expect(cam.status).toBe(201);
		const detections = () => call(node, `/detections?cameraId=${cam.body.data.cameraId}&pageSize=100`, { token: admin }).then(r => r.body.data as any[]);
		const seen = await until(
			"both people and a stranger detected",
			detections,
			// Anna's track has ended (she left 5 s ago) and says how many samples it had.
			ds => ["EMP-ANNA", "EMP-BEA"].every(e => ds.some(d => d.employeeId === e && d.status === "authorized")) && ds.some(d => d.status === "unknown") && ds.some(d => d.employeeId === "EMP-ANNA" && d.frames >= 2),
			60_000
		);
		for (const d of seen.filter(x => x.status === "authorized")) {
			expect(d.personId).toBe(people[d.employeeId]);
			expect(d.confidence).toBeGreaterThanOrEqual(0.85);
			expect(d.frames).toBeGreaterThanOrEqual(1);
			expect(new Date(d.timestamp).getTime()).toBeLessThanOrEqual(new Date(d.lastSeen).getTime());
		}
		// A track, not a frame: a person in front of the camera for 3 s at 2 samples/s is not six detections.
		const anna = seen.filter(d => d.employeeId === "EMP-ANNA");
		expect(anna.length).toBeLessThanOrEqual(2);
		expect(Math.max(...anna.map(d => d.frames))).toBeGreaterThanOrEqual(2);
		const stranger = seen.filter(d => d.status === "unknown");
		expect(stranger.every(d => d.personId === null && d.name === "Unknown")).toBe(true);
		// The stranger raised one unknown-face alert at this camera (one per track, at most one a minute per camera), naming its detection.
		const unknownAlerts = (await call(node, `/alerts?type=unknown_face&cameraId=${cam.body.data.cameraId}`, { token: admin })).body.data as any[];
		expect(unknownAlerts).toHaveLength(1);
		expect(unknownAlerts[0]).toEqual(expect.objectContaining({ level: "medium", cameraId: cam.body.data.cameraId, resolved: false }));
		expect(stranger.map(d => d.id)).toContain(unknownAlerts[0].details.detectionId);
		// Thumbnails are small JPEG crops in the blob store.
		const thumb = seen.find(d => d.thumbnail)!;
		const img = await fetch(node.baseUrl.replace(/\/api\/v1$/, "") + thumb.thumbnail, { headers: { Authorization: `Bearer ${admin}` } });
		expect(img.status).toBe(200);
		expect((await sharp(Buffer.from(await img.arrayBuffer())).metadata()).width).toBe(112);
		// The live view has them too, from memory.
		const live = await call(node, `/detections/live?cameraId=${cam.body.data.cameraId}`, { token: admin });
		expect(live.body.data.map((d: any) => d.employeeId)).toEqual(expect.arrayContaining(["EMP-ANNA", "EMP-BEA"]));
		await call(node, `/cameras/${cam.body.data.id}/state`, { method: "PATCH", token: admin, body: { enabled: false } });
	}, 90_000);

	it("serves a new detection live within 100 ms of its write", async () => {
		const t0 = Date.now();
		await node.broker.call("detections.record", {
			trackId: "fresh-1",
			cameraId: 999,
			status: "unknown",
			confidence: 0.4,
			boundingBox: { x: 1, y: 2, width: 3, height: 4 },
			timestamp: new Date(),
			lastSeen: new Date(),
			frames: 1
		});
		let visibleAfter = -1;
		while (Date.now() - t0 < 1000) {
			const r = await call(node, "/detections/live?cameraId=999", { token: admin });
			if (r.body.data.some((d: any) => d.trackId === "fresh-1")) {
				visibleAfter = Date.now() - t0;
				break;
			}
		}
		expect(visibleAfter).toBeGreaterThanOrEqual(0);
		expect(visibleAfter).toBeLessThan(100);
	});
});
