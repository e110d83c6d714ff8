/** Retention's selection rules: cutoffs, the age query against the per-document rule, thumbnails and exports chosen. */
import DbService from "moleculer-db";
import { AGED_STORES, RETENTION_KINDS, cutoffs, expiredExports, isOlder, olderThanQuery, thumbnailsToDelete, totalOf, zeroCounts, type BlobFacts } from "../../../lib/retention/policy";

const NOW = new Date("2026-06-01T02:00:00Z");
const days = (n: number) => new Date(NOW.getTime() - n * 86_400_000);

/** moleculer-db's in-memory NeDB adapter: the query language the embedded stores run. */
async function memoryStore(docs: object[]): Promise<{ find(p: { query: object }): Promise<{ _id: string }[]> }> {
	const a = new (DbService as unknown as { MemoryAdapter: new () => any }).MemoryAdapter();
	a.init({}, {});
	await a.connect();
	await a.insertMany(docs);
	return a;
}

describe("retention policy", () => {
	it("derives each kind's cutoff from the run's time and the configured ages", () => {
		const c = cutoffs(NOW, { detectionsDays: 90, auditDays: 365, metricsDays: 30 });
		expect(c.detections.toISOString()).toBe("2026-03-03T02:00:00.000Z");
		expect(c.audit.toISOString()).toBe("2025-06-01T02:00:00.000Z");
		expect(c.systemMetrics.toISOString()).toBe("2026-05-02T02:00:00.000Z");
		expect(c.expiry.getTime()).toBe(NOW.getTime());
	});

	it("selects by age with a query that agrees with the rule on each document", async () => {
		const before = days(90);
		const docs = [
			{ _id: "a", lastSeen: days(91) },
			{ _id: "b", lastSeen: days(90) }, // exactly at the cutoff: kept
			{ _id: "c", lastSeen: days(89) },
			{ _id: "d", lastSeen: null },
			{ _id: "e" }
		];
		expect(docs.filter(d => isOlder(d, "lastSeen", before)).map(d => d._id)).toEqual(["a"]);
		// The same selection by the store (NeDB, as the embedded stores run it).
		const db = await memoryStore(docs);
		const found = await db.find({ query: olderThanQuery("lastSeen", before) });
		expect(found.map(d => d._id).sort()).toEqual(["a"]);
	});

	it("keeps event logs still waiting for delivery", async () => {
		const store = AGED_STORES.find(s => s.kind === "eventLogs")!;
		const db = await memoryStore([
			{ _id: "delivered", recognizedAt: days(100), delivery: "delivered" },
			{ _id: "pending", recognizedAt: days(100), delivery: "pending" },
			{ _id: "none", recognizedAt: days(100), delivery: "none" },
			{ _id: "young", recognizedAt: days(10), delivery: "failed" }
		]);
		const found = await db.find({ query: olderThanQuery(store.field, days(90), store.where) });
		expect(found.map(d => d._id).sort()).toEqual(["delivered", "none"]);
	});

	it("deletes the thumbnails of deleted detections and old ones no camera shows", () => {
		const blob = (name: string, kind: string, ageDays: number, expiresInDays: number | null = null): BlobFacts => ({ name, kind, createdAt: days(ageDays).toISOString(), expiresAt: expiresInDays === null ? null : new Date(NOW.getTime() + expiresInDays * 86_400_000).toISOString() });
		const blobs = [blob("t-of-old-detection.jpg", "thumbnail", 5), blob("t-orphan-old.jpg", "thumbnail", 120), blob("t-camera-7.jpg", "thumbnail", 200), blob("t-young.jpg", "thumbnail", 1), blob("face-1.jpg", "face", 400)];
		const out = thumbnailsToDelete(blobs, { deletedDetections: ["t-of-old-detection.jpg", null, "t-not-stored.jpg"], cameraThumbnails: ["t-camera-7.jpg", null], before: days(90) });
		expect(out.sort()).toEqual(["t-of-old-detection.jpg", "t-orphan-old.jpg"]);
	});

	it("deletes export files that expired or belong to an expired job", () => {
		const at = NOW.toISOString();
		const blobs: BlobFacts[] = [
			{ name: "export-expired.csv", kind: "export", createdAt: at, expiresAt: days(1).toISOString() },
			{ name: "export-live.csv", kind: "export", createdAt: at, expiresAt: days(-6).toISOString() },
			{ name: "export-of-job.pdf", kind: "export", createdAt: at, expiresAt: null },
			{ name: "export-forever.csv", kind: "export", createdAt: at, expiresAt: null },
			{ name: "thumb-expired.jpg", kind: "thumbnail", createdAt: at, expiresAt: days(1).toISOString() }
		];
		expect(expiredExports(blobs, NOW, [{ file: { blob: "export-of-job.pdf" }, rows: 3 }, null]).sort()).toEqual(["export-expired.csv", "export-of-job.pdf"]);
	});

	it("counts every kind", () => {
		const c = zeroCounts();
		expect(Object.keys(c)).toEqual([...RETENTION_KINDS]);
		c.audit = 2;
		c.detections = 3;
		expect(totalOf(c)).toBe(5);
	});
});
