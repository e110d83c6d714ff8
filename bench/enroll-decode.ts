/**
 * The enrollment decode alone (issue 21's levers): generate's frame source (every 0.5 s,
 * 640 wide, no inference) in a few settings, alternating run by run with Debian's
 * `ffmpeg -threads 1 -i clip -f null -` on the same file; wall and CPU (user+sys, all
 * threads of this process, or of the ffmpeg child) medians, and the packets decoded.
 *
 *   npx tsx bench/enroll-decode.ts [--runs 5] CLIP.mp4 [CLIP2.mp4 ...]
 *
 * The clips are bench/enroll.ts's (its temp folder), or any H.264 file.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { openFrames, type FrameSourceOptions, type SourceStats } from "../lib/video/frame-source";

const argv = process.argv.slice(2);
const runsAt = argv.indexOf("--runs");
const RUNS = runsAt >= 0 ? Number(argv.splice(runsAt, 2)[1]) : 5;
const clips = argv.filter(a => !a.startsWith("--"));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const GENERATE: FrameSourceOptions = { everySeconds: 0.5, width: 640, fastDecode: true, inline: true };
const SETTINGS: { name: string; opts: FrameSourceOptions }[] = [
	{ name: "deblocking on (no fastDecode), 2 threads", opts: { ...GENERATE, fastDecode: false, threads: 2 } },
	{ name: "before: fastDecode, 2 threads", opts: { ...GENERATE, threads: 2 } },
	{ name: "before, 1 thread", opts: { ...GENERATE, threads: 1 } },
	{ name: "before, 3 threads", opts: { ...GENERATE, threads: 3 } },
	{ name: "skipUnsampled, 2 threads", opts: { ...GENERATE, threads: 2, skipUnsampled: true } },
	{ name: "skipUnsampled, 1 thread", opts: { ...GENERATE, threads: 1, skipUnsampled: true } },
	{ name: "skipUnsampled, 3 threads", opts: { ...GENERATE, threads: 3, skipUnsampled: true } }
];

const cpu = () => {
	const u = process.cpuUsage();
	return (u.user + u.system) / 1000;
};
const childCpu = () => {
	const f = fs.readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
	return (Number(f[13]) + Number(f[14])) * 10;
};

async function decode(file: string, opts: FrameSourceOptions) {
	const stats: SourceStats = { packets: 0, decodedPackets: 0, frames: 0, mode: "full" };
	const c0 = cpu();
	const t0 = performance.now();
	for await (const f of openFrames({ file }, { ...opts, stats })) void f;
	return { ms: performance.now() - t0, cpu: cpu() - c0, stats };
}

function ffmpeg(file: string) {
	const c0 = childCpu();
	const t0 = performance.now();
	const r = spawnSync("ffmpeg", ["-v", "error", "-threads", "1", "-i", file, "-f", "null", "-"]);
	if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
	return { ms: performance.now() - t0, cpu: childCpu() - c0 };
}

async function main() {
	console.log(`/proc/loadavg at start: ${fs.readFileSync("/proc/loadavg", "utf8").trim()}`);
	for (const file of clips) {
		await decode(file, SETTINGS[1].opts); // warm the file cache and the library
		const ff = { ms: [] as number[], cpu: [] as number[] };
		const res = SETTINGS.map(() => ({ ms: [] as number[], cpu: [] as number[], ratio: [] as number[], decoded: 0, packets: 0, frames: 0 }));
		for (let r = 0; r < RUNS; r++)
			for (const [i, s] of SETTINGS.entries()) {
				const d = await decode(file, s.opts);
				const f = ffmpeg(file);
				ff.ms.push(f.ms);
				ff.cpu.push(f.cpu);
				Object.assign(res[i], { decoded: d.stats.decodedPackets, packets: d.stats.packets, frames: d.stats.frames });
				res[i].ms.push(d.ms);
				res[i].cpu.push(d.cpu);
				res[i].ratio.push(d.ms / f.ms);
			}
		console.log(`\n${file}: ffmpeg -threads 1 median wall ${Math.round(median(ff.ms))} ms, CPU ${Math.round(median(ff.cpu))} ms`);
		for (const [i, s] of SETTINGS.entries()) {
			const x = res[i];
			console.log(
				`  ${s.name}: wall ${Math.round(median(x.ms))} ms (${median(x.ratio).toFixed(2)}x ffmpeg), CPU ${Math.round(median(x.cpu))} ms (${(median(x.cpu) / median(ff.cpu)).toFixed(2)}x); ${x.decoded}/${x.packets} packets decoded, ${x.frames} frames`
			);
		}
	}
	console.log(`\n/proc/loadavg at end: ${fs.readFileSync("/proc/loadavg", "utf8").trim()}`);
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
