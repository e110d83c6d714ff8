/**
 * The vision engine: one set of onnxruntime sessions (created once, verified against the
 * manifest's pinned hashes) and the pipeline decode -> detect + NMS -> 68 landmarks ->
 * 5-point alignment -> embedding (flip TTA, L2-normalised) -> quality -> liveness.
 * No Moleculer here; services/inference.service.ts wraps it.
 */
import fs from "node:fs";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { ALIGNED_SIZE, alignedInput } from "./align";
import { decodeImage } from "./decode";
import { anySizeDetector, bakedPriors } from "./any-size-detector";
import { decodeDetections, decodeRegression, DETECT_THRESHOLD, detectorInput, iou, nms, NMS_IOU, paddedImage, ultrafacePriors, wholeImage, type Box, type Detection, type Rect } from "./detect";
import { flipTensor, ImageError, rectAffine, rgbFrame, sampleToTensor, type RgbImage } from "./image";
import { decodeLandmarks, eyeSquares, fivePoints, LANDMARK_SIZE, landmarkInput, type Point } from "./landmarks";
import { verifyModels, type ModelEntry, type ModelManifest, type ModelRole } from "./manifest";
import { dynamicBatch } from "./dynamic-batch";
import { rewritePRelu } from "./prelu-rewrite";
import { cropStats, faceQuality, type FaceQuality } from "./quality";
import { assertCalibrated, l2normalize } from "./similarity";
import { cutByInnerEdge, fineScaleHelps, tileViews, type TilePlan, type View } from "./tiles";

export class VisionError extends Error {
	constructor(
		readonly code: string,
		message: string
	) {
		super(message);
		this.name = "VisionError";
	}
}

export interface RgbFrameInput {
	data: Uint8Array;
	width: number;
	height: number;
}

export interface AnalyzeInput {
	/** An encoded image file (JPEG, PNG, WebP, BMP). */
	image?: Uint8Array;
	/** A raw RGB24 frame (node-av scaler output). */
	frame?: RgbFrameInput;
	/** Keep at most this many faces, largest first (default 20). */
	maxFaces?: number;
	/** Ignore faces whose box's shorter side is below this many source pixels (default 20). */
	minFaceSize?: number;
	/** Run the experimental liveness model (default: engine option). */
	liveness?: boolean;
	/** Skip embeddings (detect). */
	embed?: boolean;
}

export interface LivenessResult {
	/** Softmax probability of the class taken as "real" (MiniFASNet convention: class 1). Experimental. */
	score: number;
	/** The model's three softmax probabilities; class meanings are undocumented. */
	probabilities: number[];
	experimental: true;
}

export interface Face {
	/** x1, y1, x2, y2 in source pixels. */
	box: Box;
	score: number;
	/** Eye centres (image-left first), nose tip, mouth corners, in source pixels. */
	landmarks: Point[];
	embedding?: number[];
	embeddingVersion?: number;
	quality: FaceQuality;
	liveness?: LivenessResult;
}

export interface AnalyzeResult {
	width: number;
	height: number;
	faces: Face[];
	timings: { decodeMs: number; detectMs: number; landmarksMs: number; alignMs: number; embedMs: number; qualityMs: number; livenessMs: number; totalMs: number };
}

export interface EngineOptions {
	modelsDir: string;
	manifest: ModelManifest;
	threads?: number;
	/** Horizontal-flip test-time augmentation for embeddings. */
	flip?: boolean;
	/** Liveness when a call does not say. */
	liveness?: boolean;
	/** The small-face pass (lib/vision/tiles.ts); off when absent. */
	smallFaces?: SmallFacesOptions | null;
}

export interface SmallFacesOptions extends TilePlan {
	/** Face score threshold of the small-face pass (default: the detector's). */
	threshold?: number;
}

/** The detector cut before its box decoding (any input size), for the small-face pass. */
interface FineDetector {
	session: ort.InferenceSession;
	inputName: string;
	scores: string;
	regression: string;
	priors: Map<string, Float32Array>;
}

const now = () => performance.now();

interface Session {
	entry: ModelEntry;
	session: ort.InferenceSession;
	inputName: string;
	outputNames: readonly string[];
	/** Batch dimension is dynamic, so several faces go in one run. */
	batched: boolean;
}

