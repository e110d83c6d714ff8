/**
 * Live detections under load, on a one-process node (all roles) monitoring N cameras (1080p25
 * H.264 over RTSP from GStreamer's server on 127.0.0.1, sampled every `--every` s by their
 * monitor actors). The load comes from a second process, so its work is not the gateway's.
 *
 * 1. `GET /detections/live` at `--rps` requests per second (open loop: sent on schedule
 *    whether or not earlier ones have answered, over keep-alive connections) for
 *    `--http-seconds`: latency p50/p99/max and errors (issue 15's goal: p99 < 20 ms at 1,000/s).
 * 2. The live channels: S Socket.IO clients and W plain `/ws` clients subscribed to the
 *    `detections` channel. The node broadcasts detections at `--rate` per
 * second (one per camera in turn, each stamped with the instant it was published) for
 * `--seconds`; each client records, per message, the time from publication to its arrival.
 * Prints delivery latency p50/p95/p99/max per transport, messages lost, and the gateway
 * process's resident memory: before the clients, with them connected and idle, and its peak
 * while delivering.
 *
 * While the HTTP load runs, the bench writes `--probe-rate` detections per second through
 * `detections.record` (the monitors' own write, which broadcasts `detections.updated`), each
 * with lastSeen = the instant of the write: the endpoint answers full lists, and the load
 * generator times each probe from its write to the first answer that holds it (freshness;
 * issue 15's goal: within 100 ms). The bench's cameras show GStreamer's test pattern, not
 * faces, so without probes the monitors would leave the list empty.
 *
 * `--split`: the bench process is a gateway+storage node only, and the 20 monitors with their
 * inference run in a second node process (SERVICES=actors,inference) over NATS at
 * `--nats` (default nats://127.0.0.1:4222), as a production gateway runs beside its actors nodes.
 *
 * `--actors-nice N` starts that node with NODE_NICE=N.
 *
 *   npm run bench:live -- [--rps 1000] [--http-seconds 20] [--probe-rate 10] [--split [--actors-nice 5]] [--sockets 500] [--ws 100] [--cameras 20] [--every 5] [--rate 20] [--seconds 30]
 *
 * Needs GStreamer (test/support/rtsp.ts lists the Debian packages) for the cameras; with
 * `--cameras 0` it runs without them.
 */
import { spawn } from "node:child_process";
import http from "node:http";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { io as ioClient, type Socket } from "socket.io-client";
import WebSocket from "ws";
import { loadConfig } from "../config";
import { createNode } from "../services";
import { encodeClip, rtspServerMissing, startRtspServer, type RtspServer } from "../test/support/rtsp";
import { spawnNode, type NodeProcess } from "../test/support/cluster";

function arg(name: string, def: string): string {
	const i = process.argv.indexOf(`--${name}`);
	return i >= 0 ? process.argv[i + 1] : def;
}
const SOCKETS = Number(arg("sockets", "500"));
const WS_CLIENTS = Number(arg("ws", "100"));
const CAMERAS = Number(arg("cameras", "20"));
const EVERY = Number(arg("every", "5"));
const RATE = Number(arg("rate", "20"));
const SECONDS = Number(arg("seconds", "30"));
const RPS = Number(arg("rps", "1000"));
const HTTP_SECONDS = Number(arg("http-seconds", "20"));
const PROBE_RATE = Number(arg("probe-rate", "10"));
const SPLIT = process.argv.includes("--split");
const NATS = arg("nats", "nats://127.0.0.1:4222");
/** --split: NODE_NICE of the actors+inference node (a lower CPU priority than the gateway's). */
const ACTORS_NICE = arg("actors-nice", "0");
const ADMIN = { email: "admin@bench.test", password: "bench-admin-password-0123" };

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const mb = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;
const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);
const r1 = (x: number) => Math.round(x * 10) / 10;

interface ClientResult {
	transport: "socket.io" | "ws";
	clients: number;
	received: number;
	latenciesMs: number[];
	connectSeconds: number;
}

