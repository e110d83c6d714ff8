/**
 * scripts/fetch-models.ts for real: it leaves verified files alone (no registry call) and
 * replaces a corrupt one from the package tarball (`npm pack`, which needs the npm registry,
 * as `npm install` itself does).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { modelLocation } from "../../config";
import { loadManifest, sha256File, verifyModels } from "../../lib/vision/manifest";

const ROOT = path.join(__dirname, "../..");
const { modelsDir, modelsManifest } = modelLocation(process.env, ROOT);
const manifest = loadManifest(modelsManifest);

function fetchModels(dir: string): string {
	return execFileSync(process.execPath, [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), path.join(ROOT, "scripts/fetch-models.ts")], {
		cwd: ROOT,
		env: { ...process.env, MODELS_DIR: dir },
		encoding: "utf8",
		timeout: 120000
	});
}

describe("fetch-models", () => {
	let dir: string;
	beforeAll(() => {
		verifyModels(manifest, modelsDir);
		dir = fs.mkdtempSync(path.join(os.tmpdir(), "rollcall-fetch-"));
		for (const e of Object.values(manifest.models)) fs.copyFileSync(path.join(modelsDir, e!.file), path.join(dir, e!.file));
	});
	afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

	it("is idempotent: a verified set is left as it is", () => {
		const before = fs.statSync(path.join(dir, "fr_detect.onnx")).mtimeMs;
		expect(fetchModels(dir)).toMatch(/present and verified/);
		expect(fs.statSync(path.join(dir, "fr_detect.onnx")).mtimeMs).toBe(before);
	});

	it("re-fetches a corrupt model from its package and checks its hash", () => {
		const file = path.join(dir, "fr_eye.onnx");
		fs.writeFileSync(file, "corrupt");
		const out = fetchModels(dir);
		expect(out).toMatch(/npm pack faceplugin-face-recognition-js@0\.0\.1 \(fr_eye\.onnx\)/);
		expect(sha256File(file)).toBe(manifest.models.eyes!.sha256);
		expect(() => verifyModels(manifest, dir)).not.toThrow();
	});
});