export class VisionEngine {
	readonly embeddingVersion: number;
	private fine: FineDetector | null = null;
	private constructor(
		private readonly sessions: Partial<Record<ModelRole, Session>>,
		readonly manifest: ModelManifest,
		private readonly opts: EngineOptions
	) {
		this.embeddingVersion = manifest.embeddingVersion;
	}

	static async create(opts: EngineOptions): Promise<VisionEngine> {
		verifyModels(opts.manifest, opts.modelsDir);
		assertCalibrated(opts.manifest.embeddingVersion);
		const sessions: Partial<Record<ModelRole, Session>> = {};
		for (const [role, entry] of Object.entries(opts.manifest.models) as [ModelRole, ModelEntry][]) {
			const { model, batchable } = prepareModel(fs.readFileSync(path.join(opts.modelsDir, entry.file)));
			const session = await ort.InferenceSession.create(model, {
				intraOpNumThreads: opts.threads ?? 1,
				interOpNumThreads: 1,
				executionMode: "sequential",
				graphOptimizationLevel: "all"
			});
			const batchDim = entry.input.shape[0];
			sessions[role] = { entry, session, inputName: entry.input.name, outputNames: session.outputNames, batched: batchable || typeof batchDim !== "number" || batchDim < 1 };
		}
		const engine = new VisionEngine(sessions, opts.manifest, opts);
		if (opts.smallFaces) engine.fine = await fineDetector(opts, sessions.detector!.entry);
		await engine.warmUp();
		return engine;
	}

	async close(): Promise<void> {
		for (const s of Object.values(this.sessions)) await s?.session.release();
		await this.fine?.session.release();
	}

	/** First runs allocate; do them at start-up rather than on the first request. */
	private async warmUp(): Promise<void> {
		const img: RgbImage = { data: new Uint8Array(64 * 64 * 3).fill(128), width: 64, height: 64 };
		await this.run("detector", this.detectorTensor(img), 1);
		if (this.fine) await this.detectFine(img, tileViews(64, 64, { scale: 1, tileW: 64, tileH: 64, overlap: 0 })[0], DETECT_THRESHOLD);
		for (const role of ["landmarks", "embedder", "eyes", "liveness"] as const) {
			const s = this.sessions[role];
			if (s) await this.run(role, new Float32Array(s.entry.input.shape.slice(1).reduce((a, b) => a * b, 1)), 1);
		}
	}

	private shape(role: ModelRole): number[] {
		return this.sessions[role]!.entry.input.shape;
	}

	private detectorTensor(img: RgbImage, rect: Rect = wholeImage(img)): Float32Array {
		const [, , h, w] = this.shape("detector");
		return detectorInput(img, w, h, rect);
	}

	/** Run `role` on `n` stacked inputs; returns each output by name. */
	private async run(role: ModelRole, data: Float32Array, n: number): Promise<Record<string, Float32Array>> {
		const s = this.sessions[role];
		if (!s) throw new VisionError("MODEL_MISSING", `model set "${this.manifest.set}" has no ${role} model`);
		const dims = [n, ...s.entry.input.shape.slice(1)];
		const out = await s.session.run({ [s.inputName]: new ort.Tensor("float32", data, dims) });
		const res: Record<string, Float32Array> = {};
		for (const name of s.outputNames) res[name] = out[name].data as Float32Array;
		return res;
	}

	/** Run a per-item model over `n` items: one batched run if the model allows, else one run each. */
	private async runEach(role: ModelRole, data: Float32Array, n: number): Promise<Float32Array[]> {
		const s = this.sessions[role]!;
		const per = data.length / n;
		const first = s.outputNames[0];
		if (s.batched && n > 1) {
			const out = (await this.run(role, data, n))[first];
			const k = out.length / n;
			return Array.from({ length: n }, (_, i) => out.subarray(i * k, (i + 1) * k));
		}
		const res: Float32Array[] = [];
		for (let i = 0; i < n; i++) res.push((await this.run(role, data.subarray(i * per, (i + 1) * per), 1))[first]);
		return res;
	}

	private async load(input: AnalyzeInput): Promise<{ image: RgbImage; scale: number; width: number; height: number }> {
		if (input.frame && input.image) throw new VisionError("INVALID_INPUT", "give either image or frame, not both");
		try {
			if (input.frame) {
				const f = input.frame;
				const image = rgbFrame(f.data, f.width, f.height);
				return { image, scale: 1, width: f.width, height: f.height };
			}
			if (input.image) return await decodeImage(input.image);
		} catch (err) {
			if (err instanceof ImageError) throw new VisionError(err.code, err.message);
			throw err;
		}
		throw new VisionError("INVALID_INPUT", "an image (encoded file) or a frame (raw RGB24) is required");
	}

