/**
 * Alerts, notifications and banner messages over the console's HTTP routes, on a real
 * gateway and storage node: an alert per cause however often it happens, acknowledged,
 * muted (its cause raises nothing new until unmuted), resolved, deleted; alerts.raised once
 * per opened alert; notifications per user and broadcast, each reader's own state; banners
 * posted by an admin only, active ones shown to everyone.
 */
import type { Context } from "moleculer";
import { ADMIN, CONSOLE_ENV, accountOf, call, login } from "../support/console";
import { startNode, type TestNode } from "../support/node";

describe("console alerts, notifications and banner messages", () => {
	let node: TestNode;
	let admin: string;
	let operator: { id: string; token: string };
	let viewer: { id: string; token: string };
	const raised: any[] = [];
	const created: any[] = [];

	const raise = (cause: string, level = "high", extra: Record<string, unknown> = {}) =>
		node.broker.call<any, object>("alerts.raise", { cause, type: "camera_offline", level, title: `Offline ${cause}`, cameraId: Number(cause.split(":")[1]), ...extra });

	beforeAll(async () => {
		node = await startNode({ ...CONSOLE_ENV, SERVICES: "gateway,storage", RATE_LIMIT_PER_MINUTE: "0" });
		node.broker.createService({
			name: "alerts-test-listener",
			events: {
				"alerts.raised"(ctx: Context<any>) {
					raised.push(ctx.params);
				},
				"notifications.created"(ctx: Context<any>) {
					created.push(ctx.params);
				}
			}
		});
		await node.broker.waitForServices(["alerts", "notifications", "banners", "alerts-test-listener"], 10_000);
		admin = (await login(node, ADMIN.email, ADMIN.password)).accessToken;
		operator = await accountOf(node, admin, "ROLE-OPERATOR", "operator@alerts.test");
		viewer = await accountOf(node, admin, "ROLE-VIEWER", "viewer@alerts.test");
	}, 60_000);
	afterAll(() => node?.stop());

	it("keeps one open alert per cause, counting repeats and keeping the worst level; announces it once", async () => {
		const first = await raise("camera:7:offline", "medium");
		const again = await raise("camera:7:offline", "critical");
		const third = await raise("camera:7:offline", "low");
		expect(first).toMatchObject({ raised: true, muted: false });
		expect(again).toMatchObject({ raised: false, muted: false });
		expect(third.alert).toMatchObject({ id: first.alert.id, count: 3, level: "critical" });
		await new Promise(r => setTimeout(r, 100));
		expect(raised.filter(a => a.cause === "camera:7:offline")).toHaveLength(1);

		// Concurrent occurrences are still one alert.
		const burst = await Promise.all(Array.from({ length: 10 }, () => raise("camera:8:offline")));
		expect(new Set(burst.map(b => b.alert.id)).size).toBe(1);
		expect(burst.filter(b => b.raised)).toHaveLength(1);

		const list = await call(node, "/alerts?cameraId=7&level=critical,high", { token: viewer.token });
		expect(list.status).toBe(200);
		expect(list.body.data).toEqual([expect.objectContaining({ id: first.alert.id, cause: "camera:7:offline", count: 3, level: "critical", acknowledged: false, muted: false, resolved: false })]);
		expect(list.body.meta).toMatchObject({ total: 1, page: 1 });
		expect((await call(node, "/alerts?level=purple", { token: viewer.token })).status).toBe(400);
		expect((await call(node, "/alerts/ALERT-NOPE", { token: viewer.token })).body.error.code).toBe("ALERT_NOT_FOUND");
	});

	it("acknowledges (Operator, not Viewer), resolves when the cause passes and opens a new generation when it returns", async () => {
		const { alert } = await raise("camera:9:offline");
		const refused = await call(node, `/alerts/${alert.id}/acknowledge`, { method: "POST", token: viewer.token });
		expect(refused.status).toBe(403);
		const acked = await call(node, `/alerts/${alert.id}/acknowledge`, { method: "POST", token: operator.token });
		expect(acked.status).toBe(200);
		expect(acked.body.data).toMatchObject({ acknowledged: true, acknowledgedBy: "operator@alerts.test", acknowledgedAt: expect.any(String) });
		// Acknowledged but still there: a repeat counts on it.
		expect((await raise("camera:9:offline")).alert).toMatchObject({ id: alert.id, count: 2, acknowledged: true });

		expect(await node.broker.call("alerts.resolve", { cause: "camera:9:offline" })).toMatchObject({ resolved: true });
		expect(await node.broker.call("alerts.resolve", { cause: "camera:9:offline" })).toEqual({ resolved: false });
		const back = await raise("camera:9:offline");
		expect(back.raised).toBe(true);
		expect(back.alert.id).not.toBe(alert.id);
		const all = (await call(node, "/alerts?cameraId=9&type=camera_offline&pageSize=100", { token: admin })).body.data.filter((a: any) => a.cause === "camera:9:offline");
		expect(all.map((a: any) => [a.resolved, a.count])).toEqual([
			[false, 1],
			[true, 2]
		]);
		const audit = await call(node, `/audit?action=alerts.acknowledge`, { token: admin });
		expect(audit.body.data.some((a: any) => a.resourceId === alert.id)).toBe(true);
	});

	it("mutes a cause: nothing new is raised for it, resolved or not, until it is unmuted", async () => {
		const { alert } = await raise("camera:10:offline");
		const muted = await call(node, `/alerts/${alert.id}/mute`, { method: "POST", token: operator.token });
		expect(muted.body.data).toMatchObject({ id: alert.id, muted: true });
		await node.broker.call("alerts.resolve", { cause: "camera:10:offline" });
		const before = raised.length;
		const whileMuted = await raise("camera:10:offline", "critical");
		expect(whileMuted).toMatchObject({ raised: false, muted: true });
		await new Promise(r => setTimeout(r, 100));
		expect(raised.length).toBe(before);
		expect((await call(node, "/alerts?muted=true", { token: admin })).body.data.map((a: any) => a.id)).toEqual([alert.id]);

		await call(node, `/alerts/${alert.id}/mute`, { method: "POST", token: operator.token, body: { muted: false } });
		const after = await raise("camera:10:offline");
		expect(after.raised).toBe(true);
		expect(after.alert.id).not.toBe(alert.id);
	});

	it("deletes an alert (Operator, not Viewer); its cause opens a new one if it happens again", async () => {
		const { alert } = await raise("camera:11:offline");
		expect((await call(node, `/alerts/${alert.id}`, { method: "DELETE", token: viewer.token })).status).toBe(403);
		expect((await call(node, `/alerts/${alert.id}`, { method: "DELETE", token: operator.token })).status).toBe(204);
		expect((await call(node, `/alerts/${alert.id}`, { token: admin })).status).toBe(404);
		expect((await raise("camera:11:offline")).raised).toBe(true);
	});

	it("counts today's unknown-face alerts on the dashboard summary", async () => {
		const before = (await call(node, "/system/summary", { token: viewer.token })).body.data.unknownFaceAlerts;
		await raise("camera:12:unknown-face:t1", "medium", { type: "unknown_face" });
		await raise("camera:12:unknown-face:t2", "medium", { type: "unknown_face" });
		expect((await call(node, "/system/summary", { token: viewer.token })).body.data.unknownFaceAlerts).toBe(before + 2);
	});

	it("delivers notifications to their user and broadcast ones to everyone, each reader acknowledging and clearing their own", async () => {
		await node.broker.call("notifications.notify", { userId: operator.id, title: "Export ready", message: "attendance.csv", level: "info", link: "/exports/1" });
		await node.broker.call("notifications.notify", { userId: null, title: "Maintenance tonight", level: "warning" });
		const mine = await call(node, "/notifications", { token: operator.token });
		expect(mine.body.data.map((n: any) => n.title)).toEqual(["Maintenance tonight", "Export ready"]);
		const theirs = await call(node, "/notifications", { token: viewer.token });
		expect(theirs.body.data.map((n: any) => [n.title, n.broadcast])).toEqual([["Maintenance tonight", true]]);
		expect(created.map(n => n.title)).toEqual(["Export ready", "Maintenance tonight"]);

		// Another user's notification is not there for the viewer.
		const exportNote = mine.body.data.find((n: any) => n.title === "Export ready");
		expect((await call(node, `/notifications/${exportNote.id}/acknowledge`, { method: "POST", token: viewer.token })).status).toBe(404);
		// The viewer reads the broadcast; it stays unread for the operator.
		const broadcast = theirs.body.data[0];
		const read = await call(node, `/notifications/${broadcast.id}/acknowledge`, { method: "POST", token: viewer.token });
		expect(read.body.data).toMatchObject({ id: broadcast.id, acknowledged: true });
		expect((await call(node, "/notifications?acknowledged=false", { token: operator.token })).body.data).toHaveLength(2);
		expect((await call(node, "/notifications?acknowledged=true", { token: viewer.token })).body.data.map((n: any) => n.id)).toEqual([broadcast.id]);

		// The viewer clears theirs: the operator still has both.
		expect((await call(node, "/notifications", { method: "DELETE", token: viewer.token })).status).toBe(204);
		expect((await call(node, "/notifications", { token: viewer.token })).body.data).toEqual([]);
		expect((await call(node, "/notifications", { token: operator.token })).body.data).toHaveLength(2);
		expect((await call(node, "/notifications", { method: "DELETE", token: operator.token })).status).toBe(204);
		expect((await call(node, "/notifications", { token: operator.token })).body.data).toEqual([]);
		// A new broadcast reaches a reader who cleared the old ones.
		await node.broker.call("notifications.notify", { title: "Back up", level: "info" });
		expect((await call(node, "/notifications", { token: viewer.token })).body.data.map((n: any) => n.title)).toEqual(["Back up"]);
	});

	it("lets an admin post banner messages that everyone signed in sees while active", async () => {
		const refused = await call(node, "/services/banner-messages", { token: operator.token, body: { message: "Not mine to say" } });
		expect(refused.status).toBe(403);
		const now = Date.now();
		const posted = await call(node, "/services/banner-messages", { token: admin, body: { message: "Cameras on floor 2 offline 18:00-19:00", level: "warning" } });
		expect(posted.status).toBe(201);
		const later = await call(node, "/services/banner-messages", { token: admin, body: { message: "Next week", startsAt: new Date(now + 7 * 86400_000).toISOString() } });
		expect(later.status).toBe(201);
		const bad = await call(node, "/services/banner-messages", { token: admin, body: { message: "Backwards", startsAt: new Date(now + 1000).toISOString(), endsAt: new Date(now).toISOString() } });
		expect(bad.status).toBe(400);
		expect(bad.body.error.code).toBe("VALIDATION_ERROR");

		const shown = await call(node, "/services/banner-messages", { token: viewer.token });
		expect(shown.body.data.map((b: any) => [b.message, b.level])).toEqual([["Cameras on floor 2 offline 18:00-19:00", "warning"]]);
		expect((await call(node, "/services/banner-messages?all=true", { token: admin })).body.data).toHaveLength(2);
		// all=true is only for those who may post.
		expect((await call(node, "/services/banner-messages?all=true", { token: viewer.token })).body.data).toHaveLength(1);
		expect((await call(node, `/services/banner-messages/${posted.body.data.id}`, { method: "DELETE", token: admin })).status).toBe(204);
		expect((await call(node, "/services/banner-messages", { token: viewer.token })).body.data).toEqual([]);
	});
});
