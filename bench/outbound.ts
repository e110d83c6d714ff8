/**
 * What the outbound-URL policy costs on the ingest path: N cameras, each a 1080p25 H.264
 * stream over RTSP/TCP (GStreamer's server on 127.0.0.1, one file mount at real-time pace, a
 * key frame every second, no B-frames), read by lib/video sampled once a second (key frames
 * only, as monitors read them), opened directly and under the policy (the check, then the
 * RTSP relay of lib/net/rtsp-relay.ts carrying every byte), alternately, back to back.
 * Prints per mode: CPU of this process per camera (% of one core), open time p50/max, frames,
 * bytes, and the policy check's own time on a static name.
 *
 *   npm run bench:outbound -- [--cameras 8] [--seconds 20] [--rounds 2]
 *
 * Needs GStreamer (test/support/rtsp.ts lists the Debian packages).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { OutboundPolicy, parseCidrList, staticResolver } from "../lib/net/outbound";
import { openFrames, type FrameSourceOptions, type SourceStats } from "../lib/video/frame-source";
import { encodeClip, rtspServerMissing, startRtspServer } from "../test/support/rtsp";

function arg(name: string, def: string): string {
	const i = process.argv.indexOf(`--${name}`);
	return i >= 0 ? process.argv[i + 1] : def;
}
const CAMERAS = Number(arg("cameras", "8"));
const SECONDS = Number(arg("seconds", "20"));
const ROUNDS = Number(arg("rounds", "2"));
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

function clip(): string {
	const file = path.join(os.tmpdir(), "rollcall-bench-outbound-1080p25-60s.mp4");
	if (!fs.existsSync(file)) {
		console.error("Encoding 60 s of 1920x1080 @ 25 fps H.264 (key frame every 25 frames, 4000 kbit/s, no B-frames) ...");
		encodeClip(file + ".part.mp4", { width: 1920, height: 1080, fps: 25, seconds: 60, keyint: 25, bitrate: 4000, preset: "veryfast" });
		fs.renameSync(file + ".part.mp4", file);
	}
	return file;
}

const policy = new OutboundPolicy({ deny: parseCidrList("127.0.0.2/32"), resolver: staticResolver({ "cam.bench": ["127.0.0.1"] }) });

async function run(url: string, guarded: boolean) {
	const ctl = new AbortController();
	const stats: SourceStats[] = [];
	const opens: number[] = [];
	let frames = 0;
	const c0 = process.cpuUsage();
	const t0 = performance.now();
	const readers = Array.from({ length: CAMERAS }, async () => {
		const s: SourceStats = { packets: 0, decodedPackets: 0, frames: 0, mode: "key" };
		stats.push(s);
		const opts: FrameSourceOptions = { everySeconds: 1, width: 640, live: true, signal: ctl.signal, stats: s, onOpen: i => opens.push(i.openMs), ...(guarded ? { outbound: { policy, use: "camera" as const } } : {}) };
		try {
			for await (const _f of openFrames({ url }, opts)) frames++;
		} catch (err) {
			if (!ctl.signal.aborted) throw err;
		}
	});
	await new Promise(r => setTimeout(r, SECONDS * 1000));
	ctl.abort();
	await Promise.allSettled(readers);
	const wallMs = performance.now() - t0;
	const cpu = cpuMs(process.cpuUsage(c0));
	return {
		mode: guarded ? "policy + relay" : "direct",
		cpuPercentPerCamera: Math.round((1000 * cpu) / wallMs / CAMERAS) / 10,
		openMs: { p50: Math.round(pct(opens, 50)), max: Math.round(Math.max(...opens)) },
		frames,
		mbytes: Math.round(stats.reduce((n, s) => n + (s.bytes ?? 0), 0) / 1e5) / 10
	};
}

async function main() {
	const missing = rtspServerMissing();
	if (missing) throw new Error(missing);
	const server = await startRtspServer({ files: { "/cam": clip() } });
	const t = performance.now();
	for (let i = 0; i < 1000; i++) await policy.check(`rtsp://u:p@cam.bench:${server.port}/cam`, "camera");
	const checkUs = Math.round(((performance.now() - t) / 1000) * 1000) / 1000;
	const load0 = os.loadavg()[0];
	const results = [];
	for (let r = 0; r < ROUNDS; r++) {
		results.push(await run(`rtsp://127.0.0.1:${server.port}/cam`, false));
		results.push(await run(`rtsp://cam.bench:${server.port}/cam`, true));
	}
	await server.stop();
	console.log(JSON.stringify({ cameras: CAMERAS, seconds: SECONDS, policyCheckMsPerCall: checkUs, results, load: { before: load0, after: os.loadavg()[0] }, cpus: os.cpus().length, cpu: os.cpus()[0]?.model }, null, 2));
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