	/** Detect, align, embed, assess quality (and liveness if asked) in one pass. */
	async analyze(input: AnalyzeInput): Promise<AnalyzeResult> {
		const t0 = now();
		const { image, scale, width, height } = await this.load(input);
		const t1 = now();
		const minFace = (input.minFaceSize ?? 20) / scale;
		const dets = (await this.detectDecoded(image))
			.filter(d => Math.min(d.box[2] - d.box[0], d.box[3] - d.box[1]) >= minFace)
			.sort((a, b) => area(b.box) - area(a.box))
			.slice(0, input.maxFaces ?? 20);
		const t2 = now();
		const faces = await this.facesOf(image, dets, input.embed !== false, input.liveness ?? this.opts.liveness ?? false);
		const out = faces.faces.map(f => inSourcePixels(f, scale));
		const totalMs = now() - t0;
		return { width, height, faces: out, timings: { decodeMs: t1 - t0, detectMs: t2 - t1, ...faces.timings, totalMs } };
	}

	/** Faces with boxes, landmarks and quality, no embeddings. */
	detect(input: AnalyzeInput): Promise<AnalyzeResult> {
		return this.analyze({ ...input, embed: false });
	}

	/**
	 * The embedding of the main face (the largest, or the one in `box`, given in source
	 * pixels). Throws NO_FACE_DETECTED when there is none.
	 */
	async embed(input: AnalyzeInput & { box?: Box }): Promise<Face & { embedding: number[]; embeddingVersion: number }> {
		let face: Face | undefined;
		if (input.box) {
			const { image, scale } = await this.load(input);
			const b = input.box.map(v => v / scale) as Box;
			if (!(b[2] > b[0] && b[3] > b[1])) throw new VisionError("INVALID_BOX", "box must be [x1, y1, x2, y2] with x2 > x1 and y2 > y1");
			if (b[2] <= 0 || b[3] <= 0 || b[0] >= image.width || b[1] >= image.height) throw new VisionError("INVALID_BOX", "box lies outside the image");
			const res = await this.facesOf(image, [{ box: b, score: 1 }], true, false);
			const f = res.faces[0];
			face = { ...inSourcePixels(f, scale), box: input.box };
		} else face = (await this.analyze({ ...input, maxFaces: 1, embed: true })).faces[0];
		if (!face || !face.embedding) throw new VisionError("NO_FACE_DETECTED", "no face was detected in the image");
		return face as Face & { embedding: number[]; embeddingVersion: number };
	}

	/**
	 * Faces in the whole image, plus (SMALL_FACES) those the small-face pass finds in tiles at
	 * a finer scale where the frame-wide pass found none; if none, once more with a margin around it (tight crops).
	 */
	private async detectDecoded(image: RgbImage): Promise<Detection[]> {
		let found = await this.detectIn(image, wholeImage(image));
		const plan = this.opts.smallFaces;
		const [, , h, w] = this.shape("detector");
		if (plan && this.fine && fineScaleHelps(image.width, image.height, w, h, plan.scale)) {
			const more: Detection[] = [];
			const threshold = plan.threshold ?? DETECT_THRESHOLD;
			for (const view of tileViews(image.width, image.height, plan)) {
				// A face cut by a tile's inner edge is whole in its neighbour.
				const margin = 2 / plan.scale;
				for (const d of await this.detectFine(image, view, threshold)) if (!cutByInnerEdge(d.box, view, margin)) more.push(d);
			}
			// Faces the frame-wide pass found keep its boxes (so this pass only adds faces); the
			// views' own finds are merged among themselves.
			const frameWide = found;
			if (more.length) found = [...frameWide, ...nms(more).filter(m => frameWide.every(f => iou(f.box, m.box) <= NMS_IOU))];
		}
		return found.length ? found : this.detectIn(image, paddedImage(image));
	}

