/**
 * Score-level fusion of today's embedder (v1) with dlib's face recognition ResNet on labelled
 * pairs with folds (lfw-dev), flip off (paths are read, never copied):
 *   npm run eval:fusion -- --pairs FILE.csv --root DIR [--centre-face]
 * FILE.csv lines `img1,img2,same,fold`. Each image: the engine's face (the largest, or with
 * --centre-face the one at the image's centre, as `npm run eval -- --centre-face`), its v1
 * embedding as the engine makes it; the engine's 68 landmarks of that box (its landmark model
 * on its crop, recomputed here), dlib's 150 px chip from them and dlib's ResNet (face-api's
 * weights, the devDependency @vladmandic/face-api, converted to ONNX by lib/vision/dlib-resnet.ts).
 * Prints JSON: each embedder's per-fold figures (cosine), and the fused score per fold: both
 * cosines z-scored with the other folds' mean and SD, weighted (w_v1, w_dlib), the weight either
 * fixed at 0.5 or chosen on the other folds (best accuracy, then TAR at FAR 1e-3, then AUC; grid
 * step 0.02), the "cross" threshold the best of the other folds.
 */
import fs from "node:fs";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { modelLocation } from "../config";
import { centreFace } from "../lib/vision/detect";
import { dlibChipAffine, DLIB_INPUT_SIZE, faceRecognitionNetOnnx } from "../lib/vision/dlib-resnet";
import { decodeImage } from "../lib/vision/decode";
import { prepareModel, VisionEngine } from "../lib/vision/engine";
import { foldReport } from "../lib/vision/folds";
import { sampleToTensor } from "../lib/vision/image";
import { decodeLandmarks, LANDMARK_SIZE, landmarkInput } from "../lib/vision/landmarks";
import { loadManifest } from "../lib/vision/manifest";
import { bestAccuracy, rocAuc, tarAtFar, type ScoredPair } from "../lib/vision/metrics";
import { cosine } from "../lib/vision/similarity";

function arg(name: string): string | undefined {
	const i = process.argv.indexOf(name);
	return i >= 0 ? process.argv[i + 1] : undefined;
}

const FACE_API_MODEL = path.join(__dirname, "../node_modules/@vladmandic/face-api/model");
const SESSION = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all" } as const;

interface Pair {
	a: string;
	b: string;
	same: boolean;
	fold: string;
}

function readPairs(file: string): Pair[] {
	return fs
		.readFileSync(file, "utf8")
		.split(/\r?\n/)
		.map(l => l.trim())
		.filter(l => l && !/^img1,/i.test(l))
		.map((l, n) => {
			const [a, b, s, fold] = l.split(",").map(x => x.trim());
			if (!a || !b || !["0", "1"].includes(s) || !fold) throw new Error(`${file} line ${n + 1}: expected img1,img2,same(0|1),fold, got "${l}"`);
			return { a, b, same: s === "1", fold };
		});
}

