/**
 * Camera monitoring on one node: N enabled cameras of the registry, each a 1080p25 H.264
 * stream over RTSP (GStreamer's server on 127.0.0.1, one file mount at real-time pace, a key
 * frame every second, no B-frames), each watched by its monitor actor at `sampleInterval`.
 * Prints, per configuration: CPU per camera (% of one core, this process, above its idle
 * before the cameras), memory per camera (resident, above the node before the cameras), sample
 * lag p50/p95/max (how late a sample arrived against its schedule, plus handling it), what the
 * monitors measured (fps, bitrate, resolution, latency), and the machine.
 *
 *   npm run bench:monitoring -- [--runs 40x5,20x1] [--seconds 30]
 *
 * Each configuration (cameras x sampleInterval s) runs in a fresh process, so memory figures
 * of one do not carry into the next. The node runs the storage and actors roles (the registry
 * and blob store the monitors report to are in this process too; no gateway, no inference).
 * All cameras share one mount: each client gets its own pipeline from the start of the clip,
 * so their key frames fall at the instants they connected.
 *
 * Needs GStreamer (test/support/rtsp.ts lists the Debian packages).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../config";
import { createNode } from "../services";
import type { MonitorState, SampleTiming } from "../services/actors/monitor.actor";
import { encodeClip, rtspServerMissing, startRtspServer } from "../test/support/rtsp";

function arg(name: string, def: string): string {
	const i = process.argv.indexOf(`--${name}`);
	return i >= 0 ? process.argv[i + 1] : def;
}
const SECONDS = Number(arg("seconds", "30"));
const RUNS = arg("runs", "40x5,20x1");
const mb = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;
const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : 0);
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

/** The clip all cameras stream; kept between runs (it takes a while to encode). */
function clipFor(seconds: number): string {
	const clip = path.join(os.tmpdir(), `rollcall-bench-monitoring-1080p25-${seconds}s.mp4`);
	if (!fs.existsSync(clip)) {
		console.error(`Encoding ${seconds} s of 1920x1080 @ 25 fps H.264 (key frame every 25 frames, 4000 kbit/s, x264 veryfast, no B-frames) ...`);
		encodeClip(clip + ".part.mp4", { width: 1920, height: 1080, fps: 25, seconds, keyint: 25, bitrate: 4000, preset: "veryfast" });
		fs.renameSync(clip + ".part.mp4", clip);
	}
	return clip;
}

interface RunResult {
	cameras: number;
	sampleIntervalS: number;
	steadySeconds: number;
	online: number;
	samples: number;
	skipped: number;
	cpuPercentOfOneCore: { idle: number; withCameras: number; perCamera: number };
	rssMb: { beforeCameras: number; steady: number; peak: number; perCamera: number };
	sampleLagMs: { p50: number; p95: number; max: number; n: number };
	arrivalLateMs: { p50: number; p95: number; max: number };
	handlingMs: { p50: number; p95: number; max: number };
	measured: { fps: number | null; bitrateKbps: number | null; latencyMs: number | null; resolutions: string[] };
	startSeconds: number;
	reconnects: number;
}

