/**
 * Attendance logs into Odoo's hr.attendance (no Moleculer here; the service feeds it logs
 * and records what it answers). One log, one person's attendance day, is one hr.attendance:
 * check_in its timeIn, check_out its timeOut, in UTC.
 *
 * - What a log becomes (`planAttendance`): nothing for an absence (no time in, or marked
 *   missed); a closed interval when it has two different times; a log seen once is held
 *   back ("deferred", still pending) until its day is over (then check_out = check_in), so
 *   no open attendance is left in Odoo to block the person's next day.
 * - The employee is looked up once per batch by the configured field (barcode or
 *   identification_id) = the log's employeeId; none: the log fails (EMPLOYEE_NOT_FOUND),
 *   never retried; two: EMPLOYEE_AMBIGUOUS.
 * - Idempotent: the record is found before anything is made, by the id kept from an
 *   earlier sync, else by (employee, check_in); only when there is none is one created. A
 *   create whose answer was lost is found by the retry, never made twice; a record found
 *   is written only where it differs.
 * - Each log's step (look up, then create or write) is retried as a whole with backoff
 *   while its failure may pass. When a failure that may pass outlasts the attempts, Odoo is
 *   taken to be away: the rest of the batch is left pending, untouched, and the batch says
 *   it was cut short.
 */
import { dayRange } from "../attendance/time";
import type { OdooClient } from "./client";
import type { MatchField } from "./config";
import { withRetry, type RetryOptions } from "./retry";
import { OdooError, many2oneId, odooDatetime, parseOdooDatetime } from "./wire";

export interface SyncLog {
	_id: string;
	version: number;
	employeeId: string;
	day: string;
	timezone: string;
	timeInAt: Date | string | null;
	timeOutAt: Date | string | null;
	shiftEnd?: Date | string | null;
	status: string;
	odooAttendanceId?: number | null;
}

export type Plan = { kind: "attendance"; checkIn: string; checkOut: string } | { kind: "skip"; reason: string } | { kind: "defer"; reason: string };

/** When a log's attendance day is over: the end of its day in its zone, or of its shift if later. */
export function closedAt(log: Pick<SyncLog, "day" | "timezone" | "shiftEnd">): Date {
	const end = dayRange(log.day, log.timezone).end.getTime();
	const shift = log.shiftEnd ? new Date(log.shiftEnd).getTime() : 0;
	return new Date(Math.max(end, shift));
}

export function planAttendance(log: SyncLog, now: Date): Plan {
	if (log.status === "missed") return { kind: "skip", reason: "marked missed: no attendance to record" };
	if (!log.timeInAt) return { kind: "skip", reason: "no time in: no attendance to record" };
	const checkIn = odooDatetime(log.timeInAt);
	const checkOut = log.timeOutAt ? odooDatetime(log.timeOutAt) : checkIn;
	if (checkOut > checkIn) return { kind: "attendance", checkIn, checkOut };
	if (now.getTime() >= closedAt(log).getTime()) return { kind: "attendance", checkIn, checkOut: checkIn };
	return { kind: "defer", reason: "seen once so far: synced when seen again or when the day is over" };
}

export type Action = "created" | "updated" | "unchanged" | "skipped" | "deferred" | "failed" | "pending";

export interface LogOutcome {
	id: string;
	version: number;
	employeeId: string;
	action: Action;
	/** What the log's odooStatus becomes. */
	odooStatus: "synced" | "pending" | "failed";
	odooAttendanceId: number | null;
	code: string | null;
	message: string | null;
	attempts: number;
}

export interface BatchResult {
	outcomes: LogOutcome[];
	/** Odoo could not be reached (or refused the credentials): the batch was cut short. */
	aborted: { code: string; message: string } | null;
}

export interface SyncOptions {
	matchField: MatchField;
	/** res.company id the employees must belong to, or null. */
	companyId: number | null;
	retry: RetryOptions;
	/** Logs of different employees handled at once. */
	concurrency: number;
	now?: Date;
	signal?: AbortSignal;
	onRetry?(what: string, attempt: number, err: Error): void;
}

