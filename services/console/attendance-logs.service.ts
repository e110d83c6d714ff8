/**
 * Attendance from the cameras (storage role; seed 002 "Attendance"): one log per person per
 * attendance day in the site's zone, with timeIn (first confirmed detection), timeOut (last),
 * the camera of the first, the best confidence, and status present / late against the shifts
 * (or missed, set by hand); who is on site now; manual entries; statistics; today's overview;
 * what Odoo has not taken yet. The day, shift and status arithmetic is lib/attendance.
 *
 * The monitor actors call `recordSighting` for every confirmed detection of a known person.
 * A detection is claimed by its id first (attendanceSightings): a retry changes nothing. The
 * log's id is made from (employeeId, day), so two nodes or two cameras making the same log
 * at once make one (the second insert fails on the unique `_id` and merges instead; on
 * MongoDB the unique index on (employeeId, day) says the same), and every change is a
 * compare-and-set on the log's version, retried on a conflict. A merge only moves timeIn
 * earlier, timeOut later and accuracy up, so order and repetition do not matter.
 * Changes broadcast `attendance.updated` and `live.attendance.updated`.
 *
 * Exports (services/export-worker.service.ts) read the logs of GET /attendance/logs's
 * filters as of an instant (`createdAt` at or before it, so a retried export reads the same
 * logs) with `exportCount` and `exportPage`, in log id order (day, then person): keyset pages
 * (`_id` after the last one seen), which both stores answer from the `_id` index without
 * sorting what was already read, at most EXPORT_PAGE_BYTES of cells per page (one message).
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { DbMixin } from "../../mixins/db.mixin";
import { pageParams, pageQuery, paged, type PageParams } from "../../lib/api/paging";
import { logId, mergeSighting, newLog, statistics, type LogState, type LogStatus, type OdooStatus, type Sighting } from "../../lib/attendance/logs";
import { arrivalOn, occurrence, percent, placeSighting, tallyOccurrence, type Occurrence, type ShiftRule } from "../../lib/attendance/shifts";
import { addDays, daysBetween, isDate, localDate, localTime } from "../../lib/attendance/time";
import { consoleId, lookupOf } from "../../lib/cameras/registry";
import { attendanceCells, equalitiesAsRanges, idWindowEnd, LocalClock } from "../../lib/exports/attendance";
import type { Cell } from "../../lib/exports/csv";
import { ApiError, notFound } from "../../lib/errors";
import type { DbVars, GatewayMeta, Implements } from "../schema";
import type { SightingDoc } from "../attendance-sightings.service";
import type { SiteSettings } from "./site.service";

export interface LogDoc extends LogState {
	_id: string;
	employeeId: string;
	personId: string | null;
	name: string;
	department: string | null;
	source: "auto" | "manual";
	note: string | null;
	manualBy: string | null;
	sightings: number;
	odooSyncTime: Date | null;
	odooError: string | null;
	odooAttendanceId?: number | null;
	odooClaimBy?: string | null;
	odooClaimUntil?: number;
	createdAt: Date;
	updatedAt: Date;
	version: number;
}

interface Person {
	employeeId: string;
	personId: string | null;
	name: string;
	department: string | null;
}

type Change = "created" | "updated" | "deleted";

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);
const pct = (confidence: number | null | undefined) => (confidence === null || confidence === undefined ? null : Math.round(confidence * 1000) / 10);
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const MAX_RANGE_DAYS = 366;
const RECENT_DAYS = 7;

const date = { type: "string", pattern: "^\\d{4}-\\d{2}-\\d{2}$", messages: { stringPattern: "'{field}' must be a date YYYY-MM-DD" } } as const;
const cameraParam = { type: "string", min: 1, max: 50, pattern: "^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$", trim: true } as const;
const statusParam = { type: "enum", values: ["present", "late", "missed"] } as const;
const odooParam = { type: "enum", values: ["pending", "synced", "failed"] } as const;
const idParam = { type: "string", min: 1, max: 64, pattern: "^[A-Za-z0-9_-]+$" } as const;
const search = { type: "string", max: 100, trim: true, optional: true } as const;

/** The filters of GET /attendance/logs (POST /attendance/export takes the same). */
export const LOG_FILTER_PARAMS = {
	search,
	cameraId: { ...cameraParam, optional: true },
	dateFrom: { ...date, optional: true },
	dateTo: { ...date, optional: true },
	odooStatus: { ...odooParam, optional: true },
	status: { ...statusParam, optional: true },
	source: { type: "enum", values: ["auto", "manual"], optional: true },
	employeeId: { type: "string", max: 64, trim: true, optional: true }
} as const;

/** Cells of one export page, at most (a transporter message is ~1 MB). */
export const EXPORT_PAGE_BYTES = 400 * 1024;

