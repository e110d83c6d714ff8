/**
 * False detections of the monitors on real video: every person of a folder-per-person photo
 * set is enrolled as a console face profile would be (one gallery entry per usable photo),
 * then each clip is sampled as a monitor samples its camera and every frame goes through the
 * monitors' own decision path: the vision engine (flip off, as live), the gallery's two best
 * entries (the second kept only when it is another person, as services/actors/face-watch.ts
 * asks `gallery.search`), and the camera's tracker (lib/recognition/tracker.ts). Prints the
 * tracks each clip makes and which were confirmed as whom: on the crowd clip, where nobody is
 * enrolled, no track may be `authorized` (issue 15's goal: 0 false detections).
 *
 *   npm run bench:false-detections -- --identities ../shared/data/faces-dev/identities \
 *       --video ../shared/data/faces-dev/videos/facenet_pytorch_video.mp4 [--video ...] [--threshold 0.85] [--every 1]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadManifest } from "../lib/vision/manifest";
import { VisionEngine } from "../lib/vision/engine";
import { CameraTracker, type GalleryHit, type Track } from "../lib/recognition/tracker";
import { similarityFromCosine } from "../lib/vision/similarity";
import { openFrames } from "../lib/video/frame-source";
import { loadConfig, modelLocation } from "../config";

function args(name: string): string[] {
	const out: string[] = [];
	process.argv.forEach((a, i) => a === `--${name}` && process.argv[i + 1] && out.push(process.argv[i + 1]));
	return out;
}

interface Entry {
	profileId: string;
	embedding: Float32Array;
}

/** The two best entries by cosine, as the gallery's search answers (exact search). */
function search(gallery: Entry[], v: ArrayLike<number>): { entry: Entry; cosine: number }[] {
	let a: { entry: Entry; cosine: number } | null = null;
	let b: { entry: Entry; cosine: number } | null = null;
	for (const e of gallery) {
		let dot = 0;
		for (let k = 0; k < e.embedding.length; k++) dot += e.embedding[k] * v[k];
		if (!a || dot > a.cosine) {
			b = a;
			a = { entry: e, cosine: dot };
		} else if (!b || dot > b.cosine) b = { entry: e, cosine: dot };
	}
	return [a, b].filter((x): x is { entry: Entry; cosine: number } => x !== null);
}

async function main() {
	const [identities] = args("identities");
	const videos = args("video");
	const cfg = loadConfig({ ...process.env, API_KEY: "bench-api-key-0123456789", DATA_DIR: os.tmpdir() });
	const threshold = Number(args("threshold")[0] ?? cfg.similarityThreshold);
	const every = Number(args("every")[0] ?? 1);
	if (!identities || !fs.existsSync(identities) || videos.length === 0 || !videos.every(v => fs.existsSync(v))) {
		console.error("usage: --identities DIR --video FILE [--video FILE] [--threshold 0.85] [--every 1]; the folders given were not found (faces-dev lives in ../shared/data/faces-dev)");
		process.exit(2);
	}
	const loc = modelLocation(process.env, process.cwd());
	const engine = await VisionEngine.create({ modelsDir: loc.modelsDir, manifest: loadManifest(loc.modelsManifest), threads: 1, flip: false });
	const people = fs.readdirSync(identities).filter(d => fs.statSync(path.join(identities, d)).isDirectory()).sort();
	const gallery: Entry[] = [];
	for (const name of people)
		for (const f of fs.readdirSync(path.join(identities, name))) {
			try {
				const { embedding } = await engine.embed({ image: fs.readFileSync(path.join(identities, name, f)) });
				gallery.push({ profileId: name, embedding: Float32Array.from(embedding) });
			} catch {
				/* no usable face in this photo: the console refuses such an image */
			}
		}
	const enrolled = new Set(gallery.map(e => e.profileId)).size;
	const hit = (h: { entry: Entry; cosine: number }): GalleryHit => ({ profileId: h.entry.profileId, employeeId: h.entry.profileId, cosine: h.cosine, similarity: similarityFromCosine(h.cosine) });

	const results = [];
	for (const video of videos) {
		// As the monitor builds it (services/actors/face-watch.ts).
		const tracker = new CameraTracker({ threshold, maxGapMs: Math.max(5000, 3 * every * 1000) });
		const tracks = new Map<string, Track>();
		let frames = 0;
		let faces = 0;
		let bestStranger = 0;
		for await (const frame of openFrames({ file: path.resolve(video) }, { everySeconds: every })) {
			frames++;
			const at = Math.round(frame.timestamp * 1000);
			const res = await engine.analyze({ frame: { data: frame.data, width: frame.width, height: frame.height } });
			const tracked = res.faces.map(f => {
				const [a, b] = f.embedding ? search(gallery, f.embedding) : [];
				const best = a ? hit(a) : null;
				const second = b && a && b.entry.profileId !== a.entry.profileId ? hit(b) : null;
				if (best) bestStranger = Math.max(bestStranger, best.similarity);
				return { box: f.box, embedding: f.embedding ?? null, best, second, quality: f.quality.overall };
			});
			faces += tracked.length;
			tracker.expire(at);
			for (const t of tracker.update(tracked, at).assigned) tracks.set(t.id, t);
		}
		const all = [...tracks.values()];
		const authorized = all.filter(t => t.status === "authorized");
		results.push({
			video: path.basename(video),
			frames,
			faces,
			tracks: all.length,
			unknownTracks: all.filter(t => t.status === "unknown").length,
			tentativeTracks: all.filter(t => t.status === "tentative").length,
			authorizedTracks: authorized.map(t => ({ as: t.identity?.profileId, confidence: Math.round(t.confidence * 1000) / 1000, firstAtS: t.firstAt / 1000, frames: t.frames })),
			highestSimilarity: Math.round(bestStranger * 1000) / 1000
		});
	}
	console.log(JSON.stringify({ enrolledPeople: enrolled, galleryEntries: gallery.length, threshold, everySeconds: every, results }, null, 1));
	for (const r of results) console.log(`${r.video}: ${r.frames} frames, ${r.faces} faces, ${r.tracks} tracks, ${r.authorizedTracks.length} authorized (${r.authorizedTracks.map(t => t.as).join(", ") || "none"}), highest similarity ${r.highestSimilarity}`);
	await engine.close();
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
