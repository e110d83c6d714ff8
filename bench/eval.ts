/**
 * Accuracy of the vision engine on labelled data (paths are read, never copied):
 *   npm run eval -- --pairs FILE.csv --root DIR [--cosines OUT.csv]
 *       FILE.csv lines `img1,img2,same[,fold]` (paths relative to DIR, same = 1 or 0); prints JSON
 *       with faces found, ROC AUC, best accuracy, TAR at FAR 1e-2/1e-3, cosine distributions;
 *       with a fold column also `perFold`: per-fold best and cross-fold accuracy, TAR, AUC, means.
 *       --cosines writes `cosine,same` per pair (calibration data for npm run calibrate).
 *   npm run eval -- --detect DIR          share of images (recursively) with a face found
 *   npm run eval -- --make-pairs DIR --out FILE.csv
 *       every same/different pair of a folder-per-person tree (DIR/person/image).
 * Options: --no-flip (no flip test-time augmentation), MODELS_DIR / MODELS_MANIFEST from env;
 *   each image's face is the one at its centre (the largest box containing the image's centre, else
 *   the box nearest to it): a pair names the person its photos are centred on (LFW's are, by
 *   construction), and the largest face is someone else in 9 of lfw-dev's 2,267 photos;
 *   --largest-face takes the engine's main face (the largest) instead, as enrollment does;
 *   --downscale N: each image first shrunk (area-averaging) so its main face's box is N px wide,
 *   then scaled back to its size (lanczos3): how faces that small in a camera's frame embed.
 */
import fs from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { modelLocation } from "../config";
import { VisionEngine } from "../lib/vision/engine";
import { loadManifest } from "../lib/vision/manifest";
import { centreFace } from "../lib/vision/detect";
import { foldReport } from "../lib/vision/folds";
import { bestAccuracy, rocAuc, summary, tarAtFar, type ScoredPair } from "../lib/vision/metrics";
import { cosine, similarityFromCosine } from "../lib/vision/similarity";

const IMAGE_EXT = /\.(jpe?g|png|webp|bmp)$/i;

function arg(name: string): string | undefined {
	const i = process.argv.indexOf(name);
	return i >= 0 ? process.argv[i + 1] : undefined;
}

