/**
 * Inference scale-out: frames per second through `inference.analyze` with one and with two
 * inference node processes (one engine each, onnxruntime intraOpNumThreads=1), over the real
 * NATS, sent by a client broker the way camera actors send them (the InferenceLoad strategy
 * picks the node). Then one of the two is killed (SIGKILL) mid-run: frames go on, slower,
 * resent to the survivor when their node vanished.
 *
 *   npm run bench:cluster -- [--seconds 20] [--concurrency 4]
 *
 * The frame is 1280x720 RGB with four real faces (the face-api sample photos).
 */
import type { ServiceBroker } from "moleculer";
import sharp from "sharp";
import { loadConfig } from "../config";
import { createNode } from "../services";
import { natsReachable, NATS_URL, spawnNode, type NodeProcess } from "../test/support/cluster";
import { FACES } from "../test/support/face-video";
import { TEST_API_KEY, tempDir } from "../test/support/node";

function arg(name: string, def: number): number {
	const i = process.argv.indexOf(`--${name}`);
	return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const SECONDS = arg("seconds", 20);
const CONCURRENCY = arg("concurrency", 4);
const RETRYABLE = new Set(["INFERENCE_BUSY", "SERVICE_NOT_AVAILABLE", "SERVICE_NOT_FOUND", "REQUEST_REJECTED", "REQUEST_TIMEOUT"]);

async function frameWithFaces() {
	const crops = await Promise.all(
		[FACES.anna, FACES.annaAgain, FACES.bea, FACES.cleo].map(async f => {
			const [x1, y1, x2, y2] = f.focus;
			const m = Math.round((x2 - x1) * 0.6);
			const meta = await sharp(f.photo).metadata();
			const left = Math.max(0, x1 - m),
				top = Math.max(0, y1 - m);
			return sharp(f.photo)
				.extract({ left, top, width: Math.min(meta.width! - left, x2 - x1 + 2 * m), height: Math.min(meta.height! - top, y2 - y1 + 2 * m) })
				.resize(280, 360, { fit: "cover" })
				.toBuffer();
		})
	);
	const { data, info } = await sharp({ create: { width: 1280, height: 720, channels: 3, background: { r: 90, g: 90, b: 90 } } })
		.composite(crops.map((input, i) => ({ input, left: 40 + i * 310, top: 180 })))
		.removeAlpha()
		.raw()
		.toBuffer({ resolveWithObject: true });
	return { data, width: info.width, height: info.height };
}

/** Keep `CONCURRENCY` frames in flight for `seconds`; a frame whose node failed is resent. */
async function run(client: ServiceBroker, payload: object, seconds: number, during?: (elapsedMs: number) => void) {
	const t0 = Date.now();
	const end = t0 + seconds * 1000;
	let done = 0;
	let resent = 0;
	let lost = 0;
	const faces = new Set<number>();
	const worker = async () => {
		while (Date.now() < end) {
			for (let attempt = 0; ; attempt++) {
				try {
					const r = await client.call<{ faces: unknown[] }, object>("inference.analyze", payload, { timeout: 30_000 });
					faces.add(r.faces.length);
					done++;
					break;
				} catch (err) {
					const type = (err as { type?: string }).type ?? "";
					if (attempt < 3 && RETRYABLE.has(type)) {
						resent++;
						await new Promise(r => setTimeout(r, 100));
						continue;
					}
					lost++;
					break;
				}
			}
			during?.(Date.now() - t0);
		}
	};
	await Promise.all(Array.from({ length: CONCURRENCY }, worker));
	const s = (Date.now() - t0) / 1000;
	return { fps: done / s, done, resent, lost, faces: [...faces] };
}

async function main() {
	if (!(await natsReachable())) throw new Error(`NATS is not reachable at ${NATS_URL}`);
	const namespace = `bench${process.pid}`;
	const env = { TRANSPORTER: NATS_URL, NAMESPACE: namespace, SERVICES: "inference", INFERENCE_WORKERS: "1", INFERENCE_THREADS: "1", INFERENCE_QUEUE: "8", LOG_LEVEL: "info" };
	const nodes: NodeProcess[] = [];
	const cfg = loadConfig({ API_KEY: TEST_API_KEY, TRANSPORTER: NATS_URL, NAMESPACE: namespace, NODE_ID: `bench-client-${process.pid}`, METRICS_PORT: "off", LOG_LEVEL: "warn", DATA_DIR: tempDir() });
	const client = createNode({ ...cfg, roles: [] });
	// The client records the load the inference nodes broadcast, as camera actors' nodes do.
	const { InferenceClientMixin } = await import("../mixins/inference-client.mixin");
	client.createService({ name: "bench-client", mixins: [InferenceClientMixin] });
	await client.start();
	try {
		// As a camera actor on another node sends it: a JPEG (lib/cluster/frame-transport.ts).
		const { framePayload } = await import("../lib/cluster/frame-transport");
		const payload = await framePayload(await frameWithFaces(), false);
		nodes.push(await spawnNode(`inf1-${namespace}`, env));
		await client.waitForServices(["inference"], 30_000);
		await run(client, payload, 3); // warm-up
		const one = await run(client, payload, SECONDS);

		nodes.push(await spawnNode(`inf2-${namespace}`, env));
		const deadline = Date.now() + 20_000;
		while (client.registry.getServiceList({ onlyAvailable: true }).filter((s: any) => s.name === "inference").length < 2 && Date.now() < deadline) await new Promise(r => setTimeout(r, 100));
		await run(client, payload, 3);
		const served0 = await Promise.all(nodes.map(n => client.call<{ served: number }, object>("inference.info", {}, { nodeID: n.name }).then(i => i.served)));
		const two = await run(client, payload, SECONDS);
		const served1 = await Promise.all(nodes.map(n => client.call<{ served: number }, object>("inference.info", {}, { nodeID: n.name }).then(i => i.served)));

		let killed = false;
		const loss = await run(client, payload, SECONDS, elapsed => {
			if (!killed && elapsed > (SECONDS * 1000) / 2) {
				killed = true;
				void nodes[1].stop("SIGKILL");
			}
		});

		console.log(`frame: 1280x720 sent as a ${Math.round(((payload as { image: Buffer }).image.length) / 1024)} KB JPEG, ${one.faces.join("/")} faces; ${CONCURRENCY} frames in flight; ${SECONDS} s per run; client and nodes on this ${require("node:os").cpus().length}-core machine`);
		console.log(`one inference process:  ${one.fps.toFixed(1)} frames/s (${one.done} frames, ${one.lost} lost)`);
		console.log(`two inference processes: ${two.fps.toFixed(1)} frames/s (${two.done} frames, ${two.lost} lost) = ${(two.fps / one.fps).toFixed(2)}x; served by node: ${served1.map((v, i) => v - served0[i]).join(" / ")}`);
		console.log(`two, one killed halfway: ${loss.fps.toFixed(1)} frames/s (${loss.done} frames, ${loss.resent} resent to the survivor, ${loss.lost} lost)`);
	} finally {
		await client.stop();
		await Promise.all(nodes.map(n => n.stop("SIGKILL")));
	}
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
