/**
 * The vision engine and the inference service on the real models (fetched at install by
 * scripts/fetch-models.ts) and real face photos (@vladmandic/face-api's demo samples;
 * sample1 and sample3 show the same woman).
 */
import fs from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { modelLocation } from "../../config";
import { encodeBmp } from "../../lib/vision/bmp";
import { decodeImage } from "../../lib/vision/decode";
import { VisionEngine, VisionError } from "../../lib/vision/engine";
import { loadManifest, verifyModels } from "../../lib/vision/manifest";
import { cosine, similarityFromCosine } from "../../lib/vision/similarity";
import { ServiceBroker } from "moleculer";
import { loadConfig } from "../../config";
import { brokerOptions } from "../../moleculer.config";
import inferenceService from "../../services/inference.service";
import { startNode, TEST_API_KEY, type TestNode } from "../support/node";

const SAMPLES = path.join(__dirname, "../../node_modules/@vladmandic/face-api/demo");
const sample = (i: number) => fs.readFileSync(path.join(SAMPLES, `sample${i}.jpg`));
const { modelsDir, modelsManifest } = modelLocation(process.env, path.join(__dirname, "../.."));
const manifest = loadManifest(modelsManifest);

// Models are part of install (postinstall); their absence is a failure, not a skip.
verifyModels(manifest, modelsDir);

/** A face-free picture: smooth colour gradients plus a few geometric shapes. */
async function noFacePicture(): Promise<Buffer> {
	const w = 640,
		h = 360;
	const data = Buffer.alloc(w * h * 3);
	for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([(x * 255) / w, (y * 255) / h, 128 + 100 * Math.sin(x / 40)], (y * w + x) * 3);
	return sharp(data, { raw: { width: w, height: h, channels: 3 } }).jpeg().toBuffer();
}

