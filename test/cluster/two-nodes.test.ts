/**
 * Nodes with roles over the real NATS: a gateway-only node serves a request whose action runs
 * on another node; health is healthy while every role is reachable, turns degraded when the
 * actors + inference node dies, and unhealthy (503) when the storage node dies too.
 */
import { api } from "../support/node";
import { natsReachable, NATS_URL, spawnNode, type NodeProcess } from "../support/cluster";
import { until } from "../support/until";

describe("cluster over NATS", () => {
	const namespace = `t${process.pid}${Date.now().toString(36)}`;
	const nodes: NodeProcess[] = [];
	afterAll(async () => {
		await Promise.all(nodes.map(n => n.stop("SIGKILL")));
	});

	it("serves a request through a gateway-only node from another node; health healthy, then degraded, then unhealthy", async () => {
		if (!(await natsReachable())) throw new Error(`NATS is not reachable at ${NATS_URL}: start it (see README, .ci/run)`);
		const common = { TRANSPORTER: NATS_URL, NAMESPACE: namespace };
		const [gateway, storage, worker] = await Promise.all([
			spawnNode(`gw-${namespace}`, { ...common, SERVICES: "gateway" }),
			spawnNode(`storage-${namespace}`, { ...common, SERVICES: "storage" }),
			spawnNode(`worker-${namespace}`, { ...common, SERVICES: "actors,inference" })
		]);
		nodes.push(gateway, storage, worker);
		const health = () => api(gateway.baseUrl, "/health", { key: null });

		const healthy = await until("health healthy", health, r => r.body?.data?.status === "healthy", 30_000);
		expect(healthy.status).toBe(200);
		expect(healthy.body).toEqual({
			status: 200,
			message: "Service is healthy",
			data: expect.objectContaining({ service: "FUACS Face Recognition Service", version: "1.0.0", status: "healthy", activeSessions: 0, uptime: expect.any(Number), timestamp: expect.stringMatching(/Z$/) })
		});

		const served = await api(gateway.baseUrl, "/recognition/sessions");
		expect(served.status).toBe(200);
		expect(served.body).toEqual({ status: 200, message: "Active sessions retrieved successfully", data: [] });
		// The action ran in another process: the gateway node has no `recognition` service.
		expect(worker.logs.some(l => /Service 'recognition' started/.test(l))).toBe(true);
		expect(gateway.logs.some(l => /Service 'recognition' started/.test(l))).toBe(false);

		await worker.stop("SIGKILL");
		const degraded = await until("health degraded", health, r => r.body?.data?.status === "degraded", 20_000);
		expect(degraded.status).toBe(200);
		expect(degraded.body.message).toBe("Service is degraded");
		expect(degraded.body.data.components).toMatchObject({ actors: "down", inference: "down" });
		const unavailable = await api(gateway.baseUrl, "/recognition/sessions");
		expect(unavailable.status).toBe(503);
		expect(unavailable.body.code).toBe("SERVICE_UNAVAILABLE");

		await storage.stop("SIGKILL");
		const unhealthy = await until("health unhealthy", health, r => r.status === 503, 20_000);
		expect(unhealthy.body).toEqual({
			status: 503,
			message: "Service is unhealthy",
			data: expect.objectContaining({ service: "FUACS Face Recognition Service", status: "unhealthy", error: expect.stringMatching(/^Database connection failed/) })
		});
	}, 120_000);
});