/** Failures that would be the same for every log (the credentials, the user's rights): the batch stops, logs stay pending. */
const ABORTING = new Set(["ODOO_AUTH_FAILED", "ODOO_ACCESS_ERROR", "ODOO_NOT_FOUND", "ODOO_HTTP_ERROR", "URL_NOT_ALLOWED"]);

const ATTENDANCE_FIELDS = ["id", "employee_id", "check_in", "check_out"];

/** The employees of a batch, by the match field's value: Odoo ids (more than one: ambiguous). */
export async function employeesOf(client: OdooClient, values: string[], opts: Pick<SyncOptions, "matchField" | "companyId" | "signal">): Promise<Map<string, number[]>> {
	const out = new Map<string, number[]>();
	if (!values.length) return out;
	const domain: [string, string, unknown][] = [[opts.matchField, "in", values]];
	if (opts.companyId !== null) domain.push(["company_id", "=", opts.companyId]);
	const rows = await client.searchRead("hr.employee", domain, ["id", opts.matchField], {}, opts.signal);
	for (const r of rows) {
		const key = r[opts.matchField];
		if (typeof key !== "string") continue;
		const list = out.get(key) ?? [];
		list.push(r.id);
		out.set(key, list);
	}
	return out;
}

/** The attendance of a log in Odoo, found or made; what was done. */
export async function upsertAttendance(client: OdooClient, employee: number, plan: { checkIn: string; checkOut: string }, knownId: number | null, signal?: AbortSignal): Promise<{ id: number; action: "created" | "updated" | "unchanged" }> {
	let found: Record<string, unknown> | undefined;
	if (knownId) [found] = await client.searchRead("hr.attendance", [["id", "=", knownId]], ATTENDANCE_FIELDS, { limit: 1 }, signal);
	if (!found) [found] = await client.searchRead("hr.attendance", [["employee_id", "=", employee], ["check_in", "=", plan.checkIn]], ATTENDANCE_FIELDS, { limit: 1 }, signal);
	if (!found) return { id: await client.create("hr.attendance", { employee_id: employee, check_in: plan.checkIn, check_out: plan.checkOut }, signal), action: "created" };
	const id = found.id as number;
	const set: Record<string, unknown> = {};
	if (many2oneId(found.employee_id) !== employee) set.employee_id = employee;
	if (!sameInstant(found.check_in, plan.checkIn)) set.check_in = plan.checkIn;
	if (!sameInstant(found.check_out, plan.checkOut)) set.check_out = plan.checkOut;
	if (!Object.keys(set).length) return { id, action: "unchanged" };
	await client.write("hr.attendance", [id], set, signal);
	return { id, action: "updated" };
}

function sameInstant(odoo: unknown, ours: string): boolean {
	const t = parseOdooDatetime(odoo);
	return t !== null && odooDatetime(t) === ours;
}

const outcome = (log: SyncLog, action: Action, fields: Partial<LogOutcome>): LogOutcome => ({
	id: log._id,
	version: log.version,
	employeeId: log.employeeId,
	action,
	odooStatus: action === "failed" ? "failed" : action === "pending" || action === "deferred" ? "pending" : "synced",
	odooAttendanceId: log.odooAttendanceId ?? null,
	code: null,
	message: null,
	attempts: 0,
	...fields
});

