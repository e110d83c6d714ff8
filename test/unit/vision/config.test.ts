import os from "node:os";
import path from "node:path";
import { ConfigError, loadConfig, modelLocation } from "../../../config";

const base = { API_KEY: "0123456789abcdef0123", DATA_DIR: "/tmp/rollcall-config-test" };

describe("vision configuration", () => {
	it("defaults: one engine worker per core, one inference thread each, a queue of 16, flip TTA on, liveness off, the committed manifest", () => {
		const cfg = loadConfig(base, { cwd: "/srv/rollcall" });
		expect(cfg.inferenceWorkers).toBe(os.availableParallelism());
		expect(cfg.inferenceThreads).toBe(1);
		expect(cfg.inferenceQueue).toBe(16);
		expect(cfg.inferenceFlip).toBe(false);
		expect(cfg.livenessDefault).toBe(false);
		expect(cfg.modelsDir).toBe("/srv/rollcall/onnx-models");
		expect(cfg.modelsManifest).toBe(path.resolve(__dirname, "../../../config/models.json"));
	});
	it("reads and validates the variables", () => {
		const cfg = loadConfig({ ...base, INFERENCE_THREADS: "2", INFERENCE_QUEUE: "0", INFERENCE_FLIP: "true", LIVENESS: "on", MODELS_MANIFEST: "sets/arcface.json", INFERENCE_WORKERS: "0" }, { cwd: "/srv" });
		expect([cfg.inferenceThreads, cfg.inferenceQueue, cfg.inferenceFlip, cfg.livenessDefault, cfg.inferenceWorkers]).toEqual([2, 0, true, true, 0]);
		expect(cfg.modelsManifest).toBe("/srv/sets/arcface.json");
		expect(() => loadConfig({ ...base, INFERENCE_THREADS: "0" })).toThrow(ConfigError);
		expect(() => loadConfig({ ...base, INFERENCE_QUEUE: "-1" })).toThrow(/INFERENCE_QUEUE/);
		expect(() => loadConfig({ ...base, INFERENCE_FLIP: "sometimes" })).toThrow(/INFERENCE_FLIP must be true or false/);
	});
	it("SMALL_FACES: off by default; on, a plan of scale, tile, overlap and threshold, each validated", () => {
		expect(loadConfig(base).smallFaces).toBeNull();
		expect(loadConfig({ ...base, SMALL_FACES: "true" }).smallFaces).toEqual({ scale: 1 / 3, tileW: 640, tileH: 480, overlap: 64, threshold: 0.7 });
		expect(loadConfig({ ...base, SMALL_FACES: "true", SMALL_FACES_SCALE: "0.5", SMALL_FACES_TILE: "whole", SMALL_FACES_OVERLAP: "0", SMALL_FACES_THRESHOLD: "0.8" }).smallFaces).toEqual({
			scale: 0.5,
			tileW: Infinity,
			tileH: Infinity,
			overlap: 0,
			threshold: 0.8
		});
		expect(loadConfig({ ...base, SMALL_FACES: "true", SMALL_FACES_TILE: "320X240" }).smallFaces).toMatchObject({ tileW: 320, tileH: 240 });
		expect(() => loadConfig({ ...base, SMALL_FACES: "true", SMALL_FACES_TILE: "big" })).toThrow(/SMALL_FACES_TILE must be WIDTHxHEIGHT/);
		expect(() => loadConfig({ ...base, SMALL_FACES: "true", SMALL_FACES_TILE: "320x240", SMALL_FACES_OVERLAP: "240" })).toThrow(/SMALL_FACES_OVERLAP must be smaller than the tile/);
		expect(() => loadConfig({ ...base, SMALL_FACES: "true", SMALL_FACES_SCALE: "0" })).toThrow(/SMALL_FACES_SCALE must be between/);
		expect(() => loadConfig({ ...base, SMALL_FACES: "yes please" })).toThrow(/SMALL_FACES must be true or false/);
	});
	it("modelLocation needs no API key (install-time fetch)", () => {
		expect(modelLocation({ MODELS_DIR: "m" }, "/x").modelsDir).toBe("/x/m");
	});
});
