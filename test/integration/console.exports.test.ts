/**
 * Exports as jobs, over the real NATS and real processes: a gateway + storage node (this
 * process) holds 100,000 generated attendance logs; export workers are separate actors
 * node processes. CSV and PDF of all of them (the CSV parsed back: row count, header, an
 * injected `=cmd` name neutralised; the PDF read back with poppler: page count, a known row
 * on the page it falls on, the totals), progress pushed live on the `exports` channel of a
 * real /ws client, a worker killed (SIGKILL) mid-export and another one finishing it, other
 * users kept out, and expired exports gone.
 */
import WebSocket from "ws";
import { logId } from "../../lib/attendance/logs";
import { parseCsv } from "../../lib/exports/csv";
import { ATTENDANCE_HEADER, AttendanceTotals, describeFilters } from "../../lib/exports/attendance";
import { pdfPlan } from "../../lib/exports/pdf";
import { ADMIN, CONSOLE_ENV, accountOf, call, login } from "../support/console";
import { natsReachable, NATS_URL, spawnNode, type NodeProcess } from "../support/cluster";
import { startNode, type TestNode } from "../support/node";
import { pdfPages, pdfText } from "../support/pdf";
import { until } from "../support/until";

const ROWS = 100_000;
const PEOPLE = 1000;
const namespace = `exp${process.pid}${Date.now().toString(36)}`;
const INJECTED = "=cmd|' /C calc'!A0";

/** The generated logs: 1000 people over 100 days of November 2026 and after. */
function day(d: number): string {
	return new Date(Date.UTC(2026, 7, 1) + d * 86_400_000).toISOString().slice(0, 10);
}
function makeLog(i: number) {
	const person = i % PEOPLE;
	const d = Math.floor(i / PEOPLE);
	const employeeId = `EMP-${String(person).padStart(5, "0")}`;
	const dayStr = day(d);
	const timeIn = new Date(`${dayStr}T07:${String(person % 60).padStart(2, "0")}:05Z`);
	const now = new Date(Date.now() - 3600_000);
	return {
		_id: logId(employeeId, dayStr),
		employeeId,
		personId: `P-${person}`,
		name: person === 7 ? INJECTED : `Person ${person}`,
		department: person % 2 ? "Engineering" : "Operations",
		day: dayStr,
		timezone: "UTC",
		timeInAt: timeIn,
		timeOutAt: new Date(timeIn.getTime() + 8 * 3600_000),
		cameraId: "CAM-01",
		cameraName: "Main entrance",
		lastCameraId: "CAM-01",
		lastCameraName: "Main entrance",
		lastConfidence: 97.5,
		accuracy: 90 + (person % 10),
		shiftId: null,
		shiftName: null,
		shiftStart: null,
		shiftEnd: null,
		lateAt: null,
		status: person % 10 === 0 ? "late" : "present",
		statusLocked: false,
		source: "auto",
		note: null,
		manualBy: null,
		sightings: 3,
		odooStatus: "pending",
		odooSyncTime: null,
		odooError: null,
		createdAt: now,
		updatedAt: now,
		version: 1
	};
}