	/** The any-size detector on one view of the image. */
	private async detectFine(image: RgbImage, view: View, threshold: number): Promise<Detection[]> {
		const fine = this.fine!;
		const { inW, inH, rect } = view;
		const input = detectorInput(image, inW, inH, rect);
		const out = await fine.session.run({ [fine.inputName]: new ort.Tensor("float32", input, [1, 3, inH, inW]) });
		const key = `${inW}x${inH}`;
		let priors = fine.priors.get(key);
		if (!priors) {
			// Frames of a camera keep one size; photos of every size would grow the cache without end.
			if (fine.priors.size >= 16) fine.priors.clear();
			fine.priors.set(key, (priors = ultrafacePriors(inW, inH)));
		}
		const boxes = decodeRegression(out[fine.regression].data as Float32Array, priors);
		return decodeDetections(out[fine.scores].data as Float32Array, boxes, rect, image.width, image.height, threshold);
	}

	private async detectIn(image: RgbImage, rect: Rect): Promise<Detection[]> {
		const out = await this.run("detector", this.detectorTensor(image, rect), 1);
		const outputs = this.sessions.detector!.outputNames;
		const scores = out["scores"] ?? out[outputs[0]];
		const boxes = out["boxes"] ?? out[outputs[1]];
		return decodeDetections(scores, boxes, rect, image.width, image.height);
	}

	private async facesOf(image: RgbImage, dets: Detection[], embed: boolean, liveness: boolean) {
		const timings = { landmarksMs: 0, alignMs: 0, embedMs: 0, qualityMs: 0, livenessMs: 0 };
		const n = dets.length;
		if (n === 0) return { faces: [] as Face[], timings };
		let t = now();
		const lmSize = LANDMARK_SIZE * LANDMARK_SIZE;
		const lmIn = new Float32Array(n * lmSize);
		dets.forEach((d, i) => landmarkInput(image, d.box, lmIn, i * lmSize));
		const lmOut = await this.runEach("landmarks", lmIn, n);
		const pts68 = dets.map((d, i) => decodeLandmarks(lmOut[i], d.box, image.width, image.height));
		const five = pts68.map(fivePoints);
		timings.landmarksMs = now() - t;

		t = now();
		const plane = ALIGNED_SIZE * ALIGNED_SIZE * 3;
		const flip = embed && (this.opts.flip ?? true);
		const copies = flip ? 2 : 1;
		// Layout: face i at [i*copies], its mirror right after it, so one batch holds both.
		const aligned = new Float32Array(n * copies * plane);
		const order = this.sessions.embedder!.entry.input.colour === "RGB" ? "rgb" : "bgr";
		five.forEach((p, i) => {
			alignedInput(image, p, aligned, i * copies * plane, { channels: order, mean: 127, scale: 1 / 128 });
			if (flip) flipTensor(aligned, i * copies * plane, aligned, (i * copies + 1) * plane, 3, ALIGNED_SIZE, ALIGNED_SIZE);
		});
		timings.alignMs = now() - t;

		let embeddings: number[][] | null = null;
		if (embed) {
			t = now();
			const outs = await this.runEach("embedder", aligned, n * copies);
			embeddings = [];
			for (let i = 0; i < n; i++) {
				const e = Float64Array.from(outs[i * copies]);
				if (flip) {
					const m = outs[i * copies + 1];
					for (let k = 0; k < e.length; k++) e[k] += m[k];
				}
				embeddings.push(Array.from(l2normalize(e)));
			}
			timings.embedMs = now() - t;
		}

		t = now();
		const eyesOpen = await this.eyesOpen(image, pts68);
		const faces: Face[] = dets.map((d, i) => ({
			box: d.box,
			score: d.score,
			landmarks: five[i],
			...(embeddings ? { embedding: embeddings[i], embeddingVersion: this.embeddingVersion } : {}),
			quality: faceQuality({ box: d.box, frameHeight: image.height, points: five[i], crop: cropStats(aligned, i * copies * plane), eyesOpen: eyesOpen[i] })
		}));
		timings.qualityMs = now() - t;

		if (liveness && this.sessions.liveness) {
			t = now();
			const live = await this.liveness(image, dets);
			faces.forEach((f, i) => (f.liveness = live[i]));
			timings.livenessMs = now() - t;
		}
		return { faces, timings };
	}

