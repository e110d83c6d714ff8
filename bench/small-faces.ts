/**
 * Small faces in 1080p frames: recall per face-width bucket, false faces per frame and the
 * detector pass's time, today's detector (frame-wide pass only) against the small-face pass
 * (SMALL_FACES, lib/vision/tiles.ts), both run on each frame back to back.
 *
 *   npm run bench:small-faces -- [--frames 24] [--faces 40] [--lfw ../shared/data/lfw-dev]
 *       [--crowd ../shared/data/faces-dev/videos/facenet_pytorch_video.mp4] [--seed 1]
 *       [--plan scale,tileW,tileH,overlap[,threshold]] ... (default: the SMALL_FACES_* settings) [--dump DIR]
 *
 * Frames (lib/vision/compose.ts): LFW faces of lfw-dev (folds 2-4; never the hidden fold),
 * each cut around the box today's detector finds on the 250x250 photo (photos with one face
 * and no other face, by a sensitive detector, in the part cut out) and scaled so that box is 32-64 px wide, pasted on a 1920x1080 background
 * and JPEG-compressed (quality 85). Backgrounds alternate between a generated textured one
 * and, when the clip is there, a frame of the faces-dev crowd clip whose own faces are
 * pixelated away first (found on the bare frame by today's pass and by a sensitive one: full
 * size, threshold 0.5). A face
 * is found when a detection overlaps its box at IoU >= 0.4; every other detection is a false face.
 * Nothing is written: the photos are read at run time.
 */
import fs from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { modelLocation, smallFacesPlan } from "../config";
import { bucketLabel, composeFrame, cutFace, isolatedFaces, jpegRoundTrip, rng, scoreFrame, SIZE_BUCKETS, texturedBackground, type FacePatch } from "../lib/vision/compose";
import type { Box } from "../lib/vision/detect";
import { VisionEngine, type SmallFacesOptions } from "../lib/vision/engine";
import type { RgbImage } from "../lib/vision/image";
import { loadManifest } from "../lib/vision/manifest";
import { planCost } from "../lib/vision/tiles";
import { openFrames } from "../lib/video/frame-source";

const root = path.join(__dirname, "..");
function args(name: string): string[] {
	const out: string[] = [];
	process.argv.forEach((a, i) => a === `--${name}` && process.argv[i + 1] !== undefined && out.push(process.argv[i + 1]));
	return out;
}
const num = (name: string, def: number) => Number(args(name)[0] ?? def);
const FRAMES = num("frames", 24);
const FACES = num("faces", 40);
const SEED = num("seed", 1);
const LFW = path.resolve(args("lfw")[0] ?? path.join(root, "../shared/data/lfw-dev"));
const CROWD = path.resolve(args("crowd")[0] ?? path.join(root, "../shared/data/faces-dev/videos/facenet_pytorch_video.mp4"));
/** A folder to write crops of the false faces to (for looking at them; nothing is kept otherwise). */
const DUMP = args("dump")[0];
const W = 1920,
	H = 1080;
const median = (v: number[]) => (v.length ? [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] : 0);
const p90 = (v: number[]) => (v.length ? [...v].sort((a, b) => a - b)[Math.floor(v.length * 0.9)] : 0);
const r1 = (x: number) => Math.round(x * 10) / 10;
const load = () => fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

function plans(): SmallFacesOptions[] {
	const given = args("plan").map(p => {
		const [scale, tileW, tileH, overlap, threshold] = p.split(",").map(Number);
		return { scale, tileW: tileW || Infinity, tileH: tileH || Infinity, overlap, ...(threshold ? { threshold } : {}) };
	});
	if (given.length) return given;
	return [smallFacesPlan({ ...process.env, SMALL_FACES: "true" })!];
}

/**
 * LFW photos that today's detector finds one face in, with that face's box; left out when a
 * sensitive detector (threshold 0.5, the photo seen at twice its size) finds another face
 * reaching into the part that is cut out (a second person would be a face the truth lacks).
 */
async function faceSource(engine: VisionEngine, sensitive: VisionEngine, want: number, random: () => number): Promise<{ file: string; box: Box }[]> {
	const pairs = fs.readFileSync(path.join(LFW, "pairs.csv"), "utf8").trim().split("\n").slice(1);
	const files = [...new Set(pairs.flatMap(l => l.split(",").slice(0, 2)))].sort();
	// A seeded shuffle, then as many as needed.
	for (let i = files.length - 1; i > 0; i--) {
		const j = Math.floor(random() * (i + 1));
		[files[i], files[j]] = [files[j], files[i]];
	}
	const out: { file: string; box: Box }[] = [];
	for (const f of files) {
		if (out.length >= want) break;
		const photo = fs.readFileSync(path.join(LFW, f));
		const r = await engine.detect({ image: photo, minFaceSize: 1 });
		if (r.faces.length !== 1) continue;
		const others = (await sensitive.detect({ image: photo, minFaceSize: 1, maxFaces: 100 })).faces.map(o => o.box);
		if (isolatedFaces([r.faces[0].box], others, r.width, r.height).length === 1) out.push({ file: f, box: r.faces[0].box });
	}
	return out;
}

