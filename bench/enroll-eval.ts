/**
 * Does combining the best frames beat "the single best frame" (the spec's method)?
 *
 *   npm run eval:enroll -- --root DIR
 *
 * DIR is a folder-per-person tree (e.g. ../shared/data/faces-dev/identities; read, never
 * copied). For every person with at least three photos, an enrollment video is made from
 * two of them (a slow zoom over the first, then a pan over the second with a little blur and
 * a darker second half, as a phone recording varies), enrolled exactly as
 * embeddings/generate does (sampled every 0.5 s, main face, per-frame quality, then
 * lib/enrollment/aggregate), and both the combined embedding and the single best frame's
 * are compared with the person's other photos (held out) and with everyone else's photos.
 * Prints mean cosine to held-out photos of the same person, the share of those pairs above
 * the calibrated threshold (cosine at FAR 1e-3), and the highest cosine to other people.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { modelLocation } from "../config";
import { aggregateEmbeddings, MultipleIdentitiesError } from "../lib/enrollment/aggregate";
import { frameMetrics, overallQuality } from "../lib/enrollment/quality";
import { scanFrames } from "../lib/enrollment/scan";
import { openFrames } from "../lib/video/frame-source";
import { VisionEngine } from "../lib/vision/engine";
import { loadManifest } from "../lib/vision/manifest";
import { cosineFromSimilarity } from "../lib/vision/similarity";
import { makeFaceVideo } from "../test/support/face-video";

const IMAGE_EXT = /\.(jpe?g|png|webp|bmp)$/i;
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
	let s = 0;
	for (let i = 0; i < a.length; i++) s += a[i] * b[i];
	return s;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

async function main() {
	const i = process.argv.indexOf("--root");
	const root = i >= 0 ? process.argv[i + 1] : undefined;
	if (!root || !fs.existsSync(root)) throw new Error("--root DIR (a folder-per-person tree, e.g. ../shared/data/faces-dev/identities) is required and must exist");
	const { modelsDir, modelsManifest } = modelLocation(process.env, process.cwd());
	const engine = await VisionEngine.create({ modelsDir, manifest: loadManifest(modelsManifest), threads: 1, flip: false });
	const threshold = cosineFromSimilarity(0.85);
	const people = fs
		.readdirSync(root)
		.sort()
		.map(name => ({ name, photos: fs.readdirSync(path.join(root, name)).filter(f => IMAGE_EXT.test(f)).sort().map(f => path.join(root, name, f)) }));

	// Every photo's embedding (main face), for held-out and impostor comparisons.
	const photoEmbedding = new Map<string, number[]>();
	for (const p of people)
		for (const photo of p.photos) {
			const r = await engine.analyze({ image: fs.readFileSync(photo), maxFaces: 1 });
			if (r.faces[0]?.embedding) photoEmbedding.set(photo, r.faces[0].embedding);
		}

	const refused: string[] = [];
	const work = fs.mkdtempSync(path.join(os.tmpdir(), "rollcall-enroll-eval-"));
	const rows: { person: string; combined: number; best: number; combinedMaxImpostor: number; bestMaxImpostor: number; framesUsed: number; n: number; combinedAbove: number; bestAbove: number }[] = [];
	try {
		for (const p of people) {
			const usable = p.photos.filter(f => photoEmbedding.has(f));
			if (usable.length < 3) continue;
			const [a, b, ...heldOut] = usable;
			const file = path.join(work, `${p.name}.mp4`);
			await makeFaceVideo(file, {
				segments: [
					{ photo: a, seconds: 3 },
					{ photo: b, seconds: 3 }
				],
				fps: 10,
				motion: "pan",
				blur: 0.8
			});
			const scan = await scanFrames(openFrames({ file }, { everySeconds: 0.5, width: 640, fastDecode: true }), f => engine.analyze({ frame: f, maxFaces: 1 }) as any);
			if (scan.faces.length === 0) continue;
			const frames = scan.faces.map(f => ({ embedding: f.face.embedding!, quality: overallQuality(frameMetrics(f.measurement)) }));
			let combined;
			try {
				combined = aggregateEmbeddings(frames);
			} catch (err) {
				if (!(err instanceof MultipleIdentitiesError)) throw err;
				// Two photos of one person can differ more than two frames of one recording do.
				refused.push(`${p.name} (${err.mainFrames} + ${err.otherFrames} frames)`);
				continue;
			}
			const best = frames.reduce((x, y) => (y.quality > x.quality ? y : x)).embedding;
			const held = heldOut.map(h => photoEmbedding.get(h)!);
			const impostors = people.filter(q => q.name !== p.name).flatMap(q => q.photos.filter(f => photoEmbedding.has(f)).map(f => photoEmbedding.get(f)!));
			const c = held.map(h => dot(combined.embedding, h));
			const s = held.map(h => dot(best, h));
			rows.push({
				person: p.name,
				combined: mean(c),
				best: mean(s),
				combinedAbove: c.filter(x => x >= threshold).length,
				bestAbove: s.filter(x => x >= threshold).length,
				n: held.length,
				combinedMaxImpostor: Math.max(...impostors.map(h => dot(combined.embedding, h))),
				bestMaxImpostor: Math.max(...impostors.map(h => dot(best, h))),
				framesUsed: combined.framesUsed
			});
		}
	} finally {
		fs.rmSync(work, { recursive: true, force: true });
		await engine.close();
	}
	const f3 = (x: number) => x.toFixed(3);
	console.log(`threshold: cosine ${f3(threshold)} (similarity 0.85, FAR 1e-3)`);
	console.log("person                 held-out  combined  best-frame  (above threshold)    max impostor combined / best");
	for (const r of rows)
		console.log(
			`${r.person.padEnd(22)} ${String(r.n).padStart(8)}  ${f3(r.combined).padStart(8)}  ${f3(r.best).padStart(10)}  (${r.combinedAbove}/${r.n} vs ${r.bestAbove}/${r.n})`.padEnd(78) +
				`${f3(r.combinedMaxImpostor)} / ${f3(r.bestMaxImpostor)}`
		);
	if (refused.length) console.log(`refused as two people (MULTIPLE_IDENTITIES): ${refused.join(", ")}`);
	const n = rows.reduce((s, r) => s + r.n, 0);
	console.log(
		`mean over ${rows.length} people, ${n} held-out photos: combined ${f3(mean(rows.map(r => r.combined)))} vs best frame ${f3(mean(rows.map(r => r.best)))}; ` +
			`above threshold ${rows.reduce((s, r) => s + r.combinedAbove, 0)}/${n} vs ${rows.reduce((s, r) => s + r.bestAbove, 0)}/${n}; ` +
			`max impostor ${f3(Math.max(...rows.map(r => r.combinedMaxImpostor)))} vs ${f3(Math.max(...rows.map(r => r.bestMaxImpostor)))}`
	);
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
