import fs from "node:fs";
import sharp from "sharp";
import { modelLocation } from "../config";
import { VisionEngine } from "../lib/vision/engine";
import { loadManifest } from "../lib/vision/manifest";
import { SAMPLES } from "../test/support/face-video";
async function main() {
	const { modelsDir, modelsManifest } = modelLocation(process.env, process.cwd());
	const engine = await VisionEngine.create({ modelsDir, manifest: loadManifest(modelsManifest), flip: false });
	const crops: Buffer[] = [];
	for (const photo of SAMPLES) {
		const det = await engine.detect({ image: fs.readFileSync(photo) });
		for (const f of det.faces.slice(0, 2)) {
			if (crops.length === 5) break;
			const [x1, y1, x2, y2] = f.box; const m = 0.4 * (x2 - x1); const meta = await sharp(photo).metadata();
			const left = Math.max(0, Math.round(x1 - m)), top = Math.max(0, Math.round(y1 - m));
			const width = Math.min(meta.width! - left, Math.round(x2 - x1 + 2 * m)), height = Math.min(meta.height! - top, Math.round(y2 - y1 + 2 * m));
			crops.push(await sharp(photo).rotate().extract({ left, top, width, height }).resize(360, 480, { fit: "cover" }).toBuffer());
		}
	}
	const frame = await sharp({ create: { width: 1920, height: 1080, channels: 3, background: { r: 90, g: 90, b: 90 } } }).composite(crops.map((t, i) => ({ input: t, left: 30 + i * 378, top: 300 }))).removeAlpha().raw().toBuffer({ resolveWithObject: true });
	const input = { frame: { data: frame.data, width: 1920, height: 1080 } };
	const all: any[] = [];
	for (let i = 0; i < 30; i++) { const r = await engine.analyze(input); if (i >= 5) all.push(r.timings); if (i === 0) console.log("faces", r.faces.length, r.faces.map(f => Math.round(f.box[2] - f.box[0]))); }
	const med = (k: string) => { const v = all.map(t => t[k]).sort((a, b) => a - b); return Math.round(v[Math.floor(v.length / 2)] * 10) / 10; };
	console.log(Object.fromEntries(Object.keys(all[0]).map(k => [k, med(k)])));
}
main();
