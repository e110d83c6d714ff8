/**
 * Refit the similarity calibration (config/calibration.json) from pair cosines:
 *   npm run calibrate -- [--tail-factor 1.3] [FILE.csv ...]
 * Each FILE is `cosine,same` as written by `npm run eval -- --pairs ... --cosines FILE`;
 * by default the committed bench/calibration/*.csv. Prints the fit and its checks.
 */
import fs from "node:fs";
import path from "node:path";
import { fitCalibration } from "../lib/vision/calibrate";
import { loadManifest } from "../lib/vision/manifest";
import { modelLocation } from "../config";
import type { ScoredPair } from "../lib/vision/metrics";

const args = process.argv.slice(2);
const tfIdx = args.indexOf("--tail-factor");
const tailFactor = tfIdx >= 0 ? Number(args.splice(tfIdx, 2)[1]) : 1.3;
if (!(tailFactor >= 1)) throw new Error("--tail-factor must be a number >= 1");
const dir = path.join(__dirname, "calibration");
const files = args.length ? args : fs.readdirSync(dir).filter(f => f.endsWith(".csv")).map(f => path.join(dir, f));
const pairs: ScoredPair[] = [];
for (const f of files)
	for (const line of fs.readFileSync(f, "utf8").split(/\r?\n/).slice(1)) {
		if (!line.trim()) continue;
		const [c, s] = line.split(",");
		pairs.push({ score: Number(c), same: s.trim() === "1" });
	}
const { modelsManifest } = modelLocation(process.env, process.cwd());
const cal = fitCalibration(pairs, { tailFactor, embeddingVersion: loadManifest(modelsManifest).embeddingVersion, data: files.map(f => path.relative(process.cwd(), f)).join(", ") });
const out = path.join(__dirname, "..", "config", "calibration.json");
fs.writeFileSync(out, JSON.stringify(cal, null, "\t") + "\n");
console.log(JSON.stringify(cal, null, 2));
console.error(`calibration written to ${out}`);
