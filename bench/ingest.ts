/**
 * What a sampled camera costs: a 1080p25 H.264 stream over RTSP (GStreamer's RTSP server on
 * 127.0.0.1 serving a clip this bench encodes, at real-time pace), sampled every 5 s to
 * 640x360 RGB, key frames only vs full decoding of the same stream. CPU is this process's
 * (user + system) over the wall time, in % of one core; the RTSP server runs in its own
 * process and is not counted. Also: how fast node-av decodes the clip flat out.
 *
 *   npm run bench:ingest -- [--seconds 60] [--every 5] [--keyint 25] [--bitrate 4000]
 *   npm run bench:ingest -- --soak 300   (memory of a reconnecting live source decoding every
 *                                        frame of a 640x360 live stream for 300 s)
 *
 * Needs GStreamer (see test/support/rtsp.ts for the Debian packages).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { liveFrames, openFrames, type SourceStats } from "../lib/video/frame-source";
import { encodeClip, rtspServerMissing, startRtspServer } from "../test/support/rtsp";

function arg(name: string, def: number): number {
	const i = process.argv.indexOf(`--${name}`);
	return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const SECONDS = arg("seconds", 60);
const EVERY = arg("every", 5);
const KEYINT = arg("keyint", 25);
const BITRATE = arg("bitrate", 4000);
const OUT = { width: 640, height: 360 };

interface Run {
	label: string;
	cpuPercent: number;
	/** From the first frame on: without the connection's set-up. */
	steadyPercent: number;
	wallS: number;
	frames: number;
	stats: SourceStats;
	rssMb: [number, number];
}

async function sampled(url: string, label: string, keyFramesOnly: "auto" | "never"): Promise<Run> {
	const stats: SourceStats = { packets: 0, decodedPackets: 0, frames: 0, mode: "key" };
	const rss0 = process.memoryUsage().rss;
	const cpu0 = process.cpuUsage();
	const t0 = performance.now();
	let frames = 0;
	let cpuFirst = cpu0;
	let tFirst = t0;
	try {
		for await (const _frame of openFrames({ url }, { everySeconds: EVERY, keyFramesOnly, ...OUT, stats })) {
			if (frames++ === 0) {
				cpuFirst = process.cpuUsage();
				tFirst = performance.now();
			}
		}
	} catch (err) {
		// The file mount ends the stream when the clip ends: that is the end of the run.
		if ((err as { code?: string }).code !== "STREAM_ENDED") throw err;
	}
	const wall = (performance.now() - t0) / 1000;
	const cpu = process.cpuUsage(cpu0);
	const steady = process.cpuUsage(cpuFirst);
	return {
		label,
		cpuPercent: ((cpu.user + cpu.system) / 1e6 / wall) * 100,
		steadyPercent: ((steady.user + steady.system) / 1e6 / ((performance.now() - tFirst) / 1000)) * 100,
		wallS: wall,
		frames,
		stats,
		rssMb: [rss0 / 2 ** 20, process.memoryUsage().rss / 2 ** 20]
	};
}

async function flatOut(file: string): Promise<{ fps: number; frames: number; cpuS: number }> {
	const stats: SourceStats = { packets: 0, decodedPackets: 0, frames: 0, mode: "full" };
	const cpu0 = process.cpuUsage();
	const t0 = performance.now();
	// Decode every frame (one thread), scale only one per second, so this is the decoder's speed.
	for await (const _ of openFrames({ file }, { everySeconds: 1, keyFramesOnly: "never", ...OUT, stats })) void _;
	const wall = (performance.now() - t0) / 1000;
	const cpu = process.cpuUsage(cpu0);
	return { fps: stats.decodedPackets / wall, frames: stats.decodedPackets, cpuS: (cpu.user + cpu.system) / 1e6 };
}

/** Decode every frame of a live stream for `seconds`, printing resident and heap memory. */
async function soak(seconds: number) {
	const server = await startRtspServer({ live: { "/live": { width: 640, height: 360, fps: 25 } } });
	const ctl = new AbortController();
	const stats: SourceStats = { packets: 0, decodedPackets: 0, frames: 0, mode: "full" };
	const mb = (n: number) => (n / 2 ** 20).toFixed(1);
	const t0 = performance.now();
	let next = 0;
	try {
		for await (const _ of liveFrames({ url: server.url("/live") }, { width: 320, signal: ctl.signal, stats })) {
			const t = (performance.now() - t0) / 1000;
			if (t >= next) {
				const m = process.memoryUsage();
				console.log(`t=${t.toFixed(0).padStart(4)} s frames=${String(stats.frames).padStart(6)} rss=${mb(m.rss)} MB heap=${mb(m.heapUsed)} MB external=${mb(m.external)} MB`);
				next += 15;
			}
			if (t >= seconds) ctl.abort();
		}
	} finally {
		await server.stop();
	}
}

async function main() {
	const missing = rtspServerMissing();
	if (missing) {
		console.error(`bench/ingest: ${missing}`);
		process.exit(2);
	}
	if (process.argv.includes("--soak")) return soak(arg("soak", 300));
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rollcall-ingest-"));
	const clip = path.join(dir, "camera-1080p25.mp4");
	console.log(`Encoding ${SECONDS} s of 1920x1080 @ 25 fps H.264, key frame every ${KEYINT} frames, ${BITRATE} kbit/s, x264 veryfast, no B-frames ...`);
	encodeClip(clip, { width: 1920, height: 1080, fps: 25, seconds: SECONDS, keyint: KEYINT, bitrate: BITRATE, preset: "veryfast" });
	console.log(`  ${(fs.statSync(clip).size / 2 ** 20).toFixed(1)} MiB`);
	const server = await startRtspServer({ files: { "/camera": clip } });
	try {
		const url = server.url("/camera");
		console.log(`Node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), sampling every ${EVERY} s to ${OUT.width}x${OUT.height} RGB`);
		const runs = [await sampled(url, "key frames only", "auto"), await sampled(url, "full decoding", "never")];
		for (const r of runs)
			console.log(
				`${r.label.padEnd(16)} CPU ${r.cpuPercent.toFixed(2).padStart(6)} % of one core over ${r.wallS.toFixed(1)} s ` +
					`(${r.steadyPercent.toFixed(2)} % after the first frame); ` +
					`${r.frames} frames yielded, ${r.stats.decodedPackets}/${r.stats.packets} packets decoded (mode ${r.stats.mode}); ` +
					`RSS ${r.rssMb[0].toFixed(0)} -> ${r.rssMb[1].toFixed(0)} MB`
			);
		const flat = await flatOut(clip);
		console.log(`flat-out decode  ${flat.fps.toFixed(1)} frames/s (${flat.frames} frames, ${flat.cpuS.toFixed(1)} s CPU, one decoder thread)`);
		const target = runs[0].cpuPercent <= 3 ? "meets" : "MISSES";
		console.log(`Key-frame sampling ${target} the 3 % target; full decoding costs ${(runs[1].cpuPercent / runs[0].cpuPercent).toFixed(0)}x more.`);
	} finally {
		await server.stop();
		fs.rmSync(dir, { recursive: true, force: true });
	}
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
