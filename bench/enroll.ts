/**
 * Enrollment figures (issue: generate on a 10 s 1080p H.264 clip at most 1.5 s and at most
 * 1.5x `ffmpeg -threads 1` decoding the same file; peak memory under 400 MB while a 50 MB
 * upload is validated).
 *
 * A real Rollcall node (`npm start`'s entry, every service, embedded stores) runs as a child
 * process; the bench calls it over HTTP like the Java backend, and reads the child's peak
 * resident memory (VmHWM) from /proc.
 *
 *   npm run bench:enroll -- [--runs 5] [--grain 3] [--clip FILE.mp4]
 *
 * Without --clip it renders two 10 s 1920x1080 25 fps H.264 clips of a real face (sample
 * photo of @vladmandic/face-api) at crf 18, GOP 50, with sensor-like grain (`--grain`, levels;
 * 3 gives ~3.6 Mbit/s, 0 a clean 1.6 Mbit/s render), kept in the temp folder between runs:
 * one without B-frames (every frame a reference frame, as phones record: every frame must be
 * decoded) and one with 2 B-frames (which the sampled decode skips). For each clip, in turn
 * and back to back, `generate` over HTTP and Debian's `ffmpeg -threads 1 -i clip -f null -`
 * (apt-get install ffmpeg; says so when it is missing), medians of --runs and their ratio.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { FACES, makeFaceVideo } from "../test/support/face-video";
import { spawnNode } from "../test/support/cluster";
import { TEST_API_KEY } from "../test/support/node";

function arg(name: string): string | undefined {
	const i = process.argv.indexOf(`--${name}`);
	return i >= 0 ? process.argv[i + 1] : undefined;
}
const RUNS = Number(arg("runs") ?? 5);
const GRAIN = Number(arg("grain") ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kb = (pid: number, field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);

const TICK_MS = 1000 / 100; // USER_HZ
/** CPU time (user + system, all threads) of a process, ms. */
function cpuMs(pid: number | "self", children = false): number {
	const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
	// Fields after the name: utime 14, stime 15, cutime 16, cstime 17 (1-based, minus 3).
	const [u, s, cu, cs] = [f[11], f[12], f[13], f[14]].map(Number);
	return (children ? cu + cs : u + s) * TICK_MS;
}

const HAVE_FFMPEG = spawnSync("ffmpeg", ["-version"], { encoding: "utf8" }).status === 0;

/** One `ffmpeg -threads 1 -i file -f null -` (decode only), ms; null without Debian's ffmpeg. */
function ffmpegDecodeMs(file: string): number | null {
	if (!HAVE_FFMPEG) return null;
	const t = performance.now();
	const r = spawnSync("ffmpeg", ["-v", "error", "-threads", "1", "-i", file, "-f", "null", "-"], { encoding: "utf8" });
	if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
	return performance.now() - t;
}

interface ClipKind {
	name: string;
	bframes: number;
}
const KINDS: ClipKind[] = [
	{ name: "no B-frames", bframes: 0 },
	{ name: "B-frames", bframes: 2 }
];

async function renderClip(kind: ClipKind): Promise<string> {
	const clip = path.join(os.tmpdir(), `rollcall-bench-enroll-1080p-10s-gop50-b${kind.bframes}-g${GRAIN}.mp4`);
	if (!fs.existsSync(clip)) {
		console.log(`rendering ${clip} ...`);
		await makeFaceVideo(clip + ".part.mp4", { ...FACES.anna, width: 1920, height: 1080, fps: 25, seconds: 10, motion: "zoom", crf: 18, preset: "medium", keyint: 50, bframes: kind.bframes, grain: GRAIN });
		fs.renameSync(clip + ".part.mp4", clip);
	}
	return clip;
}

/** A valid MP4 of about `bytes`: the clip followed by a top-level `free` box (ignored by players). */
function paddedMp4(src: string, dest: string, bytes: number): void {
	const data = fs.readFileSync(src);
	const pad = bytes - data.length;
	const box = Buffer.alloc(pad);
	box.writeUInt32BE(pad, 0);
	box.write("free", 4, "latin1");
	fs.writeFileSync(dest, Buffer.concat([data, box]));
}

