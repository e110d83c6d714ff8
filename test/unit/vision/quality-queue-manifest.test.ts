import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ARCFACE_TEMPLATE } from "../../../lib/vision/align";
import type { Point } from "../../../lib/vision/landmarks";
import { loadManifest, ModelError, parseManifest, verifyModels, type ModelManifest } from "../../../lib/vision/manifest";
import { faceQuality, laplacianVariance, poseFromPoints } from "../../../lib/vision/quality";
import { BoundedQueue, QueueFullError } from "../../../lib/vision/queue";

describe("quality", () => {
	it("Laplacian variance is 0 on a flat patch and large on a checkerboard", () => {
		expect(laplacianVariance(new Float32Array(100).fill(90), 10, 10)).toBe(0);
		const checker = Float32Array.from({ length: 100 }, (_, i) => ((i % 10) + Math.floor(i / 10)) % 2 ? 255 : 0);
		expect(laplacianVariance(checker, 10, 10)).toBeGreaterThan(100000);
	});
	it("the frontal template has no pose; rotating it gives its roll; shifting the nose gives yaw", () => {
		const p0 = poseFromPoints(ARCFACE_TEMPLATE);
		expect(Math.abs(p0.yaw)).toBeLessThan(1);
		expect(Math.abs(p0.pitch)).toBeLessThan(1);
		expect(Math.abs(p0.roll)).toBeLessThan(1);
		const r = (15 * Math.PI) / 180;
		const rotated = ARCFACE_TEMPLATE.map(([x, y]) => [x * Math.cos(r) - y * Math.sin(r), x * Math.sin(r) + y * Math.cos(r)] as Point);
		expect(poseFromPoints(rotated).roll).toBeCloseTo(15, 0);
		const turned = ARCFACE_TEMPLATE.map((p, i) => (i === 2 ? [p[0] + 10, p[1]] : p) as Point);
		expect(poseFromPoints(turned).yaw).toBeGreaterThan(15);
	});
	it("overall multiplies the sub-scores: a dark crop or shut eyes pull it down", () => {
		const pts = ARCFACE_TEMPLATE.map(([x, y]) => [x * 2, y * 2] as Point);
		const base = { box: [0, 0, 224, 224] as [number, number, number, number], frameHeight: 448, points: pts, crop: { sharpness: 300, brightness: 0.5, contrast: 0.2 }, eyesOpen: 0.99 };
		const good = faceQuality(base);
		expect(good.overall).toBeGreaterThan(0.9);
		expect(good.faceSize).toBeCloseTo(0.5);
		expect(faceQuality({ ...base, crop: { ...base.crop, brightness: 0.08 } }).overall).toBeLessThan(0.1);
		expect(faceQuality({ ...base, eyesOpen: 0.05 }).overall).toBeLessThan(0.2);
	});
});

describe("BoundedQueue", () => {
	it("runs one at a time, queues up to maxWaiting and refuses the next", async () => {
		const q = new BoundedQueue(1, 1);
		let release!: () => void;
		const order: string[] = [];
		const first = q.run(() => new Promise<void>(r => (release = () => (order.push("a"), r()))));
		const second = q.run(async () => void order.push("b"));
		await expect(q.run(async () => "c")).rejects.toBeInstanceOf(QueueFullError);
		expect(q.stats).toMatchObject({ running: 1, waiting: 1 });
		release();
		await Promise.all([first, second]);
		expect(order).toEqual(["a", "b"]);
		expect(q.stats).toMatchObject({ running: 0, waiting: 0 });
		await expect(q.run(async () => 42)).resolves.toBe(42);
	});
	it("frees its slot when a job fails", async () => {
		const q = new BoundedQueue(1, 0);
		await expect(q.run(async () => Promise.reject(new Error("x")))).rejects.toThrow("x");
		await expect(q.run(async () => 1)).resolves.toBe(1);
	});
});

describe("model manifest", () => {
	const manifestPath = path.join(__dirname, "../../../config/models.json");
	it("the committed manifest is valid and pins every model", () => {
		const m = loadManifest(manifestPath);
		expect(m.embeddingVersion).toBe(1);
		for (const e of Object.values(m.models)) expect(e!.sha256).toMatch(/^[0-9a-f]{64}$/);
	});
	it("rejects a manifest without an embedder or with a bad hash", () => {
		const m = JSON.parse(fs.readFileSync(manifestPath, "utf8"));
		const noEmbedder = { ...m, models: { ...m.models, embedder: undefined } };
		expect(() => parseManifest(noEmbedder)).toThrow(/no "embedder" model/);
		const badHash = { ...m, models: { ...m.models, detector: { ...m.models.detector, sha256: "abc" } } };
		expect(() => parseManifest(badHash)).toThrow(/fr_detect.onnx\) needs a 64-hex sha256/);
	});
	it("verifyModels names a missing and a corrupt file", () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rollcall-models-"));
		try {
			const m: ModelManifest = loadManifest(manifestPath);
			fs.writeFileSync(path.join(dir, m.models.detector!.file), "not a model");
			let err: Error | undefined;
			try {
				verifyModels(m, dir);
			} catch (e) {
				err = e as Error;
			}
			expect(err).toBeInstanceOf(ModelError);
			expect(err!.message).toMatch(/fr_detect\.onnx does not match its pinned sha256/);
			expect(err!.message).toMatch(/fr_feature\.onnx is missing/);
			expect(err!.message).toMatch(/npm run models/);
		} finally {
			fs.rmSync(dir, { recursive: true, force: true });
		}
	});
});
