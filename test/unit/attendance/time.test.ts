/**
 * Local days and wall times in IANA zones with Intl: days of 23 and 25 hours on the DST
 * change days of Europe/Paris and America/New_York, skipped and repeated wall times,
 * midnight, calendar arithmetic.
 */
import { addDays, dayRange, datesFrom, daysBetween, isClock, isDate, isTimeZone, isoWeekday, localDate, localHour, localTime, offsetMs, zonedInstant } from "../../../lib/attendance/time";

const H = 3600_000;
const iso = (d: Date) => d.toISOString();

describe("attendance time arithmetic", () => {
	it("knows IANA zones and refuses others", () => {
		expect(isTimeZone("Europe/Paris")).toBe(true);
		expect(isTimeZone("America/New_York")).toBe(true);
		expect(isTimeZone("UTC")).toBe(true);
		expect(isTimeZone("Mars/Olympus_Mons")).toBe(false);
		expect(isTimeZone("")).toBe(false);
		expect(isTimeZone("../etc/passwd")).toBe(false);
	});

	it("reads local dates, times and hours around midnight", () => {
		// Paris in January is UTC+1: 22:59Z is 23:59 the same day, 23:01Z is 00:01 the next.
		expect(localDate(new Date("2025-01-15T22:59:00Z"), "Europe/Paris")).toBe("2025-01-15");
		expect(localTime(new Date("2025-01-15T22:59:00Z"), "Europe/Paris")).toBe("23:59:00");
		expect(localDate(new Date("2025-01-15T23:01:00Z"), "Europe/Paris")).toBe("2025-01-16");
		expect(localTime(new Date("2025-01-15T23:01:00Z"), "Europe/Paris")).toBe("00:01:00");
		expect(localHour(new Date("2025-01-15T23:01:00Z"), "Europe/Paris")).toBe(0);
		// New York in January is UTC-5: 04:59Z is 23:59 the day before.
		expect(localDate(new Date("2025-01-16T04:59:00Z"), "America/New_York")).toBe("2025-01-15");
		expect(localDate(new Date("2025-01-16T05:01:00Z"), "America/New_York")).toBe("2025-01-16");
		expect(localTime(new Date("2025-01-16T05:00:00Z"), "America/New_York")).toBe("00:00:00");
	});

	it("gives the offsets either side of a change", () => {
		expect(offsetMs(new Date("2025-03-30T00:59:59Z"), "Europe/Paris")).toBe(1 * H);
		expect(offsetMs(new Date("2025-03-30T01:00:00Z"), "Europe/Paris")).toBe(2 * H);
		expect(offsetMs(new Date("2025-11-02T05:59:59Z"), "America/New_York")).toBe(-4 * H);
		expect(offsetMs(new Date("2025-11-02T06:00:00Z"), "America/New_York")).toBe(-5 * H);
	});

	it("has days of 23 and 25 hours on the change days, 24 otherwise", () => {
		const paris = (d: string) => dayRange(d, "Europe/Paris");
		expect(iso(paris("2025-03-30").start)).toBe("2025-03-29T23:00:00.000Z");
		expect(iso(paris("2025-03-30").end)).toBe("2025-03-30T22:00:00.000Z");
		expect(paris("2025-03-30").end.getTime() - paris("2025-03-30").start.getTime()).toBe(23 * H);
		expect(paris("2025-10-26").end.getTime() - paris("2025-10-26").start.getTime()).toBe(25 * H);
		expect(paris("2025-10-27").end.getTime() - paris("2025-10-27").start.getTime()).toBe(24 * H);
		const ny = (d: string) => dayRange(d, "America/New_York");
		expect(iso(ny("2025-03-09").start)).toBe("2025-03-09T05:00:00.000Z");
		expect(iso(ny("2025-03-09").end)).toBe("2025-03-10T04:00:00.000Z");
		expect(iso(ny("2025-11-02").start)).toBe("2025-11-02T04:00:00.000Z");
		expect(iso(ny("2025-11-02").end)).toBe("2025-11-03T05:00:00.000Z");
		expect(ny("2025-11-02").end.getTime() - ny("2025-11-02").start.getTime()).toBe(25 * H);
	});

	it("turns wall times into instants: skipped ones past the gap, repeated ones at their first occurrence", () => {
		// The same 09:00 is 08:00Z the day before the spring change and 07:00Z on it.
		expect(iso(zonedInstant("2025-03-29", "09:00", "Europe/Paris"))).toBe("2025-03-29T08:00:00.000Z");
		expect(iso(zonedInstant("2025-03-30", "09:00", "Europe/Paris"))).toBe("2025-03-30T07:00:00.000Z");
		// 02:30 does not happen in Paris on 2025-03-30 (02:00 -> 03:00): it is 03:30 CEST.
		expect(iso(zonedInstant("2025-03-30", "02:30", "Europe/Paris"))).toBe("2025-03-30T01:30:00.000Z");
		expect(localTime(zonedInstant("2025-03-30", "02:30", "Europe/Paris"), "Europe/Paris")).toBe("03:30:00");
		expect(iso(zonedInstant("2025-03-09", "02:30", "America/New_York"))).toBe("2025-03-09T07:30:00.000Z");
		// 01:30 happens twice in New York on 2025-11-02 (EDT, then EST): the first.
		expect(iso(zonedInstant("2025-11-02", "01:30", "America/New_York"))).toBe("2025-11-02T05:30:00.000Z");
		expect(iso(zonedInstant("2025-10-26", "02:30", "Europe/Paris"))).toBe("2025-10-26T00:30:00.000Z");
		// Just after the repeated hour, one answer again.
		expect(iso(zonedInstant("2025-11-02", "02:00", "America/New_York"))).toBe("2025-11-02T07:00:00.000Z");
		expect(iso(zonedInstant("2025-06-01", "23:59:30", "UTC"))).toBe("2025-06-01T23:59:30.000Z");
	});

	it("does calendar arithmetic on local dates", () => {
		expect(addDays("2025-03-31", 1)).toBe("2025-04-01");
		expect(addDays("2025-01-01", -1)).toBe("2024-12-31");
		expect(addDays("2024-02-28", 1)).toBe("2024-02-29");
		expect(daysBetween("2025-03-29", "2025-04-02")).toBe(4);
		expect(datesFrom("2025-10-25", "2025-10-27")).toEqual(["2025-10-25", "2025-10-26", "2025-10-27"]);
		expect(isoWeekday("2025-03-30")).toBe(7);
		expect(isoWeekday("2025-03-31")).toBe(1);
		expect(isDate("2025-02-29")).toBe(false);
		expect(isDate("2024-02-29")).toBe(true);
		expect(isDate("2025-1-5")).toBe(false);
		expect(isClock("24:00")).toBe(false);
		expect(isClock("23:59")).toBe(true);
		expect(isClock("07:05:09")).toBe(true);
	});
});
