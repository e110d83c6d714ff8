/**
 * Camera monitors on one real broker with every service (startNode), the console's camera
 * routes over real HTTP, and a real GStreamer RTSP server as the camera: an enabled camera
 * gets a monitor actor that measures it (online, fps, resolution, bitrate, latency, uptime, a
 * thumbnail in the blob store); a camera that stops sending goes offline within the read
 * timeout and raises one alert after CAMERA_OFFLINE_ALERT_S; it comes back online; an edit
 * of what is opened restarts the actor, a rename does not; disabling or deleting stops it
 * within a sampling interval. The camera's password never reaches a log line.
 */
import sharp from "sharp";
import { clusterActors, clusterNodes } from "../../lib/cluster/operator";
import type { MonitorState } from "../../services/actors/monitor.actor";
import { ADMIN, CONSOLE_ENV, call, login } from "../support/console";
import { startNode, type TestNode } from "../support/node";
import { describeWithRtsp, startRtspServer, type RtspServer } from "../support/rtsp";
import { until } from "../support/until";

const READ_TIMEOUT_MS = 1500;
const ALERT_S = 3;
const SECRET = "monitor-cam-s3cret";

interface Seen {
	event: string;
	at: number;
	params: Record<string, any>;
}

describeWithRtsp("camera monitors: enabled cameras watched by monitor actors", () => {
	let node: TestNode;
	let rtsp: RtspServer;
	let admin: string;
	let cam: { id: string; cameraId: number; version: number };
	const seen: Seen[] = [];
	const logs: string[] = [];
	// Under Jest the nodes' log lines go to stderr (test/support/plain-console.js), elsewhere to stdout.
	const writes = { stdout: process.stdout.write.bind(process.stdout), stderr: process.stderr.write.bind(process.stderr) };

	const actorName = () => `monitor-${cam.cameraId}`;
	const running = () => !!node.broker.getLocalService(actorName());
	const actorState = () => node.broker.call<MonitorState>(`${actorName()}.state`);
	const health = async () => (await call(node, `/cameras/${cam.id}/health`, { token: admin })).body.data;
	const audits = (action: string) => node.broker.call<any[], object>("audit.find", { query: { action, cameraId: cam.cameraId } });
	const events = (event: string) => seen.filter(s => s.event === event && s.params.cameraId === cam.cameraId);
	const offlineAlerts = async () => (await call(node, `/alerts?type=camera_offline&cameraId=${cam.cameraId}`, { token: admin })).body.data as any[];
	const version = async () => (await call(node, `/cameras/${cam.id}`, { token: admin })).body.data.version as number;

	beforeAll(async () => {
		// Every log line of the node, to prove the camera's password never reaches one.
		for (const stream of ["stdout", "stderr"] as const)
			process[stream].write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
				logs.push(String(chunk));
				return (writes[stream] as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
			}) as typeof process.stdout.write;
		rtsp = await startRtspServer({ live: { "/cam": { width: 640, height: 360, fps: 25, keyint: 25 } } });
		node = await startNode({
			...CONSOLE_ENV,
			LOG_LEVEL: "info",
			INFERENCE_WORKERS: "1",
			CAMERA_READ_TIMEOUT: String(READ_TIMEOUT_MS),
			CAMERA_CONNECT_TIMEOUT: "2000",
			CAMERA_OFFLINE_ALERT_S: String(ALERT_S),
			MONITOR_REPORT_MS: "500",
			ACTOR_PLACEMENT_MS: "500"
		});
		node.broker.createService({
			name: "monitor-test-listener",
			events: {
				"live.camera.status"(ctx) {
					seen.push({ event: "live.camera.status", at: Date.now(), params: ctx.params as Record<string, any> });
				},
				"alerts.raised"(ctx) {
					seen.push({ event: "alerts.raised", at: Date.now(), params: ctx.params as Record<string, any> });
				}
			}
		});
		await node.broker.waitForServices(["monitor-test-listener", "monitors", "cameras"], 10_000);
		admin = (await login(node, ADMIN.email, ADMIN.password)).accessToken;
	}, 90_000);

	afterAll(async () => {
		await node?.stop();
		await rtsp?.stop();
		process.stdout.write = writes.stdout;
		process.stderr.write = writes.stderr;
	});

	it("watches an enabled camera: online with measured fps, resolution, bitrate, latency and uptime; a thumbnail in the blob store", async () => {
		const created = await call(node, "/cameras", {
			token: admin,
			body: { name: "Gate", location: "Lobby", streamType: "RTSP", streamUrl: rtsp.url("/cam", `viewer:${SECRET}`), enabled: false, sampleInterval: 1 }
		});
		expect(created.status).toBe(201);
		cam = created.body.data;
		// Not enabled: nothing watches it.
		await new Promise(r => setTimeout(r, 1500));
		expect(running()).toBe(false);

		const t0 = Date.now();
		expect((await call(node, `/cameras/${cam.id}/state`, { method: "PATCH", token: admin, body: { enabled: true } })).status).toBe(200);
		await until("the monitor actor running", running, r => r, 5000);
		const h = await until("the camera's health online with measured figures", health, d => d.status === "online" && d.fps > 0 && d.bitrate > 0, 15_000);
		console.log(`monitor: online ${Date.now() - t0} ms after enabling; ${JSON.stringify(h)}`);
		expect(h.fps).toBeGreaterThan(20);
		expect(h.fps).toBeLessThan(30);
		expect(h.resolution).toBe("640x360");
		expect(h.bitrate).toBeGreaterThan(10); // kbit/s of the test encoder's stream
		expect(h.latency).toBeGreaterThan(0); // ms from opening to the first frame
		expect(h.latency).toBeLessThan(5000);
		expect(h.monitoredBy).toBe(node.broker.nodeID);
		expect(h.healthy).toBe(true);
		expect(Date.now() - new Date(h.lastSeen).getTime()).toBeLessThan(5000);
		expect(Date.now() - new Date(h.lastChecked).getTime()).toBeLessThan(5000);

		const state = await actorState();
		expect(state).toMatchObject({ cameraId: cam.cameraId, id: cam.id, status: "online", sampleInterval: 1, resolution: "640x360" });
		expect(state.samples).toBeGreaterThan(0);
		expect(state.uptime.day).toBe(new Date().toISOString().slice(0, 10));
		expect(state.uptime.onlineMs).toBeGreaterThan(0);

		// The preview: a small JPEG in the blob store, named in the camera's document.
		const thumb = await until(
			"the thumbnail",
			async () => (await call(node, `/cameras/${cam.id}`, { token: admin })).body.data.thumbnail,
			t => typeof t === "string",
			10_000
		);
		expect(thumb).toBe(`/api/v1/assets/thumb-cam-${cam.cameraId}.jpg`);
		const blob = await node.broker.call<{ info: { kind: string; contentType: string }; data: Buffer }, object>("blobs.get", { name: `thumb-cam-${cam.cameraId}.jpg` });
		expect(blob.info).toMatchObject({ kind: "thumbnail", contentType: "image/jpeg" });
		const meta = await sharp(Buffer.from(blob.data)).metadata();
		expect([meta.format, meta.width, meta.height]).toEqual(["jpeg", 320, 180]);

		// The change was announced and audited once; the summary shows the day's uptime.
		expect(events("live.camera.status")).toEqual([expect.objectContaining({ params: expect.objectContaining({ cameraId: cam.cameraId, id: cam.id, status: "online", resolution: "640x360" }) })]);
		expect(await audits("camera.online")).toHaveLength(1);
		const summary = (await call(node, "/cameras/summary", { token: admin })).body.data.find((s: any) => s.id === cam.id);
		expect(summary.uptimePercent).toBeGreaterThan(50);

		// The REPL's `actors` and `cluster`: the monitor beside the sessions.
		const rows = await clusterActors(node.broker);
		expect(rows).toContainEqual(expect.objectContaining({ kind: "monitor", nodeID: node.broker.nodeID, cameraId: cam.cameraId, slotId: null, status: "online" }));
		expect((await clusterNodes(node.broker)).find(n => n.nodeID === node.broker.nodeID)).toMatchObject({ monitors: 1 });

		// Structured logs name the camera; its password never appears.
		const text = logs.join("");
		expect(text).toMatch(new RegExp(`"message":"Monitor actor started".*"cameraId":${cam.cameraId}`));
		expect(text).not.toContain(SECRET);
	}, 60_000);

	it("goes offline within the read timeout when the camera stops sending, alerts once after CAMERA_OFFLINE_ALERT_S, and comes back", async () => {
		const t0 = Date.now();
		rtsp.pause(); // the camera hangs: connections stay open, nothing arrives
		await until("the camera offline", health, d => d.status === "offline", READ_TIMEOUT_MS + 3000);
		const offlineAfter = Date.now() - t0;
		console.log(`monitor: offline ${offlineAfter} ms after the stream stopped (read timeout ${READ_TIMEOUT_MS} ms)`);
		expect(offlineAfter).toBeLessThan(READ_TIMEOUT_MS + 1000);
		expect((await health()).fps).toBe(0);
		const wentOffline = events("live.camera.status").find(e => e.params.status === "offline");
		expect(wentOffline?.params).toEqual(expect.objectContaining({ cameraId: cam.cameraId, id: cam.id, status: "offline", lastSeen: expect.any(String), at: expect.any(String) }));
		expect(await audits("camera.offline")).toEqual([expect.objectContaining({ severity: "warning" })]);
		expect(await offlineAlerts()).toHaveLength(0);

		// Offline longer than the alert delay: one alert in the store, announced once.
		const alert = await until("the offline alert", offlineAlerts, a => a.length > 0, ALERT_S * 1000 + 5000);
		expect(alert).toEqual([expect.objectContaining({ level: "high", type: "camera_offline", cause: `camera:${cam.cameraId}:offline`, cameraId: cam.cameraId, resolved: false, acknowledged: false, count: 1 })]);
		const raised = events("alerts.raised");
		expect(raised).toHaveLength(1);
		expect(raised[0].params).toEqual(expect.objectContaining({ id: alert[0].id, details: expect.objectContaining({ id: cam.id, since: expect.any(String) }) }));
		const since = new Date(raised[0].params.details.since).getTime();
		expect(raised[0].at - since).toBeGreaterThanOrEqual(ALERT_S * 1000);
		expect(raised[0].at - since).toBeLessThan(ALERT_S * 1000 + 1500);
		// Once per outage.
		await new Promise(r => setTimeout(r, ALERT_S * 1000 + 1000));
		expect(events("alerts.raised")).toHaveLength(1);
		expect(await offlineAlerts()).toEqual([expect.objectContaining({ id: alert[0].id, count: 1, resolved: false })]);

		// The camera comes back (restarted): the actor reconnects with its backoff.
		await rtsp.kill();
		await rtsp.start();
		await until("the camera online again", health, d => d.status === "online", 40_000);
		expect(await audits("camera.online")).toHaveLength(2);
		// Back online: the alert's cause has passed.
		await until("the offline alert resolved", offlineAlerts, a => a.length === 1 && a[0].resolved === true, 5000);
		const state = await actorState();
		expect(state.connects).toBeGreaterThanOrEqual(2);
		// The outage counts as observed, not online.
		expect(state.uptime.observedMs - state.uptime.onlineMs).toBeGreaterThan(2 * ALERT_S * 1000);
	}, 90_000);

	it("restarts the actor when what it opens changes, not on a rename; stops it within a sampling interval when disabled or deleted", async () => {
		const before = await actorState();
		// A rename: the same actor goes on.
		expect((await call(node, `/cameras/${cam.id}`, { method: "PUT", token: admin, body: { name: "Gate (north)", version: await version() } })).status).toBe(200);
		await new Promise(r => setTimeout(r, 1000));
		expect((await actorState()).token).toBe(before.token);

		// A new sampling interval: a new actor (a new lease token), at once.
		const edited = await call(node, `/cameras/${cam.id}`, { method: "PUT", token: admin, body: { sampleInterval: 2, version: await version() } });
		expect(edited.status).toBe(200);
		const tEdit = Date.now();
		const restarted = await until("the actor restarted", actorState, s => s.sampleInterval === 2, 5000);
		expect(Date.now() - tEdit).toBeLessThan(1000); // the old interval
		expect(restarted.token).toBeGreaterThan(before.token);
		// The day's uptime goes on from where the stopped actor left it.
		expect(restarted.uptime.day).toBe(before.uptime.day);
		expect(restarted.uptime.observedMs).toBeGreaterThan(before.uptime.observedMs);
		await until("online after the restart", actorState, s => s.status === "online", 10_000);

		// Disabled: gone within one sampling interval (2 s now), and not adopted again.
		expect((await call(node, `/cameras/${cam.id}/state`, { method: "PATCH", token: admin, body: { enabled: false } })).status).toBe(200);
		const tOff = Date.now();
		await until("the actor gone", running, r => !r, 5000);
		expect(Date.now() - tOff).toBeLessThan(2000);
		await new Promise(r => setTimeout(r, 1500));
		expect(running()).toBe(false);
		expect((await health()).monitoredBy).toBeNull();

		// Enabled again, then deleted: gone within a sampling interval too.
		await call(node, `/cameras/${cam.id}/state`, { method: "PATCH", token: admin, body: { enabled: true } });
		await until("the actor running again", running, r => r, 5000);
		expect((await call(node, `/cameras/${cam.id}`, { method: "DELETE", token: admin })).status).toBe(204);
		const tDel = Date.now();
		await until("the actor gone after the delete", running, r => !r, 5000);
		expect(Date.now() - tDel).toBeLessThan(2000);
		expect(((await node.broker.call("monitors.load")) as { monitors: number }).monitors).toBe(0);
	}, 60_000);
});
