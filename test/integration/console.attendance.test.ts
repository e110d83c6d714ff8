/**
 * Attendance over real HTTP on a real broker with the embedded stores, fed as the monitor
 * actors feed it (attendanceLogs.recordSighting for each confirmed detection): two people,
 * two cameras, two days in Europe/Paris (the second night crossing the spring DST change), a
 * late arrival, a night shift across midnight, retries and concurrent sightings; logs,
 * presence, manual entries and deletion with their audit documents, statistics against
 * hand-counted fixtures, the day's overview, what Odoo has not taken, shifts CRUD (a Viewer
 * refused), a person's history, the dashboard summary, the events.
 */
import { ServiceBroker, type Context } from "moleculer";
import { loadConfig } from "../../config";
import { brokerOptions } from "../../moleculer.config";
import attendanceSightingsService from "../../services/attendance-sightings.service";
import camerasService from "../../services/cameras.service";
import attendanceLogsService from "../../services/console/attendance-logs.service";
import historyService from "../../services/console/history.service";
import shiftsService from "../../services/console/shifts.service";
import siteService from "../../services/console/site.service";
import systemService from "../../services/console/system.service";
import { ADMIN, CONSOLE_ENV, accountOf, call, login } from "../support/console";
import { startNode, tempDir, type TestNode } from "../support/node";

const ALICE = { personId: "P-ALICE", employeeId: "EMP-001", name: "Alice Martin", department: "Engineering" };
const BOB = { personId: "P-BOB", employeeId: "EMP-002", name: "Bob Nguyen", department: "Security" };
const CAROL = { personId: "P-CAROL", employeeId: "EMP-003", name: "Carol Diaz", department: "Engineering" };
const DAVE = { personId: "P-DAVE", employeeId: "EMP-004", name: "Dave Okafor", department: "Logistics" };

/** A zone where it is about midday now (Etc/GMT-X is UTC+X), so today's checks do not depend on when the test runs. */
function middayZone(): string {
	const offset = 12 - new Date().getUTCHours(); // -11 .. 12
	return offset === 0 ? "UTC" : `Etc/GMT${offset > 0 ? "-" : "+"}${Math.abs(offset)}`;
}

