/**
 * Sessions on one node: N sessions with C cameras each, every camera a 1080p25 H.264 stream
 * over RTSP from GStreamer's server on 127.0.0.1 (one shared file mount, real-time pace),
 * scanInterval 5 s, the real vision engine. Prints the cameras' scan lag, this process's CPU
 * and memory, and memory per session; and, separately, the time from a sampled 1080p frame
 * with five faces to its results queued for callback.
 *
 *   npm run bench:sessions -- [--sessions 20] [--cameras 2] [--seconds 60]
 *
 * All cameras share one mount, so their key frames fall at the same instants and the samples
 * of a scan round arrive in bursts (a worst case). One mount per camera would be closer to
 * separate cameras, but 40 GStreamer pipelines take most of a core of this 2-core machine
 * themselves (measured: the node's scan lag went to 4 s while the server starved it).
 *
 * Needs GStreamer (test/support/rtsp.ts lists the Debian packages).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { loadConfig } from "../config";
import { createNode } from "../services";
import { makeFaceVideo, SAMPLES } from "../test/support/face-video";
import { startJavaBackend } from "../test/support/java-backend";
import { rtspServerMissing, startRtspServer } from "../test/support/rtsp";

function arg(name: string, def: number): number {
	const i = process.argv.indexOf(`--${name}`);
	return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const SESSIONS = arg("sessions", 20);
const CAMERAS = arg("cameras", 2);
const SECONDS = arg("seconds", 60);
const mb = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;
const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : 0);

async function main() {
	const missing = rtspServerMissing();
	if (missing) throw new Error(missing);
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rollcall-bench-sessions-"));
	// The clip is kept between runs (it takes minutes to render).
	const clip = path.join(os.tmpdir(), `rollcall-bench-room1080-${SECONDS + 120}s.mp4`);
	// Long enough that the streams do not end (and reconnect) while they are measured.
	const clipSeconds = SECONDS + 120;
	if (!fs.existsSync(clip)) {
		await makeFaceVideo(clip + ".part.mp4", { segments: Array.from({ length: Math.ceil(clipSeconds / 5) }, (_, i) => ({ photo: SAMPLES[i % SAMPLES.length], seconds: 5 })), width: 1920, height: 1080, fps: 25, keyint: 25, motion: "still" });
		fs.renameSync(clip + ".part.mp4", clip);
	}
	const rtsp = await startRtspServer({ files: { "/room": clip } });
	const backend = await startJavaBackend();
	const cfg = loadConfig({ ...process.env, API_KEY: "bench-api-key-0123456789", PORT: "0", METRICS_PORT: "off", LOG_LEVEL: "warn", DATA_DIR: dir, MAX_SESSIONS: String(SESSIONS + 1), CALLBACK_POLL_MS: "1000" });
	const broker = createNode(cfg);
	await broker.start();

	// Frame -> results queued: a 1080p frame with the five largest faces of the sample photos.
	const latency = await frameToResults(broker);

	const rand = (seed: number) => Array.from({ length: 512 }, (_, i) => Math.sin(seed * 7.1 + i * 0.37));
	const base = process.memoryUsage().rss;
	const cpu0 = process.cpuUsage();
	const t0 = Date.now();
	for (let s = 1; s <= SESSIONS; s++) {
		await broker.call("recognition.processSession", {
			slotId: 1000 + s,
			roomId: s,
			students: Array.from({ length: 30 }, (_, i) => ({ userId: s * 100 + i, fullName: `S${i}`, rollNumber: `R${i}`, embeddingVector: rand(s * 100 + i), embeddingVersion: 1 })),
			cameras: Array.from({ length: CAMERAS }, (_, c) => ({ id: s * 10 + c, name: `Cam ${c}`, rtspUrl: rtsp.url("/room") })),
			config: { similarityThreshold: 0.85, scanInterval: 5, callbackUrl: backend.url }
		});
	}
	const startedIn = (Date.now() - t0) / 1000;
	const lags: number[] = [];
	const arrivals: number[] = [];
	const processing: number[] = [];
	let skipped = 0;
	const rss: number[] = [];
	const steadyCpu0 = process.cpuUsage();
	const steadyT0 = Date.now();
	while (Date.now() - steadyT0 < SECONDS * 1000) {
		await new Promise(r => setTimeout(r, 5000));
		rss.push(process.memoryUsage().rss);
		const names = broker.registry.getServiceList({ onlyLocal: true }).filter((s: any) => s.settings?.actor === "camera").map((s: any) => s.name);
		for (const n of names) {
			const st: any = await broker.call(`${n}.state`);
			// Scan lag: how late the sample arrived against its schedule plus its analysis time.
			if (st.frames > 1) {
				lags.push(st.lagMs + st.processingMs);
				arrivals.push(st.lagMs);
				processing.push(st.processingMs);
			}
		}
	}
	for (const n of broker.registry.getServiceList({ onlyLocal: true }).filter((s: any) => s.settings?.actor === "camera").map((s: any) => s.name)) skipped += ((await broker.call(`${n}.state`)) as any).skipped;
	const steady = process.cpuUsage(steadyCpu0);
	const steadyWall = (Date.now() - steadyT0) / 1000;
	const frames = (await broker.call<any[]>("sessions.active")).reduce((s: number, d: any) => s + (d.counters?.frames ?? 0), 0);
	const result = {
		sessions: SESSIONS,
		camerasPerSession: CAMERAS,
		stream: "1080p25 H.264 over RTSP (GStreamer, 127.0.0.1), scanInterval 5 s",
		startSeconds: Math.round(startedIn * 10) / 10,
		steadySeconds: Math.round(steadyWall),
		framesAnalysed: frames,
		samplesSkippedWhileBusy: skipped,
		scanLagMs: { p50: pct(lags, 50), p95: pct(lags, 95), max: Math.max(0, ...lags) },
		// The two parts of the lag: the sample's arrival against its schedule, and its analysis
		// (queue, inference, matching, persisting).
		arrivalLateMs: { p50: pct(arrivals, 50), p95: pct(arrivals, 95), max: Math.max(0, ...arrivals) },
		processingMs: { p50: pct(processing, 50), p95: pct(processing, 95), max: Math.max(0, ...processing) },
		cpuPercentOfOneCore: Math.round(((steady.user + steady.system) / 1000 / (steadyWall * 1000)) * 1000) / 10,
		rssMb: { beforeSessions: mb(base), peak: mb(Math.max(...rss)), last: mb(rss[rss.length - 1]) },
		mbPerSession: mb((Math.max(...rss) - base) / SESSIONS),
		frameToResultsMs: latency,
		totalCpuSinceStart: Math.round((process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1e6),
		node: process.version,
		cpus: os.cpus().length,
		inferenceWorkers: cfg.inferenceWorkers
	};
	console.log(JSON.stringify(result, null, 1));
	await broker.stop();
	await rtsp.stop();
	await backend.close();
	fs.rmSync(dir, { recursive: true, force: true });
}

/** ms from a sampled frame to its results persisted and queued, for a frame with 5 faces. */
async function frameToResults(broker: import("moleculer").ServiceBroker) {
	// Five faces cut from the sample photos (with a margin), side by side in a 1080p frame;
	// a crop whose face the detector misses in the composed frame is replaced by the next one.
	const candidates: Buffer[] = [];
	for (const photo of SAMPLES) {
		const det: any = await broker.call("inference.detect", { image: fs.readFileSync(photo) });
		const meta = await sharp(photo).metadata();
		for (const f of det.faces.slice(0, 2)) {
			const [x1, y1, x2, y2] = f.box;
			const m = 0.4 * (x2 - x1);
			const left = Math.max(0, Math.round(x1 - m)),
				top = Math.max(0, Math.round(y1 - m));
			const width = Math.min(meta.width! - left, Math.round(x2 - x1 + 2 * m)),
				height = Math.min(meta.height! - top, Math.round(y2 - y1 + 2 * m));
			candidates.push(await sharp(photo).rotate().extract({ left, top, width, height }).resize(360, 480, { fit: "cover" }).toBuffer());
		}
	}
	const compose = (crops: Buffer[]) =>
		sharp({ create: { width: 1920, height: 1080, channels: 3, background: { r: 90, g: 90, b: 90 } } })
			.composite(crops.map((t, i) => ({ input: t, left: 30 + i * 378, top: 300 })))
			.removeAlpha()
			.raw()
			.toBuffer({ resolveWithObject: true });
	let crops: Buffer[] = [];
	for (const c of candidates) {
		if (crops.length === 5) break;
		const trial = await compose([...crops, c]);
		const found: any = await broker.call("inference.detect", { frame: { data: trial.data, width: trial.info.width, height: trial.info.height } });
		if (found.faces.length === crops.length + 1) crops = [...crops, c];
	}
	const frame = await compose(crops);
	const slotId = 999;
	// The five people are the session's students (enrolled from this very frame), so every face
	// goes the whole way: match, sighting or report, attendance, persisted, outbox kicked.
	const input = { frame: { data: frame.data, width: frame.info.width, height: frame.info.height } };
	const enrolled: any = await broker.call("inference.analyze", input);
	const students = enrolled.faces.map((_: unknown, i: number) => ({ userId: i + 1, fullName: `s${i + 1}`, rollNumber: `R${i + 1}`, embeddingVersion: 1 }));
	await broker.call("sessions.create", { slotId, status: "active", students, cameras: [], config: { similarityThreshold: 0.85, scanInterval: 5, callbackUrl: "http://127.0.0.1:9/x" }, startedAt: new Date() });
	await broker.call("embeddings.upsert", { points: enrolled.faces.map((f: any, i: number) => ({ id: `bench:999:${i + 1}`, vector: f.embedding, payload: { slotId, userId: i + 1 } })) });
	const doc: any = (await broker.call<any[], object>("sessions.find", { query: { slotId } }))[0];
	const { sessionActor } = await import("../services/actors/session.actor");
	// The bench holds the session's lease itself, so no placement pass adopts it meanwhile.
	const lease: any = await broker.call("sessions.claim", { slotId, nodeID: "bench-frame-to-results", ttlMs: 600_000 });
	broker.createService(sessionActor(loadConfig({ API_KEY: "bench-api-key-0123456789" }), doc, lease.token));
	await broker.waitForServices([`session-${slotId}`]);
	const times: number[] = [];
	let faces = 0;
	const reported = new Set<number>();
	for (let i = 0; i < 12; i++) {
		const t = performance.now();
		const res: any = await broker.call("inference.analyze", input);
		const out: any = await broker.call(`session-${slotId}.faces`, { cameraId: 1, frameAt: new Date(), processingMs: 0, faces: res.faces });
		if (i >= 2) times.push(performance.now() - t);
		faces = res.faces.length;
		for (const u of out.reported) reported.add(u);
	}
	await broker.destroyService(broker.getLocalService(`session-${slotId}`)!);
	await broker.call("sessions.remove", { id: doc._id });
	return { faces, studentsReported: reported.size, median: Math.round(pct(times, 50)), p90: Math.round(pct(times, 90)) };
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
