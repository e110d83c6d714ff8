/**
 * Attendance logs (pure): one per person per attendance day, kept by merging sightings into
 * it. A merge only ever moves timeIn earlier, timeOut later and accuracy up, so it gives the
 * same log whatever order the sightings come in and however often one is merged again: a
 * retried or concurrent sighting cannot make it wrong. Statistics over logs, in their zone.
 */
import crypto from "node:crypto";
import { arrivalStatus, type Occurrence } from "./shifts";
import { datesFrom, localHour } from "./time";

export type LogStatus = "present" | "late" | "missed";
export type OdooStatus = "pending" | "synced" | "failed";

/** The fields of a log a merge reads and writes. */
export interface LogState {
	day: string;
	timezone: string;
	timeInAt: Date | null;
	timeOutAt: Date | null;
	cameraId: string | null;
	cameraName: string | null;
	lastCameraId: string | null;
	lastCameraName: string | null;
	lastConfidence: number | null;
	accuracy: number | null;
	shiftId: string | null;
	shiftName: string | null;
	shiftStart: Date | null;
	shiftEnd: Date | null;
	lateAt: Date | null;
	status: LogStatus;
	/** Set by hand (a manual entry with a status): sightings no longer change it. */
	statusLocked: boolean;
	odooStatus: OdooStatus;
}

export interface Sighting {
	at: Date;
	cameraId: string | null;
	cameraName: string | null;
	/** 0-100. */
	confidence: number | null;
}

/** The log id of a person's day: the same on every node and every retry ("ATT-20251105-3f9a0c1b2d"). */
export function logId(employeeId: string, day: string): string {
	return `ATT-${day.replace(/-/g, "")}-${crypto.createHash("sha256").update(employeeId).digest("hex").slice(0, 10)}`;
}

const shiftFields = (o: Occurrence | null) => ({ shiftId: o?.shiftId ?? null, shiftName: o?.shiftName ?? null, shiftStart: o?.start ?? null, shiftEnd: o?.end ?? null, lateAt: o?.lateAt ?? null });

/** A new log from its first sighting (or, for a manual "missed", none). */
export function newLog(day: string, timezone: string, s: Sighting | null, o: Occurrence | null, status?: LogStatus): LogState {
	return {
		day,
		timezone,
		timeInAt: s?.at ?? null,
		timeOutAt: s?.at ?? null,
		cameraId: s?.cameraId ?? null,
		cameraName: s?.cameraName ?? null,
		lastCameraId: s?.cameraId ?? null,
		lastCameraName: s?.cameraName ?? null,
		lastConfidence: s?.confidence ?? null,
		accuracy: s?.confidence ?? null,
		...shiftFields(o),
		status: status ?? (s ? arrivalStatus(s.at, o?.lateAt ?? null) : "missed"),
		statusLocked: status !== undefined,
		odooStatus: "pending"
	};
}

const ms = (d: Date | string | null) => (d === null ? null : new Date(d).getTime());

/**
 * The changes a sighting makes to a log, or null when it changes nothing. `arrival` is the
 * occurrence an earlier first sighting is for on the log's day (arrivalOn), if any: a new
 * timeIn takes its shift; without one the log keeps its shift. A changed time makes the log
 * pending for Odoo again.
 */
export function mergeSighting(log: LogState, s: Sighting, arrival: Occurrence | null): Partial<LogState> | null {
	const set: Partial<LogState> = {};
	const at = s.at.getTime();
	const timeIn = ms(log.timeInAt);
	const timeOut = ms(log.timeOutAt);
	if (timeIn === null || at < timeIn) {
		Object.assign(set, { timeInAt: s.at, cameraId: s.cameraId, cameraName: s.cameraName });
		if (arrival) Object.assign(set, shiftFields(arrival));
		const lateAt = arrival ? arrival.lateAt : log.lateAt;
		if (!log.statusLocked) set.status = arrivalStatus(s.at, lateAt ? new Date(lateAt) : null);
	}
	if (timeOut === null || at > timeOut) Object.assign(set, { timeOutAt: s.at, lastCameraId: s.cameraId, lastCameraName: s.cameraName, lastConfidence: s.confidence });
	if (s.confidence !== null && (log.accuracy === null || s.confidence > log.accuracy)) set.accuracy = s.confidence;
	if (set.timeInAt || set.timeOutAt) if (log.odooStatus !== "pending") set.odooStatus = "pending";
	if (set.status === log.status) delete set.status;
	return Object.keys(set).length ? set : null;
}

/** The fields statistics read. */
export interface LogFacts {
	day: string;
	timezone: string;
	timeInAt: Date | string | null;
	status: string;
	source: string;
	employeeId: string;
	cameraId: string | null;
	cameraName: string | null;
}

export interface Statistics {
	from: string;
	to: string;
	totals: { logs: number; people: number; present: number; late: number; missed: number; manual: number };
	/** Arrivals (timeIn) by local hour, 0-23. */
	byHour: { hour: number; arrivals: number; late: number }[];
	byDay: { date: string; total: number; present: number; late: number; missed: number }[];
	/** Logs by the camera of their first sighting. */
	byCamera: { cameraId: string | null; cameraName: string | null; arrivals: number; late: number }[];
}

/** Statistics of the logs of the days from..to (both included), each log read in its own zone. */
export function statistics(logs: LogFacts[], from: string, to: string): Statistics {
	const byHour = Array.from({ length: 24 }, (_, hour) => ({ hour, arrivals: 0, late: 0 }));
	const byDay = new Map(datesFrom(from, to).map(date => [date, { date, total: 0, present: 0, late: 0, missed: 0 }]));
	const byCamera = new Map<string, { cameraId: string | null; cameraName: string | null; arrivals: number; late: number }>();
	const totals = { logs: 0, people: 0, present: 0, late: 0, missed: 0, manual: 0 };
	const people = new Set<string>();
	for (const l of logs) {
		const day = byDay.get(l.day);
		if (!day) continue;
		totals.logs++;
		people.add(l.employeeId);
		if (l.source === "manual") totals.manual++;
		const status = l.status === "late" || l.status === "missed" ? l.status : "present";
		totals[status]++;
		day.total++;
		day[status]++;
		if (l.timeInAt !== null && status !== "missed") {
			const h = byHour[localHour(new Date(l.timeInAt), l.timezone)];
			h.arrivals++;
			if (status === "late") h.late++;
			const key = l.cameraId ?? "";
			const c = byCamera.get(key) ?? { cameraId: l.cameraId, cameraName: l.cameraName, arrivals: 0, late: 0 };
			c.arrivals++;
			if (status === "late") c.late++;
			if (!c.cameraName && l.cameraName) c.cameraName = l.cameraName;
			byCamera.set(key, c);
		}
	}
	totals.people = people.size;
	return {
		from,
		to,
		totals,
		byHour,
		byDay: [...byDay.values()],
		byCamera: [...byCamera.values()].sort((a, b) => b.arrivals - a.arrivals || String(a.cameraId).localeCompare(String(b.cameraId)))
	};
}