/** Frames of the crowd clip, as backgrounds. */
async function crowdFrames(n: number): Promise<RgbImage[]> {
	if (!fs.existsSync(CROWD)) return [];
	const out: RgbImage[] = [];
	for await (const f of openFrames({ file: CROWD }, { everySeconds: 4 / Math.max(1, n) })) {
		if (f.width !== W || f.height !== H) break;
		out.push({ data: new Uint8Array(f.data), width: f.width, height: f.height });
		if (out.length >= n) break;
	}
	return out;
}

/** Pixelate (16 px blocks) each box grown by half its size: the background's own faces made unrecognisable. */
function pixelate(img: RgbImage, boxes: Box[]): number {
	const B = 16;
	for (const [x1, y1, x2, y2] of boxes) {
		const gw = (x2 - x1) * 0.5,
			gh = (y2 - y1) * 0.5;
		const X1 = Math.max(0, Math.floor(x1 - gw)),
			Y1 = Math.max(0, Math.floor(y1 - gh));
		const X2 = Math.min(img.width, Math.ceil(x2 + gw)),
			Y2 = Math.min(img.height, Math.ceil(y2 + gh));
		for (let by = Y1; by < Y2; by += B)
			for (let bx = X1; bx < X2; bx += B) {
				const ex = Math.min(X2, bx + B),
					ey = Math.min(Y2, by + B);
				const sum = [0, 0, 0];
				for (let y = by; y < ey; y++) for (let x = bx; x < ex; x++) for (let c = 0; c < 3; c++) sum[c] += img.data[(y * img.width + x) * 3 + c];
				const n = (ex - bx) * (ey - by);
				for (let y = by; y < ey; y++) for (let x = bx; x < ex; x++) for (let c = 0; c < 3; c++) img.data[(y * img.width + x) * 3 + c] = sum[c] / n;
			}
	}
	return boxes.length;
}

async function dumpCrop(frame: RgbImage, b: Box, file: string) {
	const m = Math.max(b[2] - b[0], b[3] - b[1]);
	const left = Math.max(0, Math.floor(b[0] - m)),
		top = Math.max(0, Math.floor(b[1] - m));
	const width = Math.min(frame.width - left, Math.ceil(3 * m)),
		height = Math.min(frame.height - top, Math.ceil(3 * m));
	fs.mkdirSync(path.dirname(file), { recursive: true });
	await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } }).extract({ left, top, width, height }).resize({ width: 192 }).png().toFile(file);
}

interface Tally {
	found: number[];
	total: number[];
	falseFaces: number;
	frames: number;
	detectMs: number[];
	falseByBackground: Record<string, number>;
}
const tally = (): Tally => ({ found: SIZE_BUCKETS.map(() => 0), total: SIZE_BUCKETS.map(() => 0), falseFaces: 0, frames: 0, detectMs: [], falseByBackground: {} });

