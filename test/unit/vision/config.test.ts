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
	it("modelLocation needs no API key (install-time fetch)", () => {
		expect(modelLocation({ MODELS_DIR: "m" }, "/x").modelsDir).toBe("/x/m");
	});
});