/** One batch of logs (at most 100) into Odoo. */
export async function syncBatch(client: OdooClient, logs: SyncLog[], opts: SyncOptions): Promise<BatchResult> {
	const now = opts.now ?? new Date();
	const plans = new Map(logs.map(l => [l._id, planAttendance(l, now)]));
	const needed = [...new Set(logs.filter(l => plans.get(l._id)!.kind === "attendance").map(l => l.employeeId))];
	const retry = (what: string): RetryOptions => ({ ...opts.retry, signal: opts.signal, onRetry: (n, err, delay) => (opts.onRetry?.(what, n, err), opts.retry.onRetry?.(n, err, delay)) });
	let aborted: BatchResult["aborted"] = null;
	const cut = (err: unknown) => {
		const e = err as OdooError;
		aborted ??= { code: e.code ?? "ODOO_ERROR", message: e.message };
	};
	let employees = new Map<string, number[]>();
	if (needed.length) {
		try {
			employees = await withRetry(() => employeesOf(client, needed, opts), retry("hr.employee lookup"));
		} catch (err) {
			cut(err);
			return { outcomes: logs.map(l => outcome(l, "pending", { code: (err as OdooError).code ?? null, message: (err as Error).message })), aborted };
		}
	}

	const outcomes = new Map<string, LogOutcome>();
	// One employee's logs in order (Odoo refuses overlapping attendances), employees side by side.
	const byEmployee = new Map<string, SyncLog[]>();
	for (const l of logs) (byEmployee.get(l.employeeId) ?? byEmployee.set(l.employeeId, []).get(l.employeeId)!).push(l);
	const queues = [...byEmployee.values()];
	const worker = async () => {
		for (let q = queues.shift(); q; q = queues.shift()) {
			for (const log of q) {
				const plan = plans.get(log._id)!;
				if (aborted) {
					outcomes.set(log._id, outcome(log, "pending", { code: aborted.code, message: `not tried: ${aborted.message}` }));
					continue;
				}
				if (plan.kind === "skip") {
					outcomes.set(log._id, outcome(log, "skipped", { message: plan.reason }));
					continue;
				}
				if (plan.kind === "defer") {
					outcomes.set(log._id, outcome(log, "deferred", { message: plan.reason }));
					continue;
				}
				const ids = employees.get(log.employeeId) ?? [];
				if (ids.length !== 1) {
					const code = ids.length ? "EMPLOYEE_AMBIGUOUS" : "EMPLOYEE_NOT_FOUND";
					const message = ids.length ? `${ids.length} hr.employee records have ${opts.matchField} = ${log.employeeId}` : `no hr.employee with ${opts.matchField} = ${log.employeeId}`;
					outcomes.set(log._id, outcome(log, "failed", { code, message }));
					continue;
				}
				let attempts = 0;
				try {
					const done = await withRetry(
						n => {
							attempts = n + 1;
							return upsertAttendance(client, ids[0], plan, log.odooAttendanceId ?? null, opts.signal);
						},
						retry(`attendance of ${log._id}`)
					);
					outcomes.set(log._id, outcome(log, done.action, { odooAttendanceId: done.id, attempts }));
				} catch (err) {
					const e = err as OdooError;
					if (opts.signal?.aborted) throw err;
					if (e.retryable || ABORTING.has(e.code)) {
						cut(err);
						outcomes.set(log._id, outcome(log, "pending", { code: e.code, message: e.message, attempts }));
					} else outcomes.set(log._id, outcome(log, "failed", { code: e.code ?? "ODOO_ERROR", message: e.message, attempts }));
				}
			}
		}
	};
	await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, queues.length)) }, worker));
	return { outcomes: logs.map(l => outcomes.get(l._id)!), aborted };
}

/** The company the employees are taken from, by name (null: any); COMPANY_NOT_FOUND when Odoo has none. */
export async function companyIdOf(client: OdooClient, name: string | null, signal?: AbortSignal): Promise<number | null> {
	if (!name) return null;
	const [c] = await client.searchRead("res.company", [["name", "=", name]], ["id", "name"], { limit: 1 }, signal);
	if (!c) throw new OdooError("COMPANY_NOT_FOUND", `Odoo has no company named ${name}`, false);
	return c.id;
}

/** Ids in batches of at most `size`. */
export function batches<T>(items: T[], size: number): T[][] {
	const out: T[][] = [];
	for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
	return out;
}

export interface Probe {
	serverVersion: string | null;
	uid: number;
	companyId: number | null;
	/** The user may create hr.attendance records. */
	canCreateAttendance: boolean;
	latencyMs: number;
}

/** What POST /odoo/test checks: the server answers, the credentials hold, the company exists, the user may write attendance. */
export async function probe(client: OdooClient, company: string | null, signal?: AbortSignal): Promise<Probe> {
	const t0 = performance.now();
	const v = await client.version(signal);
	const uid = await client.authenticate(signal);
	const companyId = await companyIdOf(client, company, signal);
	const canCreateAttendance = await client.checkAccessRights("hr.attendance", "create", signal);
	return { serverVersion: v.server_version ?? null, uid, companyId, canCreateAttendance, latencyMs: Math.round(performance.now() - t0) };
}