describe("console exports as jobs", () => {
	let store: TestNode;
	const workers: NodeProcess[] = [];
	let admin: string;
	let alice: { id: string; token: string };
	let bob: { id: string; token: string };
	let viewer: { id: string; token: string };
	let ids: string[];
	const heard: any[] = [];
	let ws: WebSocket;

	const worker = async (name: string) => {
		const w = await spawnNode(`${name}-${namespace}`, { SERVICES: "actors", TRANSPORTER: NATS_URL, NAMESPACE: namespace, EXPORT_LEASE_MS: "1500", EXPORT_POLL_MS: "300", LOG_LEVEL: "info" });
		workers.push(w);
		await until("the worker sees the store", async () => store.broker.registry.getServiceList({ onlyAvailable: true }).some((s: any) => s.name === "exportWorker" && s.nodeID === w.name), v => v, 30_000);
		return w;
	};
	const view = async (id: string, token = alice.token) => call(store, `/exports/${id}`, { token });
	const download = async (id: string, token = alice.token) => {
		const res = await fetch(`${store.baseUrl}/exports/${id}/download`, { headers: { Authorization: `Bearer ${token}` } });
		return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
	};
	const completed = (id: string, ms: number) => until(`export ${id} completed`, async () => (await view(id, admin)).body.data, v => v.status === "completed" || v.status === "failed", ms);

	beforeAll(async () => {
		if (!(await natsReachable())) throw new Error(`NATS is not reachable at ${NATS_URL}: start it (see README, .ci/run)`);
		store = await startNode({ ...CONSOLE_ENV, SERVICES: "gateway,storage", TRANSPORTER: NATS_URL, NAMESPACE: namespace, RATE_LIMIT_PER_MINUTE: "0" });
		const logs = store.broker.getLocalService("attendanceLogs") as unknown as { adapter: { insertMany(docs: object[]): Promise<unknown> } };
		for (let i = 0; i < ROWS; i += 10_000) await logs.adapter.insertMany(Array.from({ length: 10_000 }, (_, k) => makeLog(i + k)));
		ids = Array.from({ length: ROWS }, (_, i) => makeLog(i)._id).sort();
		admin = (await login(store, ADMIN.email, ADMIN.password)).accessToken;
		alice = await accountOf(store, admin, "ROLE-OPERATOR", "alice@exports.test");
		bob = await accountOf(store, admin, "ROLE-OPERATOR", "bob@exports.test");
		viewer = await accountOf(store, admin, "ROLE-VIEWER", "viewer@exports.test");
		ws = new WebSocket(`${store.baseUrl.replace(/^http/, "ws").replace(/\/api\/v1$/, "")}/ws?token=${alice.token}`);
		ws.on("message", data => heard.push(JSON.parse(String(data))));
		await new Promise<void>((resolve, reject) => {
			ws.once("open", () => resolve());
			ws.once("error", reject);
		});
		await worker("w1");
	}, 180_000);
	afterAll(async () => {
		ws?.terminate();
		await Promise.all(workers.map(w => w.stop("SIGKILL")));
		await store?.stop();
	});

	it("exports 100,000 logs as CSV on another node: every row, the header, names made spreadsheet-safe, progress pushed live", async () => {
		const t0 = Date.now();
		const r = await call(store, "/attendance/export", { token: alice.token, body: { format: "csv" } });
		expect(r.status).toBe(202);
		expect(r.body.data).toEqual(expect.objectContaining({ status: "queued", format: "csv", type: "attendance", filters: {}, downloadUrl: null }));
		const id = r.body.data.id;
		const done = await completed(id, 60_000);
		const ms = Date.now() - t0;
		expect(done).toEqual(expect.objectContaining({ status: "completed", progress: 100, rows: ROWS, downloadUrl: `/api/v1/exports/${id}/download`, error: null, attempts: 1 }));
		expect(new Date(done.expiresAt).getTime() - new Date(done.finishedAt).getTime()).toBeGreaterThan(6.9 * 86_400_000); // EXPORT_TTL_DAYS 7
		const file = await download(id);
		expect(file.status).toBe(200);
		expect(file.headers.get("content-type")).toMatch(/^text\/csv/);
		expect(file.headers.get("content-disposition")).toMatch(/^attachment; filename="attendance-\d{4}-\d{2}-\d{2}-[A-Za-z0-9]+\.csv"$/);
		expect(file.body.length).toBe(done.size);
		expect(file.body.length).toBeGreaterThan(8_000_000);
		const rows = parseCsv(file.body.toString("utf8"));
		expect(rows[0]).toEqual(ATTENDANCE_HEADER);
		expect(rows).toHaveLength(ROWS + 1);
		// In log id order (day, then person), each log once.
		expect(new Set(rows.slice(1).map(c => `${c[0]}|${c[1]}`)).size).toBe(ROWS);
		expect(rows.slice(1).map(c => logId(c[1], c[0]))).toEqual(ids);
		const injected = rows.filter(c => c[1] === "EMP-00007");
		expect(injected).toHaveLength(ROWS / PEOPLE);
		for (const c of injected) expect(c[2]).toBe(`'${INJECTED}`);
		expect(rows.find(c => c[1] === "EMP-00042" && c[0] === day(3))).toEqual([day(3), "EMP-00042", "Person 42", "Operations", "07:42:05", "15:42:05", "Main entrance", "92", "present", "auto", "", "pending"]);
		// Progress on the caller's own exports channel, in order, to completed with the download URL.
		const mine = heard.filter(m => m.channel === "exports" && m.export?.id === id).map(m => m.export);
		expect(mine[0]).toEqual(expect.objectContaining({ status: "processing", userId: alice.id }));
		expect(mine.at(-1)).toEqual(expect.objectContaining({ status: "completed", progress: 100, rows: ROWS, downloadUrl: `/api/v1/exports/${id}/download` }));
		const steps = mine.map(m => m.progress);
		expect(steps).toEqual([...steps].sort((a, b) => a - b));
		expect(steps.some(p => p > 0 && p < 100)).toBe(true);
		console.log(`CSV export of ${ROWS} logs across nodes: ${ms} ms to completed, ${file.body.length} bytes`);
	}, 90_000);

	it("exports them as a PDF report: its pages, a known row on the page it falls on, the totals", async () => {
		const r = await call(store, "/attendance/export", { token: alice.token, body: { format: "pdf" } });
		expect(r.status).toBe(202);
		const done = await completed(r.body.data.id, 150_000);
		expect(done).toEqual(expect.objectContaining({ status: "completed", rows: ROWS }));
		const file = await download(r.body.data.id);
		expect(file.status).toBe(200);
		expect(file.headers.get("content-type")).toBe("application/pdf");
		expect(file.body.subarray(0, 5).toString()).toBe("%PDF-");
		const plan = pdfPlan({ meta: describeFilters({}), rows: ROWS, totalsLabels: AttendanceTotals.LABELS });
		expect(pdfPages(file.body)).toBe(plan.pages);
		expect(done.pages).toBe(plan.pages);
		const first = pdfText(file.body, 1, 1);
		expect(first).toContain("Attendance report");
		expect(first).toMatch(/Filters:\s+none \(all logs\)/);
		expect(first).toContain(`Page 1 of ${plan.pages}`);
		// The known row, on the page its place in log id order puts it.
		const index = ids.indexOf(logId("EMP-00042", day(3)));
		const page = index < plan.firstPageRows ? 1 : 2 + Math.floor((index - plan.firstPageRows) / plan.rowsPerPage);
		const text = pdfText(file.body, page, page);
		expect(text).toMatch(new RegExp(`${day(3)}\\s+EMP-00042\\s+Person 42\\s+Operations\\s+07:42:05\\s+15:42:05\\s+Main entrance\\s+92\\s+present\\s+auto\\s+pending`));
		expect(text).toContain(`Page ${page} of ${plan.pages}`);
		const last = pdfText(file.body, plan.pages, plan.pages);
		expect(last).toMatch(/Logs\s+100,000/);
		expect(last).toMatch(/People\s+1,000/);
		expect(last).toMatch(/Late\s+10,000/);
	}, 180_000);

	it("survives the node running it being killed: another worker takes the export up and finishes it", async () => {
		const r = await call(store, "/attendance/export", { token: alice.token, body: { format: "pdf", status: "present" } });
		const id = r.body.data.id;
		const running = await until("the export running on w1", async () => (await view(id)).body.data, v => v.status === "processing" && v.progress >= 5, 60_000);
		expect(running.attempts).toBe(1);
		await workers[0].stop("SIGKILL");
		const w2 = await worker("w2");
		const done = await completed(id, 150_000);
		expect(done).toEqual(expect.objectContaining({ status: "completed", rows: ROWS * 0.9, attempts: 2 }));
		expect(w2.logs.some(l => l.includes("Export made") && l.includes(id))).toBe(true);
		const file = await download(id);
		expect(pdfPages(file.body)).toBe(done.pages);
		expect(pdfText(file.body, done.pages, done.pages)).toMatch(/Logs\s+90,000/);
	}, 240_000);

	it("shows an export to its owner and administrators only", async () => {
		const r = await call(store, "/attendance/export", { token: alice.token, body: { format: "csv", employeeId: "EMP-00042", dateFrom: day(0), dateTo: day(9) } });
		const id = r.body.data.id;
		const done = await completed(id, 30_000);
		expect(done.rows).toBe(10);
		expect((await view(id, bob.token)).status).toBe(404);
		expect((await view(id, bob.token)).body.error.code).toBe("EXPORT_NOT_FOUND");
		expect((await download(id, bob.token)).status).toBe(404);
		expect((await call(store, `/jobs/${id}`, { token: bob.token })).status).toBe(404);
		expect((await view(id, viewer.token)).status).toBe(403);
		expect((await call(store, "/attendance/export", { token: viewer.token, body: { format: "csv" } })).status).toBe(403);
		expect((await view(id, admin)).status).toBe(200);
		expect((await download(id, admin)).status).toBe(200);
		const mine = await download(id);
		expect(parseCsv(mine.body.toString("utf8"))).toHaveLength(11);
		// Bad input: clear codes.
		const bad = await call(store, "/attendance/export", { token: alice.token, body: { format: "xlsx" } });
		expect(bad.status).toBe(400);
		expect((await call(store, "/attendance/export", { token: alice.token, body: { format: "csv", dateFrom: "2026-02-30" } })).body.error.code).toBe("VALIDATION_ERROR");
		expect((await call(store, "/attendance/export", { token: alice.token, body: { format: "csv", nonsense: 1 } })).status).toBe(400);
		expect((await view("JOB-missing")).body.error.code).toBe("EXPORT_NOT_FOUND");
		// A queued export is not downloadable yet; the audit has the request.
		const audit = await call(store, `/audit?resourceId=${id}`, { token: admin });
		expect(JSON.stringify(audit.body)).toContain(id);
	}, 60_000);
});

