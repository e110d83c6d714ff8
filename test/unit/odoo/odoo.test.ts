/**
 * lib/odoo: the JSON-RPC wire format against Odoo's documented examples (the External API
 * page's JSON-RPC form `{"jsonrpc":"2.0","method":"call","params":{"service","method","args"},"id"}`,
 * its execute_kw calls search_read / create / write, and the fault body Odoo answers), the
 * datetimes, which failures may pass, the base URL policy, what a log becomes in Odoo, the
 * counters after a run, and the retry's attempts.
 */
import { afterRun, checkBaseUrl } from "../../../lib/odoo/config";
import { withRetry } from "../../../lib/odoo/retry";
import { batches, planAttendance, type SyncLog } from "../../../lib/odoo/sync";
import { OdooError, authenticateRequest, executeKwRequest, faultError, httpError, many2oneId, odooDatetime, parseAnswer, parseOdooDatetime, transportError, versionRequest } from "../../../lib/odoo/wire";

describe("Odoo JSON-RPC wire format", () => {
	it("authenticates as the documented common.authenticate call", () => {
		// Odoo docs: {"jsonrpc": "2.0", "method": "call", "params": {"service": "common", "method": "authenticate", "args": [db, login, password, {}]}, "id": n}
		expect(JSON.parse(JSON.stringify(authenticateRequest("production_db", "admin", "KEY", 1)))).toEqual({
			jsonrpc: "2.0",
			method: "call",
			params: { service: "common", method: "authenticate", args: ["production_db", "admin", "KEY", {}] },
			id: 1
		});
		expect(versionRequest(2)).toEqual({ jsonrpc: "2.0", method: "call", params: { service: "common", method: "version", args: [] }, id: 2 });
	});

	it("calls models as the documented object.execute_kw [db, uid, password, model, method, args, kwargs]", () => {
		// models.execute_kw(db, uid, password, 'res.partner', 'search_read', [[['is_company', '=', True]]], {'fields': ['name', 'country_id', 'comment'], 'limit': 5})
		expect(executeKwRequest("db", 2, "pw", "res.partner", "search_read", [[["is_company", "=", true]]], { fields: ["name", "country_id", "comment"], limit: 5 }, 3)).toEqual({
			jsonrpc: "2.0",
			method: "call",
			params: { service: "object", method: "execute_kw", args: ["db", 2, "pw", "res.partner", "search_read", [[["is_company", "=", true]]], { fields: ["name", "country_id", "comment"], limit: 5 }] },
			id: 3
		});
		// models.execute_kw(db, uid, password, 'res.partner', 'create', [{'name': "New Partner"}]) and 'write', [[id], {'name': "Newer partner"}]
		expect(executeKwRequest("db", 2, "pw", "res.partner", "create", [{ name: "New Partner" }], {}, 4).params.args).toEqual(["db", 2, "pw", "res.partner", "create", [{ name: "New Partner" }], {}]);
		expect(executeKwRequest("db", 2, "pw", "res.partner", "write", [[7], { name: "Newer partner" }], {}, 5).params.args.slice(3)).toEqual(["res.partner", "write", [[7], { name: "Newer partner" }], {}]);
	});

	it("reads results, and Odoo's faults by their exception's name", () => {
		expect(parseAnswer('{"jsonrpc": "2.0", "id": 9, "result": 42}', 9)).toBe(42);
		expect(parseAnswer('{"jsonrpc":"2.0","id":9,"result":false}', 9)).toBe(false);
		const denied = '{"jsonrpc":"2.0","id":9,"error":{"code":200,"message":"Odoo Server Error","data":{"name":"odoo.exceptions.AccessDenied","debug":"Traceback ...","message":"Access Denied","arguments":["Access Denied"],"context":{}}}}';
		expect(() => parseAnswer(denied, 9)).toThrow(expect.objectContaining({ code: "ODOO_AUTH_FAILED", retryable: false, faultName: "odoo.exceptions.AccessDenied" }));
		const validation = faultError({ code: 200, message: "Odoo Server Error", data: { name: "odoo.exceptions.ValidationError", message: '"Check Out" time cannot be earlier than "Check In" time.' } });
		expect(validation).toMatchObject({ code: "ODOO_VALIDATION_ERROR", retryable: false });
		expect(faultError({ code: 200, message: "Odoo Server Error", data: { name: "psycopg2.errors.SerializationFailure", message: "could not serialize access due to concurrent update" } })).toMatchObject({ code: "ODOO_BUSY", retryable: true });
		expect(faultError({ code: 200, message: "Odoo Server Error", data: { name: "builtins.KeyError", message: "'hr.attendance'" } })).toMatchObject({ code: "ODOO_FAULT", retryable: false });
		// A cut answer may have been carried out: may pass. Not JSON-RPC at all: does not.
		expect(() => parseAnswer('{"jsonrpc":"2.0","id":9,"res', 9)).toThrow(expect.objectContaining({ code: "ODOO_BAD_ANSWER", retryable: true }));
		expect(() => parseAnswer('{"hello":1}', 9)).toThrow(expect.objectContaining({ retryable: false }));
	});

	it("tells transport and HTTP failures that may pass from those that cannot", () => {
		expect(httpError(503, "Service Unavailable")).toMatchObject({ code: "ODOO_UNAVAILABLE", retryable: true });
		expect(httpError(500, "Internal Server Error").retryable).toBe(true);
		expect(httpError(404, "Not Found")).toMatchObject({ code: "ODOO_NOT_FOUND", retryable: false });
		expect(httpError(403, "Forbidden").retryable).toBe(false);
		const timeout = Object.assign(new Error("The operation was aborted due to timeout"), { name: "TimeoutError" });
		expect(transportError(timeout, 1500)).toMatchObject({ code: "ODOO_TIMEOUT", retryable: true });
		expect(transportError(Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } }), 1500)).toMatchObject({ code: "ODOO_UNREACHABLE", retryable: true, message: expect.stringContaining("ECONNREFUSED") });
	});

	it("writes datetimes in UTC as YYYY-MM-DD HH:MM:SS, and reads them back", () => {
		expect(odooDatetime(new Date("2025-11-05T09:00:00.750+01:00"))).toBe("2025-11-05 08:00:00");
		expect(odooDatetime("2025-03-30T01:30:05Z")).toBe("2025-03-30 01:30:05");
		expect(parseOdooDatetime("2025-11-05 08:00:00")!.toISOString()).toBe("2025-11-05T08:00:00.000Z");
		expect(parseOdooDatetime(false)).toBeNull();
		expect(many2oneId([12, "Alice Martin"])).toBe(12);
		expect(many2oneId(false)).toBeNull();
		expect(() => odooDatetime("nope")).toThrow();
	});
});

