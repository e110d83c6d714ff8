/**
 * Enrollment figures (issue: generate on a 10 s 1080p H.264 clip at most 1.5 s and at most
 * 1.5x `ffmpeg -threads 1` decoding the same file; peak memory under 400 MB while a 50 MB
 * upload is validated).
 *
 * A real Rollcall node (`npm start`'s entry, every service, embedded stores) runs as a child
 * process; the bench calls it over HTTP like the Java backend, and reads the child's peak
 * resident memory (VmHWM) from /proc.
 *
 *   npm run bench:enroll -- [--runs 5] [--clip FILE.mp4]
 *
 * Without --clip it renders a 10 s 1920x1080 25 fps H.264 clip of a real face (sample photo
 * of @vladmandic/face-api) at crf 18, kept in the temp folder between runs. Needs Debian's
 * ffmpeg for the reference figure (apt-get install ffmpeg); says so when it is missing.
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
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kb = (pid: number, field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);

function ffmpegDecodeMs(file: string): number | null {
	const probe = spawnSync("ffmpeg", ["-version"], { encoding: "utf8" });
	if (probe.status !== 0) return null;
	const times: number[] = [];
	for (let i = 0; i < RUNS; i++) {
		const t = performance.now();
		const r = spawnSync("ffmpeg", ["-v", "error", "-threads", "1", "-i", file, "-f", "null", "-"], { encoding: "utf8" });
		if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
		times.push(performance.now() - t);
	}
	return median(times);
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
	let clip = arg("clip");
	if (!clip) {
		clip = path.join(os.tmpdir(), "rollcall-bench-enroll-1080p-10s.mp4");
		if (!fs.existsSync(clip)) {
			await makeFaceVideo(clip + ".part.mp4", { ...FACES.anna, width: 1920, height: 1080, fps: 25, seconds: 10, motion: "zoom", crf: 18, preset: "medium" });
			fs.renameSync(clip + ".part.mp4", clip);
		}
	}
	fs.mkdirSync(path.join(uploads, "identity", "201"), { recursive: true });
	fs.copyFileSync(clip, path.join(uploads, "identity", "201", "clip.mp4"));
	const mb = fs.statSync(clip).size / 1024 / 1024;

	// ENROLL_* and INFERENCE_* variables of the bench's environment reach the node.
	const tuning = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => /^(ENROLL|INFERENCE)_/.test(k) && v !== undefined)) as Record<string, string>;
	const node = await spawnNode("bench-enroll", { UPLOADS_DIR: uploads, ...tuning });
	const pid = node.proc.pid!;
	try {
		const headers = { "X-API-Key": TEST_API_KEY, "Content-Type": "application/json" };
		const generate = async () => {
			const t = performance.now();
			const res = await fetch(`${node.baseUrl}/embeddings/generate`, { method: "POST", headers, body: JSON.stringify({ videoUrl: "/uploads/identity/201/clip.mp4", submissionId: 1 }) });
			const body = (await res.json()) as any;
			if (res.status !== 200) throw new Error(`generate answered ${res.status}: ${JSON.stringify(body)}`);
			return { ms: performance.now() - t, data: body.data };
		};
		// Peak memory of a 50 MB upload on the fresh node: the clip padded to 50 MB, validated over HTTP.
		const big = path.join(uploads, "upload-50mb.mp4");
		paddedMp4(clip, big, 50 * 1024 * 1024 - 4096);
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
		const warm = await generate(); // first call loads nothing new, but warms the engine's buffers
		const times: number[] = [];
		for (let i = 0; i < RUNS; i++) times.push((await generate()).ms);
		const ffmpeg = ffmpegDecodeMs(clip);
		const gen = median(times);

		const r1 = (x: number) => Math.round(x);
		if (Object.keys(tuning).length) console.log(`node settings: ${JSON.stringify(tuning)}`);
		console.log(`clip: ${clip} (${mb.toFixed(1)} MB, 10 s 1080p H.264), ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(2)}`);
		console.log(`generate (HTTP, median of ${RUNS}): ${r1(gen)} ms [${times.map(r1).join(", ")}]; ${warm.data.totalFrames} frames sampled, ${warm.data.framesWithFace} with a face, quality ${warm.data.quality}`);
		if (ffmpeg === null) console.log("ffmpeg -threads 1 decode: ffmpeg not installed (apt-get install ffmpeg)");
		else console.log(`ffmpeg -threads 1 decode (median of ${RUNS}): ${r1(ffmpeg)} ms; generate / ffmpeg = ${(gen / ffmpeg).toFixed(2)}x`);
		console.log(`validate 50 MB upload: ${r1(validateMs)} ms, quality ${validate.data.quality}; node RSS before ${r1(rssBefore / 1024)} MB, peak (VmHWM) before ${r1(hwmBefore / 1024)} MB, after ${r1(hwmAfter / 1024)} MB (a fresh node: the upload comes first)`);
		console.log(`node peak (VmHWM) after the ${RUNS + 1} generate runs: ${r1(kb(pid, "VmHWM") / 1024)} MB (before them ${r1(hwmBeforeGenerate / 1024)} MB)`);
	} finally {
		await node.stop();
		fs.rmSync(uploads, { recursive: true, force: true });
	}
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
