/**
 * Camera monitors in a real cluster: separate node processes (gateway + storage, two actors
 * nodes) over the real NATS and a real RTSP stream. An enabled camera's monitor runs on one
 * actors node; after kill -9 of that node it runs again on the other once the lease ends
 * (ACTOR_LEASE_MS, shortened), with a new fencing token, and keeps reporting the camera's
 * state; operators move it to a fresh node and drain that node again (REPL move-monitor,
 * drain), a node stopped with SIGTERM hands it over first, and `actors` / `cluster` show it.
 */
import fs from "node:fs";
import type { ServiceBroker } from "moleculer";
import { loadConfig } from "../../config";
import { createNode } from "../../services";
import { clusterActors, clusterNodes, drainNode, moveMonitor } from "../../lib/cluster/operator";
import { natsReachable, NATS_URL, spawnNode, type NodeProcess } from "../support/cluster";
import { TEST_API_KEY, tempDir } from "../support/node";
import { describeWithRtsp, startRtspServer, type RtspServer } from "../support/rtsp";
import { until } from "../support/until";

const LEASE_MS = 3000;

describeWithRtsp("camera monitors in a cluster over NATS", () => {
	const namespace = `m${process.pid}${Date.now().toString(36)}`;
	const common = { TRANSPORTER: NATS_URL, NAMESPACE: namespace, ACTOR_LEASE_MS: String(LEASE_MS), ACTOR_PLACEMENT_MS: "500", MONITOR_REPORT_MS: "500", CAMERA_READ_TIMEOUT: "3000" };
	const nodes = new Map<string, NodeProcess>();
	let client: ServiceBroker;
	let rtsp: RtspServer;
	let work: string;
	let cameraId: number;

	const id = (name: string) => `${name}-${namespace}`;
	const spawn = async (name: string, services: string) => {
		const n = await spawnNode(id(name), { ...common, SERVICES: services });
		nodes.set(name, n);
		return n;
	};
	const monitorRow = async () => (await clusterActors(client)).find(r => r.kind === "monitor" && r.cameraId === cameraId) ?? null;
	const health = () => client.call<Record<string, any>, object>("cameras.liveState", { id: String(cameraId) });

	beforeAll(async () => {
		if (!(await natsReachable())) throw new Error(`NATS is not reachable at ${NATS_URL}: start it (see README, .ci/run)`);
		work = tempDir("rollcall-cluster-monitors-");
		rtsp = await startRtspServer({ live: { "/cam": { width: 640, height: 360, fps: 25, keyint: 25 } } });
		await spawn("gw", "gateway,storage");
		await spawn("a1", "actors");
		await spawn("a2", "actors");
		const cfg = loadConfig({ ...common, API_KEY: TEST_API_KEY, NODE_ID: `client-${namespace}`, METRICS_PORT: "off", LOG_LEVEL: "warn", DATA_DIR: work });
		client = createNode({ ...cfg, roles: [] });
		await client.start();
		await client.waitForServices(["cameras", "monitors", "audit"], 60_000);
		await until("both actors nodes known", async () => (client.registry.getServiceList({ onlyAvailable: true }) as unknown as { name: string }[]).filter(s => s.name === "monitors").length, n => n === 2, 30_000);
	}, 240_000);

	afterAll(async () => {
		await client?.stop();
		await Promise.all([...nodes.values()].map(n => n.stop("SIGKILL")));
		await rtsp?.stop();
		if (work) fs.rmSync(work, { recursive: true, force: true });
	});

	it("runs an enabled camera's monitor on one actors node, and again on the other after kill -9 of it", async () => {
		const cam = await client.call<{ id: string; cameraId: number }, object>("cameras.create", { name: "Yard", location: "Outside", streamType: "RTSP", streamUrl: rtsp.url("/cam", "viewer:pw"), enabled: true, sampleInterval: 1 });
		cameraId = cam.cameraId;
		const first = await until("the monitor online on an actors node", monitorRow, r => r?.status === "online", 30_000);
		expect([id("a1"), id("a2")]).toContain(first!.nodeID);
		expect(await health()).toMatchObject({ status: "online", monitoredBy: first!.nodeID, resolution: "640x360" });
		// `cluster` in the REPL: one monitor on that node, none on the other.
		const rows = await clusterNodes(client);
		expect(rows.find(n => n.nodeID === first!.nodeID)).toMatchObject({ roles: "actors", monitors: 1, sessions: 0 });
		expect(rows.find(n => n.nodeID !== first!.nodeID && n.roles === "actors")).toMatchObject({ monitors: 0 });

		const victim = [...nodes.entries()].find(([, n]) => n.name === first!.nodeID)!;
		const killedAt = Date.now();
		await victim[1].stop("SIGKILL");
		nodes.delete(victim[0]);
		const survivor = first!.nodeID === id("a1") ? id("a2") : id("a1");
		// Asked of the registry (the storage node): the dead node's own answers would wait for its heartbeat timeout.
		await until("the camera monitored by the surviving node", health, h => h.monitoredBy === survivor, 30_000);
		const adopted = await nodes.get(survivor === id("a1") ? "a1" : "a2")!.waitForLog(new RegExp(`"message":"Monitor adopted".*"cameraId":${cameraId}\\b`), 10_000);
		const tookMs = new Date(JSON.parse(adopted).timestamp).getTime() - killedAt;
		console.log(`monitor failover: adopted on ${survivor} ${tookMs} ms after kill -9 (lease ${LEASE_MS} ms)`);
		const next = await until("the monitor online on the surviving node", monitorRow, r => r?.nodeID === survivor && r.status === "online", 30_000);
		// The lease had to end first (a dead owner gives nothing up), then a placement pass.
		expect(tookMs).toBeGreaterThanOrEqual(LEASE_MS - 1000);
		expect(tookMs).toBeLessThan(LEASE_MS + 10_000);
		expect(next!.token).toBeGreaterThan(first!.token);
		// The new owner reports under its own token.
		const checked = new Date((await health()).lastChecked).getTime();
		await until("state reported by the new owner", health, h => h.monitoredBy === survivor && new Date(h.lastChecked).getTime() > checked && h.status === "online", 10_000);
	}, 90_000);

	it("moves the monitor to another node on request, drains it off again, and hands it over on SIGTERM", async () => {
		const from = (await monitorRow())!.nodeID;
		const fresh = await spawn("a3", "actors");
		await until("a3 known to the client", async () => (client.registry.getServiceList({ onlyAvailable: true }) as unknown as { name: string; nodeID: string }[]).some(s => s.name === "monitors" && s.nodeID === fresh.name), ok => ok, 30_000);
		// What the REPL's `move-monitor <cameraId> <nodeID>` runs.
		const moved = await moveMonitor(client, cameraId, fresh.name);
		expect(moved).toMatchObject({ cameraId, from, to: fresh.name });
		expect(moved.gapMs).toBeLessThan(2000);
		await until("the monitor online on the new node", monitorRow, r => r?.nodeID === fresh.name && r.status === "online", 15_000);
		expect(await client.call("audit.find", { query: { action: "monitor.moved", cameraId } })).toHaveLength(1);

		// What the REPL's `drain <nodeID>` runs: sessions (none here), then monitors.
		const drained = await drainNode(client, fresh.name);
		expect(drained.monitors).toEqual({ moved: [expect.objectContaining({ cameraId, to: from })], kept: [] });
		await until("the monitor back on the other node", monitorRow, r => r?.nodeID === from && r.status === "online", 15_000);

		// SIGTERM on the owner: it drains first, so the monitor is on another node before it stops
		// (a new one: a drained node takes no new monitors).
		const another = await spawn("a4", "actors");
		await until("a4 known to the owner's cluster", async () => (client.registry.getServiceList({ onlyAvailable: true }) as unknown as { name: string; nodeID: string }[]).some(s => s.name === "monitors" && s.nodeID === another.name), ok => ok, 30_000);
		await new Promise(r => setTimeout(r, 1000));
		const owner = [...nodes.values()].find(n => n.name === from)!;
		expect(await owner.stop("SIGTERM")).toBe(0);
		expect(owner.logs).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`"message":"Drained before stopping","nodeID":"[^"]+","service":"broker","of":"monitors","moved":\\[\\{"cameraId":${cameraId},"to":"${another.name}"`))]));
		await until("the monitor on the new node after SIGTERM", monitorRow, r => r?.nodeID === another.name && r.status === "online", 15_000);
	}, 90_000);
});