describe("expired exports", () => {
	let node: TestNode;
	let token: string;
	beforeAll(async () => {
		node = await startNode({ ...CONSOLE_ENV, SERVICES: "gateway,storage,actors", EXPORT_TTL_DAYS: "0.00003", EXPORT_POLL_MS: "200", EXPORT_MAX_ROWS: "10" });
		const logs = node.broker.getLocalService("attendanceLogs") as unknown as { adapter: { insertMany(docs: object[]): Promise<unknown> } };
		await logs.adapter.insertMany(Array.from({ length: 50 }, (_, i) => makeLog(i)));
		token = (await login(node, ADMIN.email, ADMIN.password)).accessToken;
	}, 60_000);
	afterAll(() => node?.stop());

	it("are gone once their time is up: 410, the file no longer served, and retention deletes job and file", async () => {
		const r = await call(node, "/attendance/export", { token, body: { format: "csv", employeeId: "EMP-00001" } });
		const id = r.body.data.id;
		const done = await until("completed", async () => (await call(node, `/exports/${id}`, { token })).body.data, v => v?.status === "completed", 20_000);
		const blob = `export-${id}.csv`;
		expect((await fetch(`${node.baseUrl}/exports/${id}/download`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
		await new Promise(res => setTimeout(res, Math.max(0, new Date(done.expiresAt).getTime() - Date.now() + 200)));
		const gone = await call(node, `/exports/${id}`, { token });
		expect(gone.status).toBe(410);
		expect(gone.body.error.code).toBe("EXPORT_EXPIRED");
		expect((await fetch(`${node.baseUrl}/exports/${id}/download`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(410);
		await expect(node.broker.call("blobs.get", { name: blob })).rejects.toMatchObject({ type: "FILE_NOT_FOUND" });
		expect((await node.broker.call<{ name: string }[], object>("blobs.list", { kind: "export" })).map(b => b.name)).toContain(blob);
		const run = await call(node, "/system/retention/run", { token, body: {} });
		expect(run.status).toBe(200);
		expect((await call(node, `/exports/${id}`, { token })).status).toBe(404);
		expect((await node.broker.call<{ name: string }[], object>("blobs.list", { kind: "export" })).map(b => b.name)).not.toContain(blob);
	}, 60_000);

	it("fail with the reason when they would hold more than EXPORT_MAX_ROWS logs", async () => {
		const r = await call(node, "/attendance/export", { token, body: { format: "pdf" } });
		const id = r.body.data.id;
		const failed = await until("failed", async () => (await call(node, `/exports/${id}`, { token })).body.data, v => v?.status === "failed", 20_000);
		expect(failed.error).toEqual({ code: "EXPORT_TOO_LARGE", message: expect.stringContaining("50 logs match") });
		expect(failed.downloadUrl).toBeNull();
		const dl = await call(node, `/exports/${id}/download`, { token });
		expect(dl.status).toBe(409);
		expect(dl.body.error.code).toBe("EXPORT_FAILED");
	}, 30_000);
});