describe("console: attendance", () => {
	let node: TestNode;
	let admin: string;
	let viewer: string;
	let operator: string;
	const events: { change: string; id: string; status: string; employeeId: string }[] = [];
	const sighting = (p: typeof ALICE, detectionId: string, at: string, cameraId: string | number, confidence: number) =>
		node.broker.call<{ logId: string; day: string; status: string; duplicate: boolean; changed: boolean }, object>("attendanceLogs.recordSighting", { detectionId, ...p, cameraId, at, confidence });
	const logsOf = async (q: string) => (await call(node, `/attendance/logs?pageSize=100&${q}`, { token: admin })).body;

	beforeAll(async () => {
		node = await startNode({ ...CONSOLE_ENV, SERVICES: "gateway,storage" });
		admin = (await login(node, ADMIN.email, ADMIN.password)).accessToken;
		viewer = (await accountOf(node, admin, "ROLE-VIEWER", "viewer@attendance.test")).token;
		operator = (await accountOf(node, admin, "ROLE-OPERATOR", "operator@attendance.test")).token;
		await node.broker.createService({
			name: "attendanceListener",
			events: {
				"attendance.updated"(ctx: Context<{ change: string; id: string; status: string; employeeId: string }>) {
					events.push(ctx.params);
				}
			}
		});
		for (const [name, cameraId] of [["Main Entrance", 1], ["Back Door", 2]] as const)
			expect((await call(node, "/cameras", { token: admin, body: { name, cameraId, streamUrl: `rtsp://10.0.0.${cameraId}/s`, enabled: cameraId === 1 } })).status).toBe(201);
		// Camera 1 is up, as its monitor would report it.
		const lease = await node.broker.call<{ token: number }, object>("cameras.claim", { cameraId: 1, nodeID: "test-monitor", ttlMs: 60_000 });
		await node.broker.call("cameras.reportState", { cameraId: 1, token: lease.token, state: { status: "online" } });
	});
	afterAll(() => node?.stop());

	it("keeps the site's zone and rules, validated, changed only with settings:write", async () => {
		const r = await call(node, "/settings/site", { token: viewer });
		expect(r.status).toBe(200);
		expect(r.body.data).toEqual(expect.objectContaining({ timezone: "UTC", onSiteAbsenceMinutes: 30, lateAfterMinutes: 5, version: 1 }));
		expect((await call(node, "/settings/site", { method: "PUT", token: viewer, body: { timezone: "Europe/Paris" } })).status).toBe(403);
		expect((await call(node, "/settings/site", { method: "PUT", token: operator, body: { timezone: "Europe/Paris" } })).status).toBe(403);
		const bad = await call(node, "/settings/site", { method: "PUT", token: admin, body: { timezone: "Mars/Olympus_Mons" } });
		expect(bad.status).toBe(400);
		expect(bad.body.error.details).toEqual([{ field: "timezone", issue: "not an IANA time zone" }]);
		expect((await call(node, "/settings/site", { method: "PUT", token: admin, body: { onSiteAbsenceMinutes: 0 } })).status).toBe(400);
		const ok = await call(node, "/settings/site", { method: "PUT", token: admin, body: { timezone: "Europe/Paris", version: 1 } });
		expect(ok.status).toBe(200);
		expect(ok.body.data).toEqual(expect.objectContaining({ timezone: "Europe/Paris", onSiteAbsenceMinutes: 30, version: 2, updatedBy: ADMIN.email }));
		expect((await call(node, "/settings/site", { method: "PUT", token: admin, body: { lateAfterMinutes: 7, version: 1 } })).status).toBe(409);
	});

	let dayShift: string;
	let nightShift: string;
	it("serves shifts to readers and lets only shifts:write change them", async () => {
		const day = await call(node, "/shifts", { token: admin, body: { name: "Day", start: "09:00", end: "17:00", days: [1, 2, 3, 4, 5, 6, 7], location: "HQ", expectedHeadcount: 2 } });
		expect(day.status).toBe(201);
		expect(day.body.data).toEqual(expect.objectContaining({ name: "Day", start: "09:00", end: "17:00", overnight: false, lateAfterMinutes: 5, lateAfterMinutesSet: null, expectedHeadcount: 2, version: 1 }));
		dayShift = day.body.data.id;
		const night = await call(node, "/shifts", { token: admin, body: { name: "Night", start: "22:00", end: "06:00", days: [1, 2, 3, 4, 5, 6, 7], location: "Gate", expectedHeadcount: 1, lateAfterMinutes: 10 } });
		expect(night.body.data).toEqual(expect.objectContaining({ overnight: true, lateAfterMinutes: 10 }));
		nightShift = night.body.data.id;

		const invalid = await call(node, "/shifts", { token: admin, body: { name: "Bad", start: "25:00", end: "06:00", expectedHeadcount: 1 } });
		expect(invalid.status).toBe(400);
		expect(invalid.body.error.code).toBe("VALIDATION_ERROR");
		expect((await call(node, "/shifts", { token: admin, body: { name: "Zero", start: "08:00", end: "08:00", expectedHeadcount: 1 } })).status).toBe(400);
		expect((await call(node, "/shifts", { token: admin, body: { name: "Extra", start: "08:00", end: "12:00", expectedHeadcount: 1, colour: "red" } })).status).toBe(400);
		// A Viewer and an Operator read, never write.
		for (const token of [viewer, operator]) {
			expect((await call(node, "/shifts", { token })).status).toBe(200);
			expect((await call(node, "/shifts", { token, body: { name: "Sneaky", start: "08:00", end: "12:00", expectedHeadcount: 1 } })).status).toBe(403);
			expect((await call(node, `/shifts/${dayShift}`, { method: "PUT", token, body: { expectedHeadcount: 9 } })).status).toBe(403);
			expect((await call(node, `/shifts/${dayShift}`, { method: "DELETE", token })).status).toBe(403);
		}
		const temp = await call(node, "/shifts", { token: admin, body: { name: "Temp", start: "12:00", end: "13:00", expectedHeadcount: 1 } });
		expect(temp.body.data.days).toEqual([1, 2, 3, 4, 5]);
		const renamed = await call(node, `/shifts/${temp.body.data.id}`, { method: "PUT", token: admin, body: { name: "Lunch", version: 1 } });
		expect(renamed.body.data).toEqual(expect.objectContaining({ name: "Lunch", version: 2 }));
		expect((await call(node, `/shifts/${temp.body.data.id}`, { method: "PUT", token: admin, body: { name: "Stale", version: 1 } })).status).toBe(409);
		expect((await call(node, `/shifts/${temp.body.data.id}`, { method: "DELETE", token: admin })).status).toBe(204);
		const gone = await call(node, `/shifts/${temp.body.data.id}`, { token: admin });
		expect(gone.status).toBe(404);
		expect(gone.body.error.code).toBe("SHIFT_NOT_FOUND");
		const list = await call(node, "/shifts", { token: viewer });
		expect(list.body.data.map((s: { name: string }) => s.name)).toEqual(["Day", "Night"]);
		expect(list.body.meta).toEqual({ page: 1, pageSize: 20, total: 2, totalPages: 1 });
	});

	it("makes one log per person per day from the sightings, across midnight and the DST change, late against the shift", async () => {
		// Friday 2025-03-28, Paris is UTC+1. Alice works days, Bob nights.
		await sighting(ALICE, "d-a1", "2025-03-28T07:55:00Z", 1, 0.91); // 08:55
		await sighting(ALICE, "d-a2", "2025-03-28T11:30:00Z", "CAM-02", 0.95);
		await sighting(ALICE, "d-a3", "2025-03-28T16:10:00Z", 1, 0.93); // 17:10
		await sighting(BOB, "d-b1", "2025-03-28T21:20:00Z", 2, 0.9); // 22:20: late (after 22:10)
		await sighting(BOB, "d-b2", "2025-03-28T22:59:00Z", 1, 0.92); // 23:59
		await sighting(BOB, "d-b3", "2025-03-28T23:01:00Z", 2, 0.94); // 00:01 on the 29th
		await sighting(BOB, "d-b4", "2025-03-29T05:05:00Z", 1, 0.89); // 06:05 on the 29th
		// Saturday 2025-03-29: Alice is late; a retry; two cameras at once; one detection sent twice at once.
		const late = await sighting(ALICE, "d-a4", "2025-03-29T08:20:00Z", 2, 0.88); // 09:20
		expect(late).toEqual(expect.objectContaining({ day: "2025-03-29", status: "late", duplicate: false, changed: true }));
		await sighting(ALICE, "d-a5", "2025-03-29T15:00:00Z", 1, 0.9);
		const retry = await sighting(ALICE, "d-a4", "2025-03-29T08:20:00Z", 2, 0.88);
		expect(retry).toEqual(expect.objectContaining({ logId: late.logId, duplicate: true, changed: false }));
		await Promise.all([sighting(ALICE, "d-a6", "2025-03-29T11:00:00Z", 1, 0.97), sighting(ALICE, "d-a7", "2025-03-29T11:00:00Z", 2, 0.96)]);
		const twice = await Promise.all([sighting(ALICE, "d-a8", "2025-03-29T16:30:00Z", 2, 0.9), sighting(ALICE, "d-a8", "2025-03-29T16:30:00Z", 2, 0.9)]);
		expect(twice.map(r => r.logId)).toEqual([late.logId, late.logId]);
		// Bob's second night crosses the spring change: 22:00 CET to 06:00 CEST (04:00Z) is 7 hours.
		await sighting(BOB, "d-b5", "2025-03-29T20:58:00Z", 1, 0.93); // 21:58: present
		await sighting(BOB, "d-b6", "2025-03-30T04:02:00Z", 2, 0.91); // 06:02 CEST

		const all = await logsOf("dateFrom=2025-03-28&dateTo=2025-03-30");
		expect(all.meta.total).toBe(4);
		const by = (e: string, d: string) => all.data.find((l: { employeeId: string; date: string }) => l.employeeId === e && l.date === d);
		expect(all.data.map((l: { employeeId: string; date: string }) => `${l.date} ${l.employeeId}`)).toEqual(["2025-03-29 EMP-001", "2025-03-29 EMP-002", "2025-03-28 EMP-001", "2025-03-28 EMP-002"].sort().reverse());
		expect(by("EMP-001", "2025-03-28")).toEqual(
			expect.objectContaining({ name: "Alice Martin", department: "Engineering", personId: "P-ALICE", timeIn: "08:55:00", timeOut: "17:10:00", cameraId: "CAM-01", cameraName: "Main Entrance", accuracy: 95, status: "present", source: "auto", shiftName: "Day", sightings: 3, odooStatus: "pending", timezone: "Europe/Paris" })
		);
		expect(by("EMP-002", "2025-03-28")).toEqual(
			expect.objectContaining({ timeIn: "22:20:00", timeOut: "06:05:00", timeInAt: "2025-03-28T21:20:00.000Z", timeOutAt: "2025-03-29T05:05:00.000Z", cameraId: "CAM-02", cameraName: "Back Door", accuracy: 94, status: "late", shiftName: "Night", sightings: 4 })
		);
		expect(by("EMP-001", "2025-03-29")).toEqual(expect.objectContaining({ timeIn: "09:20:00", timeOut: "17:30:00", cameraId: "CAM-02", accuracy: 97, status: "late", sightings: 5, lastCameraId: "CAM-02" }));
		expect(by("EMP-002", "2025-03-29")).toEqual(expect.objectContaining({ timeIn: "21:58:00", timeOut: "06:02:00", timeOutAt: "2025-03-30T04:02:00.000Z", status: "present", shiftName: "Night", sightings: 2 }));
		for (const l of all.data) expect(new Date(l.timeInAt).getTime()).toBeLessThanOrEqual(new Date(l.timeOutAt).getTime());

		// Filters and paging.
		expect((await logsOf("search=alice")).meta.total).toBe(2);
		expect((await logsOf("search=SECUR")).data.map((l: { employeeId: string }) => l.employeeId)).toEqual(["EMP-002", "EMP-002"]);
		expect((await logsOf("cameraId=CAM-01")).data.map((l: { date: string; employeeId: string }) => `${l.date} ${l.employeeId}`)).toEqual(["2025-03-29 EMP-002", "2025-03-28 EMP-001"]);
		expect((await logsOf("cameraId=2")).meta.total).toBe(2);
		expect((await logsOf("status=late")).meta.total).toBe(2);
		expect((await logsOf("dateFrom=2025-03-29&dateTo=2025-03-29")).meta.total).toBe(2);
		expect((await logsOf("odooStatus=synced")).meta.total).toBe(0);
		const page = await call(node, "/attendance/logs?pageSize=1&page=2", { token: viewer });
		expect(page.body.meta).toEqual({ page: 2, pageSize: 1, total: 4, totalPages: 4 });
		expect((await call(node, "/attendance/logs?dateFrom=2025-02-30", { token: admin })).status).toBe(400);
		expect((await call(node, "/attendance/logs?colour=red", { token: admin })).status).toBe(400);
		// The events of the changes.
		expect(events.filter(e => e.change === "created").map(e => e.employeeId).sort()).toEqual(["EMP-001", "EMP-001", "EMP-002", "EMP-002"]);
		expect(events.some(e => e.change === "updated" && e.id === late.logId)).toBe(true);
	});

	it("counts statistics by hour, day and camera as counted by hand", async () => {
		const r = await call(node, "/attendance/statistics?dateFrom=2025-03-28&dateTo=2025-03-29", { token: viewer });
		expect(r.status).toBe(200);
		const s = r.body.data;
		expect(s).toEqual(expect.objectContaining({ from: "2025-03-28", to: "2025-03-29", timezone: "Europe/Paris" }));
		expect(s.totals).toEqual({ logs: 4, people: 2, present: 2, late: 2, missed: 0, manual: 0 });
		expect(s.byHour.filter((h: { arrivals: number }) => h.arrivals > 0)).toEqual([
			{ hour: 8, arrivals: 1, late: 0 },
			{ hour: 9, arrivals: 1, late: 1 },
			{ hour: 21, arrivals: 1, late: 0 },
			{ hour: 22, arrivals: 1, late: 1 }
		]);
		expect(s.byDay).toEqual([
			{ date: "2025-03-28", total: 2, present: 1, late: 1, missed: 0 },
			{ date: "2025-03-29", total: 2, present: 1, late: 1, missed: 0 }
		]);
		expect(s.byCamera).toEqual([
			{ cameraId: "CAM-01", cameraName: "Main Entrance", arrivals: 2, late: 0 },
			{ cameraId: "CAM-02", cameraName: "Back Door", arrivals: 2, late: 2 }
		]);
		const cam2 = await call(node, "/attendance/statistics?dateFrom=2025-03-28&dateTo=2025-03-29&cameraId=CAM-02", { token: viewer });
		expect(cam2.body.data.totals).toEqual(expect.objectContaining({ logs: 2, late: 2 }));
		expect((await call(node, "/attendance/statistics?dateFrom=2025-03-29&dateTo=2025-03-28", { token: viewer })).status).toBe(400);
		expect((await call(node, "/attendance/statistics?dateFrom=2024-01-01&dateTo=2025-03-28", { token: viewer })).status).toBe(400);
		expect((await call(node, "/attendance/statistics", { token: viewer })).body.data.byDay).toHaveLength(7);
	});

	it("tallies a past day's overview against the shifts", async () => {
		const r = await call(node, "/attendance/overview?date=2025-03-29", { token: viewer });
		expect(r.status).toBe(200);
		expect(r.body.data).toEqual(expect.objectContaining({ date: "2025-03-29", present: 1, late: 1, missed: 1, attended: 2, detected: 2, expectedHeadcount: 3, compliance: 66.7, manualEntries: 0 }));
		expect(r.body.data.shifts).toEqual([
			expect.objectContaining({ shiftId: dayShift, name: "Day", start: "2025-03-29T08:00:00.000Z", attended: 1, late: 1, missed: 1, compliance: 50 }),
			expect.objectContaining({ shiftId: nightShift, name: "Night", start: "2025-03-29T21:00:00.000Z", end: "2025-03-30T04:00:00.000Z", attended: 1, onTime: 1, compliance: 100 })
		]);
	});

	let erinLog: string;
	it("enters attendance by hand (attendance:write, audited, marked manual) and deletes it", async () => {
		const body = { employeeId: "EMP-005", name: "Erin Walsh", department: "Finance", cameraId: "CAM-01", timestamp: "2025-03-28T08:00:00Z", status: "present", note: "Badge forgotten" };
		expect((await call(node, "/attendance/manual", { token: viewer, body })).status).toBe(403);
		expect((await call(node, "/attendance/manual", { token: operator, body })).status).toBe(403);
		const unknown = await call(node, "/attendance/manual", { token: admin, body: { employeeId: "EMP-404", timestamp: "2025-03-28T08:00:00Z" } });
		expect(unknown.status).toBe(404);
		expect(unknown.body.error.code).toBe("PERSON_NOT_FOUND");
		const made = await call(node, "/attendance/manual", { token: admin, body });
		expect(made.status).toBe(201);
		expect(made.body.data).toEqual(expect.objectContaining({ employeeId: "EMP-005", name: "Erin Walsh", date: "2025-03-28", timeIn: "09:00:00", cameraId: "CAM-01", status: "present", source: "manual", note: "Badge forgotten", accuracy: null, odooStatus: "pending" }));
		erinLog = made.body.data.id;
		// A known person needs no name; on the spring change day 09:02 CEST is on time for 09:00.
		const alice = await call(node, "/attendance/manual", { token: admin, body: { employeeId: "EMP-001", timestamp: "2025-03-30T07:02:00Z" } });
		expect(alice.body.data).toEqual(expect.objectContaining({ name: "Alice Martin", date: "2025-03-30", timeIn: "09:02:00", status: "present", source: "manual", shiftName: "Day" }));
		// Over an automatic log: it becomes manual, and the status given is kept against later sightings.
		const bob = await call(node, "/attendance/manual", { token: admin, body: { employeeId: "EMP-002", timestamp: "2025-03-28T21:10:00Z", status: "present", note: "Was at the gate" } });
		expect(bob.body.data).toEqual(expect.objectContaining({ date: "2025-03-28", source: "manual", status: "present", timeIn: "22:10:00", sightings: 4 }));
		await sighting(BOB, "d-b7", "2025-03-28T20:50:00Z", 1, 0.9);
		expect((await logsOf("employeeId=EMP-002&dateFrom=2025-03-28&dateTo=2025-03-28")).data[0]).toEqual(expect.objectContaining({ timeIn: "21:50:00", status: "present", source: "manual" }));

		const del = await call(node, `/attendance/${erinLog}`, { method: "DELETE", token: admin });
		expect(del.status).toBe(204);
		expect((await call(node, `/attendance/${erinLog}`, { method: "DELETE", token: admin })).status).toBe(404);
		expect((await call(node, `/attendance/${alice.body.data.id}`, { method: "DELETE", token: viewer })).status).toBe(403);
		expect((await logsOf("employeeId=EMP-005")).meta.total).toBe(0);
		expect(events.some(e => e.change === "deleted" && e.id === erinLog)).toBe(true);

		// A deleted log's detections are not counted again by a retry.
		const bobLog = by2(await logsOf("employeeId=EMP-002"), "2025-03-29");
		expect((await call(node, `/attendance/${bobLog}`, { method: "DELETE", token: admin })).status).toBe(204);
		expect((await sighting(BOB, "d-b5", "2025-03-29T20:58:00Z", 1, 0.93)).duplicate).toBe(true);
		expect((await logsOf("employeeId=EMP-002&dateFrom=2025-03-29&dateTo=2025-03-29")).meta.total).toBe(0);

		const audit = (await call(node, "/audit?resource=attendance&pageSize=100", { token: admin })).body.data as { action: string; outcome: string; resourceId: string; actor: string; severity: string; message: string; context: Record<string, unknown> }[];
		expect(audit.find(a => a.action === "attendanceLogs.manual" && a.outcome === "success" && a.resourceId === erinLog)).toEqual(
			expect.objectContaining({ actor: ADMIN.email, severity: "info", message: expect.stringMatching(/Manual attendance for EMP-005 on 2025-03-28/), context: expect.objectContaining({ employeeId: "EMP-005", note: "Badge forgotten" }) })
		);
		expect(audit.find(a => a.action === "attendanceLogs.remove" && a.outcome === "success" && a.resourceId === erinLog)).toEqual(expect.objectContaining({ actor: ADMIN.email, severity: "warning" }));
		expect(audit.find(a => a.action === "attendanceLogs.manual" && a.outcome === "failure" && a.actor === "viewer@attendance.test")).toEqual(expect.objectContaining({ context: expect.objectContaining({ code: "FORBIDDEN" }) }));
	});

	it("lists what Odoo has not taken; a synced log changed by a sighting is pending again", async () => {
		const before = await call(node, "/attendance/pending?pageSize=100", { token: viewer });
		expect(before.status).toBe(200);
		const total = before.body.meta.total;
		expect(total).toBe(4); // Alice 28th, 29th, 30th (manual), Bob 28th
		expect(before.body.data.map((l: { date: string }) => l.date)).toEqual(["2025-03-28", "2025-03-28", "2025-03-29", "2025-03-30"]);
		const aliceFirst = before.body.data.find((l: { employeeId: string; date: string }) => l.employeeId === "EMP-001" && l.date === "2025-03-28").id;
		// As the Odoo sync (a later issue) will mark it.
		await node.broker.call("attendanceLogs.update", { id: aliceFirst, odooStatus: "synced", odooSyncTime: new Date("2025-03-28T18:00:00Z") });
		expect((await call(node, "/attendance/pending", { token: viewer })).body.meta.total).toBe(total - 1);
		expect((await logsOf("odooStatus=synced")).data.map((l: { id: string }) => l.id)).toEqual([aliceFirst]);
		await sighting(ALICE, "d-a9", "2025-03-28T16:40:00Z", 2, 0.9); // leaves later than logged
		expect((await call(node, "/attendance/pending", { token: viewer })).body.meta.total).toBe(total);
		await node.broker.call("attendanceLogs.update", { id: aliceFirst, odooStatus: "synced", odooSyncTime: new Date("2025-03-28T18:30:00Z") });
	});

	it("tells who is on site now, today's overview, shift compliance and the dashboard summary", async () => {
		// Today's checks in a zone where it is midday now: Carol was seen 5 minutes ago, Dave 2 hours ago.
		const zone = middayZone();
		expect((await call(node, "/settings/site", { method: "PUT", token: admin, body: { timezone: zone } })).status).toBe(200);
		const now = Date.now();
		const carol = await sighting(CAROL, "d-c1", new Date(now - 5 * 60_000).toISOString(), 1, 0.99);
		const dave = await sighting(DAVE, "d-d1", new Date(now - 120 * 60_000).toISOString(), 2, 0.9);
		expect([carol.status, dave.status]).toEqual(["late", "late"]);

		const records = await call(node, "/attendance/records", { token: viewer });
		expect(records.status).toBe(200);
		expect(records.body.data.slice(0, 2)).toEqual([
			expect.objectContaining({ employeeId: "EMP-003", personId: "P-CAROL", name: "Carol Diaz", status: "on-site", accuracy: 99, cameraId: "CAM-01", cameraName: "Main Entrance" }),
			expect.objectContaining({ employeeId: "EMP-004", status: "off-site", cameraId: "CAM-02" })
		]);
		expect((await call(node, "/attendance/records?status=on-site", { token: viewer })).body.data.map((r: { employeeId: string }) => r.employeeId)).toEqual(["EMP-003"]);
		expect((await call(node, "/attendance/records?limit=1", { token: viewer })).body.meta).toEqual(expect.objectContaining({ pageSize: 1, total: 2 }));
		// A longer absence time makes Dave on site too.
		await call(node, "/settings/site", { method: "PUT", token: admin, body: { onSiteAbsenceMinutes: 180 } });
		expect((await call(node, "/attendance/records?status=on-site", { token: viewer })).body.meta.total).toBe(2);
		await call(node, "/settings/site", { method: "PUT", token: admin, body: { onSiteAbsenceMinutes: 30 } });

		const overview = await call(node, "/attendance/overview", { token: viewer });
		expect(overview.body.data).toEqual(expect.objectContaining({ date: carol.day, timezone: zone, present: 0, late: 2, attended: 2, detected: 2, missed: 0, expectedHeadcount: 3, compliance: 66.7, onSiteNow: 1 }));

		const shifts = (await call(node, "/shifts", { token: viewer })).body.data;
		expect(shifts.find((s: { id: string }) => s.id === dayShift)).toEqual(expect.objectContaining({ compliance: 100, current: expect.objectContaining({ date: carol.day, attended: 2, late: 2 }) }));
		expect(shifts.find((s: { id: string }) => s.id === nightShift).compliance).toBe(0);

		expect((await call(node, "/system/summary", { token: operator })).status).toBe(200);
		const summary = await call(node, "/system/summary", { token: viewer });
		expect(summary.body.data).toEqual({
			activeCameras: 1,
			totalCameras: 2,
			enabledCameras: 1,
			registeredPeople: 0,
			peopleDetectedToday: 2,
			peopleOnSite: 1,
			lateToday: 2,
			unknownFaceAlerts: 0,
			manualOverrides: 0,
			attendanceCompletion: 66.7,
			expectedHeadcount: 3,
			lastSync: "2025-03-28T18:30:00.000Z",
			date: carol.day,
			timezone: zone
		});
	});

	it("gives a person's history: attendance newest first, and their detections", async () => {
		await node.broker.call("detections.record", {
			trackId: "TRACK-ALICE-1",
			cameraId: 1,
			personId: "P-ALICE",
			employeeId: "EMP-001",
			name: "Alice Martin",
			status: "authorized",
			confidence: 0.95,
			boundingBox: { x: 1, y: 2, width: 30, height: 40 },
			timestamp: "2025-03-29T08:20:00Z",
			lastSeen: "2025-03-29T08:20:05Z",
			frames: 3
		});
		const h = await call(node, "/history/person/EMP-001", { token: viewer });
		expect(h.status).toBe(200);
		expect(h.body.data).toEqual(expect.objectContaining({ employeeId: "EMP-001", personId: "P-ALICE", name: "Alice Martin", department: "Engineering", totals: { days: 3, present: 2, late: 1, missed: 0 } }));
		expect(h.body.data.attendance.map((l: { date: string }) => l.date)).toEqual(["2025-03-30", "2025-03-29", "2025-03-28"]);
		expect(h.body.data.detections).toEqual([expect.objectContaining({ trackId: "TRACK-ALICE-1", cameraId: 1, status: "authorized", timestamp: "2025-03-29T08:20:00.000Z" })]);
		const ranged = await call(node, "/history/person/EMP-001?dateFrom=2025-03-29&dateTo=2025-03-29", { token: viewer });
		expect(ranged.body.data.attendance.map((l: { date: string }) => l.date)).toEqual(["2025-03-29"]);
		const nobody = await call(node, "/history/person/EMP-999", { token: viewer });
		expect(nobody.status).toBe(404);
		expect(nobody.body.error.code).toBe("PERSON_NOT_FOUND");
	});

	it("serves the history and the summary on a cluster without the detections and faces stores", async () => {
		const cfg = loadConfig({ API_KEY: "attendance-test-key-0123456789", METRICS_PORT: "off", LOG_LEVEL: "warn", DATA_DIR: tempDir() });
		const broker = new ServiceBroker({ ...brokerOptions(cfg), nodeID: `attendance-alone-${process.pid}`, transporter: undefined });
		for (const f of [camerasService, siteService, shiftsService, attendanceSightingsService, attendanceLogsService, historyService, systemService]) broker.createService(f(cfg));
		await broker.start();
		try {
			await broker.call("attendanceLogs.recordSighting", { detectionId: "alone-1", ...ALICE, cameraId: 1, at: new Date().toISOString(), confidence: 0.9 });
			const h = await broker.call<{ name: string; detections: unknown; attendance: unknown[] }, object>("history.person", { employeeId: "EMP-001" });
			expect(h).toEqual(expect.objectContaining({ name: "Alice Martin", detections: null }));
			expect(h.attendance).toHaveLength(1);
			expect(await broker.call("system.summary", {})).toEqual(expect.objectContaining({ registeredPeople: null, activeCameras: 0, totalCameras: 0, peopleDetectedToday: 1 }));
		} finally {
			await broker.stop();
		}
	});
});

function by2(body: { data: { id: string; date: string }[] }, date: string): string {
	return body.data.find(l => l.date === date)!.id;
}
