/**
 * Odoo sync over HTTP against an Odoo STAND-IN (test/support/odoo-standin.ts: a real HTTP
 * server speaking Odoo's JSON-RPC, keeping its records; no Odoo can run here). One node
 * (gateway + storage, and the odooSync worker of the actors role): attendance logs made by
 * real sightings, synced by POST /odoo/sync jobs. The config round trip with the key masked
 * and sealed at rest; test connection ok and refused; a day of logs synced and completed; a
 * create whose answer is dropped, then retried: one record; 500s and timeouts passed over;
 * an unknown employee failed, not retried; the stand-in down for a while: logs pending,
 * failures counted, the alert raised, then synced and resolved when it is back.
 */
import fs from "node:fs";
import path from "node:path";
import odooSyncService from "../../services/odoo-sync.service";
import { ADMIN, CONSOLE_ENV, accountOf, call, login } from "../support/console";
import { startNode, type TestNode } from "../support/node";
import { OdooStandin } from "../support/odoo-standin";
import { until } from "../support/until";

describe("Odoo sync against an Odoo stand-in", () => {
	let node: TestNode;
	let odoo: OdooStandin;
	let admin: string;
	let operator: string;
	let viewer: string;
	let alice: number;
	let bob: number;
	const KEY = "standin-api-key-0001";

	const sighting = (employeeId: string, name: string, at: string, n: number) =>
		node.broker.call<{ logId: string }, object>("attendanceLogs.recordSighting", { detectionId: `det-${employeeId}-${at}-${n}`, personId: `P-${employeeId}`, employeeId, name, cameraId: "CAM-01", at, confidence: 0.95 });
	const logOf = async (id: string) => (await call(node, `/attendance/logs?pageSize=100`, { token: admin })).body.data.find((l: { id: string }) => l.id === id);
	const sync = async (body: Record<string, unknown> = {}) => {
		const r = await call(node, "/odoo/sync", { token: admin, body });
		expect(r.status).toBe(202);
		const job = await until("the sync job to finish", async () => (await call(node, `/jobs/${r.body.data.id}`, { token: admin })).body.data, j => j.status === "completed" || j.status === "failed", 20_000);
		return job;
	};
	const status = async () => (await call(node, "/odoo/status", { token: admin })).body.data;

	beforeAll(async () => {
		odoo = await new OdooStandin({ database: "production_db" }).start();
		const acme = odoo.addCompany("ACME Corp");
		alice = odoo.addEmployee("Alice Martin", { barcode: "EMP-001", company_id: acme.id }).id;
		bob = odoo.addEmployee("Bob Stone", { barcode: "EMP-002", company_id: acme.id }).id;
		node = await startNode({ ...CONSOLE_ENV, SERVICES: "gateway,storage", ODOO_SYNC_INTERVAL_MS: "0", ODOO_TIMEOUT_MS: "400", ODOO_RETRY_BASE_MS: "20", ODOO_RETRY_MAX_MS: "80", ODOO_ALERT_FAILURES: "2" });
		await node.broker.createService(odooSyncService(node.cfg));
		admin = (await login(node, ADMIN.email, ADMIN.password)).accessToken;
		operator = (await accountOf(node, admin, "ROLE-OPERATOR", "operator@odoo.test")).token;
		viewer = (await accountOf(node, admin, "ROLE-VIEWER", "viewer@odoo.test")).token;
	}, 60_000);
	afterAll(async () => {
		await node?.stop();
		await odoo?.stop();
	});

	it("keeps the config, the API key masked and sealed at rest; operators read it, viewers do not", async () => {
		const before = await call(node, "/odoo/config", { token: admin });
		expect(before.body.data).toMatchObject({ configured: false, status: "disconnected", apiKey: null, apiKeySet: false });
		const put = await call(node, "/odoo/config", { method: "PUT", token: admin, body: { baseUrl: `${odoo.url}/`, database: "production_db", company: "ACME Corp", username: "sync@example.com", apiKey: KEY, autoSync: false, matchField: "barcode" } });
		expect([put.status, put.body.error]).toEqual([200, undefined]);
		expect(put.body.data).toMatchObject({ baseUrl: odoo.url, database: "production_db", company: "ACME Corp", username: "sync@example.com", apiKeySet: true, configured: true, status: "disconnected", matchField: "barcode", pendingCount: 0, failureCount: 0 });
		expect(put.body.data.apiKey).not.toContain(KEY);
		expect(put.body.data.apiKey).toMatch(/^•+01$/);
		const got = await call(node, "/odoo/config", { token: operator });
		expect(got.status).toBe(200);
		expect(got.body.data).toEqual(put.body.data);
		expect(JSON.stringify(got.body)).not.toContain(KEY);
		// Sealed in the store, never in clear.
		const stored = fs.readFileSync(path.join(node.dataDir, "odoo_config.db"), "utf8");
		expect(stored).toContain("apiKeySealed");
		expect(stored).not.toContain(KEY);
		// The masked value sent back keeps the key; a bad URL is refused with its code.
		const again = await call(node, "/odoo/config", { method: "PUT", token: admin, body: { apiKey: got.body.data.apiKey, autoSync: false } });
		expect(again.body.data.apiKeySet).toBe(true);
		expect((await node.broker.call<{ apiKey: string }>("odoo.connection")).apiKey).toBe(KEY);
		for (const baseUrl of ["ftp://odoo.example.com", "https://u:p@odoo.example.com", "not a url"]) {
			const bad = await call(node, "/odoo/config", { method: "PUT", token: admin, body: { baseUrl } });
			expect({ baseUrl, status: bad.status, code: bad.body.error?.code }).toEqual({ baseUrl, status: 400, code: "INVALID_ODOO_URL" });
		}
		// The outbound-URL policy (lib/net/outbound.ts): cloud metadata and this node's own port are refused.
		for (const baseUrl of ["http://169.254.169.254", new URL(node.baseUrl).origin]) {
			const refused = await call(node, "/odoo/config", { method: "PUT", token: admin, body: { baseUrl } });
			expect({ baseUrl, status: refused.status, code: refused.body.error?.code }).toEqual({ baseUrl, status: 400, code: "URL_NOT_ALLOWED" });
		}
		expect((await call(node, "/odoo/config", { token: admin })).body.data.baseUrl).toBe(odoo.url);
		expect((await call(node, "/odoo/config", { method: "PUT", token: admin, body: { matchField: "email" } })).status).toBe(400);
		expect((await call(node, "/odoo/config", { token: viewer })).status).toBe(403);
		expect((await call(node, "/odoo/status", { token: viewer })).status).toBe(403);
		expect((await call(node, "/odoo/config", { method: "PUT", token: operator, body: { autoSync: true } })).status).toBe(403);
		expect((await call(node, "/odoo/sync", { token: operator, body: {} })).status).toBe(403);
	});

	it("tests the connection: ok, and refused credentials", async () => {
		const ok = await call(node, "/odoo/test", { token: admin, body: {} });
		expect(ok.status).toBe(200);
		expect(ok.body.data).toMatchObject({ ok: true, status: "connected", serverVersion: "17.0-standin", uid: 7, companyId: 1, canCreateAttendance: true, error: null });
		expect((await status()).status).toBe("connected");
		// Other credentials tried without saving them.
		const wrong = await call(node, "/odoo/test", { token: admin, body: { apiKey: "not-the-right-key" } });
		expect(wrong.body.data).toMatchObject({ ok: false, status: "error", error: { code: "ODOO_AUTH_FAILED" } });
		const noCompany = await call(node, "/odoo/test", { token: admin, body: { company: "Globex" } });
		expect(noCompany.body.data).toMatchObject({ ok: false, error: { code: "COMPANY_NOT_FOUND" } });
		expect((await status()).status).toBe("connected");
		const unreachable = await call(node, "/odoo/test", { token: admin, body: { baseUrl: "http://127.0.0.1:1" } });
		expect(unreachable.body.data).toMatchObject({ ok: false, error: { code: "ODOO_UNREACHABLE" } });
	});

	it("syncs a day of logs: check in and check out in Odoo, completed by a later sighting, never twice", async () => {
		const a = (await sighting("EMP-001", "Alice Martin", "2025-11-05T08:00:00Z", 1)).logId;
		await sighting("EMP-001", "Alice Martin", "2025-11-05T12:10:00Z", 2);
		await sighting("EMP-001", "Alice Martin", "2025-11-05T16:30:00Z", 3);
		const b = (await sighting("EMP-002", "Bob Stone", "2025-11-05T09:15:00Z", 1)).logId;
		await sighting("EMP-002", "Bob Stone", "2025-11-05T17:45:30Z", 2);
		expect((await status()).pendingCount).toBe(2);

		const job = await sync();
		expect(job.status).toBe("completed");
		expect(job.result).toMatchObject({ ok: true, counts: expect.objectContaining({ logs: 2, created: 2, failed: 0, batches: 1 }) });
		expect(odoo.attendancesOf(alice)).toEqual([expect.objectContaining({ check_in: "2025-11-05 08:00:00", check_out: "2025-11-05 16:30:00", employee_id: [alice, "Alice Martin"] })]);
		expect(odoo.attendancesOf(bob)).toEqual([expect.objectContaining({ check_in: "2025-11-05 09:15:00", check_out: "2025-11-05 17:45:30" })]);
		const la = await logOf(a);
		expect(la).toMatchObject({ odooStatus: "synced", odooError: null, odooAttendanceId: odoo.attendancesOf(alice)[0].id });
		expect(la.odooSyncTime).toEqual(expect.any(String));
		expect((await status())).toMatchObject({ pendingCount: 0, failureCount: 0, status: "connected", lastSyncResult: expect.objectContaining({ created: 2 }) });

		// Alice seen again later: her log is pending again, and Odoo's record is completed, not doubled.
		await sighting("EMP-001", "Alice Martin", "2025-11-05T18:05:00Z", 4);
		expect((await logOf(a)).odooStatus).toBe("pending");
		const creates = odoo.executeKwCount("create", "hr.attendance");
		const second = await sync();
		expect(second.result.counts).toMatchObject({ logs: 1, updated: 1, created: 0 });
		expect(odoo.attendancesOf(alice)).toEqual([expect.objectContaining({ check_in: "2025-11-05 08:00:00", check_out: "2025-11-05 18:05:00" })]);
		expect(odoo.executeKwCount("create", "hr.attendance")).toBe(creates);
		// Both sent again by id: found, unchanged, nothing made.
		const byId = await sync({ ids: [a, b] });
		expect(byId.result.counts).toMatchObject({ logs: 2, unchanged: 2, created: 0, updated: 0 });
		expect(odoo.records["hr.attendance"]).toHaveLength(2);

		const logs = await call(node, `/odoo/logs?attendanceLogId=${a}`, { token: operator });
		expect(logs.status).toBe(200);
		expect(logs.body.data.map((l: { action: string }) => l.action)).toEqual(["unchanged", "updated", "created"]);
		expect(logs.body.meta.total).toBe(3);
		// Every run audited with its counts (besides the audited requests).
		const runs = await node.broker.call<{ actor: string; details: { trigger: string; counts: Record<string, number> } }[], object>("audit.find", { query: { action: "odoo.sync.run" }, sort: "at" });
		expect(runs.map(x => [x.details.trigger, x.details.counts.created, x.details.counts.updated, x.details.counts.unchanged])).toEqual([
			["manual", 2, 0, 0],
			["manual", 0, 1, 0],
			["manual", 0, 0, 2]
		]);
		expect(runs[0].actor).toBe(ADMIN.email);
		expect(await node.broker.call<number, object>("audit.count", { query: { action: "odoo.sync", outcome: "success" } })).toBe(3);
	});

	it("a create whose answer is dropped, then a retry: one record, not two; 500s and timeouts are passed over", async () => {
		const a = (await sighting("EMP-001", "Alice Martin", "2025-11-06T08:02:00Z", 1)).logId;
		await sighting("EMP-001", "Alice Martin", "2025-11-06T16:00:00Z", 2);
		odoo.inject({ kind: "drop", method: "create", model: "hr.attendance" });
		const job = await sync();
		expect(job.result.counts).toMatchObject({ logs: 1, failed: 0 });
		// The retry found the record the lost answer had made.
		expect(job.result.counts.unchanged).toBe(1);
		expect(odoo.attendancesOf(alice).filter(r => r.check_in === "2025-11-06 08:02:00")).toHaveLength(1);
		expect(await logOf(a)).toMatchObject({ odooStatus: "synced", odooAttendanceId: odoo.attendancesOf(alice).find(r => r.check_in === "2025-11-06 08:02:00")!.id });

		const b = (await sighting("EMP-002", "Bob Stone", "2025-11-06T09:00:00Z", 1)).logId;
		await sighting("EMP-002", "Bob Stone", "2025-11-06T17:00:00Z", 2);
		odoo.inject({ kind: "http500", method: "search_read", count: 2 });
		odoo.inject({ kind: "timeout", method: "create" });
		const rough = await sync();
		expect(rough.result).toMatchObject({ ok: true, counts: expect.objectContaining({ logs: 1, failed: 0, pending: 0 }) });
		expect(odoo.attendancesOf(bob).filter(r => r.check_in === "2025-11-06 09:00:00")).toHaveLength(1);
		expect((await logOf(b)).odooStatus).toBe("synced");
		const entry = (await call(node, `/odoo/logs?attendanceLogId=${b}`, { token: admin })).body.data[0];
		expect(entry.attempts).toBeGreaterThan(1);
	});

	it("an unknown employee: failed with that reason, not retried", async () => {
		const x = (await sighting("EMP-404", "Nobody Known", "2025-11-06T08:30:00Z", 1)).logId;
		await sighting("EMP-404", "Nobody Known", "2025-11-06T15:00:00Z", 2);
		const job = await sync();
		expect(job.result.counts).toMatchObject({ logs: 1, failed: 1 });
		expect(await logOf(x)).toMatchObject({ odooStatus: "failed", odooError: expect.stringContaining("EMPLOYEE_NOT_FOUND") });
		const entry = (await call(node, `/odoo/logs?attendanceLogId=${x}&result=failure`, { token: admin })).body.data;
		expect(entry).toEqual([expect.objectContaining({ code: "EMPLOYEE_NOT_FOUND", action: "failed", attempts: 0, employeeId: "EMP-404" })]);
		// The next sync of pending logs leaves it alone: no call about it at all.
		const seen = odoo.calls.length;
		const next = await sync();
		expect(next.result.counts.logs).toBe(0);
		expect(odoo.calls.length).toBe(seen);
		expect((await status()).failedCount).toBe(1);
	});

	it("the stand-in down for a while: logs pending, failures counted and alerted; synced and resolved when it is back", async () => {
		const a = (await sighting("EMP-001", "Alice Martin", "2025-11-07T08:00:00Z", 1)).logId;
		await sighting("EMP-001", "Alice Martin", "2025-11-07T16:00:00Z", 2);
		const b = (await sighting("EMP-002", "Bob Stone", "2025-11-07T08:30:00Z", 1)).logId;
		await sighting("EMP-002", "Bob Stone", "2025-11-07T16:30:00Z", 2);
		await odoo.down();
		const first = await sync();
		expect(first.status).toBe("failed");
		expect(first.error.code).toBe("ODOO_UNREACHABLE");
		expect(await logOf(a)).toMatchObject({ odooStatus: "pending" });
		expect((await logOf(b)).odooStatus).toBe("pending");
		expect(await status()).toMatchObject({ pendingCount: 2, failureCount: 1, status: "error" });
		const openAlert = async () => (await call(node, "/alerts?resolved=false", { token: admin })).body.data.filter((x: { cause: string }) => x.cause === "odoo:sync");
		expect(await openAlert()).toEqual([]);
		await sync();
		expect(await status()).toMatchObject({ pendingCount: 2, failureCount: 2 });
		expect(await openAlert()).toEqual([expect.objectContaining({ type: "odoo_sync_failed", level: "high", title: "Odoo sync failing" })]);

		await odoo.up();
		const back = await sync();
		expect(back.result).toMatchObject({ ok: true, counts: expect.objectContaining({ created: 2 }) });
		expect(await status()).toMatchObject({ pendingCount: 0, failureCount: 0, status: "connected" });
		expect(await openAlert()).toEqual([]);
		const resolved = (await call(node, "/alerts", { token: admin })).body.data.filter((x: { cause: string }) => x.cause === "odoo:sync");
		expect(resolved).toEqual([expect.objectContaining({ resolved: true })]);
		expect(odoo.attendancesOf(alice).filter(r => String(r.check_in).startsWith("2025-11-07"))).toHaveLength(1);
		expect(odoo.attendancesOf(bob).filter(r => String(r.check_in).startsWith("2025-11-07"))).toHaveLength(1);
	});
});
