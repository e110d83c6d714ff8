/**
 * Attendance exports of 100,000 logs, CSV and PDF: time and peak resident memory growth.
 *
 * 1. One node (gateway + storage + actors in this process, embedded NeDB stores): the logs
 *    are generated into the store, then each format is asked for over HTTP
 *    (`POST /attendance/export`), followed until completed, and downloaded (streamed, counted,
 *    not kept). Resident memory is sampled every 10 ms from the request to the end of the
 *    download; growth is over the resident size just before (after a GC).
 * 2. Across nodes (when NATS is at 127.0.0.1:4222): this process is the gateway + storage
 *    node, the export worker a separate actors node process; its resident memory is read from
 *    /proc/<pid>/status every 10 ms.
 * Times: the job's run (startedAt..finishedAt) and request-to-downloaded.
 *
 *   npm run bench:export -- [--rows 100000]
 */
import fs from "node:fs";
import os from "node:os";
import { logId } from "../lib/attendance/logs";
import { natsReachable, NATS_URL, spawnNode } from "../test/support/cluster";
import { startNode, type TestNode } from "../test/support/node";

const arg = (name: string, def: number) => {
	const i = process.argv.indexOf(`--${name}`);
	return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const ROWS = arg("rows", 100_000);
const ADMIN = { email: "bench@rollcall.test", password: "bench-password-0123" };
const ENV = { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, RATE_LIMIT_PER_MINUTE: "0", LOG_LEVEL: "warn", EXPORT_POLL_MS: "200" };
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const MB = (b: number) => (b / 1024 / 1024).toFixed(1);

function makeLog(i: number) {
	const person = i % 1000;
	const employeeId = `EMP-${String(person).padStart(5, "0")}`;
	const day = new Date(Date.UTC(2026, 0, 1) + Math.floor(i / 1000) * 86_400_000).toISOString().slice(0, 10);
	const timeIn = new Date(`${day}T07:${String(person % 60).padStart(2, "0")}:05Z`);
	const at = new Date(Date.now() - 3600_000);
	return {
		_id: logId(employeeId, day),
		employeeId,
		personId: `P-${person}`,
		name: `Person ${person}`,
		department: person % 2 ? "Engineering" : "Operations",
		day,
		timezone: "Europe/Paris",
		timeInAt: timeIn,
		timeOutAt: new Date(timeIn.getTime() + 8 * 3600_000),
		cameraId: "CAM-01",
		cameraName: "Main entrance",
		lastCameraId: "CAM-01",
		lastCameraName: "Main entrance",
		lastConfidence: 97.5,
		accuracy: 90 + (person % 10),
		shiftId: "SHIFT-1",
		shiftName: "Day shift",
		status: person % 10 === 0 ? "late" : "present",
		statusLocked: false,
		source: "auto",
		note: null,
		manualBy: null,
		sightings: 3,
		odooStatus: "pending",
		odooSyncTime: null,
		odooError: null,
		createdAt: at,
		updatedAt: at,
		version: 1
	};
}

async function seed(node: TestNode): Promise<void> {
	const logs = node.broker.getLocalService("attendanceLogs") as unknown as { adapter: { insertMany(d: object[]): Promise<unknown> } };
	for (let i = 0; i < ROWS; i += 10_000) await logs.adapter.insertMany(Array.from({ length: Math.min(10_000, ROWS - i) }, (_, k) => makeLog(i + k)));
}

async function json(node: TestNode, route: string, token: string | null, body?: unknown): Promise<any> {
	const res = await fetch(node.baseUrl + route, { method: body ? "POST" : "GET", headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { "Content-Type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
	return res.json();
}

async function run(node: TestNode, token: string, format: "csv" | "pdf", rss: () => number) {
	(global as { gc?: () => void }).gc?.();
	await sleep(300);
	const base = rss();
	let peak = base;
	const heap0 = process.memoryUsage().heapUsed;
	let heapPeak = heap0;
	const timer = setInterval(() => {
		peak = Math.max(peak, rss());
		heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
	}, 10);
	const t0 = performance.now();
	const made = await json(node, "/attendance/export", token, { format });
	const id = made.data.id;
	let job: any;
	for (;;) {
		job = (await json(node, `/exports/${id}`, token)).data;
		if (job.status === "completed" || job.status === "failed") break;
		await sleep(50);
	}
	if (job.status !== "completed") throw new Error(`export failed: ${JSON.stringify(job.error)}`);
	const res = await fetch(`${node.baseUrl}/exports/${id}/download`, { headers: { Authorization: `Bearer ${token}` } });
	let bytes = 0;
	for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) bytes += c.length;
	const total = performance.now() - t0;
	clearInterval(timer);
	return { format, rows: job.rows, pages: job.pages, bytes, jobMs: new Date(job.finishedAt).getTime() - new Date(job.startedAt).getTime(), totalMs: Math.round(total), rssBaseMB: MB(base), rssGrowthMB: MB(peak - base), thisProcessHeapGrowthMB: MB(heapPeak - heap0) };
}

function procRss(pid: number): number {
	try {
		const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
		return m ? Number(m[1]) * 1024 : 0;
	} catch {
		return 0;
	}
}

(async () => {
	console.log(`rows ${ROWS}, ${os.cpus().length} x ${os.cpus()[0]?.model}, load average ${os.loadavg().map(l => l.toFixed(2)).join(" ")}`);
	const one = await startNode({ ...ENV, SERVICES: "gateway,storage,actors" });
	let t = performance.now();
	await seed(one);
	console.log(`one node: ${ROWS} logs generated in ${Math.round(performance.now() - t)} ms`);
	const token = (await json(one, "/auth/login", null, { username: ADMIN.email, password: ADMIN.password })).data.accessToken;
	for (const format of ["csv", "pdf", "csv"] as const) console.log("one node", JSON.stringify(await run(one, token, format, () => process.memoryUsage().rss)));
	await one.stop();

	if (!(await natsReachable())) {
		console.log(`across nodes: skipped, NATS is not reachable at ${NATS_URL}`);
		return;
	}
	const namespace = `bexp${process.pid}`;
	const store = await startNode({ ...ENV, SERVICES: "gateway,storage", TRANSPORTER: NATS_URL, NAMESPACE: namespace });
	t = performance.now();
	await seed(store);
	const worker = await spawnNode(`bench-export-worker-${process.pid}`, { SERVICES: "actors", TRANSPORTER: NATS_URL, NAMESPACE: namespace, EXPORT_POLL_MS: "200" });
	try {
		await store.broker.waitForServices(["exportWorker"], 30_000);
		const tok = (await json(store, "/auth/login", null, { username: ADMIN.email, password: ADMIN.password })).data.accessToken;
		const pid = worker.proc.pid!;
		for (const format of ["csv", "pdf"] as const) console.log("across nodes (worker process RSS)", JSON.stringify(await run(store, tok, format, () => procRss(pid))));
	} finally {
		await worker.stop("SIGKILL");
		await store.stop();
	}
	console.log(`load average after: ${os.loadavg().map(l => l.toFixed(2)).join(" ")}`);
})().catch(err => {
	console.error(err);
	process.exit(1);
});
