/**
 * Vision engine speed at one inference thread (INFERENCE_THREADS, default 1):
 *   npm run bench:vision [-- --runs 60] [-- --flip]
 * Builds 640x360 RGB24 frames holding 1, 2 and 4 real faces (cut from @vladmandic/face-api's
 * demo photos), and times analyze on each (median and p90 per stage), the model runs alone,
 * and analyze of the full-size encoded demo photo (decode included).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as ort from "onnxruntime-node";
import sharp, { type OverlayOptions } from "sharp";
import { modelLocation } from "../config";
import { prepareModel, VisionEngine, type AnalyzeResult } from "../lib/vision/engine";
import { loadManifest } from "../lib/vision/manifest";

const runs = Number(process.argv[process.argv.indexOf("--runs") + 1]) || 60;
const threads = Number(process.env.INFERENCE_THREADS ?? 1);
// Live sessions embed without flip TTA (INFERENCE_FLIP=false), so that is the default here.
const flip = process.argv.includes("--flip");
const SAMPLES = path.join(__dirname, "../node_modules/@vladmandic/face-api/demo");

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const p90 = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length * 0.9)];
const r1 = (x: number) => Math.round(x * 10) / 10;

/** A 640x360 frame with `n` faces (about 110 px tall) on a neutral background. */
async function frameWithFaces(engine: VisionEngine, n: number) {
	const photo = fs.readFileSync(path.join(SAMPLES, "sample1.jpg"));
	const faces = (await engine.detect({ image: photo })).faces;
	const tiles: OverlayOptions[] = [];
	for (let i = 0; i < n; i++) {
		const [x1, y1, x2, y2] = faces[i % faces.length].box;
		const m = 0.35 * (x2 - x1);
		const left = Math.max(0, Math.round(x1 - m)),
			top = Math.max(0, Math.round(y1 - m));
		const tile = await sharp(photo).extract({ left, top, width: Math.round(x2 - x1 + 2 * m), height: Math.round(y2 - y1 + 2 * m) }).resize({ height: 160 }).toBuffer();
		tiles.push({ input: tile, left: 20 + i * 155, top: 100 });
	}
	const { data, info } = await sharp({ create: { width: 640, height: 360, channels: 3, background: { r: 120, g: 110, b: 100 } } })
		.composite(tiles)
		.removeAlpha()
		.raw()
		.toBuffer({ resolveWithObject: true });
	return { data, width: info.width, height: info.height };
}

async function timeModel(file: string, shape: number[]) {
	// The model as the engine runs it (prepareModel).
	const s = await ort.InferenceSession.create(prepareModel(fs.readFileSync(file)).model, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all" });
	const t = new ort.Tensor("float32", new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.1), shape);
	for (let i = 0; i < 5; i++) await s.run({ [s.inputNames[0]]: t });
	const ms: number[] = [];
	for (let i = 0; i < runs; i++) {
		const t0 = performance.now();
		await s.run({ [s.inputNames[0]]: t });
		ms.push(performance.now() - t0);
	}
	await s.release();
	return r1(median(ms));
}

async function bench(label: string, fn: () => Promise<AnalyzeResult>) {
	for (let i = 0; i < 5; i++) await fn();
	const all: AnalyzeResult["timings"][] = [];
	const cpu: number[] = [];
	let faces = 0;
	for (let i = 0; i < runs; i++) {
		const c0 = process.cpuUsage();
		const r = await fn();
		const c = process.cpuUsage(c0);
		cpu.push((c.user + c.system) / 1000);
		faces = r.faces.length;
		all.push(r.timings);
	}
	const keys = Object.keys(all[0]) as (keyof AnalyzeResult["timings"])[];
	const stages = Object.fromEntries(keys.map(k => [k, r1(median(all.map(t => t[k])))]));
	// CPU time of this process: on a shared machine it leaves out the time spent waiting
	// for a core, which wall time does not.
	return { label, faces, medianMs: stages.totalMs, p90Ms: r1(p90(all.map(t => t.totalMs))), cpuMedianMs: r1(median(cpu)), stages };
}

async function main() {
	const { modelsDir, modelsManifest } = modelLocation(process.env, process.cwd());
	const manifest = loadManifest(modelsManifest);
	const engine = await VisionEngine.create({ modelsDir, manifest, threads, flip });
	const models: Record<string, number> = {};
	for (const [role, e] of Object.entries(manifest.models)) models[role] = await timeModel(path.join(modelsDir, e!.file), e!.input.shape);
	const results = [];
	for (const n of [1, 2, 4]) {
		const frame = await frameWithFaces(engine, n);
		results.push(await bench(`analyze 640x360 frame, ${n} face(s)`, () => engine.analyze({ frame })));
	}
	const photo = fs.readFileSync(path.join(SAMPLES, "sample1.jpg"));
	const meta = await sharp(photo).metadata();
	results.push(await bench(`analyze ${meta.width}x${meta.height} JPEG file (decode included)`, () => engine.analyze({ image: photo })));
	const small = await sharp(photo).resize(640).jpeg().toBuffer();
	results.push(await bench(`analyze 640 px JPEG file (decode included)`, () => engine.analyze({ image: small })));
	await engine.close();
	const one = results[0].medianMs;
	const perExtraFace = r1((results[2].medianMs - one) / 3);
	const oneCpu = results[0].cpuMedianMs;
	const perExtraFaceCpu = r1((results[2].cpuMedianMs - oneCpu) / 3);
	console.log(
		JSON.stringify(
			{
				node: process.version,
				threads,
				flipTTA: flip,
				runs,
				loadAverage: os.loadavg().map(r1),
				cores: os.cpus().length,
				modelRunMs: models,
				results,
				summary: { oneFaceFrameMs: one, perExtraFaceMs: perExtraFace, oneFaceFrameCpuMs: oneCpu, perExtraFaceCpuMs: perExtraFaceCpu, targets: { oneFaceFrameMs: 25, perExtraFaceMs: 15 } }
			},
			null,
			2
		)
	);
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
