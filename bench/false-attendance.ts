/**
 * The false-attendance guard on real video. Enrolls every person of a folder-per-person photo
 * set (their embeddings averaged as enrollment does), then runs every frame of each clip
 * through the vision engine and the session matching rule (lib/recognition/matcher.ts) at a
 * threshold, and prints who would have been reported. On the crowd clip, where nobody is
 * enrolled, nobody may be; on a clip of enrolled people, they should be.
 *
 *   npm run bench:false-attendance -- --identities ../shared/data/faces-dev/identities \
 *       --video ../shared/data/faces-dev/videos/facenet_pytorch_video.mp4 [--video ...] [--threshold 0.85] [--every 0.2] [--flip] [--small-faces]
 */
import fs from "node:fs";
import path from "node:path";
import { loadManifest } from "../lib/vision/manifest";
import { VisionEngine } from "../lib/vision/engine";
import { normalize } from "../lib/enrollment/aggregate";
import { AttendanceRule, StudentGallery } from "../lib/recognition/matcher";
import { openFrames } from "../lib/video/frame-source";
import { modelLocation, smallFacesPlan } from "../config";

function args(name: string): string[] {
	const out: string[] = [];
	process.argv.forEach((a, i) => a === `--${name}` && process.argv[i + 1] && out.push(process.argv[i + 1]));
	return out;
}

async function main() {
	const [identities] = args("identities");
	const videos = args("video");
	const threshold = Number(args("threshold")[0] ?? 0.85);
	const every = Number(args("every")[0] ?? 0.2);
	if (!identities || !fs.existsSync(identities) || videos.length === 0 || !videos.every(v => fs.existsSync(v))) {
		console.error("usage: --identities DIR --video FILE [--video FILE] [--threshold 0.85] [--every 0.2] [--flip] [--small-faces]; the folders given were not found (faces-dev lives in ../shared/data/faces-dev)");
		process.exit(2);
	}
	const loc = modelLocation(process.env, process.cwd());
	// As live sessions run (INFERENCE_FLIP off by default); --flip for flip test-time augmentation.
	// --small-faces: with the small-face pass (SMALL_FACES_* settings, their defaults otherwise).
	const smallFaces = process.argv.includes("--small-faces") ? smallFacesPlan({ ...process.env, SMALL_FACES: "true" }) : null;
	const engine = await VisionEngine.create({ modelsDir: loc.modelsDir, manifest: loadManifest(loc.modelsManifest), threads: 1, flip: process.argv.includes("--flip"), smallFaces });
	if (smallFaces) console.log("small-face pass on", smallFaces);
	const people = fs.readdirSync(identities).filter(d => fs.statSync(path.join(identities, d)).isDirectory()).sort();
	const enrolled: { userId: number; name: string; embedding: Float32Array }[] = [];
	for (const [i, name] of people.entries()) {
		const embs: number[][] = [];
		for (const f of fs.readdirSync(path.join(identities, name))) {
			try {
				embs.push((await engine.embed({ image: fs.readFileSync(path.join(identities, name, f)) })).embedding);
			} catch {
				/* no face in this photo */
			}
		}
		if (embs.length === 0) continue;
		const sum = new Float32Array(512);
		for (const e of embs) for (let k = 0; k < 512; k++) sum[k] += e[k];
		enrolled.push({ userId: i + 1, name, embedding: normalize(sum) });
	}
	const gallery = new StudentGallery(enrolled.map(e => ({ userId: e.userId, embedding: e.embedding })));
	const nameOf = new Map(enrolled.map(e => [e.userId, e.name]));
	const results = [];
	for (const video of videos) {
		const rule = new AttendanceRule();
		let frames = 0,
			faces = 0,
			sightings = 0,
			ambiguous = 0;
		const reported: { name: string; at: number; similarity: number }[] = [];
		const bestByPerson = new Map<string, number>();
		for await (const frame of openFrames({ file: path.resolve(video) }, { everySeconds: every })) {
			frames++;
			const res = await engine.analyze({ frame: { data: frame.data, width: frame.width, height: frame.height } });
			const seen = new Map<number, number>();
			for (const f of res.faces) {
				faces++;
				const m = gallery.match(f.embedding!, threshold);
				if (m.best) bestByPerson.set(nameOf.get(m.best.userId)!, Math.max(bestByPerson.get(nameOf.get(m.best.userId)!) ?? 0, m.best.similarity));
				if (m.reason === "ambiguous") ambiguous++;
				if (m.sighting && m.best && (seen.get(m.best.userId) ?? 0) < m.best.similarity) seen.set(m.best.userId, m.best.similarity);
			}
			for (const [userId, sim] of seen) {
				sightings++;
				if (rule.sight(userId, sim)) reported.push({ name: nameOf.get(userId)!, at: Math.round(frame.timestamp * 10) / 10, similarity: Math.round(sim * 1000) / 1000 });
			}
		}
		const top = [...bestByPerson].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([n, s]) => `${n} ${s.toFixed(3)}`);
		results.push({ video: path.basename(video), frames, faces, sightings, ambiguous, reported, highestSimilarities: top });
	}
	console.log(JSON.stringify({ enrolled: enrolled.length, threshold, everySeconds: every, results }, null, 1));
	await engine.close();
}

void main();
