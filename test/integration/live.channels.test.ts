/**
 * The live channels end to end on a real gateway: Socket.IO clients (socket.io-client) and
 * the seed's plain WebSocket (/ws, a real `ws` client) fed by one relay from broker events.
 * Channels per camera, per user, by permission (a Viewer never hears the audit or Odoo
 * channels, nor another user's notifications or exports), token expiry ends the connection,
 * and a client that does not read is dropped without growing the gateway's buffers.
 */
import { io as ioClient, type Socket } from "socket.io-client";
import WebSocket from "ws";
import { decodeJwt } from "jose";
import { signAccessToken } from "../../lib/auth/tokens";
import type { LiveRelay } from "../../services/gateway/live-relay";
import { ADMIN, CONSOLE_ENV, accountOf, call, login } from "../support/console";
import { startNode, type TestNode } from "../support/node";
import { until } from "../support/until";

interface Heard {
	event: string;
	payload: any;
}

describe("live channels: Socket.IO and /ws over one relay", () => {
	let node: TestNode;
	let origin: string;
	let admin: { id: string; token: string };
	let viewer: { id: string; token: string };
	let operator: { id: string; token: string };
	let camera: { id: string; cameraId: number };
	const open: { close(): void }[] = [];

	const relay = () => (node.broker.getLocalService("api") as unknown as { relay: LiveRelay }).relay;

	async function socketOf(auth: Record<string, unknown>): Promise<{ socket: Socket; heard: Heard[] }> {
		const socket = ioClient(origin, { path: "/socket.io", auth, transports: ["websocket"], reconnection: false });
		open.push(socket);
		const heard: Heard[] = [];
		socket.onAny((event, payload) => heard.push({ event, payload }));
		await new Promise<void>((resolve, reject) => {
			socket.on("connect", () => resolve());
			socket.on("connect_error", reject);
		});
		return { socket, heard };
	}
	const ask = (s: Socket, event: string, msg: unknown) => s.timeout(5000).emitWithAck(event, msg);

	async function wsOf(query: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; heard: any[]; next: (pred: (m: any) => boolean) => Promise<any> }> {
		const ws = new WebSocket(`${origin.replace(/^http/, "ws")}/ws${query}`, { headers });
		open.push({ close: () => ws.terminate() });
		const heard: any[] = [];
		ws.on("message", data => heard.push(JSON.parse(String(data))));
		await new Promise<void>((resolve, reject) => {
			ws.once("open", () => resolve());
			ws.once("error", reject);
			ws.once("unexpected-response", (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
		});
		const next = (pred: (m: any) => boolean) => until("a /ws message", async () => heard.find(pred), m => m !== undefined, 5000);
		return { ws, heard, next };
	}

	const detection = (cameraId: number, trackId: string, extra: Record<string, unknown> = {}) => ({ id: `det-${trackId}`, trackId, cameraId, name: "Anna", status: "authorized", confidence: 0.97, lastSeen: new Date().toISOString(), ...extra });
	const settle = () => new Promise(r => setTimeout(r, 150));

	beforeAll(async () => {
		node = await startNode({ ...CONSOLE_ENV, SERVICES: "gateway,storage", RATE_LIMIT_PER_MINUTE: "0", LIVE_SLOW_CLIENT_MS: "300", LIVE_MAX_BUFFER_BYTES: "65536", LIVE_MAX_BUFFERED_MESSAGES: "50" });
		origin = node.baseUrl.replace(/\/api\/v1$/, "");
		const a = await login(node, ADMIN.email, ADMIN.password);
		admin = { id: a.user.id, token: a.accessToken };
		viewer = await accountOf(node, admin.token, "ROLE-VIEWER", "viewer@live.test");
		operator = await accountOf(node, admin.token, "ROLE-OPERATOR", "operator@live.test");
		const cam = await call(node, "/cameras", { token: admin.token, body: { name: "Gate", streamUrl: "rtsp://127.0.0.1:9/none", enabled: false } });
		expect(cam.status).toBe(201);
		camera = { id: cam.body.data.id, cameraId: cam.body.data.cameraId };
	}, 60_000);
	afterAll(async () => {
		for (const c of open) c.close();
		await node?.stop();
	});

	it("Socket.IO: detections for all cameras or one (by number or console id), in the seed's shape", async () => {
		const all = await socketOf({ token: viewer.token });
		expect(await ask(all.socket, "subscribe", { channel: "detections" })).toEqual({ ok: true, channel: "detections" });
		const one = await socketOf({ token: operator.token });
		expect(await ask(one.socket, "subscribe", { channel: "detections", cameraId: camera.id })).toEqual({ ok: true, channel: "detections", cameraId: camera.cameraId });
		expect(await ask(one.socket, "subscribe", { channel: "detections", cameraId: "CAM-NOPE" })).toMatchObject({ ok: false, code: "CAMERA_NOT_FOUND" });
		expect(await ask(one.socket, "subscribe", { channel: "weather" })).toMatchObject({ ok: false, code: "UNKNOWN_CHANNEL" });

		node.broker.broadcast("live.detection", detection(camera.cameraId, "t1"));
		node.broker.broadcast("live.detection", detection(camera.cameraId + 100, "t2"));
		await until("both detections heard", async () => all.heard.filter(h => h.event === "detections").length, n => n === 2, 5000);
		await settle();
		expect(all.heard.find(h => h.event === "detections")!.payload).toEqual({ type: "detection", channel: "detections", cameraId: camera.cameraId, detection: expect.objectContaining({ trackId: "t1", name: "Anna" }) });
		expect(one.heard.filter(h => h.event === "detections").map(h => h.payload.detection.trackId)).toEqual(["t1"]);

		// Unsubscribed: nothing more.
		await ask(one.socket, "unsubscribe", { channel: "detections", cameraId: camera.cameraId });
		node.broker.broadcast("live.detection", detection(camera.cameraId, "t3"));
		await until("t3 heard by the other", async () => all.heard.some(h => h.payload?.detection?.trackId === "t3"), x => x, 5000);
		await settle();
		expect(one.heard.filter(h => h.event === "detections")).toHaveLength(1);
	});

	it("never gives a Viewer's socket what its permissions do not allow, nor another user's notifications and exports", async () => {
		const v = await socketOf({ token: viewer.token, channels: ["alerts", "audit", "odoo", "camera-status"] });
		const a = await socketOf({ token: admin.token, channels: ["alerts", "audit", "odoo", "camera-status"] });
		expect(await ask(v.socket, "subscribe", { channel: "audit" })).toMatchObject({ ok: false, code: "FORBIDDEN" });
		expect(await ask(v.socket, "subscribe", { channel: "odoo" })).toMatchObject({ ok: false, code: "FORBIDDEN" });

		// An audited change (a user created), an Odoo sync's progress, an alert, notifications, an export.
		await accountOf(node, admin.token, "ROLE-VIEWER", "another@live.test");
		node.broker.broadcast("odoo.sync.progress", { jobId: "J1", status: "processing", counts: { synced: 3 } });
		await node.broker.call("alerts.raise", { cause: `camera:${camera.cameraId}:offline`, type: "camera_offline", level: "high", title: "Gate offline", cameraId: camera.cameraId });
		await node.broker.call("notifications.notify", { userId: operator.id, title: "For the operator" });
		await node.broker.call("notifications.notify", { userId: null, title: "For everyone" });
		node.broker.broadcast("exports.progress", { id: "EXP-1", userId: admin.id, status: "processing", progress: 40 });
		node.broker.broadcast("live.camera.status", { cameraId: camera.cameraId, id: camera.id, status: "offline", lastSeen: null, at: new Date().toISOString() });

		await until("the admin heard everything", async () => new Set(a.heard.map(h => h.event)), s => ["audit", "odoo", "alerts", "notifications", "exports", "camera-status"].every(e => s.has(e)), 5000);
		await settle();
		const vEvents = new Set(v.heard.map(h => h.event));
		expect(vEvents.has("audit")).toBe(false);
		expect(vEvents.has("odoo")).toBe(false);
		expect(vEvents.has("exports")).toBe(false);
		expect(v.heard.find(h => h.event === "alerts")!.payload).toMatchObject({ type: "alert", channel: "alerts", event: "raised", alert: { title: "Gate offline", level: "high" } });
		expect(v.heard.find(h => h.event === "camera-status")!.payload).toMatchObject({ type: "camera-status", channel: "camera-status", cameraId: camera.cameraId, id: camera.id, status: "offline" });
		expect(v.heard.filter(h => h.event === "notifications").map(h => h.payload.notification.title)).toEqual(["For everyone"]);
		expect(a.heard.find(h => h.event === "audit")!.payload).toMatchObject({ type: "audit", channel: "audit", entry: { action: "users.create" } });
		expect(a.heard.find(h => h.event === "exports")!.payload).toMatchObject({ type: "export", export: { id: "EXP-1", progress: 40 } });
	});

	it("keeps the sessions' events for integration clients as they were: names, payloads, slot rooms", async () => {
		const key = await socketOf({ apiKey: node.cfg.apiKey, slots: [7] });
		const every = await socketOf({ apiKey: node.cfg.apiKey });
		node.broker.broadcast("live.recognition", { slotId: 7, userId: 3 });
		node.broker.broadcast("live.recognition", { slotId: 8, userId: 4 });
		await until("both heard by the all-sessions client", async () => every.heard.filter(h => h.event === "recognition").length, n => n === 2, 5000);
		await settle();
		expect(key.heard.filter(h => h.event === "recognition").map(h => h.payload)).toEqual([{ slotId: 7, userId: 3 }]);
		expect(await ask(key.socket, "subscribe", { slotId: 8 })).toEqual({ ok: true, channel: "sessions", slotId: 8, room: "slot:8" });
		expect(await ask(key.socket, "subscribe", {})).toMatchObject({ ok: false, code: "SLOT_ID_REQUIRED" });
	});

	it("ends a connection when its access token expires", async () => {
		const claims = decodeJwt(viewer.token);
		// The viewer's own login, with a token issued 15 minutes minus 1.5 s ago.
		const short = await signAccessToken({ sub: String(claims.sub), email: String(claims.email), role: String(claims.role), permissions: claims.permissions as string[], sid: String(claims.sid) }, node.cfg.jwtSecret, Math.floor(Date.now() / 1000) - 15 * 60 + 2);
		const s = await socketOf({ token: short });
		const w = await wsOf(`?token=${encodeURIComponent(short)}`);
		const closed = new Promise<number>(resolve => w.ws.on("close", code => resolve(code)));
		const gone = new Promise<string>(resolve => s.socket.on("disconnect", reason => resolve(reason)));
		expect(await gone).toBe("io server disconnect");
		expect(s.heard.find(h => h.event === "error")?.payload).toEqual({ code: "TOKEN_EXPIRED", message: expect.any(String) });
		expect(await closed).toBe(1008);
		expect(w.heard.at(-1)).toMatchObject({ type: "error", code: "TOKEN_EXPIRED" });
	}, 15_000);

	it("/ws: the seed's protocol with a real ws client", async () => {
		await expect(wsOf("?token=not-a-token")).rejects.toMatchObject({ status: 401 });
		await expect(wsOf("")).rejects.toMatchObject({ status: 401 });
		const { ws, heard, next } = await wsOf(`?token=${encodeURIComponent(operator.token)}`);
		ws.send(JSON.stringify({ type: "ping" }));
		expect(await next(m => m.type === "pong")).toMatchObject({ type: "pong" });
		ws.send("{not json");
		expect(await next(m => m.code === "INVALID_MESSAGE")).toMatchObject({ type: "error" });
		ws.send(JSON.stringify({ action: "subscribe", channel: "audit" }));
		expect(await next(m => m.code === "FORBIDDEN")).toMatchObject({ type: "error", channel: "audit" });
		ws.send(JSON.stringify({ action: "subscribe", channel: "detections", cameraId: camera.id }));
		expect(await next(m => m.type === "subscribed")).toEqual({ type: "subscribed", channel: "detections", cameraId: camera.cameraId });

		node.broker.broadcast("live.detection", detection(camera.cameraId + 1, "w0"));
		node.broker.broadcast("live.detection", detection(camera.cameraId, "w1"));
		expect(await next(m => m.type === "detection")).toEqual({ type: "detection", channel: "detections", cameraId: camera.cameraId, detection: expect.objectContaining({ trackId: "w1" }) });
		expect(heard.filter(m => m.type === "detection")).toHaveLength(1);

		ws.send(JSON.stringify({ action: "unsubscribe", channel: "detections", cameraId: camera.cameraId }));
		await next(m => m.type === "unsubscribed");
		node.broker.broadcast("live.detection", detection(camera.cameraId, "w2"));
		await node.broker.call("notifications.notify", { userId: operator.id, title: "Own, without subscribing" });
		expect(await next(m => m.type === "notification")).toMatchObject({ channel: "notifications", notification: { title: "Own, without subscribing" } });
		expect(heard.filter(m => m.type === "detection")).toHaveLength(1);
	});

	it("drops a client that does not read, without growing the gateway's buffers; the others get everything", async () => {
		const slow = await wsOf(`?token=${encodeURIComponent(admin.token)}`);
		const fast = await wsOf(`?token=${encodeURIComponent(operator.token)}`);
		for (const c of [slow, fast]) {
			c.ws.send(JSON.stringify({ action: "subscribe", channel: "detections" }));
			await c.next(m => m.type === "subscribed");
		}
		// The slow client stops reading: the kernel's buffers fill, then the gateway's.
		(slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
		const before = relay().counts();
		const bulk = "x".repeat(16 * 1024);
		let peak = 0;
		for (let i = 0; i < 600; i++) {
			node.broker.broadcast("live.detection", detection(camera.cameraId, `bulk-${i}`, { note: bulk }));
			if (i % 20 === 0) {
				await new Promise(r => setTimeout(r, 20));
				peak = Math.max(peak, ...serverBuffered());
			}
		}
		await until("the fast client got all 600", async () => fast.heard.filter(m => m.type === "detection").length, n => n === 600, 20_000);
		const after = relay().counts();
		expect(after.disconnectedSlow - before.disconnectedSlow).toBe(1);
		expect(after.dropped).toBeGreaterThan(before.dropped);
		// The gateway never held more for the slow client than its limit and one message.
		expect(peak).toBeLessThanOrEqual(65536 + 20 * 1024);
		console.log(`live: slow /ws client dropped after ${after.dropped - before.dropped} skipped messages; peak server-side buffer ${peak} bytes`);
	}, 30_000);

	/** Bytes the gateway holds for each /ws client. */
	function serverBuffered(): number[] {
		const wss = (node.broker.getLocalService("api") as unknown as { wss: { clients: Set<WebSocket> } }).wss;
		return [...wss.clients].map(c => c.bufferedAmount);
	}
});
