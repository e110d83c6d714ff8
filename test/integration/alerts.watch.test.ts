/**
 * The gateway's alert watch on two real nodes over the real NATS: a gateway + storage node
 * (with an enabled camera, so actors need inference) and an inference node with the real
 * models. Inference capacity lost is raised while no inference node is there and resolved
 * when one comes, raised again when its inference service stops; inference saturated is
 * raised while its queue is full and resolved when it drains; a store whose health check
 * fails raises store unreachable, resolved when it is back. Each cause opens one alert.
 * Every wait is bounded.
 */
import type { Context } from "moleculer";
import embeddingsService from "../../services/embeddings.service";
import { natsReachable, NATS_URL } from "../support/cluster";
import { CONSOLE_ENV } from "../support/console";
import { sample } from "../support/face-api";
import { startNode, type TestNode } from "../support/node";
import { until } from "../support/until";

describe("alert watch", () => {
	const namespace = `aw${process.pid}${Date.now().toString(36)}`;
	const common = { TRANSPORTER: NATS_URL, NAMESPACE: namespace, ALERT_WATCH_MS: "200", HEALTH_SAMPLE_MS: "0" };
	let gw: TestNode;
	let inference: TestNode | null = null;
	const raised: { cause: string; id: string }[] = [];
	const alert = (cause: string) => gw.broker.call<any[], object>("alerts.find", { query: { cause }, sort: "-generation" });
	const openOf = async (cause: string) => (await alert(cause)).filter(a => !a.resolved);
	const raisedOf = (cause: string) => raised.filter(r => r.cause === cause);

	beforeAll(async () => {
		if (!(await natsReachable())) throw new Error(`NATS is not reachable at ${NATS_URL}: start it (see README, .ci/run)`);
		gw = await startNode({ ...CONSOLE_ENV, ...common, SERVICES: "gateway,storage" });
		gw.broker.createService({
			name: "watch-test-listener",
			events: {
				"alerts.raised"(ctx: Context<{ cause: string; id: string }>) {
					raised.push({ cause: ctx.params.cause, id: ctx.params.id });
				}
			}
		});
		// An enabled camera: its monitor needs inference.
		await (gw.broker.getLocalService("cameras") as unknown as { adapter: { insert(d: object): Promise<unknown> } }).adapter.insert({ cameraId: 71, name: "Gate", enabled: true, status: "offline" });
	}, 60_000);
	afterAll(async () => {
		await inference?.stop();
		await gw?.stop();
	});

	it("raises inference capacity lost once while no inference node is there, resolves it when one comes, raises it again when it stops", async () => {
		const first = await until("capacity alert", () => openOf("inference:capacity"), a => a.length === 1, 10_000);
		expect(first[0]).toEqual(expect.objectContaining({ type: "inference_capacity", level: "critical", generation: 1 }));
		// Many ticks later: still one alert, raised once.
		await new Promise(r => setTimeout(r, 1000));
		expect(raisedOf("inference:capacity")).toHaveLength(1);
		expect(await alert("inference:capacity")).toHaveLength(1);

		inference = await startNode({ ...common, SERVICES: "inference", INFERENCE_WORKERS: "0", INFERENCE_QUEUE: "4" });
		await until("capacity resolved", () => alert("inference:capacity"), a => a.length === 1 && a[0].resolved === true, 20_000);

		await inference.broker.destroyService("inference");
		const again = await until("capacity lost again", () => openOf("inference:capacity"), a => a.length === 1, 10_000);
		expect(again[0].generation).toBe(2);
		expect(raisedOf("inference:capacity")).toHaveLength(2);
		// Back, for the saturation test.
		const { default: inferenceService } = await import("../../services/inference.service");
		inference.broker.createService(inferenceService(inference.cfg));
		await until("capacity resolved again", () => alert("inference:capacity"), a => a[0]?.resolved === true, 20_000);
	}, 60_000);

	it("raises inference saturated while a node's queue is full, and resolves it when it drains", async () => {
		const cause = `inference:saturated:${inference!.broker.nodeID}`;
		const photo = sample(1);
		// Keep the one engine busy with far more requests than its queue of 4 holds (the rest are refused as busy).
		let flooding = true;
		const flood = (async () => {
			while (flooding) await Promise.allSettled(Array.from({ length: 12 }, () => gw.broker.call("inference.analyze", { image: photo }, { timeout: 20_000 })));
		})();
		try {
			const open = await until("saturated alert", () => openOf(cause), a => a.length === 1, 20_000);
			expect(open[0]).toEqual(expect.objectContaining({ type: "inference_saturated", level: "high", details: expect.objectContaining({ queueCapacity: 4 }) }));
		} finally {
			flooding = false;
			await flood;
		}
		await until("saturation resolved", () => alert(cause), a => a.length === 1 && a[0].resolved === true, 15_000);
		expect(raisedOf(cause)).toHaveLength(1);
	}, 60_000);

	it("raises store unreachable when a store's health check fails, resolved when it answers again", async () => {
		const cause = "store:embeddings:unreachable";
		await gw.broker.destroyService("embeddings");
		const open = await until("store alert", () => openOf(cause), a => a.length === 1, 10_000);
		expect(open[0]).toEqual(expect.objectContaining({ type: "store_unreachable", level: "critical", details: { store: "embeddings" } }));
		await new Promise(r => setTimeout(r, 600));
		expect(raisedOf(cause)).toHaveLength(1);
		gw.broker.createService(embeddingsService(gw.cfg));
		await until("store alert resolved", () => alert(cause), a => a.length === 1 && a[0].resolved === true, 15_000);
	}, 40_000);
});
