/**
 * Merging sightings into a log: the same log in any order and however often a sighting is
 * merged again; a hand-set status kept; statistics against hand-counted logs.
 */
import { logId, mergeSighting, newLog, statistics, type LogState, type Sighting } from "../../../lib/attendance/logs";
import { arrivalOn, occurrence, type ShiftRule } from "../../../lib/attendance/shifts";

const PARIS = "Europe/Paris";
const day: ShiftRule = { id: "S-DAY", name: "Day", start: "09:00", end: "17:00", days: [1, 2, 3, 4, 5, 6, 7], lateAfterMinutes: 5, expectedHeadcount: 3 };
const s = (iso: string, cameraId: string, confidence: number): Sighting => ({ at: new Date(iso), cameraId, cameraName: `Camera ${cameraId}`, confidence });

/** Merge sightings one by one as the service does (first makes the log). */
function fold(sightings: Sighting[]): LogState {
	const [first, ...rest] = sightings;
	let log = newLog("2025-01-15", PARIS, first, arrivalOn("2025-01-15", first.at, PARIS, [day]));
	for (const x of rest) {
		const set = mergeSighting(log, x, arrivalOn("2025-01-15", x.at, PARIS, [day]));
		if (set) log = { ...log, ...set };
	}
	return log;
}

function permutations<T>(xs: T[]): T[][] {
	if (xs.length <= 1) return [xs];
	return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map(p => [x, ...p]));
}

describe("attendance logs", () => {
	const sightings = [s("2025-01-15T08:20:00Z", "CAM-02", 91.5), s("2025-01-15T08:03:00Z", "CAM-01", 88), s("2025-01-15T16:40:00Z", "CAM-03", 97.25), s("2025-01-15T12:00:00Z", "CAM-02", 93)];

	it("gives one log whatever the order of its sightings", () => {
		const expected = fold(sightings);
		expect(expected).toEqual(
			expect.objectContaining({
				timeInAt: new Date("2025-01-15T08:03:00Z"),
				cameraId: "CAM-01",
				timeOutAt: new Date("2025-01-15T16:40:00Z"),
				lastCameraId: "CAM-03",
				accuracy: 97.25,
				status: "present",
				shiftId: "S-DAY"
			})
		);
		for (const order of permutations(sightings)) expect(fold(order)).toEqual(expected);
	});

	it("changes nothing when a sighting is merged again", () => {
		const log = fold(sightings);
		for (const x of sightings) expect(mergeSighting(log, x, arrivalOn("2025-01-15", x.at, PARIS, [day]))).toBeNull();
	});

	it("turns late into present when an earlier sighting arrives late, and makes a synced log pending again", () => {
		let log = newLog("2025-01-15", PARIS, s("2025-01-15T08:30:00Z", "CAM-02", 90), occurrence(day, "2025-01-15", PARIS));
		expect(log.status).toBe("late");
		log = { ...log, odooStatus: "synced" };
		const set = mergeSighting(log, s("2025-01-15T07:58:00Z", "CAM-01", 80), arrivalOn("2025-01-15", new Date("2025-01-15T07:58:00Z"), PARIS, [day]));
		expect(set).toEqual(expect.objectContaining({ status: "present", cameraId: "CAM-01", odooStatus: "pending" }));
		expect(set).not.toHaveProperty("accuracy");
	});

	it("keeps a status set by hand", () => {
		const log = newLog("2025-01-15", PARIS, null, occurrence(day, "2025-01-15", PARIS), "missed");
		expect(log).toEqual(expect.objectContaining({ status: "missed", statusLocked: true, timeInAt: null }));
		const set = mergeSighting(log, s("2025-01-15T08:00:00Z", "CAM-01", 99), null);
		expect(set).toEqual(expect.objectContaining({ timeInAt: new Date("2025-01-15T08:00:00Z") }));
		expect(set).not.toHaveProperty("status");
	});

	it("names a person's day the same way everywhere", () => {
		expect(logId("EMP-00412", "2025-11-05")).toMatch(/^ATT-20251105-[0-9a-f]{10}$/);
		expect(logId("EMP-00412", "2025-11-05")).toBe(logId("EMP-00412", "2025-11-05"));
		expect(logId("EMP-00412", "2025-11-05")).not.toBe(logId("EMP-00413", "2025-11-05"));
	});

	it("counts statistics by hour, day and camera in each log's zone", () => {
		const log = (employeeId: string, d: string, timeInAt: string | null, status: string, cameraId: string | null, source = "auto", timezone = PARIS) => ({ employeeId, day: d, timezone, timeInAt, status, cameraId, cameraName: cameraId && `Camera ${cameraId}`, source });
		const stats = statistics(
			[
				log("A", "2025-03-29", "2025-03-29T07:55:00Z", "present", "CAM-01"), // 08:55 CET
				log("B", "2025-03-29", "2025-03-29T08:10:00Z", "late", "CAM-02"), // 09:10 CET
				log("A", "2025-03-30", "2025-03-30T06:55:00Z", "present", "CAM-01"), // 08:55 CEST
				log("B", "2025-03-30", "2025-03-30T07:20:00Z", "late", "CAM-01"), // 09:20 CEST
				log("C", "2025-03-30", null, "missed", null, "manual"),
				log("D", "2025-03-31", "2025-03-31T20:00:00Z", "present", "CAM-02"), // 22:00 CEST
				log("E", "2025-04-05", "2025-04-05T08:00:00Z", "present", "CAM-02") // outside the range
			],
			"2025-03-29",
			"2025-03-31"
		);
		expect(stats.totals).toEqual({ logs: 6, people: 4, present: 3, late: 2, missed: 1, manual: 1 });
		expect(stats.byHour.filter(h => h.arrivals > 0)).toEqual([
			{ hour: 8, arrivals: 2, late: 0 },
			{ hour: 9, arrivals: 2, late: 2 },
			{ hour: 22, arrivals: 1, late: 0 }
		]);
		expect(stats.byHour).toHaveLength(24);
		expect(stats.byDay).toEqual([
			{ date: "2025-03-29", total: 2, present: 1, late: 1, missed: 0 },
			{ date: "2025-03-30", total: 3, present: 1, late: 1, missed: 1 },
			{ date: "2025-03-31", total: 1, present: 1, late: 0, missed: 0 }
		]);
		expect(stats.byCamera).toEqual([
			{ cameraId: "CAM-01", cameraName: "Camera CAM-01", arrivals: 3, late: 1 },
			{ cameraId: "CAM-02", cameraName: "Camera CAM-02", arrivals: 2, late: 1 }
		]);
	});
});