interface HttpResult {
	requests: number;
	errors: number;
	statuses: Record<string, number>;
	achievedRps: number;
	latenciesMs: number[];
	/** Per probe detection: first answer holding it minus its lastSeen, ms. */
	freshnessMs: number[];
	/** The load generator's own event-loop delay (a late client times every answer late): p99, max ms. */
	clientLoopDelayMs: { p99: number; max: number };
}

/** Open-loop GET /detections/live: a tick every 5 ms sends what is due, never waiting for answers. */
async function httpLoad(origin: string, token: string): Promise<HttpResult> {
	const url = new URL(`${origin}/api/v1/detections/live?limit=20`);
	const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
	const latencies: number[] = [];
	const statuses: Record<string, number> = {};
	let errors = 0;
	let sent = 0;
	let pending = 0;
	const firstSeen = new Map<string, number>();
	const one = () =>
		new Promise<void>(resolve => {
			const t0 = now();
			pending++;
			const req = http.get(url, { agent, headers: { Authorization: `Bearer ${token}` } }, res => {
				const chunks: Buffer[] = [];
				res.on("data", (c: Buffer) => chunks.push(c));
				res.on("end", () => {
					const t1 = now();
					latencies.push(t1 - t0);
					try {
						const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
						const list = (Array.isArray(body) ? body : ((body as { data?: unknown }).data ?? [])) as { trackId?: string; lastSeen?: string }[];
						for (const d of list) if (d.trackId?.startsWith("probe-") && !firstSeen.has(d.trackId)) firstSeen.set(d.trackId, t1 - Date.parse(d.lastSeen ?? ""));
					} catch {
						/* a non-JSON answer is counted by its status */
					}
					statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
					if (res.statusCode !== 200) errors++;
					pending--;
					resolve();
				});
			});
			req.setTimeout(10_000, () => req.destroy(new Error("timeout")));
			req.on("error", (err: NodeJS.ErrnoException) => {
				errors++;
				const what = `error ${err.code ?? err.message}`;
				statuses[what] = (statuses[what] ?? 0) + 1;
				pending--;
				resolve();
			});
		});
	const inflight: Promise<void>[] = [];
	// The parent writes probes only while the load runs: a probe written before the first request would count its wait as staleness.
	process.stdout.write("HTTP-START\n");
	const ownDelay = monitorEventLoopDelay({ resolution: 1 });
	ownDelay.enable();
	const start = now();
	while (now() - start < HTTP_SECONDS * 1000) {
		const due = Math.floor(((now() - start) / 1000) * RPS);
		while (sent < due) {
			inflight.push(one());
			sent++;
		}
		await sleep(5);
	}
	const elapsed = (now() - start) / 1000;
	process.stdout.write("HTTP-END\n");
	ownDelay.disable();
	await Promise.all(inflight);
	agent.destroy();
	void pending;
	return { requests: sent, errors, statuses, achievedRps: Math.round(latencies.length / elapsed), latenciesMs: latencies, freshnessMs: [...firstSeen.values()], clientLoopDelayMs: { p99: r1(ownDelay.percentile(99) / 1e6), max: r1(ownDelay.max / 1e6) } };
}

