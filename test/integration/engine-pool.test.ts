/** Vision engines in worker threads give the same answers as one on the main thread, errors included. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { VisionEngine, VisionError } from "../../lib/vision/engine";
import { EnginePool } from "../../lib/vision/engine-pool";
import { loadManifest } from "../../lib/vision/manifest";
import { modelLocation } from "../../config";

const SAMPLE = path.join(__dirname, "../../node_modules/@vladmandic/face-api/demo/sample1.jpg");

describe("EnginePool", () => {
	const loc = modelLocation({}, path.resolve(__dirname, "../.."));
	const opts = { modelsDir: loc.modelsDir, manifest: loadManifest(loc.modelsManifest), threads: 1 };
	let pool: EnginePool;
	let engine: VisionEngine;
	beforeAll(async () => {
		[pool, engine] = await Promise.all([EnginePool.create({ ...opts, workers: 2 }), VisionEngine.create(opts)]);
	});
	afterAll(async () => {
		await pool?.close();
		await engine?.close();
	});

	it("analyzes in workers exactly as in this thread, two requests at once", async () => {
		const image = fs.readFileSync(SAMPLE);
		const [a, b, local] = await Promise.all([pool.analyze({ image }), pool.analyze({ image }), engine.analyze({ image })]);
		expect(a.faces.length).toBeGreaterThan(0);
		expect(a.faces.map(f => f.box)).toEqual(local.faces.map(f => f.box));
		expect(b.faces[0].embedding).toEqual(local.faces[0].embedding);
		expect(pool.embeddingVersion).toBe(engine.embeddingVersion);
	});

	it("keeps the code of an engine error", async () => {
		await expect(pool.analyze({ image: Buffer.from("not an image") })).rejects.toBeInstanceOf(VisionError);
		await expect(pool.analyze({ image: Buffer.from("not an image") })).rejects.toMatchObject({ code: "UNDECODABLE_IMAGE" });
	});

	it("runs its workers at a lower CPU priority than the event loop, which keeps its own", async () => {
		const own = os.getPriority(0);
		const lowered = await EnginePool.create({ ...opts, workers: 1, nice: 3 });
		try {
			expect([...lowered.niceness.values()]).toEqual([Math.min(19, own + 3)]);
			expect(os.getPriority(0)).toBe(own);
			// What the kernel says of each thread of this process (field 19 of /proc/<pid>/task/<tid>/stat).
			const nices = fs.readdirSync(`/proc/${process.pid}/task`).map(tid => {
				const stat = fs.readFileSync(`/proc/${process.pid}/task/${tid}/stat`, "utf8");
				return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
			});
			expect(nices).toContain(Math.min(19, own + 3));
			expect(Number(fs.readFileSync(`/proc/${process.pid}/stat`, "utf8").split(") ")[1].split(" ")[16])).toBe(own);
			const image = fs.readFileSync(SAMPLE);
			expect((await lowered.analyze({ image })).faces.length).toBeGreaterThan(0);
		} finally {
			await lowered.close();
		}
	});
});
