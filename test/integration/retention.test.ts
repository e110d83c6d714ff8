/**
 * Retention on a real gateway and storage node, with real documents in its stores and real
 * blobs: a dry run counts exactly what is old and deletes nothing; a run deletes exactly
 * that (detections and their thumbnails, event logs no longer pending, per-frame detection events, audit, expired jobs
 * and their export files, old system metrics) and leaves the rest; each run is audited with
 * its counts; only administrators may run it; the scheduled task runs on its own.
 */
import { ADMIN, CONSOLE_ENV, accountOf, call, login } from "../support/console";
import { startNode, type TestNode } from "../support/node";
import { until } from "../support/until";

const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY);
const adapterOf = (node: TestNode, service: string) => (node.broker.getLocalService(service) as unknown as { adapter: { insert(d: object): Promise<any>; find(p: object): Promise<any[]>; count(p?: object): Promise<number> } }).adapter;

function detection(id: string, lastSeen: Date, thumbnail: string | null) {
	return { _id: id, trackId: `track-${id}`, cameraId: 1, cameraName: "Gate", personId: null, employeeId: null, name: null, department: null, status: "unknown", confidence: 0.9, boundingBox: { x: 1, y: 2, width: 30, height: 30 }, thumbnail, timestamp: lastSeen, lastSeen, frames: 3, embeddingVersion: null };
}
function recognition(id: string, at: Date, delivery: string) {
	return { recognitionId: id, slotId: 1, sessionId: "s-1", cameraId: 1, userId: 7, kind: "report", similarity: 0.9, recognizedAt: at, delivery };
}
function job(id: string, status: string, expiresAt: Date | null, result: object | null = null) {
	const t = ago(8);
	return { _id: id, kind: "export", userId: null, params: {}, status, progress: status === "completed" ? 100 : 10, result, error: null, attempts: 1, createdAt: t, updatedAt: t, startedAt: t, finishedAt: status === "processing" ? null : t, expiresAt, leaseOwner: null, leaseToken: 1, leaseUntil: 0, leaseHandTo: null };
}

