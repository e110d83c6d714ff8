/**
 * The console's cluster routes over a real two-node cluster on the real NATS: node A runs
 * gateway, storage, actors and inference, node B runs actors; a recognition session started
 * on the FUACS route with a real RTSP camera, and a console camera watched by its monitor.
 * GET /system/actors shows each node's actors with their scan lag and the inference queues;
 * an administrator moves the session and the monitor, drains a node, is refused with the
 * documented codes (unknown node, not an actors node, no other node to take them), undrains;
 * a Viewer reads but may not act; every operation is audited.
 */
import type { ServiceBroker } from "moleculer";
import { loadConfig } from "../../config";
import { createNode } from "../../services";
import { ADMIN, CONSOLE_ENV, accountOf, call, login } from "../support/console";
import { natsReachable, NATS_URL, spawnNode, type NodeProcess } from "../support/cluster";
import { startJavaBackend, type JavaBackend } from "../support/java-backend";
import { api, TEST_API_KEY, tempDir } from "../support/node";
import { describeWithRtsp, startRtspServer, type RtspServer } from "../support/rtsp";
import { until } from "../support/until";

const SLOT = 5151;

/** A unit vector that stands for an enrolled student nobody in the stream matches. */
function embedding(seed: number): number[] {
	const v = Array.from({ length: 512 }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5);
	const n = Math.hypot(...v);
	return v.map(x => x / n);
}

interface ActorRow {
	kind: string;
	id: number;
	slotId: number | null;
	cameraId: number | null;
	lagMs: number | null;
	since: string | null;
	status: string;
}
interface NodeRow {
	nodeID: string;
	roles: string[];
	actorsNode: boolean;
	draining: boolean | null;
	actors: ActorRow[];
}