	/** Probability that both eyes are open (the lower of the two), per face; null without an eye model. */
	private async eyesOpen(image: RgbImage, pts68: Point[][]): Promise<(number | null)[]> {
		const s = this.sessions.eyes;
		if (!s) return pts68.map(() => null);
		const [, , h, w] = s.entry.input.shape;
		const openClass = Number((s.entry.output as { openClass?: number }).openClass ?? 0);
		const size = w * h;
		const input = new Float32Array(pts68.length * 2 * size);
		pts68.forEach((p, i) =>
			eyeSquares(p).forEach(([x, y, side], j) =>
				sampleToTensor(image, rectAffine(x, y, side, side, w, h), w, h, input, (i * 2 + j) * size, { channels: "grey", mean: 0, scale: 1 / 255 })
			)
		);
		const outs = await this.runEach("eyes", input, pts68.length * 2);
		return pts68.map((_, i) => Math.min(softmax(outs[i * 2])[openClass], softmax(outs[i * 2 + 1])[openClass]));
	}

	private async liveness(image: RgbImage, dets: Detection[]): Promise<LivenessResult[]> {
		const s = this.sessions.liveness!;
		const [, , h, w] = s.entry.input.shape;
		const size = 3 * w * h;
		const input = new Float32Array(dets.length * size);
		dets.forEach((d, i) => {
			const [x, y, cw, ch] = livenessRect(d.box, image.width, image.height, 2.7);
			sampleToTensor(image, rectAffine(x, y, cw, ch, w, h), w, h, input, i * size, { channels: "rgb", mean: 0, scale: 1 });
		});
		const outs = await this.runEach("liveness", input, dets.length);
		return outs.map(o => {
			const p = softmax(o);
			return { score: p[1], probabilities: Array.from(p), experimental: true as const };
		});
	}
}

/**
 * The detector cut before its box decoding (any input size). Refused unless the priors this
 * engine makes for the detector's own input size are exactly those baked into its graph.
 */
async function fineDetector(opts: EngineOptions, entry: ModelEntry): Promise<FineDetector> {
	if (entry.kind !== "ultraface") throw new VisionError("MODEL_UNSUPPORTED", `SMALL_FACES needs an ultraface detector, the model set has a ${entry.kind}`);
	const file = prepareModel(fs.readFileSync(path.join(opts.modelsDir, entry.file))).model;
	const any = anySizeDetector(file, entry.input.name);
	const [, , h, w] = entry.input.shape;
	const baked = bakedPriors(file, any.regression);
	const ours = ultrafacePriors(w, h);
	if (!baked || baked.length !== ours.length || baked.some((v, i) => Math.abs(v - ours[i]) > 1e-6))
		throw new VisionError("MODEL_UNSUPPORTED", `the priors of ${entry.file} are not UltraFace's: SMALL_FACES cannot decode it at other sizes`);
	const session = await ort.InferenceSession.create(any.model, { intraOpNumThreads: opts.threads ?? 1, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all" });
	return { session, inputName: entry.input.name, scores: any.scores, regression: any.regression, priors: new Map() };
}

/**
 * A verified model file as the engine runs it: its PRelus in a form onnxruntime runs faster
 * and, where the model allows, any batch size (the same function either way).
 */
export function prepareModel(file: Uint8Array): { model: Uint8Array; batchable: boolean } {
	return dynamicBatch(rewritePRelu(file).model);
}

/** A face found on the decoded image, in the pixels of the source (shrunk-on-load photos). */
function inSourcePixels(f: Face, scale: number): Face {
	if (scale === 1) return f;
	return {
		...f,
		box: f.box.map(v => v * scale) as Box,
		landmarks: f.landmarks.map(p => [p[0] * scale, p[1] * scale] as Point),
		quality: { ...f.quality, interocularPx: f.quality.interocularPx * scale }
	};
}

const area = (b: Box) => (b[2] - b[0]) * (b[3] - b[1]);

export function softmax(v: ArrayLike<number>): number[] {
	let m = -Infinity;
	for (let i = 0; i < v.length; i++) m = Math.max(m, v[i]);
	const e = Array.from(v, x => Math.exp(x - m));
	const s = e.reduce((a, b) => a + b, 0);
	return e.map(x => x / s);
}

/** The box grown `k` times around its centre, shifted (then clipped) to stay inside the image. */
export function livenessRect(box: Box, width: number, height: number, k: number): [number, number, number, number] {
	const bw = box[2] - box[0],
		bh = box[3] - box[1];
	const s = Math.min((height - 1) / bh, (width - 1) / bw, k);
	const w = bw * s,
		h = bh * s;
	let x = (box[0] + box[2]) / 2 - w / 2;
	let y = (box[1] + box[3]) / 2 - h / 2;
	x = Math.min(Math.max(0, x), width - w);
	y = Math.min(Math.max(0, y), height - h);
	return [x, y, w, h];
}