describe("retention", () => {
	let node: TestNode;
	let admin: string;
	let operator: { token: string };
	const blob = (name: string, kind: string, ttlSeconds?: number) => node.broker.call("blobs.put", { name, kind, contentType: kind === "export" ? "text/csv" : "image/jpeg", data: Buffer.from(`${name} bytes`), ...(ttlSeconds ? { ttlSeconds } : {}) });
	const blobNames = async (kind: string) => ((await node.broker.call<{ name: string }[], object>("blobs.list", { kind })).map(b => b.name)).sort();
	const ids = async (service: string, key = "_id") => (await adapterOf(node, service).find({})).map(d => String(d[key])).sort();

	beforeAll(async () => {
		node = await startNode({ ...CONSOLE_ENV, SERVICES: "gateway,storage", RATE_LIMIT_PER_MINUTE: "0", RETENTION_EVERY_MS: "0" });
		admin = (await login(node, ADMIN.email, ADMIN.password)).accessToken;
		operator = await accountOf(node, admin, "ROLE-OPERATOR", "operator@retention.test");

		const det = adapterOf(node, "detections");
		await det.insert(detection("det-old", ago(91), "thumb-det-old.jpg"));
		await det.insert(detection("det-old-no-thumb", ago(200), null));
		await det.insert(detection("det-young", ago(89), "thumb-det-young.jpg"));
		await blob("thumb-det-old.jpg", "thumbnail");
		await blob("thumb-det-young.jpg", "thumbnail");

		const rec = adapterOf(node, "recognitions");
		await rec.insert(recognition("rec-old-delivered", ago(95), "delivered"));
		await rec.insert(recognition("rec-old-pending", ago(95), "pending"));
		await rec.insert(recognition("rec-young", ago(30), "failed"));

		const logs = adapterOf(node, "recognitionLogs");
		for (const [id, days] of [["rlog-old", 91], ["rlog-young", 89]] as const)
			await logs.insert({ _id: id, sessionId: "stream-1", trackId: "1", userId: null, profileId: null, userName: null, isUnknown: true, status: "unknown", confidence: 0.3, framePosition: { x: 1, y: 2, width: 30, height: 40 }, frameId: 1, caller: "integration", createdAt: ago(days) });
		const events = adapterOf(node, "detectionEvents");
		await events.insert({ _id: "event-old", cameraId: 1, cameraName: "Gate", timestamp: ago(91), status: "ok", source: "monitor", faces: 1, latencyMs: 120, error: null, jobId: null, detections: [] });
		await events.insert({ _id: "event-young", cameraId: 1, cameraName: "Gate", timestamp: ago(89), status: "no_face", source: "monitor", faces: 0, latencyMs: 90, error: null, jobId: null, detections: [] });

		const audit = adapterOf(node, "audit");
		await audit.insert({ _id: "audit-old", at: ago(366), action: "test.old", actor: "someone" });
		await audit.insert({ _id: "audit-young", at: ago(364), action: "test.young", actor: "someone" });

		const metrics = adapterOf(node, "systemMetrics");
		await metrics.insert({ _id: "metric-old", nodeID: "n1", timestamp: ago(31), cpu: { usage: 10 } });
		await metrics.insert({ _id: "metric-young", nodeID: "n1", timestamp: ago(29), cpu: { usage: 20 } });

		const jobs = adapterOf(node, "jobs");
		await jobs.insert(job("job-expired", "completed", ago(1), { file: "export-of-job.csv", rows: 3 }));
		await jobs.insert(job("job-live", "completed", ago(-6), { file: "export-live.csv" }));
		await jobs.insert(job("job-running", "processing", ago(1)));
		await blob("export-of-job.csv", "export");
		await blob("export-live.csv", "export", 6 * 24 * 3600);
		await blob("export-expired.csv", "export", 1);
		// That export file's expiry (one second) passes.
		await new Promise(r => setTimeout(r, 1100));
	}, 60_000);
	afterAll(() => node?.stop());

	const EXPECTED = { detections: 2, thumbnails: 1, eventLogs: 1, recognitionLogs: 1, detectionEvents: 1, audit: 1, jobs: 1, exports: 2, systemMetrics: 1 };

	it("is for administrators only", async () => {
		const r = await call(node, "/system/retention/run", { token: operator.token, body: { dryRun: true } });
		expect(r.status).toBe(403);
		expect(r.body.error.code).toBe("FORBIDDEN");
		const bad = await call(node, "/system/retention/run", { token: admin, body: { dryRun: true, everything: 1 } });
		expect(bad.status).toBe(400);
		expect(bad.body.error.code).toBe("VALIDATION_ERROR");
	});

	it("counts exactly what is old in a dry run and deletes nothing", async () => {
		const before = { det: await ids("detections"), rec: await ids("recognitions", "recognitionId"), metrics: await ids("systemMetrics"), jobs: await ids("jobs"), thumbs: await blobNames("thumbnail"), exports: await blobNames("export") };
		const r = await call(node, "/system/retention/run", { token: admin, body: { dryRun: true } });
		expect(r.status).toBe(200);
		expect(r.body.data).toEqual(expect.objectContaining({ dryRun: true, counts: EXPECTED, total: 11, errors: {} }));
		expect(new Date(r.body.data.cutoffs.detections).getTime()).toBeCloseTo(Date.now() - 90 * DAY, -4);
		expect(await ids("detections")).toEqual(before.det);
		expect(await ids("recognitions", "recognitionId")).toEqual(before.rec);
		expect(await ids("systemMetrics")).toEqual(before.metrics);
		expect(await ids("recognitionLogs")).toEqual(["rlog-old", "rlog-young"]);
		expect(await ids("jobs")).toEqual(before.jobs);
		expect(await blobNames("thumbnail")).toEqual(before.thumbs);
		expect(await blobNames("export")).toEqual(before.exports);
		expect(await adapterOf(node, "audit").count({ query: { _id: "audit-old" } })).toBe(1);
	});

	it("deletes exactly what is old, and audits the run with its counts", async () => {
		const r = await call(node, "/system/retention/run", { token: admin, body: {} });
		expect(r.status).toBe(200);
		expect(r.body.data).toEqual(expect.objectContaining({ dryRun: false, counts: EXPECTED, total: 11, errors: {} }));

		expect(await ids("detections")).toEqual(["det-young"]);
		expect(await blobNames("thumbnail")).toEqual(["thumb-det-young.jpg"]);
		expect(await ids("recognitions", "recognitionId")).toEqual(["rec-old-pending", "rec-young"]);
		expect(await ids("systemMetrics")).toEqual(["metric-young"]);
		expect(await ids("recognitionLogs")).toEqual(["rlog-young"]);
		expect(await ids("detectionEvents")).toEqual(["event-young"]);
		expect(await ids("jobs")).toEqual(["job-live", "job-running"]);
		expect(await blobNames("export")).toEqual(["export-live.csv"]);
		const audit = adapterOf(node, "audit");
		expect(await audit.count({ query: { _id: "audit-old" } })).toBe(0);
		expect(await audit.count({ query: { _id: "audit-young" } })).toBe(1);

		const runs = await call(node, "/audit?action=retention.run", { token: admin });
		expect(runs.body.data.map((d: any) => ({ actor: d.actor, outcome: d.outcome, dryRun: d.context.dryRun, counts: d.context.counts }))).toEqual([
			{ actor: ADMIN.email, outcome: "success", dryRun: false, counts: EXPECTED },
			{ actor: ADMIN.email, outcome: "success", dryRun: true, counts: EXPECTED },
			// The operator's refused attempt.
			{ actor: "operator@retention.test", outcome: "failure", dryRun: true, counts: undefined }
		]);

		// Nothing old is left.
		const again = await call(node, "/system/retention/run", { token: admin, body: { dryRun: false } });
		expect(again.body.data.total).toBe(0);
	});
});

describe("retention on its schedule", () => {
	let node: TestNode;
	afterAll(() => node?.stop());

	it("runs on its own on the node that holds its lease, audited as the system's", async () => {
		node = await startNode({ ...CONSOLE_ENV, SERVICES: "storage", RETENTION_EVERY_MS: "1000" });
		await adapterOf(node, "audit").insert({ _id: "audit-ancient", at: ago(400), action: "test.old", actor: "someone" });
		// The first tick claims the task (due a period later), the next one (a third of the 30 s lease later) runs it.
		const doc = await until("a scheduled run", () => node.broker.call<any, object>("schedules.read", { name: "retention" }), d => (d?.runs ?? 0) >= 1, 25_000);
		expect(doc).toEqual(expect.objectContaining({ leaseOwner: node.broker.nodeID, lastError: null, lastResult: expect.objectContaining({ total: 1, counts: expect.objectContaining({ audit: 1 }) }) }));
		const audit = adapterOf(node, "audit");
		expect(await audit.count({ query: { _id: "audit-ancient" } })).toBe(0);
		const [record] = await audit.find({ query: { action: "retention.run" } });
		expect(record).toEqual(expect.objectContaining({ actor: "system", outcome: "success", context: expect.objectContaining({ dryRun: false, counts: expect.objectContaining({ audit: 1 }) }) }));
	}, 40_000);
});