async function embedAll(pairs: Pair[], root: string, centre: boolean) {
	const { modelsDir, modelsManifest } = modelLocation(process.env, process.cwd());
	const manifest = loadManifest(modelsManifest);
	const engine = await VisionEngine.create({ modelsDir, manifest, threads: 1, flip: false });
	const lm = manifest.models.landmarks;
	if (!lm) throw new Error(`model set "${manifest.set}" has no landmarks model`);
	const landmarks = await ort.InferenceSession.create(prepareModel(fs.readFileSync(path.join(modelsDir, lm.file))).model, SESSION);
	const weights = JSON.parse(fs.readFileSync(path.join(FACE_API_MODEL, "face_recognition_model-weights_manifest.json"), "utf8"));
	const dlib = await ort.InferenceSession.create(faceRecognitionNetOnnx(weights, new Uint8Array(fs.readFileSync(path.join(FACE_API_MODEL, weights[0].paths[0])))), SESSION);
	const v1 = new Map<string, number[] | null>();
	const dl = new Map<string, number[] | null>();
	const ms = { v1: 0, dlib: 0 };
	let notLargest = 0;
	const chip = new Float32Array(3 * DLIB_INPUT_SIZE * DLIB_INPUT_SIZE);
	for (const rel of new Set(pairs.flatMap(p => [p.a, p.b]))) {
		const full = path.resolve(root, rel);
		if (!full.startsWith(path.resolve(root) + path.sep)) throw new Error(`${rel} is outside ${root}`);
		const buf = fs.readFileSync(full);
		let t = performance.now();
		const found = await engine.detect({ image: buf });
		const i = centre ? centreFace(found.faces.map(f => f.box), found.width, found.height) : found.faces.length ? 0 : -1;
		if (i < 0) {
			console.error(`no face: ${rel}`);
			v1.set(rel, null);
			dl.set(rel, null);
			continue;
		}
		if (i !== 0) notLargest++;
		const box = found.faces[i].box;
		v1.set(rel, (await engine.embed(centre ? { image: buf, box } : { image: buf })).embedding);
		ms.v1 += performance.now() - t;
		t = performance.now();
		// The engine's 68 points of that box, on the decoded image (boxes are in source pixels).
		const { image, scale } = await decodeImage(buf);
		const b = box.map(v => v / scale) as typeof box;
		const out = await landmarks.run({ [lm.input.name]: new ort.Tensor("float32", landmarkInput(image, b), [1, 1, LANDMARK_SIZE, LANDMARK_SIZE]) });
		const points = decodeLandmarks(out[landmarks.outputNames[0]].data as Float32Array, b, image.width, image.height);
		sampleToTensor(image, dlibChipAffine(points), DLIB_INPUT_SIZE, DLIB_INPUT_SIZE, chip, 0, { channels: "rgb", mean: 0, scale: 1 });
		const d = await dlib.run({ input: new ort.Tensor("float32", chip, [1, 3, DLIB_INPUT_SIZE, DLIB_INPUT_SIZE]) });
		dl.set(rel, Array.from(d.descriptor.data as Float32Array));
		ms.dlib += performance.now() - t;
	}
	await engine.close();
	await landmarks.release();
	await dlib.release();
	return { v1, dlib: dl, ms, notLargest };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / (xs.length || 1);
const sd = (xs: number[]) => {
	const m = mean(xs);
	return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
};
const accuracyAt = (pairs: ScoredPair[], t: number) => pairs.filter(p => (p.score >= t) === p.same).length / (pairs.length || 1);

/** Per fold: weights (fixed, or chosen on the other folds) and threshold from the other folds. */
function fuseFolds(pairs: { s1: number; s2: number; same: boolean; fold: string }[], choose: boolean) {
	const folds = [...new Set(pairs.map(p => p.fold))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
	const per = folds.map(fold => {
		const train = pairs.filter(p => p.fold !== fold),
			test = pairs.filter(p => p.fold === fold);
		const z1 = { m: mean(train.map(p => p.s1)), sd: sd(train.map(p => p.s1)) };
		const z2 = { m: mean(train.map(p => p.s2)), sd: sd(train.map(p => p.s2)) };
		const fused = (ps: typeof pairs, w: number): ScoredPair[] => ps.map(p => ({ score: (1 - w) * ((p.s1 - z1.m) / z1.sd) + w * ((p.s2 - z2.m) / z2.sd), same: p.same }));
		let w = 0.5;
		if (choose) {
			let best = -Infinity;
			for (let k = 0; k <= 50; k++) {
				const s = fused(train, k / 50);
				const key = bestAccuracy(s).accuracy * 1e6 + tarAtFar(s, 1e-3).tar * 1e3 + rocAuc(s);
				if (key > best + 1e-12) {
					best = key;
					w = k / 50;
				}
			}
		}
		const mine = fused(test, w);
		return {
			fold,
			weights: [1 - w, w],
			bestAccuracy: bestAccuracy(mine).accuracy,
			crossAccuracy: accuracyAt(mine, bestAccuracy(fused(train, w)).threshold),
			tarAtFar1e3: tarAtFar(mine, 1e-3).tar,
			auc: rocAuc(mine)
		};
	});
	const m = (k: "bestAccuracy" | "crossAccuracy" | "tarAtFar1e3" | "auc") => mean(per.map(p => p[k]));
	return { folds: per, mean: { bestAccuracy: m("bestAccuracy"), crossAccuracy: m("crossAccuracy"), tarAtFar1e3: m("tarAtFar1e3"), auc: m("auc") } };
}

async function main() {
	const file = arg("--pairs"),
		root = arg("--root");
	if (!file || !root) throw new Error("usage: eval:fusion --pairs FILE.csv --root DIR [--centre-face]");
	if (!fs.existsSync(path.join(FACE_API_MODEL, "face_recognition_model-weights_manifest.json"))) throw new Error(`dlib's weights are not in ${FACE_API_MODEL} (devDependency @vladmandic/face-api)`);
	const centre = process.argv.includes("--centre-face");
	const pairs = readPairs(file);
	const e = await embedAll(pairs, root, centre);
	const score = (m: Map<string, number[] | null>, p: Pair) => {
		const x = m.get(p.a),
			y = m.get(p.b);
		return x && y ? cosine(x, y) : -1;
	};
	const scored = pairs.map(p => ({ s1: score(e.v1, p), s2: score(e.dlib, p), same: p.same, fold: p.fold }));
	const images = e.v1.size;
	console.log(
		JSON.stringify(
			{
				pairs: pairs.length,
				images,
				facesFound: [...e.v1.values()].filter(Boolean).length,
				centreFace: centre,
				...(centre ? { centreFaceNotLargest: e.notLargest } : {}),
				msPerImage: { v1Pipeline: e.ms.v1 / images, dlibLandmarksChipAndDescriptor: e.ms.dlib / images },
				v1: foldReport(scored.map(p => ({ score: p.s1, same: p.same, fold: p.fold }))),
				dlib: foldReport(scored.map(p => ({ score: p.s2, same: p.same, fold: p.fold }))),
				fusedFixed: fuseFolds(scored, false),
				fusedChosen: fuseFolds(scored, true)
			},
			null,
			2
		)
	);
}

main().catch(err => {
	console.error(`eval:fusion: ${err.message}`);
	process.exit(1);
});