async function main() {
	const uploads = fs.mkdtempSync(path.join(os.tmpdir(), "rollcall-bench-enroll-"));
	const given = arg("clip");
	const clips = given ? [{ name: "given clip", file: given }] : [];
	if (!given) for (const k of KINDS) clips.push({ name: k.name, file: await renderClip(k) });
	fs.mkdirSync(path.join(uploads, "identity", "201"), { recursive: true });
	clips.forEach((c, i) => fs.copyFileSync(c.file, path.join(uploads, "identity", "201", `clip${i}.mp4`)));
	if (!HAVE_FFMPEG) console.log("ffmpeg -threads 1 decode: Debian's ffmpeg is not installed (apt-get install ffmpeg): no reference figures, no ratios");

	// ENROLL_* and INFERENCE_* variables of the bench's environment reach the node.
	const tuning = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => /^(ENROLL|INFERENCE)_/.test(k) && v !== undefined)) as Record<string, string>;
	const node = await spawnNode("bench-enroll", { UPLOADS_DIR: uploads, ...tuning });
	const pid = node.proc.pid!;
	try {
		const headers = { "X-API-Key": TEST_API_KEY, "Content-Type": "application/json" };
		const generate = async (i: number) => {
			const t = performance.now();
			const res = await fetch(`${node.baseUrl}/embeddings/generate`, { method: "POST", headers, body: JSON.stringify({ videoUrl: `/uploads/identity/201/clip${i}.mp4`, submissionId: 1 }) });
			const body = (await res.json()) as any;
			if (res.status !== 200) throw new Error(`generate answered ${res.status}: ${JSON.stringify(body)}`);
			return { ms: performance.now() - t, data: body.data };
		};
		// Peak memory of a 50 MB upload on the fresh node: the first clip padded to 50 MB, validated over HTTP.
		const big = path.join(uploads, "upload-50mb.mp4");
		paddedMp4(clips[0].file, big, 50 * 1024 * 1024 - 4096);
		const rssBefore = kb(pid, "VmRSS");
		const hwmBefore = kb(pid, "VmHWM");
		const form = new FormData();
		form.append("video", new Blob([fs.readFileSync(big)], { type: "video/mp4" }), "face.mp4");
		const t = performance.now();
		const res = await fetch(`${node.baseUrl}/embeddings/validate`, { method: "POST", headers: { "X-API-Key": TEST_API_KEY }, body: form });
		const validate = (await res.json()) as any;
		const validateMs = performance.now() - t;
		if (res.status !== 200) throw new Error(`validate answered ${res.status}: ${JSON.stringify(validate)}`);
		const hwmAfter = kb(pid, "VmHWM");
		const hwmBeforeGenerate = kb(pid, "VmHWM");

		const r1 = (x: number) => Math.round(x);
		if (Object.keys(tuning).length) console.log(`node settings: ${JSON.stringify(tuning)}`);
		console.log(`${os.cpus().length} cores; /proc/loadavg at start: ${fs.readFileSync("/proc/loadavg", "utf8").trim()}`);
		for (const [i, c] of clips.entries()) {
			const warm = await generate(i); // the first call warms the engine's buffers
			const gen: number[] = [];
			const ff: number[] = [];
			const ratios: number[] = [];
			const genCpu: number[] = [];
			const ffCpu: number[] = [];
			// Back to back, alternating, so both see the same machine load.
			for (let r = 0; r < RUNS; r++) {
				const c0 = cpuMs(pid);
				const g = (await generate(i)).ms;
				genCpu.push(cpuMs(pid) - c0);
				const f0 = cpuMs("self", true);
				const f = ffmpegDecodeMs(c.file);
				gen.push(g);
				if (f !== null) {
					ffCpu.push(cpuMs("self", true) - f0);
					ff.push(f);
					ratios.push(g / f);
				}
			}
			const mb = fs.statSync(c.file).size / 1024 / 1024;
			console.log(`\n${c.name}: ${c.file} (${mb.toFixed(1)} MB, ${((mb * 8 * 1.048576) / 10).toFixed(1)} Mbit/s over 10 s)`);
			console.log(`  generate (HTTP), median of ${RUNS}: ${r1(median(gen))} ms [${gen.map(r1).join(", ")}]; ${warm.data.totalFrames} frames sampled, ${warm.data.framesWithFace} with a face, quality ${warm.data.quality}`);
			if (ff.length) {
				console.log(`  ffmpeg -threads 1 decode, median of ${RUNS}: ${r1(median(ff))} ms [${ff.map(r1).join(", ")}]`);
				console.log(`  generate / ffmpeg: median ${median(ratios).toFixed(2)}x [${ratios.map(x => x.toFixed(2)).join(", ")}]`);
				// CPU time is what a loaded machine distorts least (the wall ratio pits a 2-core pipeline against a 1-thread decode).
				console.log(`  CPU (user+sys) per run, median: generate node ${r1(median(genCpu))} ms, ffmpeg ${r1(median(ffCpu))} ms: ${(median(genCpu) / median(ffCpu)).toFixed(2)}x`);
			}
			console.log(`  /proc/loadavg after: ${fs.readFileSync("/proc/loadavg", "utf8").trim()}`);
		}
		console.log(`\nvalidate 50 MB upload: ${r1(validateMs)} ms, quality ${validate.data.quality}; node RSS before ${r1(rssBefore / 1024)} MB, peak (VmHWM) before ${r1(hwmBefore / 1024)} MB, after ${r1(hwmAfter / 1024)} MB (a fresh node: the upload comes first)`);
		console.log(`node peak (VmHWM) after the generate runs: ${r1(kb(pid, "VmHWM") / 1024)} MB (before them ${r1(hwmBeforeGenerate / 1024)} MB)`);
	} finally {
		await node.stop();
		fs.rmSync(uploads, { recursive: true, force: true });
	}
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