/** The clients' side, in its own process so their work does not count as the gateway's. */
async function clients(origin: string, token: string): Promise<void> {
	const httpResult = RPS > 0 && HTTP_SECONDS > 0 ? await httpLoad(origin, token) : null;
	process.stdout.write(`HTTP ${JSON.stringify(httpResult)}\n`);
	const latencies = { "socket.io": [] as number[], ws: [] as number[] };
	const received = { "socket.io": 0, ws: 0 };
	let measuring = false;
	const heard = (t: "socket.io" | "ws", detection: { probe?: boolean; publishedAt?: number } | undefined) => {
		if (!detection?.probe || typeof detection.publishedAt !== "number") return;
		received[t]++;
		if (measuring) latencies[t].push(now() - detection.publishedAt);
	};
	const sockets: Socket[] = [];
	const wss: WebSocket[] = [];
	const t0 = now();
	// Connect in batches: a real console's clients arrive over time, not in one instant.
	for (let i = 0; i < SOCKETS; i += 50) {
		await Promise.all(
			Array.from({ length: Math.min(50, SOCKETS - i) }, async () => {
				const s = ioClient(origin, { path: "/socket.io", auth: { token }, transports: ["websocket"], reconnection: false });
				sockets.push(s);
				await new Promise<void>((resolve, reject) => {
					s.once("connect", () => resolve());
					s.once("connect_error", reject);
				});
				s.on("detections", (m: { detection?: { probe?: boolean; publishedAt?: number } }) => heard("socket.io", m?.detection));
				const ack = await s.timeout(10_000).emitWithAck("subscribe", { channel: "detections" });
				if (!ack?.ok) throw new Error(`subscribe refused: ${JSON.stringify(ack)}`);
			})
		);
	}
	const socketsConnected = (now() - t0) / 1000;
	const t1 = now();
	for (let i = 0; i < WS_CLIENTS; i += 50) {
		await Promise.all(
			Array.from({ length: Math.min(50, WS_CLIENTS - i) }, async () => {
				const ws = new WebSocket(`${origin.replace(/^http/, "ws")}/ws?token=${encodeURIComponent(token)}`);
				wss.push(ws);
				await new Promise<void>((resolve, reject) => {
					ws.once("open", () => resolve());
					ws.once("error", reject);
				});
				const subscribed = new Promise<void>((resolve, reject) => {
					ws.on("message", data => {
						const m = JSON.parse(String(data));
						if (m.type === "subscribed") resolve();
						else if (m.type === "error") reject(new Error(`/ws: ${m.code} ${m.message}`));
						else if (m.type === "detection") heard("ws", m.detection);
					});
				});
				ws.send(JSON.stringify({ action: "subscribe", channel: "detections" }));
				await subscribed;
			})
		);
	}
	const wsConnected = (now() - t1) / 1000;
	process.stdout.write("READY\n");
	// The parent says when the probes start and when they have ended.
	for await (const line of readLines(process.stdin)) {
		if (line === "MEASURE") measuring = true;
		if (line === "DONE") break;
	}
	// Let the last messages in.
	await sleep(2000);
	const out: ClientResult[] = [
		{ transport: "socket.io", clients: SOCKETS, received: received["socket.io"], latenciesMs: latencies["socket.io"], connectSeconds: r1(socketsConnected) },
		{ transport: "ws", clients: WS_CLIENTS, received: received.ws, latenciesMs: latencies.ws, connectSeconds: r1(wsConnected) }
	];
	for (const s of sockets) s.close();
	for (const w of wss) w.terminate();
	// A pipe's writes are asynchronous: exit once the result is out.
	process.stdout.write(`RESULT ${JSON.stringify(out)}\n`, () => process.exit(0));
}

async function* readLines(stream: NodeJS.ReadableStream): AsyncGenerator<string> {
	let buf = "";
	for await (const chunk of stream) {
		buf += String(chunk);
		let i: number;
		while ((i = buf.indexOf("\n")) >= 0) {
			yield buf.slice(0, i).trim();
			buf = buf.slice(i + 1);
		}
	}
}

