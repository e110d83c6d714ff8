/**
 * Visitors on the CCTV loop, with the real models and a real RTSP camera: Anna registered as
 * an employee, Bea as a visitor, both shown by a monitored camera. Bea's detection says
 * `visitor` with her name and never becomes attendance (no log, not on site, not in the
 * statistics, nothing for Odoo), while Anna seen in the same room gets her one log. A
 * category other than employee or visitor is refused (VALIDATION_ERROR naming the field);
 * a profile stored before categories reads as employee.
 */
import path from "node:path";
import { ADMIN, CONSOLE_ENV, call, login } from "../support/console";
import { faceCrop, FACES, makeFaceVideo } from "../support/face-video";
import { startNode, tempDir, type TestNode } from "../support/node";
import { describeWithRtsp, startRtspServer, type RtspServer } from "../support/rtsp";
import { until } from "../support/until";


describeWithRtsp("detections: a visitor is recognised, never counted", () => {
	let node: TestNode;
	let rtsp: RtspServer;
	let admin: string;
	const people: Record<string, string> = {};
	const register = async (fields: Record<string, string>, photo: Buffer) => {
		const fd = new FormData();
		for (const [k, v] of Object.entries(fields)) fd.append(k, v);
		fd.append("images", new Blob([new Uint8Array(photo)], { type: "image/jpeg" }), `${fields.name}.jpg`);
		const res = await fetch(node.baseUrl + "/faces", { method: "POST", headers: { Authorization: `Bearer ${admin}` }, body: fd });
		return { status: res.status, body: (await res.json()) as any };
	};

	beforeAll(async () => {
		const work = tempDir("rollcall-visitor-e2e-");
		const room = path.join(work, "room.mp4");
		await makeFaceVideo(room, { segments: [FACES.annaAgain, FACES.bea].map(f => ({ ...f, seconds: 3 })), fps: 10 });
		rtsp = await startRtspServer({ files: { "/room": room } });
		node = await startNode({ ...CONSOLE_ENV, DATA_DIR: path.join(work, "data"), RATE_LIMIT_PER_MINUTE: "0" });
		admin = (await login(node, ADMIN.email, ADMIN.password)).accessToken;
	}, 120_000);
	afterAll(async () => {
		await node?.stop();
		await rtsp?.stop();
	});

	it("keeps a profile's category: employee by default, visitor when asked, anything else refused", async () => {
		const anna = await register({ name: "Anna", employeeId: "EMP-ANNA" }, await faceCrop(FACES.anna));
		expect(anna.status).toBe(201);
		expect(anna.body.data.category).toBe("employee");
		people.anna = anna.body.data.id;

		const guest = await register({ name: "Bea", employeeId: "VIS-BEA", category: "guest" }, await faceCrop(FACES.bea, { mirrored: true }));
		expect(guest.status).toBe(400);
		expect(guest.body.error.code).toBe("VALIDATION_ERROR");
		expect(guest.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: "category" })]));
		// Refused whole: nothing registered.
		expect((await call(node, "/faces?search=VIS-BEA", { token: admin })).body.data).toHaveLength(0);

		// Registered as an employee first, then made a visitor (PUT), as the console's select does.
		const bea = await register({ name: "Bea", employeeId: "VIS-BEA" }, await faceCrop(FACES.bea, { mirrored: true }));
		expect(bea.status).toBe(201);
		people.bea = bea.body.data.id;
		const bad = await call(node, `/faces/${people.bea}`, { method: "PUT", token: admin, body: { category: "contractor" } });
		expect(bad.status).toBe(400);
		expect(bad.body.error.code).toBe("VALIDATION_ERROR");
		const made = await call(node, `/faces/${people.bea}`, { method: "PUT", token: admin, body: { category: "visitor", version: bea.body.data.version } });
		expect(made.status).toBe(200);
		expect(made.body.data).toEqual(expect.objectContaining({ category: "visitor", version: bea.body.data.version + 1 }));
		const visitors = (await call(node, "/faces?category=visitor", { token: admin })).body.data as any[];
		expect(visitors.map(v => v.employeeId)).toEqual(["VIS-BEA"]);

		// A profile stored before categories (no field) reads as an employee.
		const faces = node.broker.getLocalService("faces") as unknown as { adapter: { insert(d: object): Promise<unknown> } };
		const now = new Date();
		await faces.adapter.insert({ _id: "old-profile", employeeId: "EMP-OLD", name: "Old", department: "", status: "pending", archived: false, images: [], createdAt: now, updatedAt: now, version: 1 });
		expect((await call(node, "/faces/old-profile", { token: admin })).body.data.category).toBe("employee");
	}, 60_000);

	it("detects the visitor as visitor with her name, and gives attendance to the employee only", async () => {
		const cam = await call(node, "/cameras", { token: admin, body: { name: "Lobby", streamUrl: rtsp.url("/room"), sampleInterval: 0.5, enabled: true } });
		expect(cam.status).toBe(201);
		const cameraId = cam.body.data.cameraId;
		const detections = (q = "") => call(node, `/detections?cameraId=${cameraId}&pageSize=100${q}`, { token: admin }).then(r => r.body.data as any[]);
		const seen = await until(
			"Anna authorized and Bea a visitor",
			() => detections(),
			ds => ds.some(d => d.employeeId === "EMP-ANNA" && d.status === "authorized") && ds.some(d => d.employeeId === "VIS-BEA" && d.status === "visitor"),
			60_000
		);
		const bea = seen.filter(d => d.employeeId === "VIS-BEA");
		expect(bea.every(d => d.status === "visitor" && d.name === "Bea" && d.personId === people.bea)).toBe(true);
		// Never taken for an unknown face either: no alert for her.
		const alerts = (await call(node, `/alerts?type=unknown_face&cameraId=${cameraId}`, { token: admin })).body.data as any[];
		expect(alerts.every(a => !bea.some(d => d.id === a.details.detectionId))).toBe(true);
		// The status filter answers the visitor's detections only.
		const onlyVisitors = await detections("&status=visitor");
		expect(onlyVisitors.length).toBeGreaterThan(0);
		expect(onlyVisitors.every(d => d.status === "visitor" && d.employeeId === "VIS-BEA")).toBe(true);
		// Live too, from memory.
		const live = (await call(node, `/detections/live?cameraId=${cameraId}`, { token: admin })).body.data as any[];
		expect(live.filter(d => d.employeeId === "VIS-BEA").every(d => d.status === "visitor")).toBe(true);

		// Attendance: Anna's one log; nothing at all of Bea's, wherever attendance is read.
		const annaLogs = await until(
			"Anna's attendance log",
			() => call(node, "/attendance/logs?employeeId=EMP-ANNA", { token: admin }).then(r => r.body.data as any[]),
			ls => ls.length > 0,
			20_000
		);
		expect(annaLogs).toHaveLength(1);
		expect(annaLogs[0]).toEqual(expect.objectContaining({ personId: people.anna, source: "auto" }));
		await call(node, `/cameras/${cam.body.data.id}/state`, { method: "PATCH", token: admin, body: { enabled: false } });
		expect((await call(node, "/attendance/logs?employeeId=VIS-BEA", { token: admin })).body.data).toHaveLength(0);
		const all = (await call(node, "/attendance/logs?pageSize=100", { token: admin })).body.data as any[];
		expect(all.map(l => l.employeeId)).toEqual(["EMP-ANNA"]);
		const records = (await call(node, "/attendance/records", { token: admin })).body.data as any[];
		expect(records.map(r => r.employeeId)).toEqual(["EMP-ANNA"]);
		const pending = (await call(node, "/attendance/pending", { token: admin })).body.data as any[];
		expect(pending.map(l => l.employeeId)).toEqual(["EMP-ANNA"]);
		const overview = (await call(node, "/attendance/overview", { token: admin })).body.data;
		expect(overview).toEqual(expect.objectContaining({ detected: 1, onSiteNow: 1 }));
	}, 90_000);
});
