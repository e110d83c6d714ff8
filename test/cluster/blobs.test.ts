/**
 * One blob store for the cluster, over the real NATS: a camera snapshot and a capture-frame
 * preview taken on the actors + storage node are served as JPEGs by a gateway-only node that
 * did not take them (and holds no files).
 */
import fs from "node:fs";
import { ADMIN, CONSOLE_ENV } from "../support/console";
import { natsReachable, NATS_URL, spawnNode, type NodeProcess } from "../support/cluster";
import { TEST_API_KEY } from "../support/node";
import { describeWithRtsp, startRtspServer, type RtspServer } from "../support/rtsp";
import { until } from "../support/until";

describeWithRtsp("blob store across nodes", () => {
	const namespace = `b${process.pid}${Date.now().toString(36)}`;
	const nodes: NodeProcess[] = [];
	let rtsp: RtspServer;
	afterAll(async () => {
		await Promise.all(nodes.map(n => n.stop("SIGKILL")));
		await rtsp?.stop();
	});

	it("serves a snapshot and a preview through a gateway that is not the node that took them", async () => {
		if (!(await natsReachable())) throw new Error(`NATS is not reachable at ${NATS_URL}: start it (see README, .ci/run)`);
		rtsp = await startRtspServer({ live: { "/cam": { width: 640, height: 360, fps: 10 } } });
		const common = { TRANSPORTER: NATS_URL, NAMESPACE: namespace, JWT_SECRET: "cluster-jwt-secret-0123456789abcdef-xyz", ...CONSOLE_ENV };
		const [gateway, worker] = await Promise.all([spawnNode(`gw-${namespace}`, { ...common, SERVICES: "gateway" }), spawnNode(`worker-${namespace}`, { ...common, SERVICES: "storage,actors" })]);
		nodes.push(gateway, worker);
		const base = gateway.baseUrl;
		const json = async (route: string, init: RequestInit = {}) => {
			const res = await fetch(base + route, init);
			return { status: res.status, body: (await res.json()) as any };
		};
		const login = await until(
			"console login through the gateway",
			() => json("/auth/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username: ADMIN.email, password: ADMIN.password }) }),
			r => r.status === 200,
			30_000
		);
		const auth = { Authorization: `Bearer ${login.body.data.accessToken}`, "Content-Type": "application/json" };
		const cam = await json("/cameras", { method: "POST", headers: auth, body: JSON.stringify({ name: "Door", streamUrl: rtsp.url("/cam"), enabled: false }) });
		expect(cam.status).toBe(201);
		const snap = await json(`/cameras/${cam.body.data.id}/snapshot`, { method: "POST", headers: auth });
		expect(snap.status).toBe(201);

		const root = base.replace(/\/api\/v1$/, "");
		const img = await fetch(root + snap.body.data.url, { headers: auth });
		expect(img.status).toBe(200);
		expect(img.headers.get("content-type")).toBe("image/jpeg");
		expect(Buffer.from(await img.arrayBuffer()).subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));

		const preview = await json(`/cameras/capture-frame?rtspUrl=${encodeURIComponent(rtsp.url("/cam"))}&format=file`, { headers: { "X-API-Key": TEST_API_KEY } });
		expect(preview.status).toBe(200);
		const file = await fetch(root + preview.body.data.fileUrl, { headers: { "X-API-Key": TEST_API_KEY } });
		expect(file.status).toBe(200);
		expect(Buffer.from(await file.arrayBuffer()).subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));

		// The files are on the worker's disk, and on no disk of the gateway.
		expect(fs.existsSync(preview.body.data.filePath)).toBe(true);
		expect(gateway.logs.some(l => /Service 'blobs' started/.test(l))).toBe(false);
		expect(worker.logs.some(l => /Service 'blobs' started/.test(l))).toBe(true);
	}, 120_000);
});