describe("Odoo settings and counters", () => {
	it("takes http and https base URLs only, without credentials, query or /jsonrpc", () => {
		expect(checkBaseUrl("https://odoo.example.com/")).toEqual({ ok: true, url: "https://odoo.example.com" });
		expect(checkBaseUrl("http://10.0.0.5:8069/erp//")).toEqual({ ok: true, url: "http://10.0.0.5:8069/erp" });
		for (const bad of ["ftp://odoo.example.com", "file:///etc/passwd", "javascript:alert(1)", "https://u:p@odoo.example.com", "https://odoo.example.com/?db=x", "https://odoo.example.com/jsonrpc", "odoo.example.com"]) expect(checkBaseUrl(bad).ok).toBe(false);
	});

	it("counts failed runs in a row, raises the alert at the threshold, resolves it after a good run", () => {
		let c = { failureCount: 0, status: "connected" as const as "connected" | "error" | "disconnected" };
		const fails: (string | null)[] = [];
		for (let i = 0; i < 4; i++) {
			const n = afterRun(c, { ok: false, error: "ODOO_UNREACHABLE" }, 3);
			fails.push(n.alert);
			c = n;
		}
		expect(c).toMatchObject({ failureCount: 4, status: "error" });
		expect(fails).toEqual([null, null, "raise", "raise"]);
		expect(afterRun(c, { ok: true, error: null }, 3)).toEqual({ failureCount: 0, status: "connected", alert: "resolve" });
	});
});

describe("what a log becomes in Odoo", () => {
	const log = (over: Partial<SyncLog>): SyncLog => ({ _id: "ATT-1", version: 1, employeeId: "EMP-1", day: "2025-11-05", timezone: "Europe/Paris", timeInAt: new Date("2025-11-05T08:00:00Z"), timeOutAt: new Date("2025-11-05T16:30:00Z"), status: "present", ...over });
	const midday = new Date("2025-11-05T12:00:00Z");

	it("a day with two times: check in and check out in UTC", () => {
		expect(planAttendance(log({}), midday)).toEqual({ kind: "attendance", checkIn: "2025-11-05 08:00:00", checkOut: "2025-11-05 16:30:00" });
	});

	it("seen once: held back until the day is over (its end in the site's zone), then closed at the same time", () => {
		const once = log({ timeOutAt: new Date("2025-11-05T08:00:00Z") });
		expect(planAttendance(once, midday).kind).toBe("defer");
		// Paris is UTC+1 in November: the day ends 23:00 UTC.
		expect(planAttendance(once, new Date("2025-11-05T22:59:59Z")).kind).toBe("defer");
		expect(planAttendance(once, new Date("2025-11-05T23:00:00Z"))).toEqual({ kind: "attendance", checkIn: "2025-11-05 08:00:00", checkOut: "2025-11-05 08:00:00" });
		// A night shift's log waits for its shift's end.
		expect(planAttendance({ ...once, shiftEnd: new Date("2025-11-06T06:00:00Z") }, new Date("2025-11-06T01:00:00Z")).kind).toBe("defer");
	});

	it("an absence makes nothing", () => {
		expect(planAttendance(log({ status: "missed" }), midday).kind).toBe("skip");
		expect(planAttendance(log({ timeInAt: null, timeOutAt: null }), midday).kind).toBe("skip");
	});

	it("batches of at most the size", () => {
		const ids = Array.from({ length: 250 }, (_, i) => i);
		expect(batches(ids, 100).map(b => b.length)).toEqual([100, 100, 50]);
		expect(batches([], 100)).toEqual([]);
	});
});

describe("retries", () => {
	const opts = { attempts: 5, backoff: { initialMs: 1, maxMs: 4, factor: 2 } };
	it("tries a failure that may pass up to five times, one that cannot once", async () => {
		let n = 0;
		await expect(withRetry(async () => (n++, Promise.reject(new OdooError("ODOO_UNREACHABLE", "down", true))), opts)).rejects.toMatchObject({ code: "ODOO_UNREACHABLE" });
		expect(n).toBe(5);
		n = 0;
		await expect(withRetry(async () => (n++, Promise.reject(new OdooError("ODOO_VALIDATION_ERROR", "no", false))), opts)).rejects.toMatchObject({ code: "ODOO_VALIDATION_ERROR" });
		expect(n).toBe(1);
		n = 0;
		expect(await withRetry(async a => (n++, a < 2 ? Promise.reject(new OdooError("ODOO_TIMEOUT", "slow", true)) : "done"), opts)).toBe("done");
		expect(n).toBe(3);
	});
});
