/**
 * Send-frame, the per-frame event log and the provider, with the real models, a real RTSP
 * camera and a real /ws client: Anna registered, two cameras showing her (one monitored, one
 * disabled); a send-frame on each completes with her authorized detection (through the
 * monitor's tracks, or the stream opened once), its job state pushed on the detections
 * channel and its frame in the event log; the log filters and pages; the provider's config
 * round-trips through the site settings (applied to new cameras, and by the monitors at once);
 * test-provider measures a real inference on the node's inference service; the log is capped.
 */
import path from "node:path";
import WebSocket from "ws";
import { ADMIN, CONSOLE_ENV, accountOf, call, login } from "../support/console";
import { faceCrop, FACES, makeFaceVideo, type FaceBox } from "../support/face-video";
import { startNode, tempDir, type TestNode } from "../support/node";
import { describeWithRtsp, startRtspServer, type RtspServer } from "../support/rtsp";
import { until } from "../support/until";


describeWithRtsp("detections: send-frame, the event log, the provider", () => {
	let node: TestNode;
	let rtsp: RtspServer;
	let admin: string;
	let operator: string;
	let annaId: string;
	let monitored: { id: string; cameraId: number };
	let idle: { id: string; cameraId: number };

	const job = (jobId: string) =>
		until(
			"the send-frame job finished",
			() => call(node, `/jobs/${jobId}`, { token: admin }).then(r => r.body.data),
			j => j.status === "completed" || j.status === "failed",
			60_000
		);

	beforeAll(async () => {
		const work = tempDir("rollcall-provider-e2e-");
		// Anna in front of the camera all along (the RTSP file mount replays it).
		const room = path.join(work, "anna.mp4");
		await makeFaceVideo(room, { segments: [{ ...FACES.annaAgain, seconds: 6 }], fps: 10 });
		rtsp = await startRtspServer({ files: { "/anna": room } });
		node = await startNode({ ...CONSOLE_ENV, DATA_DIR: path.join(work, "data"), RATE_LIMIT_PER_MINUTE: "0" });
		admin = (await login(node, ADMIN.email, ADMIN.password)).accessToken;
		operator = (await accountOf(node, admin, "ROLE-OPERATOR", "operator@provider.test")).token;
		const fd = new FormData();
		fd.append("name", "Anna");
		fd.append("employeeId", "EMP-ANNA");
		fd.append("images", new Blob([new Uint8Array(await faceCrop(FACES.anna))], { type: "image/jpeg" }), "anna.jpg");
		const res = await fetch(node.baseUrl + "/faces", { method: "POST", headers: { Authorization: `Bearer ${admin}` }, body: fd });
		expect(res.status).toBe(201);
		annaId = ((await res.json()) as any).data.id;
		const a = await call(node, "/cameras", { token: admin, body: { name: "Lobby", streamUrl: rtsp.url("/anna"), sampleInterval: 0.5, enabled: true } });
		const b = await call(node, "/cameras", { token: admin, body: { name: "Back door", streamUrl: rtsp.url("/anna"), enabled: false } });
		expect([a.status, b.status]).toEqual([201, 201]);
		monitored = { id: a.body.data.id, cameraId: a.body.data.cameraId };
		idle = { id: b.body.data.id, cameraId: b.body.data.cameraId };
	}, 120_000);
	afterAll(async () => {
		await node?.stop();
		await rtsp?.stop();
	});

	it("send-frame on a monitored camera: 202, the job completes with Anna's detection, pushed on /ws and logged", async () => {
		// The monitor follows Anna first (its own samples).
		await until(
			"Anna detected by the monitor",
			() => call(node, `/detections?cameraId=${monitored.cameraId}`, { token: admin }).then(r => r.body.data as any[]),
			ds => ds.some(d => d.employeeId === "EMP-ANNA" && d.status === "authorized"),
			60_000
		);
		const origin = node.baseUrl.replace(/\/api\/v1$/, "");
		const ws = new WebSocket(`${origin.replace(/^http/, "ws")}/ws?token=${encodeURIComponent(operator)}`);
		const heard: any[] = [];
		ws.on("message", d => heard.push(JSON.parse(String(d))));
		await new Promise<void>((resolve, reject) => (ws.once("open", () => resolve()), ws.once("error", reject)));
		try {
			ws.send(JSON.stringify({ action: "subscribe", channel: "detections", cameraId: monitored.cameraId }));
			await until("subscribed", async () => heard.find(m => m.type === "subscribed"), m => !!m, 5000);

			const sent = await call(node, "/detections/send-frame", { token: operator, body: { cameraId: monitored.id } });
			expect(sent.status).toBe(202);
			expect(sent.body.data).toEqual({ jobId: expect.any(String), status: "queued", cameraId: monitored.cameraId });
			const { jobId } = sent.body.data;
			const done = await until("the job as the operator reads it", () => call(node, `/jobs/${jobId}`, { token: operator }).then(r => r.body.data), j => j.status === "completed" || j.status === "failed", 60_000);
			expect(done).toMatchObject({ kind: "send-frame", status: "completed", progress: 100, error: null });
			const r = done.result;
			expect(r).toMatchObject({ cameraId: monitored.cameraId, via: "monitor", faces: 1, eventId: expect.any(String) });
			expect(r.latencyMs).toBeGreaterThan(0);
			console.log(`provider: send-frame via the monitor, capture to result ${r.latencyMs} ms`);
			const anna = r.detections.find((d: any) => d.employeeId === "EMP-ANNA");
			expect(anna).toMatchObject({ personId: annaId, name: "Anna", status: "authorized", cameraId: monitored.cameraId });
			expect(anna.confidence).toBeGreaterThanOrEqual(0.85);
			// It is the monitor's own track (refreshed by this frame), not a second one.
			const stored = await call(node, `/detections/${anna.id}`, { token: admin });
			expect(stored.body.data.frames).toBeGreaterThanOrEqual(2);

			// Pushed on the detections channel: processing, then completed with the result.
			const pushed = await until("the job's completion on /ws", async () => heard.find(m => m.type === "detection-job" && m.job.id === jobId && m.job.status === "completed"), m => !!m, 5000);
			expect(pushed).toMatchObject({ channel: "detections", cameraId: monitored.cameraId, job: { kind: "send-frame", result: { eventId: r.eventId, faces: 1 } } });
			expect(heard.some(m => m.type === "detection-job" && m.job.id === jobId && m.job.status === "processing")).toBe(true);

			// Its frame is in the event log, with the job.
			const events = await call(node, `/detections/events?cameraId=${monitored.cameraId}&source=send-frame`, { token: admin });
			expect(events.status).toBe(200);
			expect(events.body.data).toEqual([expect.objectContaining({ id: r.eventId, jobId, status: "ok", faces: 1, latencyMs: r.latencyMs, error: null, detections: [anna.id], cameraName: "Lobby" })]);
		} finally {
			ws.terminate();
		}
	}, 120_000);

	it("send-frame on a camera not monitored opens its stream once; a bad camera is 404 CAMERA_NOT_FOUND", async () => {
		const sent = await call(node, "/detections/send-frame", { token: admin, body: { cameraId: idle.cameraId } });
		expect(sent.status).toBe(202);
		const done = await job(sent.body.data.jobId);
		expect(done.status).toBe("completed");
		expect(done.result).toMatchObject({ cameraId: idle.cameraId, via: "stream", faces: 1, resolution: expect.stringMatching(/^\d+x\d+$/) });
		console.log(`provider: send-frame via the stream (opened once, two samples), job ${new Date(done.finishedAt).getTime() - new Date(done.createdAt).getTime()} ms, last frame capture to result ${done.result.latencyMs} ms`);
		// Two samples of the stream: Anna seen twice, confirmed.
		expect(done.result.detections).toEqual([expect.objectContaining({ employeeId: "EMP-ANNA", status: "authorized", cameraId: idle.cameraId, frames: 2 })]);
		const events = await call(node, `/detections/events?cameraId=${idle.cameraId}`, { token: admin });
		expect(events.body.data).toEqual([expect.objectContaining({ source: "send-frame", jobId: sent.body.data.jobId, status: "ok", faces: 1 })]);

		const missing = await call(node, "/detections/send-frame", { token: admin, body: { cameraId: "CAM-404" } });
		expect(missing.status).toBe(404);
		expect(missing.body.error.code).toBe("CAMERA_NOT_FOUND");
		const none = await call(node, "/detections/send-frame", { token: admin, body: {} });
		expect(none.status).toBe(400);
		expect(none.body.error.code).toBe("VALIDATION_ERROR");
	}, 90_000);

	it("the event log: every monitored sample, filtered by camera, status and time, paged newest first", async () => {
		const all = await until(
			"a few samples logged",
			() => call(node, `/detections/events?cameraId=${monitored.cameraId}&source=monitor&pageSize=100`, { token: admin }).then(r => r.body),
			b => b.meta.total >= 4,
			30_000
		);
		const rows = all.data as any[];
		expect(rows.every(e => e.cameraId === monitored.cameraId && e.source === "monitor" && ["ok", "no_face", "error"].includes(e.status))).toBe(true);
		expect(rows.some(e => e.status === "ok" && e.faces === 1 && e.latencyMs > 0)).toBe(true);
		const times = rows.map(e => new Date(e.timestamp).getTime());
		expect(times).toEqual([...times].sort((x, y) => y - x));
		// Paging: two pages of two are the four newest, in order, without overlap.
		const total = all.meta.total;
		const p1 = await call(node, `/detections/events?cameraId=${monitored.cameraId}&source=monitor&pageSize=2&page=1&to=${rows[0].timestamp}`, { token: admin });
		const p2 = await call(node, `/detections/events?cameraId=${monitored.cameraId}&source=monitor&pageSize=2&page=2&to=${rows[0].timestamp}`, { token: admin });
		expect(p1.body.meta).toMatchObject({ page: 1, pageSize: 2 });
		expect(p1.body.meta.total).toBeGreaterThanOrEqual(total);
		expect([...p1.body.data, ...p2.body.data].map((e: any) => e.id)).toEqual(rows.slice(0, 4).map(e => e.id));
		// A time range: from the third newest to the newest, inclusive.
		const range = await call(node, `/detections/events?cameraId=${monitored.cameraId}&source=monitor&from=${rows[2].timestamp}&to=${rows[0].timestamp}`, { token: admin });
		expect(range.body.data.map((e: any) => e.id)).toEqual(rows.filter(e => e.timestamp >= rows[2].timestamp && e.timestamp <= rows[0].timestamp).map(e => e.id));
		// By status; another camera's events are not there.
		const ok = await call(node, `/detections/events?status=ok&pageSize=100`, { token: admin });
		expect(ok.body.data.length).toBeGreaterThan(0);
		expect(ok.body.data.every((e: any) => e.status === "ok")).toBe(true);
		expect((await call(node, "/detections/events?cameraId=32000", { token: admin })).body.meta.total).toBe(0);
		const bad = await call(node, "/detections/events?status=weird", { token: admin });
		expect(bad.status).toBe(400);
		expect(bad.body.error.code).toBe("VALIDATION_ERROR");
	}, 60_000);

	it("test-provider runs a real inference on the inference node and reports its latency; the config says so", async () => {
		const r = await call(node, "/detections/test-provider", { token: operator, body: {} });
		expect(r.status).toBe(200);
		expect(r.body.data).toMatchObject({ status: "connected", nodes: 1, message: "Provider healthy: 1 inference node", perNode: [{ nodeID: node.broker.nodeID, error: null }] });
		expect(r.body.data.latencyMs).toBeGreaterThan(0);
		expect(r.body.data.perNode[0].latencyMs).toBe(r.body.data.latencyMs);
		console.log(`provider: test-provider ${r.body.data.latencyMs} ms on ${r.body.data.nodes} node(s)`);
		const cfg = await call(node, "/detections/provider/config", { token: operator });
		expect(cfg.status).toBe(200);
		expect(cfg.body.data).toMatchObject({ providerName: "Rollcall inference cluster", endpoint: null, enabled: true, status: "connected", nodes: 1, lastTest: { ok: true, latencyMs: r.body.data.latencyMs } });
		// Measured from the real frames of the event log.
		expect(cfg.body.data.averageLatencyMs).toBeGreaterThan(0);
		expect(cfg.body.data.recentFrames.calls).toBeGreaterThan(0);
		expect(new Date(cfg.body.data.lastHeartbeat).getTime()).toBeGreaterThan(Date.now() - 60_000);
		expect(cfg.body.data.models.map((m: any) => m.role)).toEqual(expect.arrayContaining(["detector", "embedder"]));
		expect(cfg.body.data.models.every((m: any) => typeof m.name === "string" && m.name.length > 0)).toBe(true);
	}, 60_000);

	it("the provider config round-trips through the site settings, is admin-only to change, and refuses an external provider", async () => {
		const before = (await call(node, "/detections/provider/config", { token: admin })).body.data;
		expect(before).toMatchObject({ similarityThreshold: 0.85, minFaceSize: 20, sampleInterval: 1 });
		const put = await call(node, "/detections/provider/config", { method: "PUT", token: admin, body: { similarityThreshold: 0.9, minFaceSize: 32, sampleInterval: 2, version: before.version } });
		expect(put.status).toBe(200);
		expect(put.body.data).toMatchObject({ similarityThreshold: 0.9, minFaceSize: 32, sampleInterval: 2, version: before.version + 1 });
		expect((await call(node, "/detections/provider/config", { token: operator })).body.data).toMatchObject({ similarityThreshold: 0.9, minFaceSize: 32, sampleInterval: 2, version: before.version + 1 });
		// The site settings document keeps its own fields beside them.
		expect((await call(node, "/settings/site", { token: admin })).body.data).toMatchObject({ timezone: "UTC", version: before.version + 1 });
		// A camera made without its own interval takes the new default.
		const cam = await call(node, "/cameras", { token: admin, body: { name: "Default interval", streamUrl: rtsp.url("/anna"), enabled: false } });
		expect(cam.body.data.sampleInterval).toBe(2);
		const imported = await call(node, "/cameras/import", { token: admin, body: { cameras: [{ id: "CAM-IMPORTED", name: "Imported", streamUrl: rtsp.url("/anna"), enabled: false }, { id: "CAM-OWN", name: "Own", streamUrl: rtsp.url("/anna"), enabled: false, sampleInterval: 5 }] } });
		expect(imported.status).toBe(201);
		expect(imported.body.data.cameras.map((c: any) => c.sampleInterval)).toEqual([2, 5]);

		const stale = await call(node, "/detections/provider/config", { method: "PUT", token: admin, body: { minFaceSize: 40, version: before.version } });
		expect([stale.status, stale.body.error.code]).toEqual([409, "VERSION_CONFLICT"]);
		const external = await call(node, "/detections/provider/config", { method: "PUT", token: admin, body: { endpoint: "http://localhost:8001/detect", apiKey: "k" } });
		expect([external.status, external.body.error.code]).toEqual([400, "EXTERNAL_PROVIDER_UNSUPPORTED"]);
		const range = await call(node, "/detections/provider/config", { method: "PUT", token: admin, body: { similarityThreshold: 2 } });
		expect([range.status, range.body.error.code]).toEqual([400, "VALIDATION_ERROR"]);
		const byOperator = await call(node, "/detections/provider/config", { method: "PUT", token: operator, body: { minFaceSize: 40 } });
		expect([byOperator.status, byOperator.body.error.code]).toEqual([403, "FORBIDDEN"]);
		// Audited: the change, and the operator's refusal.
		const audit = (await call(node, "/audit?action=detectionProvider.saveConfig&pageSize=100", { token: admin })).body.data as any[];
		expect(audit.filter(d => d.outcome === "success")).toEqual([expect.objectContaining({ actor: ADMIN.email, resourceId: "detection-provider", message: "Recognition settings: similarityThreshold, minFaceSize, sampleInterval changed" })]);
		expect(audit.some(d => d.outcome === "failure" && d.actor === "operator@provider.test")).toBe(true);
		expect((await call(node, "/detections/provider/config", { token: admin })).body.data).toMatchObject({ minFaceSize: 32, version: before.version + 1 });
	}, 60_000);

	it("the monitors apply a change at once: faces under the minimum size are not analysed", async () => {
		const logSince = (since: string) => call(node, `/detections/events?cameraId=${monitored.cameraId}&source=monitor&from=${since}&pageSize=100`, { token: admin }).then(r => r.body.data as any[]);
		const current = (await call(node, "/detections/provider/config", { token: admin })).body.data;
		// Anna's face is about 200 px in the clip: with a 600 px minimum the monitor finds no face.
		const big = await call(node, "/detections/provider/config", { method: "PUT", token: admin, body: { minFaceSize: 600, version: current.version } });
		expect(big.status).toBe(200);
		const t1 = new Date(Date.now() + 200).toISOString();
		const after = await until("samples after the change", () => logSince(t1), es => es.length >= 3, 20_000);
		expect(after.every(e => e.status === "no_face" && e.faces === 0)).toBe(true);
		const back = await call(node, "/detections/provider/config", { method: "PUT", token: admin, body: { minFaceSize: 20 } });
		expect(back.body.data.minFaceSize).toBe(20);
		const t2 = new Date(Date.now() + 200).toISOString();
		const again = await until("Anna found again", () => logSince(t2), es => es.some(e => e.status === "ok"), 20_000);
		expect(again.filter(e => e.status === "ok").every(e => e.faces === 1)).toBe(true);
	}, 60_000);
});