const LOG_RESPONSE = {
	type: "object",
	properties: {
		id: { type: "string" },
		employeeId: { type: "string" },
		personId: { type: ["string", "null"] },
		name: { type: "string" },
		department: { type: ["string", "null"] },
		date: { type: "string", description: "attendance day, site time" },
		timeIn: { type: ["string", "null"], description: "HH:MM:SS, site time" },
		timeOut: { type: ["string", "null"], description: "HH:MM:SS, site time (may be the next day: see timeOutAt)" },
		timeInAt: { type: ["string", "null"], format: "date-time" },
		timeOutAt: { type: ["string", "null"], format: "date-time" },
		timezone: { type: "string" },
		cameraId: { type: ["string", "null"] },
		cameraName: { type: ["string", "null"] },
		accuracy: { type: ["number", "null"], description: "best confidence, %" },
		status: { type: "string", enum: ["present", "late", "missed"] },
		source: { type: "string", enum: ["auto", "manual"] },
		shiftId: { type: ["string", "null"] },
		shiftName: { type: ["string", "null"] },
		sightings: { type: "integer" },
		odooStatus: { type: "string", enum: ["pending", "synced", "failed"] },
		odooSyncTime: { type: ["string", "null"], format: "date-time" },
		odooError: { type: ["string", "null"] },
		odooAttendanceId: { type: ["integer", "null"], description: "Odoo's hr.attendance id" }
	}
};
const RECORD_RESPONSE = {
	type: "object",
	properties: {
		id: { type: "string" },
		personId: { type: ["string", "null"] },
		employeeId: { type: "string" },
		name: { type: "string" },
		department: { type: ["string", "null"] },
		status: { type: "string", enum: ["on-site", "off-site"] },
		accuracy: { type: ["number", "null"] },
		timestamp: { type: "string", format: "date-time", description: "last seen" },
		cameraId: { type: ["string", "null"] },
		cameraName: { type: ["string", "null"] }
	}
};

interface Settings {
	family: string;
	resource: string;
	fields: string[];
	maxLimit: number;
}
interface Methods {
	view(d: LogDoc): Record<string, unknown>;
	context(ctx: Context): Promise<{ site: SiteSettings; shifts: ShiftRule[] }>;
	cameraOf(ctx: Context, id: string | number | null | undefined): Promise<{ id: string | null; name: string | null }>;
	neighbours(employeeId: string, at: Date, tz: string): Promise<LogDoc[]>;
	upsert(id: string, create: () => LogDoc, change: (log: LogDoc) => Partial<LogDoc> | null): Promise<{ log: LogDoc; change: Change | null }>;
	changed(log: LogDoc, change: Change): void;
	range(p: { dateFrom?: string; dateTo?: string }, tz: string, defaultDays: number): { from: string; to: string };
	logQuery(ctx: Context, p: LogFilters, tz: string): Promise<Record<string, unknown>>;
	overviewOf(ctx: Context, day: string): Promise<Record<string, unknown>>;
}
type Vars = DbVars;

interface LogFilters {
	search?: string;
	cameraId?: string;
	dateFrom?: string;
	dateTo?: string;
	odooStatus?: OdooStatus;
	status?: LogStatus;
	source?: "auto" | "manual";
	employeeId?: string;
}

interface SightingParams {
	detectionId: string;
	personId: string;
	employeeId?: string | null;
	name: string;
	department?: string | null;
	cameraId: string | number;
	at: Date;
	confidence?: number | null;
}

const fieldError = (field: string, issue: string) => new ApiError(400, "VALIDATION_ERROR", `${field}: ${issue}`, { details: [{ field, issue }] });

