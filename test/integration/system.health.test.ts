/**
 * System health over the console's HTTP routes on two real nodes over the real NATS (a
 * gateway + storage node and an actors node): each node samples itself into a bounded
 * history that the gateway collects; the registry's services with their nodes and uptime;
 * network round trips; uptime and version; a restart of a service, administrators only and
 * audited; the Kubernetes probes, ready and (on a gateway without its stores) not ready.
 */
import pkg from "../../package.json";
import { natsReachable, NATS_URL } from "../support/cluster";
import { ADMIN, CONSOLE_ENV, accountOf, call, login } from "../support/console";
import { startNode, type TestNode } from "../support/node";
import { until } from "../support/until";

describe("system health", () => {
	const namespace = `sh${process.pid}${Date.now().toString(36)}`;
	let gw: TestNode;
	let actors: TestNode;
	let lonely: TestNode | null = null;
	let admin: string;
	let viewer: { token: string };
	let operator: { token: string };
	const root = (n: TestNode) => n.baseUrl.replace(/\/api\/v1$/, "");
	const nodeHealthNodes = () => new Set((gw.broker.registry.getServiceList({ onlyAvailable: true }) as { name: string; nodeID: string }[]).filter(s => s.name === "nodeHealth").map(s => s.nodeID));

	beforeAll(async () => {
		if (!(await natsReachable())) throw new Error(`NATS is not reachable at ${NATS_URL}: start it (see README, .ci/run)`);
		const common = { TRANSPORTER: NATS_URL, NAMESPACE: namespace, HEALTH_SAMPLE_MS: "200", HEALTH_HISTORY: "3" };
		gw = await startNode({ ...CONSOLE_ENV, ...common, SERVICES: "gateway,storage", RATE_LIMIT_PER_MINUTE: "0" });
		actors = await startNode({ ...common, SERVICES: "actors" });
		await until("both samplers seen by the gateway", () => nodeHealthNodes().size, n => n === 2, 15_000);
		await gw.broker.waitForServices(["recognition", "monitors"], 15_000);
		admin = (await login(gw, ADMIN.email, ADMIN.password)).accessToken;
		viewer = await accountOf(gw, admin, "ROLE-VIEWER", "viewer@health.test");
		operator = await accountOf(gw, admin, "ROLE-OPERATOR", "operator@health.test");
	}, 60_000);
	afterAll(async () => {
		await lonely?.stop();
		await actors?.stop();
		await gw?.stop();
	});

	it("collects every node's own samples, in a bounded history", async () => {
		// Three samples 200 ms apart fill the history of three; later ones push the oldest out.
		await new Promise(r => setTimeout(r, 1200));
		const r = await call(gw, "/system/health/metrics", { token: viewer.token });
		expect(r.status).toBe(200);
		expect(r.body.data.sampleMs).toBe(200);
		const nodes = r.body.data.nodes as any[];
		expect(nodes.map(n => n.nodeID).sort()).toEqual([gw.broker.nodeID, actors.broker.nodeID].sort());
		for (const n of nodes) {
			expect(n.available).toBe(true);
			expect(n.history).toHaveLength(3);
			const times = n.history.map((s: any) => Date.parse(s.timestamp));
			expect(times).toEqual([...times].sort((a, b) => a - b));
			expect(n.latest).toEqual(n.history[2]);
			expect(n.latest.cpu).toEqual(expect.objectContaining({ cores: expect.any(Number), loadAverage: expect.any(Array) }));
			expect(n.latest.cpu.usedPercent).toBeGreaterThanOrEqual(0);
			expect(n.latest.cpu.usedPercent).toBeLessThanOrEqual(100);
			expect(n.latest.memory.totalBytes).toBeGreaterThan(n.latest.memory.freeBytes);
			expect(n.latest.memory.processRssBytes).toBeGreaterThan(0);
			expect(n.latest.disk.totalBytes).toBeGreaterThan(0);
			expect(n.latest.network.interfaces).toEqual(expect.any(Array));
		}
		expect(nodes.find(n => n.nodeID === actors.broker.nodeID).roles).toEqual(["actors"]);
		// Later: still three, newer ones.
		await new Promise(r => setTimeout(r, 500));
		const later = (await call(gw, "/system/health/metrics?limit=2", { token: viewer.token })).body.data.nodes.find((n: any) => n.nodeID === actors.broker.nodeID);
		expect(later.history).toHaveLength(2);
		expect(Date.parse(later.latest.timestamp)).toBeGreaterThan(Date.parse(nodes.find(n => n.nodeID === actors.broker.nodeID).latest.timestamp));
		// Each sample is kept in the system metrics store too, the actors node's included.
		const kept = await gw.broker.call<any[], object>("systemMetrics.history", { nodeID: actors.broker.nodeID, limit: 100 });
		expect(kept.length).toBeGreaterThanOrEqual(3);
		expect(kept[0]).toEqual(expect.objectContaining({ nodeID: actors.broker.nodeID, memory: expect.objectContaining({ totalBytes: expect.any(Number) }) }));
	});

	it("lists every service with its nodes, status, version and uptime from the registry", async () => {
		const r = await call(gw, "/system/health/services", { token: viewer.token });
		expect(r.status).toBe(200);
		const byName = new Map((r.body.data.services as any[]).map(s => [s.name, s]));
		expect(byName.get("recognition")).toEqual(expect.objectContaining({ status: "running", version: pkg.version, instances: 1, available: 1, nodes: [expect.objectContaining({ nodeID: actors.broker.nodeID, available: true, uptimeSeconds: expect.any(Number) })] }));
		expect(byName.get("detections").nodes.map((n: any) => n.nodeID)).toEqual([gw.broker.nodeID]);
		expect(byName.get("nodeHealth").instances).toBe(2);
		expect([...byName.keys()].some(k => k.startsWith("$"))).toBe(false);
		expect(r.body.data.nodes.map((n: any) => n.nodeID).sort()).toEqual([gw.broker.nodeID, actors.broker.nodeID].sort());
	});

	it("answers network metrics, uptime and version for every node", async () => {
		const net = await call(gw, "/system/network-metrics", { token: viewer.token });
		expect(net.status).toBe(200);
		expect(net.body.data.transporter).toBe("nats");
		const remote = net.body.data.nodes.find((n: any) => n.nodeID === actors.broker.nodeID);
		expect(remote).toEqual(expect.objectContaining({ available: true, local: false, roundTripMs: expect.any(Number), network: expect.objectContaining({ interfaces: expect.any(Array) }) }));
		expect(net.body.data.nodes.find((n: any) => n.nodeID === gw.broker.nodeID)).toEqual(expect.objectContaining({ local: true, roundTripMs: 0 }));

		const up = await call(gw, "/system/uptime", { token: viewer.token });
		expect(up.body.data).toEqual(expect.objectContaining({ nodeID: gw.broker.nodeID, uptimeSeconds: expect.any(Number), cluster: expect.objectContaining({ nodes: 2, available: 2 }) }));
		expect(up.body.data.nodes).toHaveLength(2);

		const v = await call(gw, "/system/version", { token: viewer.token });
		expect(v.body.data).toEqual(expect.objectContaining({ name: pkg.name, version: pkg.version, node: process.version, moleculer: expect.stringMatching(/^0\.15\./) }));
		expect(v.body.data.nodes.map((n: any) => n.version)).toEqual([pkg.version, pkg.version]);
	});

	it("restarts a service on its nodes, for administrators only, audited", async () => {
		expect((await call(gw, "/system/services/detections/restart", { method: "POST", token: operator.token })).status).toBe(403);
		const before = (await call(gw, "/system/health/services", { token: admin })).body.data.services.find((s: any) => s.name === "detections").nodes[0].startedAt;

		const r = await call(gw, "/system/services/detections/restart", { method: "POST", token: admin });
		expect(r.status).toBe(200);
		expect(r.body.data).toEqual({ service: "detections", nodes: [expect.objectContaining({ nodeID: gw.broker.nodeID, service: "detections", moved: 0, kept: 0, ms: expect.any(Number) })] });
		// The new instance serves, and says it started just now.
		expect((await call(gw, "/detections", { token: admin })).status).toBe(200);
		const after = (await call(gw, "/system/health/services", { token: admin })).body.data.services.find((s: any) => s.name === "detections").nodes[0].startedAt;
		expect(Date.parse(after)).toBeGreaterThan(Date.parse(before));

		// An actors service on the other node (it runs no actors here: nothing to hand off).
		const rec = await call(gw, "/system/services/recognition/restart", { method: "POST", token: admin });
		expect(rec.status).toBe(200);
		expect(rec.body.data.nodes).toEqual([expect.objectContaining({ nodeID: actors.broker.nodeID, moved: 0 })]);
		await until("recognition back in the registry", () => gw.broker.registry.getServiceList({ onlyAvailable: true }).some((s: any) => s.name === "recognition"), v => v, 10_000);

		const unknown = await call(gw, "/system/services/nowhere/restart", { method: "POST", token: admin });
		expect({ status: unknown.status, code: unknown.body.error.code }).toEqual({ status: 404, code: "SERVICE_NOT_FOUND" });
		const itself = await call(gw, "/system/services/api/restart", { method: "POST", token: admin });
		expect({ status: itself.status, code: itself.body.error.code }).toEqual({ status: 409, code: "SERVICE_NOT_RESTARTABLE" });

		const audit = await call(gw, "/audit?action=health.restartService", { token: admin });
		const ok = (audit.body.data as any[]).filter(d => d.outcome === "success");
		expect(ok.map(d => d.resourceId).sort()).toEqual(["detections", "recognition"]);
		expect(ok.every(d => d.resourceType === "service" && d.actor === ADMIN.email)).toBe(true);
	});

	it("answers the Kubernetes probes: live, ready, and not ready without the stores", async () => {
		const live = await fetch(`${root(gw)}/health/live`);
		expect(live.status).toBe(200);
		expect(await live.json()).toEqual(expect.objectContaining({ status: "alive", nodeID: gw.broker.nodeID }));
		const ready = await fetch(`${root(gw)}/health/ready`);
		expect(ready.status).toBe(200);
		expect(await ready.json()).toEqual(expect.objectContaining({ status: "ready", failures: [], checks: expect.objectContaining({ broker: true }) }));

		// A gateway alone in its namespace: alive, not ready.
		lonely = await startNode({ SERVICES: "gateway", TRANSPORTER: NATS_URL, NAMESPACE: `${namespace}x` });
		expect((await fetch(`${root(lonely)}/health/live`)).status).toBe(200);
		const notReady = await fetch(`${root(lonely)}/health/ready`);
		expect(notReady.status).toBe(503);
		const body = (await notReady.json()) as { status: string; failures: string[] };
		expect(body.status).toBe("not_ready");
		expect(body.failures).toEqual(expect.arrayContaining(["store sessions: unreachable", "service auth: not available"]));
		// The FUACS health beside them is as it was.
		const fuacs = await fetch(`${lonely.baseUrl}/health`);
		expect(fuacs.status).toBe(503);
		expect(((await fuacs.json()) as { data: { status: string } }).data.status).toBe("unhealthy");
	}, 30_000);
});
