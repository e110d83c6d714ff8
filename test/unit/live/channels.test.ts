import { keysOf, mayHear, messagesFor, reaches, subscriptionKey } from "../../../lib/live/channels";

const viewer = { kind: "user" as const, id: "u-viewer", permissions: ["cameras:read", "attendance:read", "system:read", "alerts:read"] };
const admin = { kind: "user" as const, id: "u-admin", permissions: ["*"] };
const key = { kind: "api-key" as const, id: "k", permissions: ["cameras:read"] };

describe("live channels", () => {
	it("maps broker events to the seed's messages, and session events to their original names", () => {
		const [det, legacy] = messagesFor("live.detection", { cameraId: 3, trackId: "t" });
		expect(det).toMatchObject({ channel: "detections", cameraId: 3, message: { type: "detection", channel: "detections", cameraId: 3, detection: { trackId: "t" } } });
		expect(legacy).toMatchObject({ channel: "sessions", event: "detection", payload: { cameraId: 3, trackId: "t" } });
		// A session's camera status is the session's, not the console's camera-status channel.
		expect(messagesFor("live.camera.status", { slotId: 9, cameraId: 1, status: "online" }).map(m => m.channel)).toEqual(["sessions"]);
		expect(messagesFor("live.camera.status", { cameraId: 1, id: "CAM-01", status: "online" }).map(m => m.channel)).toEqual(["camera-status", "sessions"]);
		expect(messagesFor("notifications.created", { userId: "u1", title: "x" })[0]).toMatchObject({ channel: "notifications", userId: "u1" });
		// A send-frame job's state goes to the camera's detections subscribers only (no sessions copy).
		expect(messagesFor("detections.job", { id: "J", cameraId: 4, status: "completed", result: { faces: 1 } })).toEqual([
			{ channel: "detections", cameraId: 4, message: { type: "detection-job", channel: "detections", cameraId: 4, job: { id: "J", cameraId: 4, status: "completed", result: { faces: 1 } } } }
		]);
		expect(messagesFor("exports.progress", { id: "E" })).toEqual([]); // no owner, nobody
		expect(messagesFor("something.else", { a: 1 })).toEqual([]);
	});

	it("reaches subscribers of the channel and of the camera or slot", () => {
		const [det] = messagesFor("live.detection", { cameraId: 3 });
		expect(keysOf(det)).toEqual(["detections", "detections:camera:3"]);
		expect(subscriptionKey("detections", { cameraId: 3 })).toBe("detections:camera:3");
		const [rec] = messagesFor("live.recognition", { slotId: 5 });
		expect(keysOf(rec)).toEqual(["sessions", "sessions:slot:5"]);
		expect(subscriptionKey("sessions", { slotId: 5 })).toBe("sessions:slot:5");
		// Channels not per camera ignore the camera.
		expect(subscriptionKey("audit", { cameraId: 3 })).toBe("audit");
	});

	it("lets a listener hear only what its permissions allow, and own channels only its own", () => {
		expect(mayHear(viewer, "detections")).toBe(true);
		expect(mayHear(viewer, "audit")).toBe(false);
		expect(mayHear(viewer, "odoo")).toBe(false);
		expect(mayHear(admin, "audit")).toBe(true);
		expect(mayHear(key, "notifications")).toBe(false);
		const [own] = messagesFor("notifications.created", { userId: "u-admin" });
		expect(reaches(admin, own)).toBe(true);
		expect(reaches(viewer, own)).toBe(false);
		const [all] = messagesFor("notifications.created", { userId: null });
		expect(reaches(viewer, all)).toBe(true);
	});
});
