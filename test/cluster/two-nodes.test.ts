/**
 * Two processes over the real NATS: a gateway-only node serves a request whose action
 * runs on the other node; when that node dies, health turns degraded.
 */
import { api } from "../support/node";
import { natsReachable, NATS_URL, spawnNode, type NodeProcess } from "../support/cluster";

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let last = await fn();
	while (!ok(last) && Date.now() < deadline) {
		await new Promise(r => setTimeout(r, 200));
		last = await fn();
	}
	return last;
}

describe("cluster over NATS", () => {
	const namespace = `t${process.pid}${Date.now().toString(36)}`;
	const nodes: NodeProcess[] = [];
	afterAll(async () => {
		await Promise.all(nodes.map(n => n.stop("SIGKILL")));
	});

	it("serves a request through a gateway-only node from an actors node, and turns degraded when it dies", async () => {
		if (!(await natsReachable())) throw new Error(`NATS is not reachable at ${NATS_URL}: start it (see README, .ci/run)`);
		const common = { TRANSPORTER: NATS_URL, NAMESPACE: namespace };
		const gateway = await spawnNode(`gw-${namespace}`, { ...common, SERVICES: "gateway,storage" });
		nodes.push(gateway);
		const actors = await spawnNode(`actors-${namespace}`, { ...common, SERVICES: "actors" });
		nodes.push(actors);

		const served = await until(
			() => api(gateway.baseUrl, "/recognition/sessions"),
			r => r.status === 200,
			15_000
		);
		expect(served.status).toBe(200);
		expect(served.body).toEqual({ status: 200, message: "Active sessions retrieved successfully", data: [] });
		// The action ran in the other process: the gateway node has no `recognition` service.
		expect(actors.logs.some(l => /Service 'recognition' started/.test(l))).toBe(true);
		expect(gateway.logs.some(l => /Service 'recognition' started/.test(l))).toBe(false);

		const healthy = await api(gateway.baseUrl, "/health", { key: null });
		expect(healthy.body.data.components.actors).toBe("up");

		await actors.stop("SIGKILL");
		const degraded = await until(
			() => api(gateway.baseUrl, "/health", { key: null }),
			r => r.body?.data?.components?.actors === "down",
			20_000
		);
		expect(degraded.status).toBe(200);
		expect(degraded.body.data.status).toBe("degraded");
		expect(degraded.body.data.components.actors).toBe("down");
		const unavailable = await api(gateway.baseUrl, "/recognition/sessions");
		expect(unavailable.status).toBe(503);
		expect(unavailable.body.code).toBe("SERVICE_UNAVAILABLE");
	}, 120_000);
});
