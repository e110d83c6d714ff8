/**
 * Shifts, and which attendance day and shift a sighting belongs to (pure). A shift repeats
 * on ISO weekdays (1 Monday ... 7 Sunday) from `start` to `end`, local clock times in the
 * site's zone; an `end` at or before `start` is on the next day (a night shift, 22:00 to
 * 06:00). An occurrence of a shift belongs to the local date it starts on: a night shift's
 * sightings after midnight count for the day before, so a night worker has one log, not two.
 */
import { addDays, clockSeconds, isoWeekday, localDate, zonedInstant } from "./time";

/** A shift as the arithmetic needs it (lateAfterMinutes already resolved from the site's default). */
export interface ShiftRule {
	id: string;
	name: string;
	start: string;
	end: string;
	/** ISO weekdays the shift starts on. */
	days: number[];
	lateAfterMinutes: number;
	expectedHeadcount: number;
}

/** One shift on one local date. */
export interface Occurrence {
	shiftId: string;
	shiftName: string;
	/** The local date it starts on: the attendance day of everyone on it. */
	date: string;
	start: Date;
	end: Date;
	/** Arriving after this is late. */
	lateAt: Date;
	expectedHeadcount: number;
}

/** How early before its start a first sighting still counts as arriving for a shift. */
export const EARLY_ARRIVAL_MINUTES = 120;
/** How long after its end a sighting still belongs to a shift someone is on (leaving late). */
export const STAY_AFTER_MINUTES = 240;

const MIN = 60_000;

/** The shift on a date, or null when it does not run that weekday. */
export function occurrence(shift: ShiftRule, date: string, tz: string): Occurrence | null {
	if (!shift.days.includes(isoWeekday(date))) return null;
	const start = zonedInstant(date, shift.start, tz);
	const overnight = clockSeconds(shift.end) <= clockSeconds(shift.start);
	const end = zonedInstant(overnight ? addDays(date, 1) : date, shift.end, tz);
	return { shiftId: shift.id, shiftName: shift.name, date, start, end, lateAt: new Date(start.getTime() + shift.lateAfterMinutes * MIN), expectedHeadcount: shift.expectedHeadcount };
}

/** Every occurrence that could concern an instant: those starting the local day before, of, and after it. */
export function occurrencesNear(at: Date, tz: string, shifts: ShiftRule[]): Occurrence[] {
	const day = localDate(at, tz);
	const out: Occurrence[] = [];
	for (const date of [addDays(day, -1), day, addDays(day, 1)])
		for (const s of shifts) {
			const o = occurrence(s, date, tz);
			if (o) out.push(o);
		}
	return out;
}

/** A first sighting at `at` is an arrival for the occurrence: from EARLY_ARRIVAL_MINUTES before its start to its end. */
export function canArrive(at: Date, o: Occurrence): boolean {
	return at.getTime() >= o.start.getTime() - EARLY_ARRIVAL_MINUTES * MIN && at.getTime() < o.end.getTime();
}

/** Someone on the occurrence may still be seen at `at`: arrival window to STAY_AFTER_MINUTES past its end. */
export function canStay(at: Date, o: Occurrence): boolean {
	return at.getTime() >= o.start.getTime() - EARLY_ARRIVAL_MINUTES * MIN && at.getTime() <= o.end.getTime() + STAY_AFTER_MINUTES * MIN;
}

/** The occurrence an arrival at `at` is for: among those it can arrive for, the one starting nearest to it (the earlier on a tie). */
export function arrivalFor(at: Date, occurrences: Occurrence[]): Occurrence | null {
	let best: Occurrence | null = null;
	let bestGap = Infinity;
	for (const o of occurrences) {
		if (!canArrive(at, o)) continue;
		const gap = Math.abs(at.getTime() - o.start.getTime());
		if (gap < bestGap || (gap === bestGap && best && o.start < best.start)) [best, bestGap] = [o, gap];
	}
	return best;
}

/** present, or late when the arrival is after the occurrence's lateAt; no shift: present. */
export function arrivalStatus(timeIn: Date, lateAt: Date | null): "present" | "late" {
	return lateAt && timeIn.getTime() > lateAt.getTime() ? "late" : "present";
}

/** An attendance log of the same person, as placement needs it. */
export interface OpenLog {
	day: string;
	shiftId: string | null;
}

/**
 * The attendance day (and shift) of a sighting of one person, given their logs of the days
 * around it:
 * 1. a log whose shift is still running (or just ended, STAY_AFTER_MINUTES) keeps them: the
 *    night worker leaving at 06:05 stays on yesterday's log even when a 06:00 shift starts;
 * 2. else the shift they arrive for (arrivalFor): a night shift's date, a 00:30 shift's date
 *    for someone seen at 23:59 the day before;
 * 3. else the local calendar date.
 */
export function placeSighting(at: Date, tz: string, shifts: ShiftRule[], logs: OpenLog[]): { day: string; occurrence: Occurrence | null } {
	const near = occurrencesNear(at, tz, shifts);
	let kept: { day: string; occurrence: Occurrence } | null = null;
	for (const log of logs) {
		if (!log.shiftId) continue;
		const o = near.find(x => x.shiftId === log.shiftId && x.date === log.day);
		if (o && canStay(at, o) && (!kept || log.day > kept.day)) kept = { day: log.day, occurrence: o };
	}
	if (kept) return kept;
	const arrival = arrivalFor(at, near);
	if (arrival) return { day: arrival.date, occurrence: arrival };
	return { day: localDate(at, tz), occurrence: null };
}

/** The occurrence an earlier arrival on a log's day is for (a log's day never changes; its shift may, with its first sighting). */
export function arrivalOn(day: string, at: Date, tz: string, shifts: ShiftRule[]): Occurrence | null {
	return arrivalFor(
		at,
		occurrencesNear(at, tz, shifts).filter(o => o.date === day)
	);
}

/** The latest occurrence of a shift that has started by `now` (looking back a week), or null. */
export function latestStarted(shift: ShiftRule, now: Date, tz: string): Occurrence | null {
	const today = localDate(now, tz);
	for (let i = 0; i <= 7; i++) {
		const o = occurrence(shift, addDays(today, -i), tz);
		if (o && o.start.getTime() <= now.getTime()) return o;
	}
	return null;
}

/** What an occurrence's logs add up to. */
export interface ShiftTally {
	expectedHeadcount: number;
	/** Present or late. */
	attended: number;
	onTime: number;
	late: number;
	/** Marked missed by hand, or, once arriving on time is over, expected and not come. */
	missed: number;
	/** attended / expected, %, at most 100; null without an expected headcount. */
	compliance: number | null;
}

/** The tally of one occurrence from its logs' statuses, at `now`. */
export function tallyOccurrence(o: Occurrence, statuses: string[], now: Date): ShiftTally {
	const onTime = statuses.filter(s => s === "present").length;
	const late = statuses.filter(s => s === "late").length;
	const marked = statuses.filter(s => s === "missed").length;
	const attended = onTime + late;
	const settled = now.getTime() > o.lateAt.getTime();
	const missed = settled ? Math.max(marked, o.expectedHeadcount - attended) : marked;
	return { expectedHeadcount: o.expectedHeadcount, attended, onTime, late, missed, compliance: percent(Math.min(attended, o.expectedHeadcount), o.expectedHeadcount) };
}

/** part / whole as a percentage with one decimal; null when whole is 0. */
export function percent(part: number, whole: number): number | null {
	return whole > 0 ? Math.round((1000 * part) / whole) / 10 : null;
}