describeWithRtsp("console: the cluster's actors, move and drain (two nodes over NATS)", () => {
	const namespace = `ca${process.pid}${Date.now().toString(36)}`;
	const common = { TRANSPORTER: NATS_URL, NAMESPACE: namespace, ACTOR_LEASE_MS: "4000", ACTOR_PLACEMENT_MS: "500", INFERENCE_WORKERS: "1", JWT_SECRET: "console-actors-test-secret-0123456789", ...CONSOLE_ENV };
	let a: NodeProcess;
	let b: NodeProcess;
	let client: ServiceBroker;
	let rtsp: RtspServer;
	let backend: JavaBackend;
	let admin: string;
	let viewer: string;

	const view = async (): Promise<{ nodes: NodeRow[]; inference: { nodeID: string; running: number | null; waiting: number | null; engines: number | null }[] }> => {
		const r = await call(a, "/system/actors", { token: admin });
		if (r.status !== 200) throw new Error(`GET /system/actors answered ${r.status}: ${JSON.stringify(r.body)}`);
		return r.body.data;
	};
	const where = async (kind: string, id: number) => (await view()).nodes.find(n => n.actors.some(x => x.kind === kind && x.id === id))?.nodeID ?? null;
	const other = (nodeID: string | null) => (nodeID === a.name ? b.name : a.name);

	beforeAll(async () => {
		if (!(await natsReachable())) throw new Error(`NATS is not reachable at ${NATS_URL}: start it (see README, .ci/run)`);
		rtsp = await startRtspServer({ live: { "/room": { width: 320, height: 240, fps: 10 }, "/door": { width: 320, height: 240, fps: 5 } } });
		backend = await startJavaBackend();
		[a, b] = await Promise.all([spawnNode(`A-${namespace}`, { ...common, SERVICES: "gateway,storage,actors,inference" }), spawnNode(`B-${namespace}`, { ...common, SERVICES: "actors" })]);
		// A broker without services in the cluster: a live node that is no actors node.
		const cfg = loadConfig({ ...common, API_KEY: TEST_API_KEY, NODE_ID: `client-${namespace}`, METRICS_PORT: "off", LOG_LEVEL: "warn", DATA_DIR: tempDir("rollcall-console-actors-") });
		client = createNode({ ...cfg, roles: [] });
		await client.start();
		await client.waitForServices(["api", "sessions", "inference"], 120_000);
		await until("both actors nodes known to the gateway", async () => (await api(a.baseUrl, "/health", { key: null })).body?.data?.status, s => s === "healthy", 60_000);
		admin = (await login(a, ADMIN.email, ADMIN.password)).accessToken;
		await until("both actors nodes listed", view, v => v.nodes.filter(n => n.actorsNode).length === 2, 60_000);
		viewer = (await accountOf(a, admin, "ROLE-VIEWER", "viewer@actors.test")).token;
	}, 240_000);

	afterAll(async () => {
		await client?.stop();
		await Promise.all([a, b].filter(Boolean).map(n => n.stop("SIGKILL")));
		await rtsp?.stop();
		await backend?.close();
	});

	it("lists each node with its roles and actors (the session and its camera stream with scan lag), and the inference queues", async () => {
		const start = await api(a.baseUrl, "/recognition/process-session", {
			body: { slotId: SLOT, roomId: 1, students: [{ userId: 1, fullName: "Nobody Here", rollNumber: "N1", embeddingVector: embedding(11), embeddingVersion: 1 }], cameras: [{ id: 1, name: "A101-01", rtspUrl: rtsp.url("/room") }], config: { similarityThreshold: 0.85, scanInterval: 1, callbackUrl: backend.url } }
		});
		expect(start.status).toBe(200);
		// The camera actor has scanned (frames analysed, a measured lag).
		const v = await until("the session's camera scanning", view, x => x.nodes.some(n => n.actors.some(r => r.kind === "camera" && r.slotId === SLOT && r.status === "connected" && (r as unknown as { frames: number }).frames > 0)), 90_000);
		const owner = v.nodes.find(n => n.actors.some(r => r.kind === "session" && r.id === SLOT))!;
		expect([a.name, b.name]).toContain(owner.nodeID);
		expect(owner.actors).toEqual(
			expect.arrayContaining([
				expect.objectContaining({ kind: "session", id: SLOT, slotId: SLOT, since: expect.stringMatching(/Z$/) }),
				expect.objectContaining({ kind: "camera", id: SLOT, slotId: SLOT, cameraId: 1, lagMs: expect.any(Number) })
			])
		);
		const nodeA = v.nodes.find(n => n.nodeID === a.name)!;
		expect(nodeA.roles).toEqual(["actors", "gateway", "inference", "storage"]);
		expect(v.nodes.find(n => n.nodeID === b.name)).toMatchObject({ roles: ["actors"], actorsNode: true, draining: false });
		expect(v.nodes.map(n => n.nodeID)).not.toContain(client.nodeID);
		expect(v.inference).toEqual([expect.objectContaining({ nodeID: a.name, engines: 1, running: expect.any(Number), waiting: expect.any(Number) })]);
		// A Viewer reads it too.
		expect((await call(a, "/system/actors", { token: viewer })).status).toBe(200);
	}, 150_000);

	it("moves the session to the node named, and a camera's monitor to the node placement picks", async () => {
		const from = await where("session", SLOT);
		const to = other(from);
		const moved = await call(a, `/system/actors/session/${SLOT}/move`, { token: admin, body: { toNode: to } });
		expect(moved.status).toBe(200);
		expect(moved.body.data).toEqual({ kind: "session", id: SLOT, from, to, gapMs: expect.any(Number), token: expect.any(Number) });
		expect(await where("session", SLOT)).toBe(to);
		expect(await where("camera", SLOT)).toBe(to);

		// A console camera, watched by its monitor actor.
		const cam = await call(a, "/cameras", { token: admin, body: { name: "Door", streamUrl: rtsp.url("/door") } });
		expect(cam.status).toBe(201);
		const v = await until("the door's monitor running", view, x => x.nodes.some(n => n.actors.some(r => r.kind === "monitor")), 60_000);
		const monitor = v.nodes.flatMap(n => n.actors.map(r => ({ ...r, nodeID: n.nodeID }))).find(r => r.kind === "monitor")!;
		const r = await call(a, `/system/actors/monitor/${monitor.id}/move`, { token: admin, body: {} });
		expect(r.status).toBe(200);
		expect(r.body.data).toMatchObject({ kind: "monitor", id: monitor.id, from: monitor.nodeID, to: other(monitor.nodeID) });
		expect(await where("monitor", monitor.id)).toBe(other(monitor.nodeID));

		const audit = (await call(a, "/audit?resource=actor", { token: admin })).body.data;
		expect(audit).toEqual(
			expect.arrayContaining([
				expect.objectContaining({ resourceId: `session:${SLOT}`, actor: ADMIN.email, outcome: "success" }),
				expect.objectContaining({ resourceId: `monitor:${monitor.id}`, actor: ADMIN.email, outcome: "success" })
			])
		);
	}, 120_000);

	it("refuses with documented codes: unknown node, not an actors node, unknown session, unknown kind; a Viewer is refused", async () => {
		const cases: [string, unknown, number, string][] = [
			[`/system/nodes/no-such-node/drain`, {}, 404, "NODE_NOT_FOUND"],
			[`/system/nodes/${client.nodeID}/drain`, {}, 409, "NOT_ACTORS_NODE"],
			[`/system/actors/session/${SLOT}/move`, { toNode: "no-such-node" }, 404, "NODE_NOT_FOUND"],
			[`/system/actors/session/${SLOT}/move`, { toNode: client.nodeID }, 409, "NOT_ACTORS_NODE"],
			[`/system/actors/session/999/move`, {}, 404, "SESSION_NOT_FOUND"],
			[`/system/actors/camera/1/move`, {}, 400, "VALIDATION_ERROR"]
		];
		for (const [route, body, status, code] of cases) {
			const r = await call(a, route, { token: admin, body });
			expect({ route, status: r.status, code: r.body?.error?.code }).toEqual({ route, status, code });
		}
		for (const route of [`/system/nodes/${b.name}/drain`, `/system/actors/session/${SLOT}/move`, `/system/nodes/${b.name}/undrain`]) {
			const r = await call(a, route, { token: viewer, body: {} });
			expect({ route, status: r.status, code: r.body?.error?.code }).toEqual({ route, status: 403, code: "FORBIDDEN" });
		}
		expect((await view()).nodes.find(n => n.nodeID === b.name)!.draining).toBe(false);
	}, 60_000);

	it("drains the session's node: everything moves to the other, which may then not be drained nor receive; undrain takes it back", async () => {
		const drainee = (await where("session", SLOT))!;
		const survivor = other(drainee);
		const monitorsOnDrainee = (await view()).nodes.find(n => n.nodeID === drainee)!.actors.filter(x => x.kind === "monitor").length;
		const r = await call(a, `/system/nodes/${drainee}/drain`, { token: admin, body: {} });
		expect(r.status).toBe(200);
		expect(r.body.data).toMatchObject({ nodeID: drainee, moved: [expect.objectContaining({ slotId: SLOT, to: survivor })], kept: [] });
		const v = await view();
		expect(v.nodes.find(n => n.nodeID === drainee)).toMatchObject({ draining: true, actors: [] });
		expect(v.nodes.find(n => n.nodeID === survivor)!.actors.map(x => x.kind).sort()).toEqual(["camera", "monitor", "session"]);
		// Scanning goes on on the survivor.
		await until("the camera scanning on the survivor", view, x => x.nodes.find(n => n.nodeID === survivor)!.actors.some(c => c.kind === "camera" && c.status === "connected" && (c as unknown as { frames: number }).frames > 0), 60_000);

		// The survivor is the only node taking actors: it is not drained, nothing moves off it.
		const refused = await call(a, `/system/nodes/${survivor}/drain`, { token: admin, body: {} });
		expect({ status: refused.status, code: refused.body.error?.code }).toEqual({ status: 409, code: "NO_TARGET_NODE" });
		const nowhere = await call(a, `/system/actors/session/${SLOT}/move`, { token: admin, body: {} });
		expect({ status: nowhere.status, code: nowhere.body.error?.code }).toEqual({ status: 409, code: "NO_TARGET_NODE" });
		const toDrained = await call(a, `/system/actors/session/${SLOT}/move`, { token: admin, body: { toNode: drainee } });
		expect({ status: toDrained.status, code: toDrained.body.error?.code }).toEqual({ status: 409, code: "NODE_DRAINING" });
		expect(await where("session", SLOT)).toBe(survivor);

		const back = await call(a, `/system/nodes/${drainee}/undrain`, { token: admin, body: {} });
		expect(back.status).toBe(200);
		expect(back.body.data).toEqual({ nodeID: drainee, draining: false });
		expect((await view()).nodes.find(n => n.nodeID === drainee)!.draining).toBe(false);
		// Placement's pick among the others is the undrained node now.
		const moved = await call(a, `/system/actors/session/${SLOT}/move`, { token: admin, body: {} });
		expect(moved.status).toBe(200);
		expect(moved.body.data).toMatchObject({ from: survivor, to: drainee });

		const audit = (await call(a, "/audit?resource=node", { token: admin })).body.data;
		expect(audit).toEqual(
			expect.arrayContaining([
				expect.objectContaining({ resourceId: drainee, actor: ADMIN.email, message: `Drained ${drainee}: 1 session(s) and ${monitorsOnDrainee} monitor(s) moved, 0 kept` }),
				expect.objectContaining({ resourceId: drainee, actor: ADMIN.email, message: `${drainee} takes actors again` })
			])
		);
	}, 120_000);
});
