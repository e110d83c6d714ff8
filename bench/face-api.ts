/**
 * Face API (seed 001) over HTTP against one node (gateway + storage + inference in this
 * process, the engines in INFERENCE_WORKERS worker threads, NeDB and the embedded vector index):
 *   1. detect of one 640x480 photo, one request at a time: p50, p99;
 *   2. detect-batch of 20 different 640x480 photos: images/s (goal >= 40 on two cores);
 *   3. recognize against a 10,000-person gallery (set through gallery/set: 9,999 random unit
 *      embeddings and one real person), one request at a time: p50, p99, and that she is found;
 *   4. anti-spoofing's real-face pass rate on real photos (the demo photos and, when present,
 *      faces-dev's identities): what the experimental liveness model says about real faces.
 *
 *   npm run bench:face-api -- [--requests 200] [--batches 10] [--faces-dev /work/shared/data/faces-dev]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { CONSOLE_ENV } from "../test/support/console";
import { faceCrop, faceForm, faceJson, sample } from "../test/support/face-api";
import { startNode } from "../test/support/node";

function arg(name: string, def: string): string {
	const i = process.argv.indexOf(`--${name}`);
	return i >= 0 ? process.argv[i + 1] : def;
}
const REQUESTS = Number(arg("requests", "200"));
const BATCHES = Number(arg("batches", "10"));
const FACES_DEV = arg("faces-dev", process.env.FACES_DEV ?? "/work/shared/data/faces-dev");

const pct = (xs: number[], p: number) => {
	const s = [...xs].sort((a, b) => a - b);
	return Math.round(s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] * 10) / 10;
};

function randomUnit(dim: number, seed: number): number[] {
	let x = seed * 2654435761 + 1;
	const v = Array.from({ length: dim }, () => {
		// xorshift, then a Box-Muller pair's one half: isotropic directions.
		x ^= x << 13;
		x ^= x >>> 17;
		x ^= x << 5;
		const u1 = ((x >>> 0) + 1) / 4294967297;
		x ^= x << 13;
		x ^= x >>> 17;
		x ^= x << 5;
		const u2 = ((x >>> 0) + 1) / 4294967297;
		return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
	});
	const n = Math.hypot(...v);
	return v.map(a => Math.round((a / n) * 1e6) / 1e6);
}

async function main() {
	const load0 = os.loadavg();
	const node = await startNode({ ...CONSOLE_ENV, RATE_LIMIT_PER_MINUTE: "0", LOG_LEVEL: "error" });
	const out: Record<string, unknown> = { cpus: `${os.cpus().length} x ${os.cpus()[0].model}`, inferenceWorkers: node.cfg.inferenceWorkers, loadBefore: load0.map(x => x.toFixed(2)).join(" ") };
	try {
		// 1. One 640x480 photo.
		const photo = await sharp(sample(1)).resize(640, 480, { fit: "cover" }).jpeg({ quality: 90 }).toBuffer();
		for (let i = 0; i < 10; i++) await faceForm(node, "/api/face-detection/detect", {}, [["file", "p.jpg", photo]]);
		const lat: number[] = [];
		let faces = 0;
		for (let i = 0; i < REQUESTS; i++) {
			const t = performance.now();
			const r = await faceForm(node, "/api/face-detection/detect", {}, [["file", "p.jpg", photo]]);
			lat.push(performance.now() - t);
			if (r.status !== 200) throw new Error(`detect: ${r.status} ${JSON.stringify(r.body)}`);
			faces = r.body.face_count;
		}
		out.detect640 = { requests: REQUESTS, faces, p50_ms: pct(lat, 0.5), p99_ms: pct(lat, 0.99) };
		console.log("detect 640x480", out.detect640);

		// 2. Batches of 20 different 640x480 photos (crops, flips and offsets of the six demo photos).
		const batch: [string, string, Buffer][] = [];
		for (let i = 0; i < 20; i++) {
			const src = sharp(sample((i % 6) + 1));
			const meta = await src.metadata();
			const k = Math.floor(i / 6);
			const w = Math.round(meta.width! * (1 - 0.15 * k)),
				h = Math.round(meta.height! * (1 - 0.15 * k));
			const img = sharp(sample((i % 6) + 1)).extract({ left: Math.round((meta.width! - w) / 2), top: Math.round((meta.height! - h) / 2), width: w, height: h });
			batch.push(["files", `b${i}.jpg`, await (k % 2 ? img.flop() : img).resize(640, 480, { fit: "cover" }).jpeg({ quality: 90 }).toBuffer()]);
		}
		await faceForm(node, "/api/face-detection/detect-batch", {}, batch);
		const rates: number[] = [];
		let batchFaces = 0;
		// CPU time of this process (gateway, stores, both engine threads): images per CPU-second,
		// which a shared machine's load does not change as much as wall time.
		const cpu0 = process.cpuUsage();
		const wall0 = performance.now();
		for (let i = 0; i < BATCHES; i++) {
			const t = performance.now();
			const r = await faceForm(node, "/api/face-detection/detect-batch", {}, batch);
			const s = (performance.now() - t) / 1000;
			if (r.status !== 200 || r.body.batch_summary.successful_detections !== 20) throw new Error(`detect-batch: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
			batchFaces = r.body.batch_summary.total_faces_detected;
			rates.push(20 / s);
		}
		const cpu = process.cpuUsage(cpu0);
		const cpuS = (cpu.user + cpu.system) / 1e6;
		const wallS = (performance.now() - wall0) / 1000;
		out.detectBatch20 = {
			cpu_ms_per_image: Math.round((cpuS / (20 * BATCHES)) * 1000 * 10) / 10,
			cores_used: Math.round((cpuS / wallS) * 100) / 100,
			images_per_s_if_2_cores_free: Math.round(((2 * 20 * BATCHES) / cpuS) * 10) / 10,
			batches: BATCHES, faces_per_batch: batchFaces, images_per_s_median: pct(rates, 0.5), images_per_s_min: Math.round(Math.min(...rates) * 10) / 10, images_per_s_max: Math.round(Math.max(...rates) * 10) / 10 };
		console.log("detect-batch 20 x 640x480", out.detectBatch20);

		// 3. A 10,000-person gallery: Anna's real embedding among 9,999 random ones.
		const anna = await faceCrop("anna");
		const annaAgain = await faceCrop("annaAgain");
		const emb = (await faceForm(node, "/api/face-recognition/extract-embedding", {}, [["file", "a.jpg", anna]])).body.embedding as number[];
		const tSet = performance.now();
		for (let start = 0; start < 10_000; start += 1000) {
			const gallery: Record<string, unknown> = {};
			for (let i = start; i < start + 1000; i++) gallery[`emp${String(i).padStart(5, "0")}`] = { person_name: `Person ${i}`, embeddings: [i === 4242 ? emb : randomUnit(512, i + 1)] };
			const r = await faceJson(node, "/api/face-recognition/gallery/set", { embedding_version: 1, gallery });
			if (r.status !== 200) throw new Error(`gallery/set: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
		}
		const setS = (performance.now() - tSet) / 1000;
		const info = (await faceJson(node, "/api/face-recognition/gallery/info")).body;
		const rl: number[] = [];
		let found = 0;
		const N = Math.min(REQUESTS, 100);
		for (let i = 0; i < N + 5; i++) {
			const t = performance.now();
			const r = await faceForm(node, "/api/face-recognition/recognize", {}, [["file", "q.jpg", annaAgain]]);
			if (i >= 5) rl.push(performance.now() - t);
			if (r.body.faces?.[0]?.person_id === "emp04242") found++;
		}
		out.recognize10k = { persons: info.total_persons, embeddings: info.total_embeddings, gallery_set_s: Math.round(setS * 10) / 10, requests: N, p50_ms: pct(rl, 0.5), p99_ms: pct(rl, 0.99), found: `${found}/${N + 5}` };
		console.log("recognize, 10,000 people", out.recognize10k);

		// 4. The liveness model on real faces.
		const real: { set: string; faces: number; passed: number }[] = [];
		const passRate = async (set: string, images: Buffer[]) => {
			let n = 0,
				ok = 0;
			for (const img of images) {
				const r = await faceJson(node, "/api/anti-spoofing/detect-base64", { image_base64: img.toString("base64") });
				if (r.status !== 200) continue;
				n += r.body.faces_detected;
				ok += r.body.overall_result.real_faces;
			}
			real.push({ set, faces: n, passed: ok });
		};
		await passRate("face-api demo photos 1-6", [1, 2, 3, 4, 5, 6].map(sample));
		const ids = path.join(FACES_DEV, "identities");
		if (fs.existsSync(ids)) {
			const files = fs.readdirSync(ids).flatMap(d => fs.readdirSync(path.join(ids, d)).map(f => path.join(ids, d, f)));
			await passRate(`faces-dev identities (${files.length} images)`, files.map(f => fs.readFileSync(f)));
		} else console.log(`faces-dev not found at ${FACES_DEV}: its liveness pass rate is skipped`);
		out.livenessRealFaces = real.map(r => ({ ...r, pass_rate: r.faces ? Math.round((r.passed / r.faces) * 1000) / 1000 : null }));
		console.log("anti-spoofing on real faces (threshold 0.5)", out.livenessRealFaces);
	} finally {
		await node.stop();
	}
	out.loadAfter = os.loadavg().map(x => x.toFixed(2)).join(" ");
	console.log(JSON.stringify(out, null, 1));
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