async function main() {
	if (!fs.existsSync(path.join(LFW, "pairs.csv"))) {
		console.error(`lfw-dev not found at ${LFW} (give --lfw DIR; it lives in ../shared/data/lfw-dev)`);
		process.exit(2);
	}
	const loc = modelLocation(process.env, root);
	const manifest = loadManifest(loc.modelsManifest);
	const candidates = plans();
	const today = await VisionEngine.create({ modelsDir: loc.modelsDir, manifest, threads: 1 });
	const engines = await Promise.all(candidates.map(p => VisionEngine.create({ modelsDir: loc.modelsDir, manifest, threads: 1, smallFaces: p })));
	// A sensitive reference: the frame at full size (or a photo at twice its size), threshold 0.5.
	const finest = await VisionEngine.create({ modelsDir: loc.modelsDir, manifest, threads: 1, smallFaces: { scale: 1, tileW: 640, tileH: 480, overlap: 96, threshold: 0.5 } });
	const twice = await VisionEngine.create({ modelsDir: loc.modelsDir, manifest, threads: 1, smallFaces: { scale: 2, tileW: 640, tileH: 640, overlap: 96, threshold: 0.5 } });
	const random = rng(SEED);
	const sources = await faceSource(today, twice, FRAMES * FACES, random);
	console.log(`lfw-dev: ${sources.length} photos with one face and no other in the part cut out; load ${load()}`);

	// Backgrounds: generated, and crowd-clip frames with their faces pixelated away.
	const crowd = await crowdFrames(Math.ceil(FRAMES / 2));
	let crowdFaces = 0;
	for (const c of crowd) {
		const boxes = [...(await finest.detect({ frame: c, maxFaces: 200, minFaceSize: 1 })).faces, ...(await today.detect({ frame: c, maxFaces: 200, minFaceSize: 1 })).faces].map(f => f.box);
		crowdFaces += pixelate(c, boxes);
	}
	if (crowd.length) console.log(`crowd clip: ${crowd.length} frames as backgrounds, ${crowdFaces} face boxes pixelated`);
	else console.log(`crowd clip not found at ${CROWD}: generated backgrounds only`);

	const results = [tally(), ...candidates.map(() => tally())];
	const all = [today, ...engines];
	let next = 0;
	for (let i = 0; i < FRAMES; i++) {
		const useCrowd = crowd.length > 0 && i % 2 === 1;
		const bgName = useCrowd ? "crowd" : "generated";
		const background = useCrowd ? crowd[(i >> 1) % crowd.length] : texturedBackground(W, H, SEED * 1000 + i);
		const patches: FacePatch[] = [];
		for (let k = 0; k < FACES; k++) {
			const s = sources[next++ % sources.length];
			const width = 32 + random() * 32.999;
			patches.push(await cutFace(fs.readFileSync(path.join(LFW, s.file)), { width: 250, height: 250 }, s.box, width));
		}
		const composed = composeFrame(background, patches, random);
		const frame = await jpegRoundTrip(composed.frame, 85);
		// Each engine on the same frame, one after the other; the order turns each frame.
		const order = all.map((_, k) => (k + i) % all.length);
		for (const k of order) {
			const res = await all[k].detect({ frame, maxFaces: 500, minFaceSize: 1 });
			const t = results[k];
			const score = scoreFrame(composed.truth, res.faces.map(f => f.box));
			composed.truth.forEach((b, j) => {
				const w = b[2] - b[0];
				const bucket = SIZE_BUCKETS.findIndex(([a, z]) => w >= a && w < z + 1);
				if (bucket < 0) return;
				t.total[bucket]++;
				if (score.found[j]) t.found[bucket]++;
			});
			t.falseFaces += score.falseFaces.length;
			if (DUMP) for (const b of score.falseFaces) await dumpCrop(frame, b, `${DUMP}/engine${k}-frame${i}-${bgName}-${b.map(Math.round).join("_")}-s${res.faces.find(f => f.box === b)?.score.toFixed(3)}.png`);
			t.falseByBackground[bgName] = (t.falseByBackground[bgName] ?? 0) + score.falseFaces.length;
			t.frames++;
			t.detectMs.push(res.timings.detectMs);
		}
		if ((i + 1) % 6 === 0) console.log(`  ${i + 1}/${FRAMES} frames; load ${load()}`);
	}

	const names = ["today (frame-wide pass)", ...candidates.map(p => `small faces ${p.scale} ${p.tileW}x${p.tileH} ov ${p.overlap}${p.threshold ? ` thr ${p.threshold}` : ""} (${planCost(W, H, p).views} runs, ${r1(planCost(W, H, p).pixels / 1000)}k px)`)];
	console.log(`\n${FRAMES} frames 1920x1080, ${FACES} faces each; load ${load()}`);
	console.log(`| detector | ${SIZE_BUCKETS.map(b => `${bucketLabel(b)} px`).join(" | ")} | 40-64 px | false faces / frame | detector pass ms, median (p90) |`);
	console.log(`|---|${SIZE_BUCKETS.map(() => "---").join("|")}|---|---|---|`);
	results.forEach((t, k) => {
		const rec = (f: number, n: number) => (n ? `${((100 * f) / n).toFixed(1)}% (${f}/${n})` : "-");
		const f40 = t.found.slice(1).reduce((a, b) => a + b, 0),
			n40 = t.total.slice(1).reduce((a, b) => a + b, 0);
		const fb = Object.entries(t.falseByBackground).map(([b, n]) => `${b} ${n}`).join(", ");
		console.log(`| ${names[k]} | ${t.found.map((f, j) => rec(f, t.total[j])).join(" | ")} | ${rec(f40, n40)} | ${(t.falseFaces / t.frames).toFixed(3)} (${fb}) | ${r1(median(t.detectMs))} (${r1(p90(t.detectMs))}) |`);
	});
	for (const e of [today, finest, twice, ...engines]) await e.close();
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