function requireDir(dir: string | undefined, what: string): string {
	if (!dir) throw new Error(`${what} is required`);
	if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${what} ${dir} does not exist or is not a folder`);
	return dir;
}

function listImages(dir: string): string[] {
	const out: string[] = [];
	for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
		const p = path.join(dir, e.name);
		if (e.isDirectory()) out.push(...listImages(p));
		else if (IMAGE_EXT.test(e.name)) out.push(p);
	}
	return out;
}

export function makePairs(root: string): string[] {
	const people = fs.readdirSync(root, { withFileTypes: true }).filter(e => e.isDirectory()).map(e => e.name).sort();
	const imgs = people.flatMap(p => listImages(path.join(root, p)).map(f => ({ person: p, rel: path.relative(root, f) })));
	const lines: string[] = [];
	for (let i = 0; i < imgs.length; i++) for (let j = i + 1; j < imgs.length; j++) lines.push(`${imgs[i].rel},${imgs[j].rel},${imgs[i].person === imgs[j].person ? 1 : 0}`);
	return lines;
}

async function engine(): Promise<VisionEngine> {
	const { modelsDir, modelsManifest } = modelLocation(process.env, process.cwd());
	return VisionEngine.create({ modelsDir, manifest: loadManifest(modelsManifest), threads: 1, flip: !process.argv.includes("--no-flip") });
}

const downscale = arg("--downscale") ? Number(arg("--downscale")) : null;
if (downscale !== null && !(downscale >= 8)) throw new Error("--downscale needs a face width in pixels (>= 8)");

/** The photo shrunk so its main face is `faceWidth` px wide, then back to its size (PNG, lossless). */
async function downscaled(e: VisionEngine, photo: Buffer, faceWidth: number): Promise<Buffer> {
	const r = await e.detect({ image: photo, maxFaces: 1 });
	if (!r.faces.length) return photo;
	const [x1, , x2] = r.faces[0].box;
	const k = faceWidth / (x2 - x1);
	if (k >= 1) return photo;
	const small = await sharp(photo).removeAlpha().resize(Math.max(1, Math.round(r.width * k)), Math.max(1, Math.round(r.height * k)), { kernel: "mitchell" }).png().toBuffer();
	return sharp(small).resize(r.width, r.height, { kernel: "lanczos3" }).png().toBuffer();
}

// --centre-face was the option before it became the default; still accepted.
const centreFaces = !process.argv.includes("--largest-face");

/** The embedding of the image's face: the one at the centre, or with --largest-face the engine's main face. */
async function embedOf(e: VisionEngine, image: Buffer): Promise<{ embedding: number[]; notLargest: boolean }> {
	if (!centreFaces) return { embedding: (await e.embed({ image })).embedding, notLargest: false };
	const r = await e.detect({ image });
	const i = centreFace(r.faces.map(f => f.box), r.width, r.height);
	if (i < 0) return { embedding: (await e.embed({ image })).embedding, notLargest: false };
	return { embedding: (await e.embed({ image, box: r.faces[i].box })).embedding, notLargest: i !== 0 };
}

async function evalPairs(file: string, root: string) {
	const rows = fs.readFileSync(file, "utf8").split(/\r?\n/).map(l => l.trim()).filter(l => l && !/^img1,/i.test(l));
	const pairs = rows.map((l, n) => {
		const [a, b, s, fold] = l.split(",").map(x => x.trim());
		const label = s?.toLowerCase();
		if (!a || !b || !["0", "1", "true", "false"].includes(label)) throw new Error(`${file} line ${n + 1}: expected img1,img2,same(0|1), got "${l}"`);
		return { a, b, same: label === "1" || label === "true", fold: fold || undefined };
	});
	const e = await engine();
	const emb = new Map<string, number[] | null>();
	let centreNotLargest = 0;
	const t0 = performance.now();
	for (const rel of new Set(pairs.flatMap(p => [p.a, p.b]))) {
		const full = path.resolve(root, rel);
		if (!full.startsWith(path.resolve(root) + path.sep)) throw new Error(`${rel} is outside ${root}`);
		try {
			const image = downscale ? await downscaled(e, fs.readFileSync(full), downscale) : fs.readFileSync(full);
			const { embedding, notLargest } = await embedOf(e, image);
			if (notLargest) centreNotLargest++;
			emb.set(rel, embedding);
		} catch (err) {
			console.error(`no face: ${rel} (${(err as Error).message})`);
			emb.set(rel, null);
		}
	}
	const ms = performance.now() - t0;
	await e.close();
	// A pair with an image where no face was found scores -1 (a rejection), so missed
	// detections count against TAR instead of silently leaving the evaluation.
	const scored: (ScoredPair & { a: string; b: string; fold?: string })[] = [];
	let pairsWithoutFace = 0;
	for (const p of pairs) {
		const x = emb.get(p.a),
			y = emb.get(p.b);
		if (!x || !y) pairsWithoutFace++;
		scored.push({ a: p.a, b: p.b, same: p.same, fold: p.fold, score: x && y ? cosine(x, y) : -1 });
	}
	const out = arg("--cosines");
	if (out) fs.writeFileSync(out, "cosine,same\n" + scored.map(p => `${p.score.toFixed(6)},${p.same ? 1 : 0}`).join("\n") + "\n");
	const same = scored.filter(p => p.same).map(p => p.score);
	const diff = scored.filter(p => !p.same).map(p => p.score);
	const far2 = tarAtFar(scored, 1e-2),
		far3 = tarAtFar(scored, 1e-3);
	const minSame = Math.min(...same),
		maxDiff = Math.max(...diff);
	return {
		pairs: pairs.length,
		pairsWithoutFace,
		flipTTA: !process.argv.includes("--no-flip"),
		downscaledToFaceWidth: downscale,
		// With --centre-face: images whose centre face is not the largest one (the default's pick).
		...(centreFaces ? { centreFace: true, centreFaceNotLargest: centreNotLargest } : {}),
		samePairs: same.length,
		differentPairs: diff.length,
		images: emb.size,
		facesFound: [...emb.values()].filter(Boolean).length,
		msPerImage: ms / emb.size,
		auc: rocAuc(scored),
		bestAccuracy: bestAccuracy(scored),
		// With a `fold` column: each fold's figures and their mean (the LFW protocol).
		...(scored.every(p => p.fold) ? { perFold: foldReport(scored as (ScoredPair & { fold: string })[]) } : {}),
		tarAtFar1e2: far2,
		tarAtFar1e3: far3,
		separated: minSame > maxDiff,
		overlappingPairs: { sameBelowMaxDifferent: same.filter(s => s <= maxDiff).length, differentAboveMinSame: diff.filter(s => s >= minSame).length },
		cosine: { same: summary(same), different: summary(diff) },
		similarityAtThreshold085: {
			differentAtOrAbove: diff.filter(c => similarityFromCosine(c) >= 0.85).length / (diff.length || 1),
			sameAtOrAbove: same.filter(c => similarityFromCosine(c) >= 0.85).length / (same.length || 1)
		},
		worstSame: scored.filter(p => p.same).sort((a, b) => a.score - b.score).slice(0, 5).map(p => [p.a, p.b, +p.score.toFixed(3)]),
		worstDifferent: scored.filter(p => !p.same).sort((a, b) => b.score - a.score).slice(0, 5).map(p => [p.a, p.b, +p.score.toFixed(3)])
	};
}

async function evalDetect(dir: string) {
	const files = listImages(dir);
	const e = await engine();
	const missed: string[] = [];
	let faces = 0;
	for (const f of files) {
		const r = await e.detect({ image: fs.readFileSync(f) });
		faces += r.faces.length;
		if (r.faces.length === 0) missed.push(path.relative(dir, f));
	}
	await e.close();
	return { images: files.length, withFace: files.length - missed.length, share: (files.length - missed.length) / (files.length || 1), facesTotal: faces, missed };
}

async function main() {
	const mk = arg("--make-pairs");
	if (mk) {
		const lines = makePairs(requireDir(mk, "--make-pairs DIR"));
		const out = arg("--out");
		const text = "img1,img2,same\n" + lines.join("\n") + "\n";
		if (out) fs.writeFileSync(out, text);
		else process.stdout.write(text);
		console.error(`${lines.length} pairs (${lines.filter(l => l.endsWith(",1")).length} same)`);
		return;
	}
	const det = arg("--detect");
	if (det) return console.log(JSON.stringify(await evalDetect(requireDir(det, "--detect DIR")), null, 2));
	const pairsFile = arg("--pairs");
	if (pairsFile) {
		if (!fs.existsSync(pairsFile)) throw new Error(`--pairs ${pairsFile} does not exist`);
		return console.log(JSON.stringify(await evalPairs(pairsFile, requireDir(arg("--root"), "--root DIR")), null, 2));
	}
	throw new Error("usage: eval --pairs FILE.csv --root DIR [--cosines OUT.csv] | --detect DIR | --make-pairs DIR [--out FILE.csv]");
}

main().catch(err => {
	console.error(`eval: ${err.message}`);
	process.exit(1);
});