describe("vision engine (real models, real photos)", () => {
	let engine: VisionEngine;
	beforeAll(async () => {
		engine = await VisionEngine.create({ modelsDir, manifest, threads: 1 });
	});
	afterAll(() => engine?.close());

	it("finds the faces of every sample with sane boxes and landmarks", async () => {
		for (let i = 1; i <= 6; i++) {
			const r = await engine.analyze({ image: sample(i) });
			expect(r.faces.length).toBeGreaterThanOrEqual(1);
			for (const f of r.faces) {
				const [x1, y1, x2, y2] = f.box;
				expect(x1).toBeGreaterThanOrEqual(0);
				expect(y1).toBeGreaterThanOrEqual(0);
				expect(x2).toBeLessThanOrEqual(r.width);
				expect(y2).toBeLessThanOrEqual(r.height);
				expect(x2 - x1).toBeGreaterThan(30);
				expect((y2 - y1) / (x2 - x1)).toBeGreaterThan(0.7);
				expect((y2 - y1) / (x2 - x1)).toBeLessThan(2);
				expect(f.score).toBeGreaterThan(0.7);
				expect(f.landmarks).toHaveLength(5);
				// All five points inside the (slightly grown) box; eyes above the nose, nose above the mouth.
				const m = 0.15 * (x2 - x1);
				for (const [x, y] of f.landmarks) {
					expect(x).toBeGreaterThan(x1 - m);
					expect(x).toBeLessThan(x2 + m);
					expect(y).toBeGreaterThan(y1 - m);
					expect(y).toBeLessThan(y2 + m);
				}
				const [le, re, nose, lm, rm] = f.landmarks;
				expect(Math.max(le[1], re[1])).toBeLessThan(Math.min(lm[1], rm[1]));
				expect(le[0]).toBeLessThan(re[0]);
				expect(nose[1]).toBeGreaterThan(Math.min(le[1], re[1]));
				expect(f.embedding).toHaveLength(512);
				expect(Math.hypot(...f.embedding!)).toBeCloseTo(1, 5);
				expect(f.embeddingVersion).toBe(manifest.embeddingVersion);
				expect(f.quality.overall).toBeGreaterThanOrEqual(0);
				expect(f.quality.overall).toBeLessThanOrEqual(1);
				expect(f.quality.sharpness).toBeGreaterThan(0);
			}
		}
	});

	it("puts the same woman (sample1, sample3) closer than any other pair of main faces", async () => {
		const embs = [];
		for (let i = 1; i <= 6; i++) embs.push((await engine.embed({ image: sample(i) })).embedding);
		const same = cosine(embs[0], embs[2]);
		for (let i = 0; i < 6; i++)
			for (let j = i + 1; j < 6; j++) if (!(i === 0 && j === 2)) expect(cosine(embs[i], embs[j])).toBeLessThan(same - 0.2);
		expect(similarityFromCosine(same)).toBeGreaterThan(0.85);
	});

	it("gives the same faces for a raw RGB24 frame, a BMP and the encoded file", async () => {
		const small = await sharp(sample(1)).resize(960).jpeg({ quality: 95 }).toBuffer();
		const { image } = await decodeImage(small);
		const fromFile = await engine.analyze({ image: small });
		const fromFrame = await engine.analyze({ frame: { data: Buffer.from(image.data), width: image.width, height: image.height } });
		const fromBmp = await engine.analyze({ image: encodeBmp(image) });
		for (const other of [fromFrame, fromBmp]) {
			expect(other.faces.length).toBe(fromFile.faces.length);
			expect(cosine(other.faces[0].embedding!, fromFile.faces[0].embedding!)).toBeGreaterThan(0.999);
		}
	});

	it("embeds the face inside a given box", async () => {
		const r = await engine.analyze({ image: sample(2) });
		const second = r.faces[1];
		const e = await engine.embed({ image: sample(2), box: second.box });
		expect(cosine(e.embedding, second.embedding!)).toBeGreaterThan(0.95);
		await expect(engine.embed({ image: sample(2), box: [5000, 5000, 5100, 5100] })).rejects.toMatchObject({ code: "INVALID_BOX" });
		await expect(engine.embed({ image: sample(2), box: [50, 50, 40, 60] })).rejects.toMatchObject({ code: "INVALID_BOX" });
	});

	it("finds no face in a picture without one", async () => {
		const r = await engine.analyze({ image: await noFacePicture() });
		expect(r.faces).toEqual([]);
		await expect(engine.embed({ image: await noFacePicture() })).rejects.toMatchObject({ code: "NO_FACE_DETECTED" });
	});

	it("gives a clear error for an undecodable image and a malformed frame", async () => {
		await expect(engine.analyze({ image: Buffer.from("this is not an image at all") })).rejects.toThrow(VisionError);
		await expect(engine.analyze({ image: Buffer.from("this is not an image at all") })).rejects.toMatchObject({ code: "UNDECODABLE_IMAGE" });
		await expect(engine.analyze({ frame: { data: Buffer.alloc(100), width: 640, height: 360 } })).rejects.toMatchObject({ code: "INVALID_FRAME" });
	});

	it("reports liveness only when asked", async () => {
		const plain = await engine.analyze({ image: sample(1), maxFaces: 1 });
		expect(plain.faces[0].liveness).toBeUndefined();
		const live = await engine.analyze({ image: sample(1), maxFaces: 1, liveness: true });
		const l = live.faces[0].liveness!;
		expect(l.probabilities).toHaveLength(3);
		expect(l.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
		expect(l.score).toBeGreaterThanOrEqual(0);
	});
});

describe("inference service", () => {
	let node: TestNode;
	afterEach(() => node?.stop());

	it("analyzes over the broker and answers INFERENCE_BUSY past its queue", async () => {
		node = await startNode({ SERVICES: "inference", INFERENCE_QUEUE: "1", INFERENCE_WORKERS: "1" });
		const r: any = await node.broker.call("inference.analyze", { image: sample(1) });
		expect(r.faces.length).toBeGreaterThanOrEqual(1);
		expect(r.faces[0].embedding).toHaveLength(512);
		const info: any = await node.broker.call("inference.info");
		expect(info.embeddingVersion).toBe(1);
		// One running (one worker) + one queued; the rest bounce at once.
		const calls = Array.from({ length: 5 }, () => node.broker.call("inference.detect", { image: sample(3) }).then(() => "ok", (e: any) => `${e.code} ${e.type}`));
		const results = await Promise.all(calls);
		expect(results.filter(r => r === "ok")).toHaveLength(2);
		expect(results.filter(r => r === "503 INFERENCE_BUSY")).toHaveLength(3);
		const err: any = await node.broker.call("inference.analyze", { image: sample(3) }).then(() => null, e => e);
		expect(err).toBeNull();
	});

	it("maps bad input to documented errors", async () => {
		node = await startNode({ SERVICES: "inference" });
		await expect(node.broker.call("inference.analyze", {})).rejects.toMatchObject({ code: 400, type: "IMAGE_REQUIRED" });
		await expect(node.broker.call("inference.analyze", { image: Buffer.from("nope") })).rejects.toMatchObject({ code: 400, type: "UNDECODABLE_IMAGE" });
	});

	it("takes a raw RGB24 frame as a Buffer across a transporter (CBOR-serialised packets)", async () => {
		// Moleculer's Fake transporter passes serialised packets over an in-process bus, so the
		// frame goes through the same CBOR encoding as over NATS.
		const cfg = (id: string) => loadConfig({ NODE_ID: id, API_KEY: TEST_API_KEY, METRICS_PORT: "off", LOG_LEVEL: "warn", SERVICES: "inference" });
		const worker = new ServiceBroker({ ...brokerOptions(cfg("vision-worker")), transporter: "Fake" });
		worker.createService(inferenceService(cfg("vision-worker")));
		const caller = new ServiceBroker({ ...brokerOptions(cfg("vision-caller")), transporter: "Fake" });
		await Promise.all([worker.start(), caller.start()]);
		try {
			await caller.waitForServices(["inference"], 10000);
			const { data, info } = await sharp(sample(1)).resize(640, 360, { fit: "cover" }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
			const r: any = await caller.call("inference.analyze", { frame: { data, width: info.width, height: info.height } }, { nodeID: "vision-worker" });
			expect([r.width, r.height]).toEqual([640, 360]);
			expect(r.faces.length).toBeGreaterThanOrEqual(1);
			expect(r.faces[0].embedding).toHaveLength(512);
			const e: any = await caller.call("inference.embed", { frame: { data, width: info.width, height: info.height }, box: r.faces[0].box }, { nodeID: "vision-worker" });
			expect(cosine(e.embedding, r.faces[0].embedding)).toBeGreaterThan(0.95);
		} finally {
			await Promise.all([caller.stop(), worker.stop()]);
		}
	});

	it("refuses to start when a model is missing, naming the file", async () => {
		const dir = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "rollcall-models-"));
		for (const e of Object.values(manifest.models)) if (e!.file !== "fr_feature.onnx") fs.copyFileSync(path.join(modelsDir, e!.file), path.join(dir, e!.file));
		await expect(startNode({ SERVICES: "inference", MODELS_DIR: dir })).rejects.toThrow(/fr_feature\.onnx is missing/);
		fs.rmSync(dir, { recursive: true, force: true });
	});
});