export default function attendanceLogsService(cfg: Config): ServiceSchema<Settings, Methods, Vars> {
	return {
		name: "attendanceLogs",
		mixins: [DbMixin("attendance_logs", cfg)],
		settings: {
			family: "console",
			resource: "attendance",
			fields: ["_id", "employeeId", "personId", "name", "department", "day", "timezone", "timeInAt", "timeOutAt", "cameraId", "cameraName", "lastCameraId", "accuracy", "status", "source", "shiftId", "odooStatus", "odooSyncTime", "sightings"],
			maxLimit: 10000
		},
		actions: {
			records: {
				rest: "GET /attendance/records",
				permission: "attendance:read",
				paged: true,
				openapi: { summary: "Who is on site now: everyone seen in the last 7 days, last seen first, on-site while unseen for less than the site's onSiteAbsenceMinutes", tags: ["attendance"], response: RECORD_RESPONSE },
				params: {
					...pageParams,
					limit: { type: "number", integer: true, min: 1, max: 100, convert: true, optional: true, description: "seed 002's name for pageSize" },
					status: { type: "enum", values: ["on-site", "off-site"], optional: true },
					cameraId: { ...cameraParam, optional: true },
					search,
					$$strict: true
				},
				async handler(ctx: Context<PageParams & { limit?: number; status?: string; cameraId?: string; search?: string }>) {
					const p = { ...ctx.params, pageSize: ctx.params.limit ?? ctx.params.pageSize };
					const { site } = await this.context(ctx);
					const now = Date.now();
					const recent: LogDoc[] = await this.adapter.find({ query: { timeOutAt: { $gte: new Date(now - RECENT_DAYS * 86_400_000) } }, sort: ["-timeOutAt"] });
					const seen = new Set<string>();
					const camera = p.cameraId ? (await this.cameraOf(ctx, p.cameraId)).id : null;
					const s = p.search?.toLowerCase();
					const rows = [];
					for (const d of recent) {
						if (seen.has(d.employeeId)) continue;
						seen.add(d.employeeId);
						const lastSeen = new Date(d.timeOutAt!).getTime();
						const status = now - lastSeen <= site.onSiteAbsenceMinutes * 60_000 ? "on-site" : "off-site";
						if (p.status && status !== p.status) continue;
						if (camera && d.lastCameraId !== camera) continue;
						if (s && ![d.name, d.employeeId, d.department].some(v => String(v ?? "").toLowerCase().includes(s))) continue;
						rows.push({
							id: d._id,
							personId: d.personId,
							employeeId: d.employeeId,
							name: d.name,
							role: null,
							department: d.department,
							status,
							accuracy: d.lastConfidence ?? null,
							timestamp: iso(d.timeOutAt),
							cameraId: d.lastCameraId,
							cameraName: d.lastCameraName,
							thumbnail: null,
							logStatus: d.status,
							date: d.day
						});
					}
					const { offset, limit } = pageQuery(p);
					return paged(rows.slice(offset, offset + limit), rows.length, p);
				}
			},

			list: {
				rest: "GET /attendance/logs",
				permission: "attendance:read",
				paged: true,
				openapi: { summary: "Attendance logs, one per person per day (site time), newest day first", tags: ["attendance"], response: LOG_RESPONSE },
				params: { ...pageParams, ...LOG_FILTER_PARAMS, $$strict: true },
				async handler(ctx: Context<PageParams & LogFilters>) {
					const { site } = await this.context(ctx);
					const query = await this.logQuery(ctx, ctx.params, site.timezone);
					const { offset, limit } = pageQuery(ctx.params);
					const [rows, total] = await Promise.all([this.adapter.find({ query, sort: ["-day", "-timeInAt"], offset, limit }), this.adapter.count({ query })]);
					return paged((rows as LogDoc[]).map(d => this.view(d)), total, ctx.params);
				}
			},

			pending: {
				rest: "GET /attendance/pending",
				permission: "attendance:read",
				paged: true,
				openapi: { summary: "Logs not synced to Odoo yet (pending or failed), oldest first", tags: ["attendance"], response: LOG_RESPONSE },
				params: { ...pageParams, odooStatus: { type: "enum", values: ["pending", "failed"], optional: true }, $$strict: true },
				async handler(ctx: Context<PageParams & { odooStatus?: OdooStatus }>) {
					const query = { odooStatus: ctx.params.odooStatus ?? { $in: ["pending", "failed"] } };
					const { offset, limit } = pageQuery(ctx.params);
					const [rows, total] = await Promise.all([this.adapter.find({ query, sort: ["day", "timeInAt"], offset, limit }), this.adapter.count({ query })]);
					return paged((rows as LogDoc[]).map(d => this.view(d)), total, ctx.params);
				}
			},

			manual: {
				rest: "POST /attendance/manual",
				permission: "attendance:write",
				status: 201,
				openapi: {
					summary: "Enter attendance by hand (marked manual; a status given is kept against later sightings; missed records an absence)",
					tags: ["attendance"],
					response: LOG_RESPONSE,
					errors: ["PERSON_NOT_FOUND"]
				},
				params: {
					employeeId: { type: "string", min: 1, max: 64, trim: true },
					name: { type: "string", min: 1, max: 200, trim: true, optional: true },
					department: { type: "string", max: 200, trim: true, optional: true },
					cameraId: { ...cameraParam, optional: true },
					timestamp: { type: "date", convert: true },
					status: { ...statusParam, optional: true },
					note: { type: "string", max: 500, trim: true, optional: true },
					$$strict: true
				},
				async handler(ctx: Context<{ employeeId: string; name?: string; department?: string; cameraId?: string; timestamp: Date; status?: LogStatus; note?: string }, GatewayMeta>) {
					const p = ctx.params;
					const { site, shifts } = await this.context(ctx);
					const tz = site.timezone;
					const at = p.timestamp;
					const [camera, near] = await Promise.all([p.cameraId ? this.cameraOf(ctx, p.cameraId) : Promise.resolve({ id: null, name: null }), this.neighbours(p.employeeId, at, tz)]);
					const { day } = placeSighting(at, tz, shifts, near);
					const id = logId(p.employeeId, day);
					// Who: the name given, else what the logs or the face profiles know.
					let person: Person | null = null;
					const [known]: LogDoc[] = await this.adapter.find({ query: { employeeId: p.employeeId }, sort: ["-day"], limit: 1 });
					if (known) person = { employeeId: p.employeeId, personId: known.personId, name: known.name, department: known.department };
					if (!person) {
						try {
							const [face] = await ctx.call<{ _id: string; name: string; department?: string }[], object>("faces.find", { query: { employeeId: p.employeeId }, limit: 1 });
							if (face) person = { employeeId: p.employeeId, personId: String(face._id), name: face.name, department: face.department || null };
						} catch {
							/* no face profiles yet */
						}
					}
					if (!person && !p.name) throw new ApiError(404, "PERSON_NOT_FOUND", `Nobody known as ${p.employeeId}: give their name`, { details: [{ field: "name", issue: "required for a person not seen before" }] });
					person = { employeeId: p.employeeId, personId: person?.personId ?? null, name: p.name ?? person!.name, department: p.department ?? person?.department ?? null };
					const s: Sighting = { at, cameraId: camera.id, cameraName: camera.name, confidence: null };
					const occ = arrivalOn(day, at, tz, shifts);
					const by = ctx.meta.user?.email ?? ctx.meta.user?.name ?? null;
					const manual = { source: "manual" as const, note: p.note ?? null, manualBy: by };
					const { log } = await this.upsert(
						id,
						() => ({ ...blank(id, person!, tz), ...newLog(day, tz, p.status === "missed" ? null : s, occ, p.status), ...manual }),
						log => {
							const set: Partial<LogDoc> = p.status === "missed" ? {} : (mergeSighting(log, s, occ) ?? {});
							if (p.status) Object.assign(set, { status: p.status, statusLocked: true });
							return { ...set, ...manual, name: person!.name, department: person!.department, odooStatus: "pending" };
						}
					);
					ctx.meta.$audit = { resourceId: log._id, message: `Manual attendance for ${log.employeeId} on ${log.day}${p.status ? ` (${p.status})` : ""}`, context: { day: log.day } };
					return this.view(log);
				}
			},

			remove: {
				rest: "DELETE /attendance/:id",
				permission: "attendance:write",
				status: 204,
				openapi: { summary: "Delete an attendance log (its detections are not counted again)", tags: ["attendance"], errors: ["ATTENDANCE_NOT_FOUND"] },
				params: { id: idParam, $$strict: true },
				async handler(ctx: Context<{ id: string }, GatewayMeta>) {
					const doc: LogDoc | null = await this.adapter.findById(ctx.params.id);
					if (!doc) throw notFound("ATTENDANCE_NOT_FOUND", `Attendance log not found: ${ctx.params.id}`);
					await this.adapter.removeById(doc._id);
					ctx.meta.$audit = { resourceId: doc._id, message: `Deleted the attendance of ${doc.employeeId} on ${doc.day}` };
					this.changed(doc, "deleted");
					return null;
				}
			},

			statistics: {
				rest: "GET /attendance/statistics",
				permission: "attendance:read",
				openapi: {
					summary: "Arrivals by local hour, logs by day and by camera of arrival, over a range of site days (default: the last 7)",
					tags: ["attendance"],
					response: { type: "object", properties: { from: { type: "string" }, to: { type: "string" }, timezone: { type: "string" }, totals: { type: "object" }, byHour: { type: "array" }, byDay: { type: "array" }, byCamera: { type: "array" } } }
				},
				params: { dateFrom: { ...date, optional: true }, dateTo: { ...date, optional: true }, cameraId: { ...cameraParam, optional: true }, $$strict: true },
				async handler(ctx: Context<{ dateFrom?: string; dateTo?: string; cameraId?: string }>) {
					const { site } = await this.context(ctx);
					const { from, to } = this.range(ctx.params, site.timezone, 7);
					const query: Record<string, unknown> = { day: { $gte: from, $lte: to } };
					if (ctx.params.cameraId) query.cameraId = (await this.cameraOf(ctx, ctx.params.cameraId)).id;
					const logs: LogDoc[] = await this.adapter.find({ query });
					return { ...statistics(logs, from, to), timezone: site.timezone };
				}
			},

			overview: {
				rest: "GET /attendance/overview",
				permission: "attendance:read",
				openapi: {
					summary: "A day's attendance (default today, site time): present, late, missed, expected headcount from the shifts, compliance, who is on site now",
					tags: ["attendance"],
					response: {
						type: "object",
						properties: {
							date: { type: "string" },
							timezone: { type: "string" },
							present: { type: "integer" },
							late: { type: "integer" },
							missed: { type: "integer" },
							attended: { type: "integer" },
							detected: { type: "integer", description: "seen by a camera" },
							expectedHeadcount: { type: "integer" },
							compliance: { type: ["number", "null"] },
							onSiteNow: { type: "integer" },
							manualEntries: { type: "integer" },
							shifts: { type: "array" }
						}
					}
				},
				params: { date: { ...date, optional: true }, $$strict: true },
				async handler(ctx: Context<{ date?: string }>) {
					const { site } = await this.context(ctx);
					if (ctx.params.date && !isDate(ctx.params.date)) throw fieldError("date", "not a calendar date");
					return this.overviewOf(ctx, ctx.params.date ?? localDate(new Date(), site.timezone));
				}
			},

			// ---- for other services (not routed) ----

			/** How many logs an export of these filters, as of `asOf`, holds. */
			exportCount: {
				visibility: "public",
				params: { filters: { type: "object", props: LOG_FILTER_PARAMS, strict: true }, asOf: { type: "date", convert: true } },
				async handler(ctx: Context<{ filters: LogFilters; asOf: Date }>) {
					const query = { ...(await this.logQuery(ctx, ctx.params.filters, "")), createdAt: { $lte: ctx.params.asOf } };
					return this.adapter.count({ query });
				}
			},

			/** The next page of an export: cells of the logs after `after` (log id order), and where to go on. */
			exportPage: {
				visibility: "public",
				params: {
					filters: { type: "object", props: LOG_FILTER_PARAMS, strict: true },
					asOf: { type: "date", convert: true },
					after: { type: "string", max: 128, optional: true },
					limit: { type: "number", integer: true, min: 1, max: 5000, optional: true }
				},
				async handler(ctx: Context<{ filters: LogFilters; asOf: Date; after?: string; limit?: number }>) {
					const p = ctx.params;
					const limit = p.limit ?? 2000;
					const base = equalitiesAsRanges({ ...(await this.logQuery(ctx, p.filters, "")), createdAt: { $lte: p.asOf } });
					// `_id` last: NeDB reads the candidates from the last range of the query.
					const find = (range: Record<string, string>, n: number): Promise<LogDoc[]> => this.adapter.find({ query: { ...base, _id: range }, sort: ["_id"], limit: n });
					let lo = p.after ?? "";
					let firstDay = "";
					if (!/^ATT-\d{8}/.test(lo)) {
						const [first] = await find({ $gt: lo }, 1);
						if (!first) return { rows: [], last: lo, done: true };
						firstDay = first.day;
					}
					const clock = new LocalClock();
					const rows: Cell[][] = [];
					let bytes = 0;
					// Windows of days from lo, growing while they hold fewer logs than the page wants.
					for (let days = 1; rows.length < limit; days *= 2) {
						const hi = idWindowEnd(lo, firstDay, days);
						const want = limit - rows.length;
						const docs = await find(hi ? { $gt: lo, $lt: hi } : { $gt: lo }, want);
						for (const d of docs) {
							const cells = attendanceCells(d, clock);
							for (const c of cells) bytes += typeof c === "string" ? c.length * 2 + 2 : 9;
							if (rows.length && bytes > EXPORT_PAGE_BYTES) return { rows, last: lo, done: false };
							rows.push(cells);
							lo = d._id;
						}
						if (docs.length === want) break; // the page is full; the window may hold more
						if (hi === null) return { rows, last: lo, done: true };
						lo = hi; // the window is read: on from its end
					}
					return { rows, last: lo, done: false };
				}
			},

			/** A confirmed detection of a known person (the monitor actors). Idempotent by detectionId. */
			recordSighting: {
				visibility: "public",
				params: {
					detectionId: { type: "string", min: 1, max: 128 },
					personId: { type: "string", min: 1, max: 128 },
					employeeId: { type: "string", min: 1, max: 64, optional: true, nullable: true },
					name: { type: "string", min: 1, max: 200 },
					department: { type: "string", max: 200, optional: true, nullable: true },
					cameraId: [
						{ type: "number", integer: true, min: 1, max: 32767 },
						{ type: "string", min: 1, max: 50 }
					],
					at: { type: "date", convert: true },
					confidence: { type: "number", min: 0, max: 1, optional: true, nullable: true, description: "similarity 0..1, as detections keep it" },
					$$strict: "remove"
				},
				async handler(ctx: Context<SightingParams>) {
					const p = ctx.params;
					const employeeId = p.employeeId ?? p.personId;
					const [{ site, shifts }, camera, near] = await Promise.all([this.context(ctx), this.cameraOf(ctx, p.cameraId), this.neighbours(employeeId, p.at, "")]);
					const tz = site.timezone;
					const placed = placeSighting(p.at, tz, shifts, near);
					const claim = await ctx.call<{ created: boolean; sighting: SightingDoc }, object>("attendanceSightings.claim", {
						detectionId: p.detectionId,
						logId: logId(employeeId, placed.day),
						day: placed.day,
						employeeId,
						personId: p.personId,
						cameraId: camera.id,
						at: p.at,
						confidence: p.confidence ?? null
					});
					if (!claim.created && claim.sighting.applied) return { logId: claim.sighting.logId, day: claim.sighting.day, duplicate: true, changed: false };
					// A claim left unapplied (a crash, or the same detection at once): the day it was given.
					const day = claim.sighting.day;
					const id = claim.sighting.logId;
					const s: Sighting = { at: p.at, cameraId: camera.id, cameraName: camera.name, confidence: pct(p.confidence) };
					const occ: Occurrence | null = arrivalOn(day, p.at, tz, shifts);
					const person: Person = { employeeId, personId: p.personId, name: p.name, department: p.department ?? null };
					const { log, change } = await this.upsert(
						id,
						() => ({ ...blank(id, person, tz), ...newLog(day, tz, s, occ), day }),
						log => mergeSighting(log, s, occ)
					);
					if (claim.created) await this.adapter.updateMany({ _id: id }, { $inc: { sightings: 1 } });
					await ctx.call("attendanceSightings.applied", { detectionId: p.detectionId });
					if (change) this.changed({ ...log, sightings: log.sightings + (claim.created ? 1 : 0) }, change);
					return { logId: id, day, status: log.status, duplicate: !claim.created, changed: change !== null };
				}
			},

			/**
			 * The Odoo sync takes logs to send (services/odoo-sync.service.ts): each log free (no
			 * claim, or one run out) is held by `owner` until `ttlMs` from now; the logs it now
			 * holds are answered, oldest first. Two runs at once never send the same log.
			 */
			odooClaim: {
				visibility: "public",
				params: { ids: { type: "array", items: "string", max: 100 }, owner: { type: "string", min: 1, max: 200 }, ttlMs: { type: "number", positive: true } },
				async handler(ctx: Context<{ ids: string[]; owner: string; ttlMs: number }>) {
					const { ids, owner, ttlMs } = ctx.params;
					const now = Date.now();
					await Promise.all(
						ids.map(id =>
							this.adapter.updateMany(
								{ _id: id, $or: [{ odooClaimUntil: { $exists: false } }, { odooClaimUntil: { $lt: now } }, { odooClaimBy: owner }] },
								{ $set: { odooClaimBy: owner, odooClaimUntil: now + ttlMs } }
							)
						)
					);
					const held: LogDoc[] = await this.adapter.find({ query: { _id: { $in: ids }, odooClaimBy: owner } });
					return held.sort((a, b) => a.day.localeCompare(b.day) || new Date(a.timeInAt ?? 0).getTime() - new Date(b.timeInAt ?? 0).getTime());
				}
			},

			/**
			 * What Odoo made of claimed logs, each by compare-and-set on the version it was sent
			 * at: a log changed meanwhile (a later sighting: pending again) keeps its new state and
			 * only learns Odoo's record id. The claims are let go either way.
			 */
			odooResults: {
				visibility: "public",
				params: {
					owner: { type: "string", min: 1, max: 200 },
					results: {
						type: "array",
						max: 100,
						items: {
							type: "object",
							props: {
								id: "string",
								version: "number",
								odooStatus: { type: "enum", values: ["pending", "synced", "failed"] },
								odooSyncTime: { type: "date", convert: true, nullable: true, optional: true },
								odooError: { type: "string", nullable: true, optional: true },
								odooAttendanceId: { type: "number", nullable: true, optional: true }
							}
						}
					}
				},
				async handler(ctx: Context<{ owner: string; results: { id: string; version: number; odooStatus: OdooStatus; odooSyncTime?: Date | null; odooError?: string | null; odooAttendanceId?: number | null }[] }>) {
					const { owner } = ctx.params;
					const release = { odooClaimBy: null, odooClaimUntil: 0 };
					const applied = await Promise.all(
						ctx.params.results.map(async r => {
							const set: Record<string, unknown> = { odooStatus: r.odooStatus, odooError: r.odooError ?? null, ...release, updatedAt: new Date(), version: r.version + 1 };
							if (r.odooSyncTime !== undefined) set.odooSyncTime = r.odooSyncTime;
							if (r.odooAttendanceId) set.odooAttendanceId = r.odooAttendanceId;
							if ((await this.adapter.updateMany({ _id: r.id, version: r.version, odooClaimBy: owner }, { $set: set })) === 1) return true;
							await this.adapter.updateMany({ _id: r.id, odooClaimBy: owner }, { $set: { ...release, ...(r.odooAttendanceId ? { odooAttendanceId: r.odooAttendanceId } : {}) } });
							return false;
						})
					);
					return { applied: applied.filter(Boolean).length, changedMeanwhile: applied.filter(a => !a).length };
				}
			},

			/** Let claimed logs go untouched (a run cut short). */
			odooRelease: {
				visibility: "public",
				params: { ids: { type: "array", items: "string", max: 100 }, owner: { type: "string", min: 1, max: 200 } },
				async handler(ctx: Context<{ ids: string[]; owner: string }>) {
					const n = await this.adapter.updateMany({ _id: { $in: ctx.params.ids }, odooClaimBy: ctx.params.owner }, { $set: { odooClaimBy: null, odooClaimUntil: 0 } });
					return { released: n };
				}
			},

			/** The statuses of the logs of some (shift, day) pairs, keyed "shiftId|day" (shifts' compliance). */
			statusesOf: {
				visibility: "public",
				params: { pairs: { type: "array", max: 1000, items: { type: "object", props: { shiftId: "string", day: "string" } } } },
				async handler(ctx: Context<{ pairs: { shiftId: string; day: string }[] }>) {
					const pairs = ctx.params.pairs;
					const out: Record<string, string[]> = {};
					if (!pairs.length) return out;
					const wanted = new Set(pairs.map(x => `${x.shiftId}|${x.day}`));
					const docs: LogDoc[] = await this.adapter.find({ query: { shiftId: { $in: [...new Set(pairs.map(x => x.shiftId))] }, day: { $in: [...new Set(pairs.map(x => x.day))] } } });
					for (const d of docs) {
						const k = `${d.shiftId}|${d.day}`;
						if (wanted.has(k)) (out[k] ??= []).push(d.status);
					}
					return out;
				}
			},

			/** A person's logs over a range, newest first, with their tally (history). */
			ofEmployee: {
				visibility: "public",
				params: { employeeId: "string", dateFrom: { type: "string", optional: true }, dateTo: { type: "string", optional: true }, limit: { type: "number", integer: true, min: 1, max: 1000, optional: true } },
				async handler(ctx: Context<{ employeeId: string; dateFrom?: string; dateTo?: string; limit?: number }>) {
					const p = ctx.params;
					const query: Record<string, unknown> = { employeeId: p.employeeId };
					if (p.dateFrom || p.dateTo) query.day = { ...(p.dateFrom ? { $gte: p.dateFrom } : {}), ...(p.dateTo ? { $lte: p.dateTo } : {}) };
					const count = (status?: string) => this.adapter.count({ query: status ? { ...query, status } : query });
					const [docs, total, present, late, missed] = await Promise.all([this.adapter.find({ query, sort: ["-day"], limit: p.limit ?? 100 }), count(), count("present"), count("late"), count("missed")]);
					return { logs: (docs as LogDoc[]).map(d => this.view(d)), totals: { days: total, present, late, missed }, person: docs[0] ? { personId: docs[0].personId, name: docs[0].name, department: docs[0].department } : null };
				}
			}
		},

		methods: {
			view(d) {
				const tz = d.timezone;
				return {
					id: d._id,
					employeeId: d.employeeId,
					personId: d.personId ?? null,
					name: d.name,
					department: d.department ?? null,
					date: d.day,
					timeIn: d.timeInAt ? localTime(d.timeInAt, tz) : null,
					timeOut: d.timeOutAt ? localTime(d.timeOutAt, tz) : null,
					timeInAt: iso(d.timeInAt),
					timeOutAt: iso(d.timeOutAt),
					timezone: tz,
					cameraId: d.cameraId ?? null,
					cameraName: d.cameraName ?? null,
					lastCameraId: d.lastCameraId ?? null,
					lastCameraName: d.lastCameraName ?? null,
					accuracy: d.accuracy ?? null,
					status: d.status,
					source: d.source,
					note: d.note ?? null,
					shiftId: d.shiftId ?? null,
					shiftName: d.shiftName ?? null,
					sightings: d.sightings ?? 0,
					odooStatus: d.odooStatus,
					odooSyncTime: iso(d.odooSyncTime),
					odooError: d.odooError ?? null,
					odooAttendanceId: d.odooAttendanceId ?? null,
					createdAt: iso(d.createdAt),
					updatedAt: iso(d.updatedAt),
					version: d.version
				};
			},

			async context(ctx) {
				const [site, shifts] = await Promise.all([ctx.call<SiteSettings>("site.current"), ctx.call<ShiftRule[]>("shifts.rules")]);
				return { site, shifts };
			},

			/** A camera's console id and name from either of its ids; unknown to the registry: the id as given. */
			async cameraOf(ctx, id) {
				if (id === null || id === undefined || id === "") return { id: null, name: null };
				try {
					const [c] = await ctx.call<{ _id: string; name: string }[], object>("cameras.find", { query: lookupOf(id), limit: 1, fields: ["_id", "name"] });
					if (c) return { id: c._id, name: c.name };
				} catch (err) {
					this.logger.warn("Camera not looked up", { cameraId: id, error: (err as Error).message });
				}
				return { id: typeof id === "number" || /^\d+$/.test(id) ? consoleId(Number(id)) : id, name: null };
			},

			/** The person's logs of the days around an instant (placement looks at them). */
			async neighbours(employeeId, at) {
				// Any zone is within a day of UTC: the UTC day and two either side cover the local ones.
				const d = at.toISOString().slice(0, 10);
				return this.adapter.find({ query: { employeeId, day: { $in: [addDays(d, -2), addDays(d, -1), d, addDays(d, 1)] } } });
			},

			/** Create the log, or change it by compare-and-set on its version; retried on a conflict. */
			async upsert(id, create, change) {
				for (let attempt = 0; attempt < 20; attempt++) {
					const log: LogDoc | null = await this.adapter.findById(id);
					if (!log) {
						const doc = create();
						try {
							await this.adapter.insert(doc);
							return { log: doc, change: "created" };
						} catch (err) {
							if (!/unique|duplicate/i.test((err as Error).message)) throw err;
							continue; // made meanwhile by another sighting: merge into it
						}
					}
					const set = change(log);
					if (!set) return { log, change: null };
					const version = log.version + 1;
					const updatedAt = new Date();
					const n = await this.adapter.updateMany({ _id: id, version: log.version }, { $set: { ...set, updatedAt, version } });
					if (n === 1) return { log: { ...log, ...set, updatedAt, version }, change: "updated" };
				}
				throw new ApiError(503, "ATTENDANCE_BUSY", `Attendance log ${id} kept changing; try again`);
			},

			changed(log, change) {
				const payload = { change, ...this.view(log) };
				this.broker.broadcast("attendance.updated", payload);
				this.broker.broadcast("live.attendance.updated", payload);
			},

			range(p, tz, defaultDays) {
				const today = localDate(new Date(), tz);
				const to = p.dateTo ?? (p.dateFrom ? addDays(p.dateFrom, defaultDays - 1) : today);
				const from = p.dateFrom ?? addDays(to, -(defaultDays - 1));
				if (!isDate(from)) throw fieldError("dateFrom", "not a calendar date");
				if (!isDate(to)) throw fieldError("dateTo", "not a calendar date");
				if (to < from) throw fieldError("dateTo", "before dateFrom");
				if (daysBetween(from, to) >= MAX_RANGE_DAYS) throw fieldError("dateTo", `at most ${MAX_RANGE_DAYS} days from dateFrom`);
				return { from, to };
			},

			async logQuery(ctx, p) {
				const query: Record<string, unknown> = {};
				if (p.dateFrom && !isDate(p.dateFrom)) throw fieldError("dateFrom", "not a calendar date");
				if (p.dateTo && !isDate(p.dateTo)) throw fieldError("dateTo", "not a calendar date");
				if (p.dateFrom || p.dateTo) query.day = { ...(p.dateFrom ? { $gte: p.dateFrom } : {}), ...(p.dateTo ? { $lte: p.dateTo } : {}) };
				if (p.odooStatus) query.odooStatus = p.odooStatus;
				if (p.status) query.status = p.status;
				if (p.source) query.source = p.source;
				if (p.employeeId) query.employeeId = p.employeeId;
				if (p.cameraId) query.cameraId = (await this.cameraOf(ctx, p.cameraId)).id;
				if (p.search) {
					const re = new RegExp(escape(p.search), "i");
					query.$or = [{ name: { $regex: re } }, { employeeId: { $regex: re } }, { department: { $regex: re } }];
				}
				return query;
			},

			async overviewOf(ctx, day) {
				const { site, shifts } = await this.context(ctx);
				const tz = site.timezone;
				const now = new Date();
				const logs: LogDoc[] = await this.adapter.find({ query: { day } });
				const occurrences = shifts.map(s => occurrence(s, day, tz)).filter((o): o is Occurrence => o !== null);
				const shiftRows = occurrences.map(o => {
					const t = tallyOccurrence(
						o,
						logs.filter(l => l.shiftId === o.shiftId).map(l => l.status),
						now
					);
					return { shiftId: o.shiftId, name: o.shiftName, start: o.start.toISOString(), end: o.end.toISOString(), ...t };
				});
				const inShift = new Set(occurrences.map(o => o.shiftId));
				const count = (status: string) => logs.filter(l => l.status === status).length;
				const expected = shiftRows.reduce((n, r) => n + r.expectedHeadcount, 0);
				const covered = shiftRows.reduce((n, r) => n + Math.min(r.attended, r.expectedHeadcount), 0);
				const missedOutside = logs.filter(l => l.status === "missed" && !(l.shiftId && inShift.has(l.shiftId))).length;
				const onSite = await this.adapter.find({ query: { timeOutAt: { $gte: new Date(now.getTime() - site.onSiteAbsenceMinutes * 60_000) } } });
				return {
					date: day,
					timezone: tz,
					present: count("present"),
					late: count("late"),
					missed: shiftRows.reduce((n, r) => n + r.missed, 0) + missedOutside,
					attended: count("present") + count("late"),
					detected: logs.filter(l => (l.sightings ?? 0) > 0).length,
					expectedHeadcount: expected,
					compliance: percent(covered, expected),
					onSiteNow: new Set((onSite as LogDoc[]).map(l => l.employeeId)).size,
					manualEntries: logs.filter(l => l.source === "manual").length,
					shifts: shiftRows
				};
			}
		} satisfies Implements<Methods, Settings, Vars>
	};
}

/** The parts of a new log that are not its times: who, and its bookkeeping. */
function blank(id: string, person: Person, tz: string): Omit<LogDoc, keyof LogState> & { timezone: string } {
	const now = new Date();
	return {
		_id: id,
		employeeId: person.employeeId,
		personId: person.personId,
		name: person.name,
		department: person.department,
		timezone: tz,
		source: "auto",
		note: null,
		manualBy: null,
		sightings: 0,
		odooSyncTime: null,
		odooError: null,
		odooAttendanceId: null,
		odooClaimBy: null,
		odooClaimUntil: 0,
		createdAt: now,
		updatedAt: now,
		version: 1
	};
}
