/**
 * Conformance of the document store behind the db mixin: the same suite runs against
 * moleculer-db's NeDB adapter (always) and real MongoDB (when MONGO_URI is set).
 */
import { startNode, tempDir, type TestNode } from "../support/node";

const backends: { name: string; env: Record<string, string> }[] = [{ name: "embedded NeDB", env: {} }];
if (process.env.MONGO_URI) backends.push({ name: "MongoDB", env: { MONGO_URI: process.env.MONGO_URI } });
else test.skip("MongoDB conformance: MONGO_URI is not set, no MongoDB server to run against", () => undefined);

describe.each(backends)("document store: $name", ({ env }) => {
	let node: TestNode;
	const dataDir = tempDir();
	const start = async () => (node = await startNode({ SERVICES: "storage", DATA_DIR: dataDir, ...env }));
	beforeAll(start);
	afterAll(() => node?.stop());
	const call = <T = any>(action: string, params: object = {}) => node.broker.call<T, object>(action, params);

	const slotId = Math.floor(Math.random() * 1e9);

	it("creates, reads, queries, counts, updates and removes session documents", async () => {
		const created = await call("sessions.create", { slotId, roomId: 3, status: "active", students: [{ userId: 201 }], cameras: [{ id: 1 }], config: { similarityThreshold: 0.85 }, startedAt: new Date() });
		expect(created._id).toBeDefined();
		expect(created.slotId).toBe(slotId);
		const got = await call("sessions.get", { id: created._id });
		expect(got).toEqual(expect.objectContaining({ slotId, roomId: 3, status: "active", students: [{ userId: 201 }] }));
		const found = await call<any[]>("sessions.find", { query: { slotId } });
		expect(found).toHaveLength(1);
		expect(await call("sessions.count", { query: { slotId, status: "active" } })).toBe(1);
		const active = await call<any[]>("sessions.active");
		expect(active.map(s => s.slotId)).toContain(slotId);
		const updated = await call("sessions.update", { id: created._id, status: "stopped", stoppedAt: new Date() });
		expect(updated.status).toBe("stopped");
		expect(await call("sessions.count", { query: { slotId, status: "active" } })).toBe(0);
		await call("sessions.remove", { id: created._id });
		expect(await call("sessions.count", { query: { slotId } })).toBe(0);
	});

	it("updates one and many documents", async () => {
		const adapter = (node.broker.getLocalService("audit") as any).adapter;
		const a = await call("audit.record", { action: "conformance.update", slotId: slotId + 3, details: { n: 1 } });
		await call("audit.record", { action: "conformance.update", slotId: slotId + 3, details: { n: 2 } });
		const one = await adapter.updateById(a._id, { $set: { actor: "one" } });
		expect(one.actor).toBe("one");
		expect(await adapter.updateMany({ slotId: slotId + 3 }, { $set: { actor: "many" } })).toBe(2);
		const docs = await call<any[]>("audit.find", { query: { slotId: slotId + 3 } });
		expect(docs.map(d => d.actor)).toEqual(["many", "many"]);
	});

	it("opens one live session per slot: of two concurrent opens one wins; after its stop the slot opens again", async () => {
		const slot = slotId + 7;
		const doc = { slotId: slot, roomId: 1, status: "starting", students: [], cameras: [], config: {}, startedAt: new Date() };
		const outcomes = await Promise.allSettled([call("sessions.open", { doc, maxSessions: 100 }), call("sessions.open", { doc, maxSessions: 100 })]);
		expect(outcomes.map(o => o.status).sort()).toEqual(["fulfilled", "rejected"]);
		const lost = outcomes.find(o => o.status === "rejected") as PromiseRejectedResult;
		expect(lost.reason.type ?? lost.reason.code).toBe("SESSION_ALREADY_EXISTS");
		const won = (outcomes.find(o => o.status === "fulfilled") as PromiseFulfilledResult<any>).value;
		expect(await call("sessions.count", { query: { slotId: slot } })).toBe(1);
		await call("sessions.update", { id: won._id, status: "stopped", live: false });
		const again = await call("sessions.open", { doc, maxSessions: 100 });
		expect(again.slotId).toBe(slot);
		expect(await call("sessions.count", { query: { slotId: slot } })).toBe(2);
		await expect(call("sessions.open", { doc: { ...doc, slotId: slot + 1 }, maxSessions: 1 })).rejects.toMatchObject({ type: "MAX_SESSIONS_REACHED" });
	});

	it("pages through recognitions with sort and limit", async () => {
		const base = Date.now();
		await call("recognitions.insert", {
			entities: Array.from({ length: 25 }, (_, i) => ({ recognitionId: `${slotId}-${i}`, kind: i % 2 ? "report" : "unknown", slotId, cameraId: 1, userId: i % 2 ? 200 + i : null, similarity: i / 25, recognizedAt: new Date(base + i * 1000), delivery: i % 2 ? "pending" : "none" }))
		});
		const page = await call("recognitions.list", { query: { slotId }, page: 2, pageSize: 10, sort: "-similarity" });
		expect(page.total).toBe(25);
		expect(page.totalPages).toBe(3);
		expect(page.rows).toHaveLength(10);
		expect(page.rows[0].similarity).toBeCloseTo(14 / 25);
		expect(await call("recognitions.count", { query: { slotId, delivery: "pending" } })).toBe(12);
		const unknown = await call<any[]>("recognitions.find", { query: { slotId, userId: null }, limit: 100 });
		expect(unknown).toHaveLength(13);
	});

	it("enforces the idempotency key: one recognition per recognitionId", async () => {
		const doc = { recognitionId: `${slotId}-0`, kind: "report", slotId, cameraId: 1, userId: 201, similarity: 0.9, recognizedAt: new Date(), delivery: "pending" };
		await expect(call("recognitions.insert", { entity: doc })).rejects.toThrow();
		await expect(call("recognitions.insert", { entities: [{ ...doc, recognitionId: `${slotId}-new` }, doc] })).rejects.toThrow();
		expect(await call("recognitions.count", { query: { recognitionId: `${slotId}-0` } })).toBe(1);
	});

	it("records audit entries with a time and an actor", async () => {
		const entry = await call("audit.record", { action: "session.started", slotId, details: { cameras: 2 } });
		expect(entry).toEqual(expect.objectContaining({ action: "session.started", slotId, details: { cameras: 2 }, actor: expect.any(String) }));
		expect(new Date(entry.at).getTime()).toBeGreaterThan(Date.now() - 60_000);
	});

	it("keeps attendance and cameras", async () => {
		await call("attendance.create", { slotId, userId: 201, sightings: 1, firstSeenAt: new Date(), lastSeenAt: new Date() });
		expect(await call("attendance.count", { query: { slotId } })).toBe(1);
		await call("cameras.register", { cameraId: 1 + (slotId % 30000), name: "A101", rtspUrl: "rtsp://10.0.0.9/s", roomId: 1 });
		expect((await call("cameras.resolve", { cameraId: 1 + (slotId % 30000) })).rtspUrl).toBe("rtsp://10.0.0.9/s");
	});

	it("keeps console accounts: one per email, found by email, the first administrator created once", async () => {
		const users = (node.broker.getLocalService("users") as any).adapter;
		const admins = await users.find({ query: { roleId: "ROLE-ADMIN" } });
		expect(admins).toHaveLength(1);
		const now = new Date();
		const doc = { _id: `conf-${slotId}`, email: `conf-${slotId}@rollcall.test`, name: "Conf", passwordHash: "x", roleId: "ROLE-VIEWER", status: "active", lastActive: null, createdAt: now, updatedAt: now, version: 1 };
		await users.insert(doc);
		await expect(users.insert({ ...doc, _id: `conf-${slotId}-2` })).rejects.toThrow();
		expect((await call("users.credentials", { email: doc.email.toUpperCase() }))._id).toBe(doc._id);
		expect(await call("users.state", { id: doc._id })).toEqual(expect.objectContaining({ id: doc._id, email: doc.email, status: "active" }));
		expect((await call("users.state", { id: doc._id })).passwordHash).toBeUndefined();
		expect(await users.count({ query: { roleId: "ROLE-VIEWER", status: "active" } })).toBeGreaterThanOrEqual(1);
	});

	it("keeps logins: unique token hashes, live families, revocation of all but one", async () => {
		const logins = (node.broker.getLocalService("auth") as any).adapter;
		const userId = `conf-${slotId}`;
		const mk = (n: number, familyId: string, extra: object = {}) => ({ _id: `${userId}-t${n}`, tokenHash: `${slotId}-hash-${n}`, familyId, userId, expiresAt: new Date(Date.now() + 3600_000), createdAt: new Date(), rotatedAt: null, revokedAt: null, ...extra });
		await logins.insert(mk(1, "fam-a"));
		await logins.insert(mk(2, "fam-b"));
		await logins.insert(mk(3, "fam-c", { expiresAt: new Date(Date.now() - 1000) }));
		await expect(logins.insert({ ...mk(4, "fam-a"), tokenHash: `${slotId}-hash-1` })).rejects.toThrow();
		expect(await call("auth.loginState", { sid: "fam-a", userId })).toEqual(expect.objectContaining({ active: true }));
		expect(await call("auth.loginState", { sid: "fam-c", userId })).toEqual({ active: false });
		// A rotation happens once: the second compare-and-set finds nothing.
		expect(await logins.updateMany({ _id: `${userId}-t1`, rotatedAt: null }, { $set: { rotatedAt: new Date() } })).toBe(1);
		expect(await logins.updateMany({ _id: `${userId}-t1`, rotatedAt: null }, { $set: { rotatedAt: new Date() } })).toBe(0);
		expect((await call("auth.revokeUser", { userId, reason: "conformance", keepFamily: "fam-b" })).revoked).toBe(2);
		expect(await call("auth.loginState", { sid: "fam-b", userId })).toEqual(expect.objectContaining({ active: true }));
		expect(await logins.count({ query: { userId, revokedAt: null } })).toBe(1);
	});

	it("keeps named API keys by their prefix, and preferences one per user", async () => {
		const keys = (node.broker.getLocalService("apikeys") as any).adapter;
		const prefs = (node.broker.getLocalService("settings") as any).adapter;
		const prefix = String(slotId).padStart(10, "0").slice(-8);
		await keys.insert({ _id: `key-${slotId}`, name: "conf", prefix, hash: "ab".repeat(32), roleId: "ROLE-VIEWER", createdAt: new Date(), revokedAt: null });
		await expect(keys.insert({ _id: `key-${slotId}-2`, name: "conf2", prefix, hash: "cd".repeat(32), roleId: "ROLE-VIEWER", createdAt: new Date(), revokedAt: null })).rejects.toThrow();
		expect(await call("apikeys.resolve", { prefix })).toEqual(expect.objectContaining({ id: `key-${slotId}`, roleId: "ROLE-VIEWER", permissions: expect.arrayContaining(["cameras:read"]), revoked: false }));
		await prefs.insert({ userId: `conf-${slotId}`, theme: "light", preferences: { a: 1 } });
		await expect(prefs.insert({ userId: `conf-${slotId}`, theme: "dark" })).rejects.toThrow();
	});

	it("filters and pages the audit log, newest first", async () => {
		const actor = `auditor-${slotId}@rollcall.test`;
		for (const [i, severity] of ["info", "warning", "critical"].entries()) {
			await call("audit.record", { action: "conformance.audit", actor, severity, resourceType: "user", resourceId: `r${i}`, message: `m${i}` });
			await new Promise(r => setTimeout(r, 3)); // newest first is by time; one millisecond holds no order
		}
		const all = await call("audit.list", { actor, page: 1, pageSize: 2 });
		expect(all).toEqual(expect.objectContaining({ total: 3, totalPages: 2, page: 1, pageSize: 2 }));
		expect(all.rows.map((d: any) => d.message)).toEqual(["m2", "m1"]);
		const critical = await call("audit.list", { actor, severity: "critical", page: 1, pageSize: 20 });
		expect(critical.rows.map((d: any) => d.resourceId)).toEqual(["r2"]);
		const none = await call("audit.list", { actor, from: new Date(Date.now() + 60_000), page: 1, pageSize: 20 });
		expect(none.total).toBe(0);
	});

	it("loses nothing across a restart", async () => {
		const kept = await call("sessions.create", { slotId, roomId: 4, status: "active", students: [{ userId: 201 }], cameras: [{ id: 1 }], config: { similarityThreshold: 0.9 }, counters: { frames: 12 }, leaseToken: 3, startedAt: new Date() });
		await node.stop();
		await start();
		expect(await call("recognitions.count", { query: { slotId } })).toBe(25);
		expect(await call("attendance.count", { query: { slotId } })).toBe(1);
		expect(await call("audit.count", { query: { slotId } })).toBe(1);
		expect(await call("cameras.resolve", { cameraId: 1 + (slotId % 30000) })).not.toBeNull();
		expect(await call("users.credentials", { email: `conf-${slotId}@rollcall.test` })).toEqual(expect.objectContaining({ _id: `conf-${slotId}` }));
		expect(await call("auth.loginState", { sid: "fam-b", userId: `conf-${slotId}` })).toEqual(expect.objectContaining({ active: true }));
		// One administrator still: a restart does not make another.
		expect(await (node.broker.getLocalService("users") as any).adapter.count({ query: { roleId: "ROLE-ADMIN" } })).toBe(1);
		expect(await call("sessions.get", { id: kept._id })).toEqual(expect.objectContaining({ slotId, roomId: 4, status: "active", counters: { frames: 12 }, leaseToken: 3, config: { similarityThreshold: 0.9 } }));
		// The unique index holds after a restart as well.
		await expect(call("recognitions.insert", { entity: { recognitionId: `${slotId}-1`, kind: "unknown", slotId, cameraId: 1, recognizedAt: new Date() } })).rejects.toThrow();
	});
});
