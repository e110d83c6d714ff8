/**
 * Local calendar arithmetic in an IANA time zone, with Intl only (pure, no tz library).
 * A local date is "YYYY-MM-DD", a clock time "HH:MM" or "HH:MM:SS"; instants are Dates.
 * A local day is not always 24 hours: it is 23 on the day clocks go forward and 25 on the
 * day they go back, so a day's bounds and a wall time's instant are always asked of the
 * zone, never computed by adding hours.
 */

const DAY_MS = 86_400_000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const CLOCK_RE = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/;

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
	let f = formatters.get(tz);
	if (!f) {
		f = new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
		formatters.set(tz, f);
	}
	return f;
}

/** An IANA zone name this runtime knows (Intl accepts it). */
export function isTimeZone(tz: string): boolean {
	if (typeof tz !== "string" || !/^[A-Za-z0-9_+\-/]{1,64}$/.test(tz)) return false;
	try {
		formatter(tz);
		return true;
	} catch {
		return false;
	}
}

export interface WallClock {
	year: number;
	month: number;
	day: number;
	hour: number;
	minute: number;
	second: number;
}

/** The wall clock of an instant in a zone. */
export function wallClock(at: Date | number, tz: string): WallClock {
	const parts = formatter(tz).formatToParts(new Date(at));
	const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find(p => p.type === type)?.value);
	return { year: get("year"), month: get("month"), day: get("day"), hour: get("hour") % 24, minute: get("minute"), second: get("second") };
}

/** The wall clock read as if it were UTC, in ms (seconds precision). */
function wallMs(at: number, tz: string): number {
	const w = wallClock(at, tz);
	return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

/** The zone's offset from UTC at an instant, in ms (+1 h for Paris in winter). */
export function offsetMs(at: Date | number, tz: string): number {
	const t = Math.floor(new Date(at).getTime() / 1000) * 1000;
	return wallMs(t, tz) - t;
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** The local date of an instant: "YYYY-MM-DD". */
export function localDate(at: Date | number, tz: string): string {
	const w = wallClock(at, tz);
	return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
}

/** The local clock time of an instant: "HH:MM:SS". */
export function localTime(at: Date | number, tz: string): string {
	const w = wallClock(at, tz);
	return `${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`;
}

/** The local hour (0-23) of an instant. */
export function localHour(at: Date | number, tz: string): number {
	return wallClock(at, tz).hour;
}

/** A real calendar date "YYYY-MM-DD" (2025-02-30 is not). */
export function isDate(s: string): boolean {
	const m = DATE_RE.exec(s);
	if (!m) return false;
	const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
	return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

/** A clock time "HH:MM" or "HH:MM:SS" (00:00 to 23:59:59). */
export function isClock(s: string): boolean {
	return CLOCK_RE.test(s);
}

/** Seconds since local midnight of a clock time ("22:30" -> 81000). */
export function clockSeconds(clock: string): number {
	const m = CLOCK_RE.exec(clock);
	if (!m) throw new RangeError(`Not a clock time: ${clock}`);
	return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0);
}

function dateParts(date: string): [number, number, number] {
	const m = DATE_RE.exec(date);
	if (!m || !isDate(date)) throw new RangeError(`Not a date: ${date}`);
	return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** Calendar arithmetic on local dates (no zone involved): addDays("2025-03-31", 1) = "2025-04-01". */
export function addDays(date: string, days: number): string {
	const [y, m, d] = dateParts(date);
	const t = new Date(Date.UTC(y, m - 1, d + days));
	return `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}

/** Days from one local date to another (both included is `daysBetween + 1`). */
export function daysBetween(from: string, to: string): number {
	const [a, b] = [dateParts(from), dateParts(to)];
	return Math.round((Date.UTC(b[0], b[1] - 1, b[2]) - Date.UTC(a[0], a[1] - 1, a[2])) / DAY_MS);
}

/** ISO weekday of a local date: 1 Monday ... 7 Sunday. */
export function isoWeekday(date: string): number {
	const [y, m, d] = dateParts(date);
	return ((new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7) + 1;
}

/**
 * The instant a wall time happens in a zone. A time the clocks skip (02:30 on the spring
 * change day in Paris) is taken as far past the gap as it was into it (03:30 CEST); a time
 * they repeat (01:30 on the autumn day in New York) is its first occurrence. This is what
 * Temporal calls the "compatible" disambiguation, and what a person reading a clock means.
 */
export function zonedInstant(date: string, clock: string, tz: string): Date {
	const [y, m, d] = dateParts(date);
	const s = clockSeconds(clock);
	const wall = Date.UTC(y, m - 1, d) + s * 1000;
	// The offsets in force a day either side: at most one change lies between them.
	const before = offsetMs(wall - DAY_MS, tz);
	const after = offsetMs(wall + DAY_MS, tz);
	const found = [...new Set([wall - before, wall - after])].filter(t => wallMs(t, tz) === wall).sort((a, b) => a - b);
	if (found.length) return new Date(found[0]);
	return new Date(wall - before);
}

/** The first instant of a local day (midnight, or the first instant after it if the zone skips it). */
export function dayStart(date: string, tz: string): Date {
	return zonedInstant(date, "00:00", tz);
}

/** [start, end) of a local day: 23, 24 or 25 hours. */
export function dayRange(date: string, tz: string): { start: Date; end: Date } {
	return { start: dayStart(date, tz), end: dayStart(addDays(date, 1), tz) };
}

/** The local dates from `from` to `to`, both included. */
export function datesFrom(from: string, to: string): string[] {
	const n = daysBetween(from, to);
	const out: string[] = [];
	for (let i = 0; i <= n; i++) out.push(addDays(from, i));
	return out;
}