/** One configuration, in this process. */
async function runOne(cameras: number, every: number): Promise<RunResult> {
	const clip = clipFor(SECONDS + 120);
	const rtsp = await startRtspServer({ files: { "/cam": clip } });
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rollcall-bench-monitoring-"));
	const cfg = loadConfig({ ...process.env, SERVICES: "storage,actors", API_KEY: "bench-api-key-0123456789", PORT: "0", METRICS_PORT: "off", LOG_LEVEL: "warn", DATA_DIR: dir, ACTOR_PLACEMENT_MS: "500" });
	const broker = createNode(cfg);
	await broker.start();
	await broker.waitForServices(["cameras", "monitors", "blobs"], 60_000);
	const local = () => broker.registry.getServiceList({ onlyLocal: true }).filter((s: any) => s.settings?.actor === "monitor").map((s: any) => s.name as string);
	const states = () => Promise.all(local().map(n => broker.call<MonitorState>(`${n}.state`)));

	// Idle: the node with its services and no camera.
	await sleep(3000);
	const idleCpu0 = process.cpuUsage();
	const idleT0 = performance.now();
	await sleep(5000);
	const idle = cpuMs(process.cpuUsage(idleCpu0)) / (performance.now() - idleT0);
	const rssBefore = process.memoryUsage().rss;

	const t0 = Date.now();
	for (let i = 1; i <= cameras; i++)
		await broker.call("cameras.create", { name: `Bench ${i}`, location: `Room ${i}`, streamType: "RTSP", streamUrl: rtsp.url("/cam"), enabled: true, sampleInterval: every });
	const deadline = Date.now() + 120_000;
	while (Date.now() < deadline) {
		const s = await states();
		if (s.length === cameras && s.every(x => x.status === "online")) break;
		await sleep(500);
	}
	const startSeconds = (Date.now() - t0) / 1000;
	// Let the first samples and thumbnails pass before measuring.
	await sleep(Math.max(3000, 2 * every * 1000));

	const connects0 = (await states()).reduce((n, s) => n + s.connects, 0);
	const rss: number[] = [];
	const cpu0 = process.cpuUsage();
	const steadyT0 = Date.now();
	const perf0 = performance.now();
	while (Date.now() - steadyT0 < SECONDS * 1000) {
		await sleep(1000);
		rss.push(process.memoryUsage().rss);
	}
	const cpu = cpuMs(process.cpuUsage(cpu0)) / (performance.now() - perf0);
	const final = await states();
	const timings: SampleTiming[] = [];
	for (const n of local()) timings.push(...(await broker.call<SampleTiming[]>(`${n}.lags`)).filter(t => t.at >= steadyT0));
	const lags = timings.map(t => t.lagMs + t.processingMs);
	const med = (xs: (number | null)[]) => {
		const v = xs.filter((x): x is number => typeof x === "number");
		return v.length ? pct(v, 50) : null;
	};
	const result: RunResult = {
		cameras,
		sampleIntervalS: every,
		steadySeconds: Math.round((Date.now() - steadyT0) / 1000),
		online: final.filter(s => s.status === "online").length,
		samples: timings.length,
		skipped: final.reduce((n, s) => n + s.skipped, 0),
		cpuPercentOfOneCore: { idle: Math.round(idle * 1000) / 10, withCameras: Math.round(cpu * 1000) / 10, perCamera: Math.round(((cpu - idle) / cameras) * 10000) / 100 },
		rssMb: { beforeCameras: mb(rssBefore), steady: mb(rss.reduce((a, b) => a + b, 0) / rss.length), peak: mb(Math.max(...rss)), perCamera: Math.round(((Math.max(...rss) - rssBefore) / cameras / 2 ** 20) * 100) / 100 },
		sampleLagMs: { p50: pct(lags, 50), p95: pct(lags, 95), max: Math.max(0, ...lags), n: lags.length },
		arrivalLateMs: { p50: pct(timings.map(t => t.lagMs), 50), p95: pct(timings.map(t => t.lagMs), 95), max: Math.max(0, ...timings.map(t => t.lagMs)) },
		handlingMs: { p50: pct(timings.map(t => t.processingMs), 50), p95: pct(timings.map(t => t.processingMs), 95), max: Math.max(0, ...timings.map(t => t.processingMs)) },
		measured: { fps: med(final.map(s => s.fps)), bitrateKbps: med(final.map(s => s.bitrateKbps)), latencyMs: med(final.map(s => s.latencyMs)), resolutions: [...new Set(final.map(s => s.resolution ?? "?"))] },
		startSeconds: Math.round(startSeconds * 10) / 10,
		reconnects: final.reduce((n, s) => n + s.connects, 0) - connects0
	};
	await broker.stop();
	await rtsp.stop();
	fs.rmSync(dir, { recursive: true, force: true });
	return result;
}

function machine() {
	const cpus = os.cpus();
	return { cpu: `${cpus.length} x ${cpus[0]?.model ?? "?"}${cpus[0]?.speed ? ` @ ${cpus[0].speed} MHz` : ""}`, memoryGiB: Math.round(os.totalmem() / 2 ** 30), os: `${os.type()} ${os.release()}`, node: process.version, uvThreadpool: process.env.UV_THREADPOOL_SIZE ?? "4 (default)" };
}

async function main() {
	const missing = rtspServerMissing();
	if (missing) throw new Error(missing);
	const one = process.argv.indexOf("--one");
	if (one >= 0) {
		const [cameras, every] = process.argv[one + 1].split("x").map(Number);
		process.stdout.write(`RESULT ${JSON.stringify(await runOne(cameras, every))}\n`);
		return;
	}
	// Encode once, before any run is timed.
	clipFor(SECONDS + 120);
	const results: RunResult[] = [];
	for (const spec of RUNS.split(",")) {
		console.error(`Run ${spec} (cameras x sampleInterval s), ${SECONDS} s steady ...`);
		const child = spawn(process.execPath, [...process.execArgv, __filename, "--one", spec, "--seconds", String(SECONDS)], { stdio: ["ignore", "pipe", "inherit"], env: process.env });
		let out = "";
		child.stdout.on("data", d => (out += d));
		const code = await new Promise<number | null>(r => child.once("exit", r));
		const line = out.split("\n").find(l => l.startsWith("RESULT "));
		if (code !== 0 || !line) throw new Error(`run ${spec} failed (exit ${code}): ${out.slice(-2000)}`);
		results.push(JSON.parse(line.slice(7)));
	}
	console.log(JSON.stringify({ stream: "1920x1080 @ 25 fps H.264 over RTSP (GStreamer, 127.0.0.1), key frame every second", machine: machine(), runs: results }, null, 1));
	for (const r of results) {
		const goal = r.sampleIntervalS >= 5 ? ` (goal <= 3%: ${r.cpuPercentOfOneCore.perCamera <= 3 ? "met" : "MISSED"})` : "";
		console.log(
			`${r.cameras} cameras at ${r.sampleIntervalS} s: CPU ${r.cpuPercentOfOneCore.perCamera}% of a core per camera${goal}, ${r.rssMb.perCamera} MB per camera, ` +
				`sample lag p50 ${r.sampleLagMs.p50} ms / p95 ${r.sampleLagMs.p95} ms (goal p95 < 1000: ${r.sampleLagMs.p95 < 1000 ? "met" : "MISSED"}), ${r.online}/${r.cameras} online`
		);
	}
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