describe("detection events: the log's cap", () => {
	let node: TestNode;
	afterAll(() => node?.stop());

	it("trims the log back to DETECTION_EVENTS_MAX, its oldest going first", async () => {
		node = await startNode({ ...CONSOLE_ENV, SERVICES: "gateway,storage", DETECTION_EVENTS_MAX: "100", RATE_LIMIT_PER_MINUTE: "0" });
		const admin = (await login(node, ADMIN.email, ADMIN.password)).accessToken;
		const t0 = Date.now() - 600_000;
		const events = Array.from({ length: 500 }, (_, i) => ({ cameraId: 7, cameraName: "Cap", timestamp: new Date(t0 + i * 1000), status: i % 2 ? "ok" : "no_face", source: "monitor", faces: i % 2, latencyMs: 100 + i, error: null }));
		expect(await node.broker.call("detectionEvents.recordMany", { events })).toEqual({ recorded: 500 });
		const page = await until("the log trimmed", () => call(node, "/detections/events?cameraId=7&pageSize=100", { token: admin }).then(r => r.body), b => b.meta.total <= 100, 10_000);
		expect(page.meta.total).toBe(100);
		// The newest 100 are kept: the oldest left is the 401st written.
		expect(page.data[0].timestamp).toBe(new Date(t0 + 499_000).toISOString());
		expect(page.data[page.data.length - 1].timestamp).toBe(new Date(t0 + 400_000).toISOString());
	}, 60_000);
});
