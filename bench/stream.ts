/**
 * Streaming recognition under load (seed 003, ws /ws/recognize) on a one-process node (all
 * roles, real models): C clients, each sending 640x360 JPEG frames at F frames a second (open
 * loop: on schedule whether or not earlier frames were answered) for S seconds, over real
 * WebSocket connections. Prints, over all clients: result latency (frame sent -> its result
 * received) p50/p95/p99/max, frames sent / analysed / dropped (by reason) / errors, faces per
 * result, the share of results naming a registered person, and the machine's load.
 *
 *   npm run bench:stream -- [--clients 10] [--fps 5] [--seconds 30] [--video FILE] [--identities DIR]
 *
 * Frames: a 640x360 clip decoded with the project's video code (lib/video/frame-source.ts),
 * by default faces-dev's videos/short_hamilton_clip.mp4 when ../shared/data/faces-dev is there
 * (its identities lin_manuel_miranda, alex_lacamoire and obama registered as face profiles);
 * without it, a clip made from the face-api sample photos (Anna registered). The clients run in
 * this process (their work, a JSON message per frame, is small beside the analysis).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { ADMIN, CONSOLE_ENV, login } from "../test/support/console";
import { FACES, makeFaceVideo } from "../test/support/face-video";
import { startNode, tempDir } from "../test/support/node";
import { clipFrames, StreamClient, streamUrl } from "../test/support/stream";

function arg(name: string, def: string): string {
	const i = process.argv.indexOf(`--${name}`);
	return i >= 0 ? process.argv[i + 1] : def;
}
const CLIENTS = Number(arg("clients", "10"));
const FPS = Number(arg("fps", "5"));
const SECONDS = Number(arg("seconds", "30"));
const FACES_DEV = path.resolve(__dirname, "../../shared/data/faces-dev");
const VIDEO = arg("video", path.join(FACES_DEV, "videos/short_hamilton_clip.mp4"));
const IDENTITIES = arg("identities", path.join(FACES_DEV, "identities"));

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);
const r1 = (x: number) => Math.round(x * 10) / 10;

async function register(node: Awaited<ReturnType<typeof startNode>>, token: string, employeeId: string, name: string, photos: Buffer[]): Promise<boolean> {
	const fd = new FormData();
	fd.append("name", name);
	fd.append("employeeId", employeeId);
	for (const [i, p] of photos.entries()) fd.append("images", new Blob([new Uint8Array(p)], { type: "image/jpeg" }), `${employeeId}-${i}.jpg`);
	const res = await fetch(node.baseUrl + "/faces", { method: "POST", headers: { Authorization: `Bearer ${token}` }, body: fd });
	if (res.status !== 201) console.error(`bench:stream: ${name} not registered: ${res.status} ${(await res.text()).slice(0, 200)}`);
	return res.status === 201;
}

async function main() {
	const work = tempDir("rollcall-bench-stream-");
	const node = await startNode({ ...CONSOLE_ENV, DATA_DIR: path.join(work, "data"), RATE_LIMIT_PER_MINUTE: "0", MAX_FRAME_RATE: String(FPS), LOG_LEVEL: "error" });
	const admin = (await login(node, ADMIN.email, ADMIN.password)).accessToken;
	let video = VIDEO;
	const registered: string[] = [];
	if (fs.existsSync(video)) {
		for (const person of ["lin_manuel_miranda", "alex_lacamoire", "obama"]) {
			const dir = path.join(IDENTITIES, person);
			if (!fs.existsSync(dir)) continue;
			const photos = await Promise.all(fs.readdirSync(dir).slice(0, 3).map(f => sharp(path.join(dir, f)).jpeg().toBuffer()));
			if (await register(node, admin, person.toUpperCase(), person.replace(/_/g, " "), photos)) registered.push(person.toUpperCase());
		}
	} else {
		console.error(`bench:stream: ${video} not found; streaming a clip made from the face-api sample photos instead`);
		video = path.join(work, "anna.mp4");
		await makeFaceVideo(video, { photo: FACES.annaAgain.photo, focus: FACES.annaAgain.focus, width: 640, height: 360, seconds: 10, fps: 25, motion: "pan", faceScale: 0.6 });
		const [x1, y1, x2, y2] = FACES.anna.focus;
		const m = x2 - x1;
		const photo = await sharp(FACES.anna.photo).extract({ left: x1 - m, top: Math.max(0, y1 - m), width: 3 * m, height: 3 * m }).jpeg().toBuffer();
		if (await register(node, admin, "EMP-ANNA", "Anna", [photo])) registered.push("EMP-ANNA");
	}
	// The clip's frames at about the clients' rate, 640x360.
	const all = await clipFrames(video, { width: 640 });
	const step = Math.max(1, Math.round(all.length / (10 * FPS)));
	const frames = all.filter((_, i) => i % step === 0);
	const meta = await sharp(frames[0]).metadata();
	console.error(`bench:stream: ${frames.length} frames of ${meta.width}x${meta.height} (${Math.round(frames.reduce((s, f) => s + f.length, 0) / frames.length / 1024)} KB each), ${CLIENTS} clients at ${FPS} fps for ${SECONDS} s; registered ${registered.join(", ")}`);

	const clients = await Promise.all(Array.from({ length: CLIENTS }, () => StreamClient.connect(streamUrl(node, `?token=${admin}`))));
	const sentAt = clients.map(() => new Map<number, number>());
	const load0 = os.loadavg();
	const t0 = performance.now();
	await Promise.all(
		clients.map(async (c, ci) => {
			// Clients start spread over one frame interval, each at its own place in the clip.
			await sleep((ci * 1000) / FPS / CLIENTS);
			const start = performance.now();
			for (let i = 0; performance.now() - t0 < SECONDS * 1000; i++) {
				sentAt[ci].set(i, performance.now());
				c.frame(i, frames[(i + ci * 7) % frames.length]);
				const due = start + ((i + 1) * 1000) / FPS;
				await sleep(Math.max(0, due - performance.now()));
			}
		})
	);
	// Every frame sent is answered (its result, an error or its drop notice).
	await Promise.all(clients.map((c, ci) => Promise.all([...sentAt[ci].keys()].map(id => c.answerOf(id, 60_000)))));
	const elapsed = (performance.now() - t0) / 1000;
	const load1 = os.loadavg();

	const latencies: number[] = [];
	let sent = 0;
	let results = 0;
	let dropped = 0;
	let droppedBusy = 0;
	let droppedRate = 0;
	let errors = 0;
	let faces = 0;
	let named = 0;
	const errorCodes: Record<string, number> = {};
	for (const [ci, c] of clients.entries()) {
		sent += sentAt[ci].size;
		for (const [mi, m] of c.messages.entries()) {
			if (m.type === "recognition_result") {
				results++;
				faces += m.faces.length;
				if (m.faces.some((f: { user_id: string | null }) => f.user_id && registered.includes(f.user_id))) named++;
				latencies.push(c.arrivals[mi] - sentAt[ci].get(m.frame_id as number)!);
			} else if (m.type === "frame_dropped") {
				dropped++;
				if (m.reason === "busy") droppedBusy++;
				else droppedRate++;
			} else if (m.type === "error") {
				errors++;
				errorCodes[m.code] = (errorCodes[m.code] ?? 0) + 1;
			}
		}
	}
	await Promise.all(clients.map(c => c.close()));
	await node.stop();
	latencies.sort((a, b) => a - b);
	const out = {
		clients: CLIENTS,
		fps: FPS,
		seconds: r1(elapsed),
		frame: `${meta.width}x${meta.height}`,
		sent,
		analysed: results,
		analysedPerSecond: r1(results / elapsed),
		dropped,
		droppedBusy,
		droppedRate,
		droppedShare: r1((100 * dropped) / sent),
		errors,
		errorCodes,
		latencyMs: { p50: r1(pct(latencies, 50)), p95: r1(pct(latencies, 95)), p99: r1(pct(latencies, 99)), max: r1(latencies[latencies.length - 1]) },
		facesPerResult: r1(faces / Math.max(1, results)),
		resultsNamingARegisteredPerson: results ? r1((100 * named) / results) : 0,
		cores: os.cpus().length,
		loadavg1: { before: r1(load0[0]), after: r1(load1[0]) }
	};
	console.log(JSON.stringify(out, null, 2));
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
