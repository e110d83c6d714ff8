/**
 * Shifts and the day a sighting belongs to: a night shift across midnight (and across the
 * DST change nights), 23:59 and 00:01, late against a shift on a change day, the night
 * worker leaving when the early shift starts, weekdays, tallies.
 */
import { arrivalOn, arrivalStatus, latestStarted, occurrence, percent, placeSighting, tallyOccurrence, type ShiftRule } from "../../../lib/attendance/shifts";

const H = 3600_000;
const PARIS = "Europe/Paris";
const NY = "America/New_York";
const ALL = [1, 2, 3, 4, 5, 6, 7];
const day: ShiftRule = { id: "S-DAY", name: "Day", start: "09:00", end: "17:00", days: ALL, lateAfterMinutes: 5, expectedHeadcount: 3 };
const night: ShiftRule = { id: "S-NIGHT", name: "Night", start: "22:00", end: "06:00", days: ALL, lateAfterMinutes: 10, expectedHeadcount: 2 };
const early: ShiftRule = { id: "S-EARLY", name: "Early", start: "06:00", end: "14:00", days: ALL, lateAfterMinutes: 0, expectedHeadcount: 1 };
const at = (s: string) => new Date(s);

describe("shifts", () => {
	it("puts a night shift's end on the next day, as long as the clocks make it", () => {
		const spring = occurrence(night, "2025-03-29", PARIS)!;
		expect(spring.start.toISOString()).toBe("2025-03-29T21:00:00.000Z");
		expect(spring.end.toISOString()).toBe("2025-03-30T04:00:00.000Z");
		expect(spring.end.getTime() - spring.start.getTime()).toBe(7 * H);
		const autumn = occurrence(night, "2025-10-25", PARIS)!;
		expect(autumn.start.toISOString()).toBe("2025-10-25T20:00:00.000Z");
		expect(autumn.end.toISOString()).toBe("2025-10-26T05:00:00.000Z");
		expect(autumn.end.getTime() - autumn.start.getTime()).toBe(9 * H);
		expect(autumn.lateAt.toISOString()).toBe("2025-10-25T20:10:00.000Z");
		// A weekday shift does not run on Sunday.
		expect(occurrence({ ...day, days: [1, 2, 3, 4, 5] }, "2025-03-30", PARIS)).toBeNull();
		expect(occurrence({ ...day, days: [1, 2, 3, 4, 5] }, "2025-03-31", PARIS)).not.toBeNull();
	});

	it("keeps 23:59 and 00:01 on one night shift's day, and on two calendar days without a shift", () => {
		// Paris in January: 22:59Z is 23:59, 23:01Z is 00:01 the next day.
		const before = at("2025-01-15T22:59:00Z");
		const after = at("2025-01-15T23:01:00Z");
		expect(placeSighting(before, PARIS, [day, night], [])).toEqual({ day: "2025-01-15", occurrence: expect.objectContaining({ shiftId: "S-NIGHT", date: "2025-01-15" }) });
		expect(placeSighting(after, PARIS, [day, night], [])).toEqual({ day: "2025-01-15", occurrence: expect.objectContaining({ shiftId: "S-NIGHT" }) });
		expect(placeSighting(after, PARIS, [day, night], [{ day: "2025-01-15", shiftId: "S-NIGHT" }]).day).toBe("2025-01-15");
		expect(placeSighting(before, PARIS, [], [])).toEqual({ day: "2025-01-15", occurrence: null });
		expect(placeSighting(after, PARIS, [], [])).toEqual({ day: "2025-01-16", occurrence: null });
		// With only a day shift, midnight separates the days too.
		expect(placeSighting(after, PARIS, [day], []).day).toBe("2025-01-16");
	});

	it("counts someone seen at 23:59 for a shift starting at 00:30 on its own date", () => {
		const graveyard: ShiftRule = { ...night, id: "S-00", name: "Graveyard", start: "00:30", end: "08:30" };
		const p = placeSighting(at("2025-01-15T22:59:00Z"), PARIS, [graveyard], []);
		expect(p.day).toBe("2025-01-16");
		expect(p.occurrence?.start.toISOString()).toBe("2025-01-15T23:30:00.000Z");
	});

	it("keeps the night worker leaving at 06:05 on last night's log though the early shift starts at 06:00", () => {
		const leaving = at("2025-01-16T05:05:00Z"); // 06:05 in Paris
		expect(placeSighting(leaving, PARIS, [early, night], [{ day: "2025-01-15", shiftId: "S-NIGHT" }])).toEqual({ day: "2025-01-15", occurrence: expect.objectContaining({ shiftId: "S-NIGHT" }) });
		// Nobody on the night shift: it is an (already late) arrival for the early shift.
		const fresh = placeSighting(leaving, PARIS, [early, night], []);
		expect(fresh.occurrence?.shiftId).toBe("S-EARLY");
		expect(fresh.day).toBe("2025-01-16");
		expect(arrivalStatus(leaving, fresh.occurrence!.lateAt)).toBe("late");
		// Long after the night shift (past STAY_AFTER_MINUTES), a new day begins.
		expect(placeSighting(at("2025-01-16T11:00:00Z"), PARIS, [night], [{ day: "2025-01-15", shiftId: "S-NIGHT" }]).day).toBe("2025-01-16");
	});

	it("keeps one day through the repeated hour of the autumn change night", () => {
		const logs = [{ day: "2025-10-25", shiftId: "S-NIGHT" }];
		const arrive = placeSighting(at("2025-10-25T19:50:00Z"), PARIS, [night], []); // 21:50 CEST
		expect(arrive.day).toBe("2025-10-25");
		expect(arrivalStatus(at("2025-10-25T19:50:00Z"), arrive.occurrence!.lateAt)).toBe("present");
		expect(placeSighting(at("2025-10-26T00:30:00Z"), PARIS, [night], logs).day).toBe("2025-10-25"); // 02:30 CEST
		expect(placeSighting(at("2025-10-26T01:30:00Z"), PARIS, [night], logs).day).toBe("2025-10-25"); // 02:30 CET
		expect(placeSighting(at("2025-10-26T05:10:00Z"), PARIS, [night], logs).day).toBe("2025-10-25"); // 06:10 CET
	});

	it("is late against the shift's local start on a DST change day", () => {
		// 2025-03-30 in Paris: 09:00 CEST is 07:00Z (it was 08:00Z the day before).
		const onTime = placeSighting(at("2025-03-30T07:04:00Z"), PARIS, [day], []);
		expect(onTime.occurrence?.start.toISOString()).toBe("2025-03-30T07:00:00.000Z");
		expect(arrivalStatus(at("2025-03-30T07:04:00Z"), onTime.occurrence!.lateAt)).toBe("present");
		expect(arrivalStatus(at("2025-03-30T07:06:00Z"), onTime.occurrence!.lateAt)).toBe("late");
		// The same UTC instant the day before is 08:06 local: early, present.
		const saturday = placeSighting(at("2025-03-29T07:06:00Z"), PARIS, [day], []);
		expect(arrivalStatus(at("2025-03-29T07:06:00Z"), saturday.occurrence!.lateAt)).toBe("present");
		// New York, 2025-11-02: 09:00 EST is 14:00Z.
		const ny = placeSighting(at("2025-11-02T14:06:00Z"), NY, [day], []);
		expect(ny.occurrence?.start.toISOString()).toBe("2025-11-02T14:00:00.000Z");
		expect(arrivalStatus(at("2025-11-02T14:06:00Z"), ny.occurrence!.lateAt)).toBe("late");
		expect(arrivalStatus(at("2025-11-02T13:06:00Z"), ny.occurrence!.lateAt)).toBe("present");
		expect(arrivalStatus(at("2025-11-02T13:06:00Z"), null)).toBe("present");
	});

	it("gives an earlier first sighting the shift it arrives for on the log's day", () => {
		expect(arrivalOn("2025-01-15", at("2025-01-15T07:30:00Z"), PARIS, [day, night])?.shiftId).toBe("S-DAY");
		expect(arrivalOn("2025-01-16", at("2025-01-15T07:30:00Z"), PARIS, [day, night])).toBeNull();
	});

	it("tallies an occurrence: attended, late, missed once arriving on time is over, compliance", () => {
		const o = occurrence(day, "2025-01-15", PARIS)!;
		const before = at("2025-01-15T08:04:00Z");
		const after = at("2025-01-15T09:00:00Z");
		expect(tallyOccurrence(o, ["present", "late"], before)).toEqual({ expectedHeadcount: 3, attended: 2, onTime: 1, late: 1, missed: 0, compliance: 66.7 });
		expect(tallyOccurrence(o, ["present", "late"], after)).toEqual(expect.objectContaining({ missed: 1, compliance: 66.7 }));
		expect(tallyOccurrence(o, ["present", "present", "present", "late"], after)).toEqual(expect.objectContaining({ attended: 4, missed: 0, compliance: 100 }));
		expect(tallyOccurrence({ ...o, expectedHeadcount: 0 }, ["present"], after).compliance).toBeNull();
		expect(percent(1, 3)).toBe(33.3);
		expect(latestStarted(day, at("2025-01-15T07:00:00Z"), PARIS)?.date).toBe("2025-01-14");
		expect(latestStarted(day, at("2025-01-15T08:00:00Z"), PARIS)?.date).toBe("2025-01-15");
		expect(latestStarted({ ...day, days: [] }, at("2025-01-15T08:00:00Z"), PARIS)).toBeNull();
	});
});