/** CPU time (ms) of this process and every process under it, from /proc (Linux). */
interface ProcessCpu {
	name: string;
	ms: number;
}
function processCpu(): Map<number, ProcessCpu> {
	const tick = 10; // USER_HZ is 100 on Linux
	const all = new Map<number, { ppid: number; ms: number; name: string }>();
	for (const d of fs.readdirSync("/proc")) {
		if (!/^\d+$/.test(d)) continue;
		try {
			const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
			const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
			const cmd = fs.readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0").filter(Boolean);
			all.set(Number(d), { ppid: Number(f[1]), ms: (Number(f[11]) + Number(f[12])) * tick, name: cmd.map(a => path.basename(a)).join(" ").slice(0, 60) });
		} catch {
			/* gone meanwhile */
		}
	}
	const mine = new Map<number, ProcessCpu>();
	const under = (pid: number): boolean => pid === process.pid || (all.has(pid) && pid > 1 && under(all.get(pid)!.ppid));
	for (const [pid, p] of all) if (under(pid)) mine.set(pid, { name: p.name, ms: p.ms });
	return mine;
}
function cpuPercent(a: Map<number, ProcessCpu>, b: Map<number, ProcessCpu>, wallMs: number, names: Record<number, string>) {
	return [...b]
		.map(([pid, p]) => ({ process: names[pid] ?? (/rtsp|python/i.test(p.name) ? "RTSP server (the cameras)" : p.name), cpuPercentOfOneCore: r1(((p.ms - (a.get(pid)?.ms ?? 0)) / wallMs) * 100) }))
		.filter(p => p.cpuPercentOfOneCore > 0.5)
		.sort((x, y) => y.cpuPercentOfOneCore - x.cpuPercentOfOneCore);
}

async function main(): Promise<void> {
	if (process.argv.includes("--clients")) return clients(arg("origin", ""), arg("token", ""));

	let rtsp: RtspServer | null = null;
	let clip = "";
	if (CAMERAS > 0) {
		const missing = rtspServerMissing();
		if (missing) throw new Error(missing);
		clip = path.join(os.tmpdir(), `rollcall-bench-live-1080p25-${SECONDS + 180}s.mp4`);
		if (!fs.existsSync(clip)) {
			console.error(`Encoding ${SECONDS + 180} s of 1920x1080 @ 25 fps H.264 ...`);
			encodeClip(clip + ".part.mp4", { width: 1920, height: 1080, fps: 25, seconds: SECONDS + 180, keyint: 25, bitrate: 4000, preset: "veryfast" });
			fs.renameSync(clip + ".part.mp4", clip);
		}
		rtsp = await startRtspServer({ files: { "/cam": clip } });
	}
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rollcall-bench-live-"));
	const namespace = `bench-live-${process.pid}`;
	const cluster = SPLIT ? { TRANSPORTER: NATS, NAMESPACE: namespace, SERVICES: "gateway,storage" } : {};
	const cfg = loadConfig({
		...process.env,
		API_KEY: "bench-api-key-0123456789",
		ADMIN_EMAIL: ADMIN.email,
		ADMIN_PASSWORD: ADMIN.password,
		PORT: "0",
		METRICS_PORT: "off",
		LOG_LEVEL: "warn",
		DATA_DIR: dir,
		RATE_LIMIT_PER_MINUTE: "0",
		ACTOR_PLACEMENT_MS: "500",
		...cluster
	});
	const broker = createNode(cfg);
	await broker.start();
	// The monitors and their inference on a node of their own (a real process over NATS).
	const actorsNode: NodeProcess | null = SPLIT ? await spawnNode(`bench-live-actors-${process.pid}`, { TRANSPORTER: NATS, NAMESPACE: namespace, SERVICES: "actors,inference", ACTOR_PLACEMENT_MS: "500", NODE_NICE: ACTORS_NICE }) : null;
	await broker.waitForServices(["api", "cameras", "monitors", "auth"], 60_000);
	const port = (broker.getLocalService("api") as unknown as { server: { address(): AddressInfo } }).server.address().port;
	const origin = `http://127.0.0.1:${port}`;
	const login = await fetch(`${origin}/api/v1/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username: ADMIN.email, password: ADMIN.password }) });
	const token = ((await login.json()) as { data: { accessToken: string } }).data.accessToken;

	const rss: { phase: string; bytes: number }[] = [];
	const sample = (phase: string) => rss.push({ phase, bytes: process.memoryUsage().rss });
	let phase = "cameras";
	const sampler = setInterval(() => sample(phase), 250);

	const cameraIds: number[] = [];
	for (let i = 1; i <= CAMERAS; i++) {
		const c = await broker.call<{ cameraId: number }, object>("cameras.create", { name: `Bench ${i}`, location: `Room ${i}`, streamType: "RTSP", streamUrl: rtsp!.url("/cam"), enabled: true, sampleInterval: EVERY });
		cameraIds.push(c.cameraId);
	}
	if (CAMERAS === 0) cameraIds.push(1);
	// Let the monitors connect and take their first samples.
	await sleep(CAMERAS > 0 ? Math.max(10_000, 2 * EVERY * 1000) : 1000);
	const monitors = broker.registry.getServiceList({ onlyLocal: !SPLIT, onlyAvailable: true }).filter((s: { settings?: { actor?: string } }) => s.settings?.actor === "monitor").length;
	sample("before clients");
	const beforeClients = process.memoryUsage().rss;

	console.error(`Connecting ${SOCKETS} Socket.IO and ${WS_CLIENTS} /ws clients ...`);
	console.error(`GET /detections/live at ${RPS}/s for ${HTTP_SECONDS} s ...`);
	phase = "http";
	// The gateway process's event-loop delay while the HTTP load runs: a stalled loop is what a late answer waits for.
	const loopDelay = monitorEventLoopDelay({ resolution: 1 });
	loopDelay.enable();
	const child = spawn(process.execPath, [...process.execArgv, __filename, "--clients", "--origin", origin, "--token", token, "--sockets", String(SOCKETS), "--ws", String(WS_CLIENTS), "--rps", String(RPS), "--http-seconds", String(HTTP_SECONDS)], { stdio: ["pipe", "pipe", "inherit"] });
	let out = "";
	child.stdout!.on("data", d => (out += d));
	const exited = new Promise<number | null>(r => child.once("exit", r));
	// Probe detections written while the HTTP load runs (from the clients' HTTP-START to HTTP-END).
	let probeSeq = 0;
	/** Each probe's write (detections.record: stored, then broadcast), ms. */
	const probeWriteMs: number[] = [];
	let probes: NodeJS.Timeout | null = null;
	let cpuAtStart: Map<number, ProcessCpu> | null = null;
	let cpuDuringLoad: { process: string; cpuPercentOfOneCore: number }[] = [];
	let loadStarted = 0;
	let loading = false;
	const onLoad = (phaseLine: string) => {
		if (phaseLine === "HTTP-START") {
			loadStarted = now();
			loading = true;
			cpuAtStart = processCpu();
			if (PROBE_RATE > 0) probes = setInterval(writeProbe, 1000 / PROBE_RATE);
		} else if (phaseLine === "HTTP-END") {
			if (probes) clearInterval(probes);
			probes = null;
			loading = false;
			if (cpuAtStart) cpuDuringLoad = cpuPercent(cpuAtStart, processCpu(), now() - loadStarted, { [process.pid]: SPLIT ? "gateway+storage node (bench process)" : "node, all roles (bench process)", [child.pid ?? -1]: "load clients", [actorsNode?.proc.pid ?? -1]: "actors+inference node" });
		}
	};
	let seen = 0;
	child.stdout!.on("data", () => {
		const lines = out.split("\n");
		for (; seen < lines.length - 1; seen++) onLoad(lines[seen].trim());
	});
	// The gateway's garbage collections during the load (V8's pauses of its event loop), ms each.
	const gcPauses: number[] = [];
	const gcObserver = new PerformanceObserver(list => {
		if (loading) for (const e of list.getEntries()) gcPauses.push(e.duration);
	});
	gcObserver.observe({ entryTypes: ["gc"] });
	const writeProbe = () => {
		const at = new Date();
		const cameraId = cameraIds[probeSeq % cameraIds.length];
		const t0 = now();
		void broker
			.call("detections.record", { trackId: `probe-${probeSeq++}`, cameraId, name: "Probe", status: "unknown", confidence: 0.5, boundingBox: { x: 10, y: 10, width: 50, height: 50 }, timestamp: at, lastSeen: at, frames: 1 })
			.then(() => probeWriteMs.push(now() - t0))
			.catch(err => console.error("probe write failed", (err as Error).message));
	};
	const readyBy = Date.now() + 180_000 + HTTP_SECONDS * 1000;
	while (!out.includes("READY\n")) {
		if (Date.now() > readyBy || child.exitCode !== null) throw new Error(`clients did not connect: ${out.slice(-2000)}`);
		await sleep(100);
	}
	if (probes) clearInterval(probes);
	loopDelay.disable();
	gcObserver.disconnect();
	phase = "clients idle";
	await sleep(5000);
	const idleWithClients = process.memoryUsage().rss;

	// Warm-up second (not measured), then the measured probes.
	phase = "delivering";
	const publish = (seq: number) => broker.broadcast("live.detection", { id: `probe-${seq}`, trackId: `probe-${seq % 50}`, cameraId: cameraIds[seq % cameraIds.length], name: "Probe", status: "unknown", confidence: 0.5, lastSeen: new Date().toISOString(), probe: true, publishedAt: now() });
	let seq = 0;
	const interval = 1000 / RATE;
	for (const end = now() + 1000; now() < end; await sleep(interval)) publish(seq++);
	child.stdin!.write("MEASURE\n");
	await sleep(500);
	const measuredFrom = seq;
	const start = now();
	const cpu0 = process.cpuUsage();
	for (let k = 0; now() - start < SECONDS * 1000; k++) {
		publish(seq++);
		const due = start + (k + 1) * interval;
		await sleep(Math.max(0, due - now()));
	}
	const cpu = process.cpuUsage(cpu0);
	const elapsed = now() - start;
	const published = seq;
	child.stdin!.write("DONE\n");
	const code = await exited;
	clearInterval(sampler);
	const line = out.split("\n").find(l => l.startsWith("RESULT "));
	if (code !== 0 || !line) throw new Error(`clients failed (exit ${code}): ${out.slice(-2000)}`);
	const results: ClientResult[] = JSON.parse(line.slice(7));
	const httpLine = out.split("\n").find(l => l.startsWith("HTTP "));
	const httpResult: HttpResult | null = httpLine ? JSON.parse(httpLine.slice(5)) : null;
	const httpSorted = httpResult ? [...httpResult.latenciesMs].sort((a, b) => a - b) : [];

	const peak = Math.max(...rss.filter(s => s.phase === "delivering").map(s => s.bytes));
	const report = {
		machine: { cpu: `${os.cpus().length} x ${os.cpus()[0]?.model ?? "?"}`, loadavg: os.loadavg().map(r1), node: process.version },
		setup: { split: SPLIT, actorsNice: SPLIT ? Number(ACTORS_NICE) : null, inferenceNice: cfg.inferenceNice, cameras: CAMERAS, monitorsRunning: monitors, sampleIntervalS: EVERY, socketIoClients: SOCKETS, wsClients: WS_CLIENTS, detectionsPerSecond: RATE, seconds: SECONDS },
		detectionsLive: httpResult && {
			targetRps: RPS,
			seconds: HTTP_SECONDS,
			requests: httpResult.requests,
			achievedRps: httpResult.achievedRps,
			errors: httpResult.errors,
			statuses: httpResult.statuses,
			latencyMs: { p50: r1(pct(httpSorted, 50)), p95: r1(pct(httpSorted, 95)), p99: r1(pct(httpSorted, 99)), max: r1(httpSorted[httpSorted.length - 1] ?? NaN) },
			probesWritten: probeSeq,
			probeWriteMs: (() => {
				const w = [...probeWriteMs].sort((a, b) => a - b);
				return { p50: r1(pct(w, 50)), p99: r1(pct(w, 99)), max: r1(w[w.length - 1] ?? NaN) };
			})(),
			freshnessMs: (() => {
				const f = [...httpResult.freshnessMs].sort((a, b) => a - b);
				return { seen: f.length, p50: r1(pct(f, 50)), p99: r1(pct(f, 99)), max: r1(f[f.length - 1] ?? NaN) };
			})(),
			cpuDuringLoad,
			clientEventLoopDelayMs: httpResult.clientLoopDelayMs,
			gatewayGcPausesMs: (() => {
				const g = [...gcPauses].sort((x, y) => x - y);
				return { count: g.length, over15: g.filter(x => x > 15).length, p99: r1(pct(g, 99)), max: r1(g[g.length - 1] ?? NaN), total: Math.round(g.reduce((x, y) => x + y, 0)) };
			})(),
			gatewayEventLoopDelayMs: { p50: r1(loopDelay.percentile(50) / 1e6), p99: r1(loopDelay.percentile(99) / 1e6), max: r1(loopDelay.max / 1e6) },
			gatewayRssMbPeak: mb(Math.max(0, ...rss.filter(s => s.phase === "http").map(s => s.bytes)))
		},
		published: { total: published, measured: published - measuredFrom },
		gatewayCpuPercentOfOneCore: r1(((cpu.user + cpu.system) / 1000 / elapsed) * 100),
		gatewayRssMb: { beforeClients: mb(beforeClients), clientsIdle: mb(idleWithClients), peakDelivering: mb(peak), growthWithClients: mb(peak - beforeClients) },
		transports: results.map(r => {
			const s = [...r.latenciesMs].sort((a, b) => a - b);
			return {
				transport: r.transport,
				clients: r.clients,
				connectSeconds: r.connectSeconds,
				messagesExpected: published * r.clients,
				messagesReceived: r.received,
				lost: published * r.clients - r.received,
				latencyMs: { n: s.length, p50: r1(pct(s, 50)), p95: r1(pct(s, 95)), p99: r1(pct(s, 99)), max: r1(s[s.length - 1] ?? NaN) }
			};
		})
	};
	console.log(JSON.stringify(report, null, 1));
	const dl = report.detectionsLive;
	if (dl) {
		console.log(`GET /detections/live at ${dl.targetRps}/s (achieved ${dl.achievedRps}/s${SPLIT ? ", gateway node apart from the actors node" : ", one process"}): p50 ${dl.latencyMs.p50} ms / p99 ${dl.latencyMs.p99} ms (goal p99 < 20 ms: ${dl.latencyMs.p99 < 20 ? "met" : "MISSED"}), ${dl.errors} errors`);
		console.log(`CPU while loaded (% of one core): ${dl.cpuDuringLoad.map(p => `${p.process} ${p.cpuPercentOfOneCore}`).join(", ")}`);
		console.log(`gateway event-loop delay while loaded: p50 ${dl.gatewayEventLoopDelayMs.p50} ms / p99 ${dl.gatewayEventLoopDelayMs.p99} ms / max ${dl.gatewayEventLoopDelayMs.max} ms (the load generator's own: p99 ${dl.clientEventLoopDelayMs.p99} / max ${dl.clientEventLoopDelayMs.max} ms); GC pauses ${dl.gatewayGcPausesMs.count} (${dl.gatewayGcPausesMs.over15} over 15 ms, max ${dl.gatewayGcPausesMs.max} ms)`);
		console.log(`freshness: ${dl.freshnessMs.seen} of ${dl.probesWritten} probe detections seen, write to first answer p50 ${dl.freshnessMs.p50} ms / p99 ${dl.freshnessMs.p99} ms / max ${dl.freshnessMs.max} ms (goal 100 ms); the write itself p50 ${dl.probeWriteMs.p50} / p99 ${dl.probeWriteMs.p99} ms`);
	}
	for (const t of report.transports)
		console.log(`${t.transport}: ${t.clients} clients, delivery p50 ${t.latencyMs.p50} ms / p99 ${t.latencyMs.p99} ms, ${t.lost} of ${t.messagesExpected} messages lost`);
	console.log(`gateway RSS: ${report.gatewayRssMb.beforeClients} MB before clients, ${report.gatewayRssMb.clientsIdle} MB with them idle, ${report.gatewayRssMb.peakDelivering} MB peak delivering`);
	await actorsNode?.stop();
	await broker.stop();
	await rtsp?.stop();
	fs.rmSync(dir, { recursive: true, force: true });
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
