/**
 * The outbound-URL policy on every entry point, over real HTTP against a real node: FUACS
 * test-connection and capture-frame (a URL, and a cameraId the Java backend records), process-
 * session (camera URLs and callbackUrl), embeddings/generate (videoUrl), console cameras
 * (create, update, import, test-connection, snapshot), and callback delivery. Loopback only:
 * OUTBOUND_DENY=127.0.0.2/32 stands for a refused range, a server on 127.0.0.2 counts any
 * connection that reaches it (there must be none), names come from OUTBOUND_HOSTS
 * (cam.test -> 127.0.0.1 where the real RTSP and HTTP servers answer, evil.test -> 127.0.0.2,
 * mixed.test -> both), and a server on 127.0.0.1 redirects to the refused ones.
 */
import http from "node:http";
import net from "node:net";
import { ADMIN, CONSOLE_ENV, call, login } from "../support/console";
import { startJavaBackend, type JavaBackend } from "../support/java-backend";
import { api, startNode, type TestNode } from "../support/node";
import { describeWithRtsp, startRtspServer, type RtspServer } from "../support/rtsp";
import { until } from "../support/until";

const vec = (seed: number) => Array.from({ length: 512 }, (_, i) => Math.sin(i * seed + 1));

describeWithRtsp("outbound URLs: one policy on every entry point", () => {
	let node: TestNode;
	let rtsp: RtspServer;
	let helper: http.Server; // 127.0.0.1: redirects, and the Java backend's camera lookup
	let refused: net.Server; // 127.0.0.2: must never be reached
	let redirector: net.Server; // 127.0.0.1: an RTSP server that answers 302
	let dp = 0;
	let backend: JavaBackend; // 127.0.0.1: callbacks
	let hp = 0;
	let rp = 0;
	let refusedHits = 0;
	let token = "";
	const q = (params: Record<string, string | number>) => "?" + new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();

	beforeAll(async () => {
		rtsp = await startRtspServer({ live: { "/live": { width: 320, height: 240, fps: 10, keyint: 10 } } });
		refused = net.createServer(s => {
			refusedHits++;
			s.destroy();
		});
		await new Promise<void>(r => refused.listen(0, "127.0.0.2", () => r()));
		rp = (refused.address() as net.AddressInfo).port;
		helper = http.createServer((req, res) => {
			if (req.url?.startsWith("/to-denied")) return void res.writeHead(302, { Location: `http://127.0.0.2:${rp}/x` }).end();
			if (req.url?.startsWith("/to-evil")) return void res.writeHead(302, { Location: `http://evil.test:${rp}/x` }).end();
			if (req.url === "/api/v1/cameras/77") {
				res.writeHead(200, { "Content-Type": "application/json" });
				return void res.end(JSON.stringify({ status: 200, message: "OK", data: { id: 77, name: "recorded", rtspUrl: `rtsp://evil.test:${rp}/live` } }));
			}
			res.writeHead(404).end();
		});
		await new Promise<void>(r => helper.listen(0, "127.0.0.1", () => r()));
		hp = (helper.address() as net.AddressInfo).port;
		redirector = net.createServer(sock =>
			sock.on("data", d => {
				const text = d.toString();
				const cseq = /CSeq: (\d+)/.exec(text)?.[1] ?? "1";
				const to = text.split("\r\n")[0].includes("/to-cam") ? `rtsp://cam.test:${rtsp.port}/live` : `rtsp://evil.test:${rp}/live`;
				sock.write(`RTSP/1.0 302 Moved Temporarily\r\nCSeq: ${cseq}\r\nLocation: ${to}\r\n\r\n`);
			})
		);
		await new Promise<void>(r => redirector.listen(0, "127.0.0.1", () => r()));
		dp = (redirector.address() as net.AddressInfo).port;
		backend = await startJavaBackend();
		node = await startNode({
			...CONSOLE_ENV,
			JAVA_BACKEND_URL: `http://127.0.0.1:${hp}`,
			OUTBOUND_DENY: "127.0.0.2/32",
			OUTBOUND_HOSTS: "cam.test=127.0.0.1,evil.test=127.0.0.2,mixed.test=127.0.0.1|127.0.0.2",
			CAMERA_CONNECT_TIMEOUT: "5000",
			CALLBACK_POLL_MS: "100",
			CALLBACK_RETRY_BASE_MS: "20",
			CALLBACK_RETRY_MAX_MS: "200",
			LOG_LEVEL: "error"
		});
		token = (await login(node, ADMIN.email, ADMIN.password)).accessToken;
	}, 120_000);

	afterAll(async () => {
		await node?.stop();
		await rtsp?.stop();
		await backend?.close();
		helper?.closeAllConnections();
		await new Promise(r => helper?.close(r));
		await new Promise(r => refused?.close(r));
		await new Promise(r => redirector?.close(r));
	});

	afterEach(() => expect(refusedHits).toBe(0));

	const refusals = async () => node.broker.call<any[], object>("audit.find", { query: { action: "outbound.refused" } });
	const expectFuacsRefusal = (res: { status: number; body: any }, rule: string) => {
		expect(res.status).toBe(400);
		expect(res.body).toEqual({ status: 400, code: "URL_NOT_ALLOWED", message: expect.stringContaining(`rule ${rule}`) });
	};

	it("the refused server is real: a connection without the policy reaches it", async () => {
		await new Promise<void>((resolve, reject) => net.connect(rp, "127.0.0.2").on("close", () => resolve()).on("error", reject));
		await until("counted", async () => refusedHits, n => n === 1, 2000);
		refusedHits = 0;
	});

	it("FUACS test-connection: a name resolving to a denied address, one of several, a redirect, the node's own port: 400 naming the rule, audited", async () => {
		const before = (await refusals()).length;
		expectFuacsRefusal(await api(node.baseUrl, `/cameras/test-connection${q({ rtspUrl: `rtsp://user:secret@evil.test:${rp}/live` })}`), "deny-list");
		expectFuacsRefusal(await api(node.baseUrl, `/cameras/test-connection${q({ rtspUrl: `rtsp://mixed.test:${rp}/live` })}`), "deny-list");
		expectFuacsRefusal(await api(node.baseUrl, `/cameras/test-connection${q({ rtspUrl: `http://127.0.0.1:${hp}/to-denied` })}`), "deny-list");
		expectFuacsRefusal(await api(node.baseUrl, `/cameras/test-connection${q({ rtspUrl: `http://cam.test:${hp}/to-evil` })}`), "deny-list");
		const own = new URL(node.baseUrl).port;
		expectFuacsRefusal(await api(node.baseUrl, `/cameras/test-connection${q({ rtspUrl: `http://127.0.0.1:${own}/api/v1/health` })}`), "own-port");
		const audit = (await refusals()).slice(before);
		expect(audit).toHaveLength(5);
		expect(audit[0]).toMatchObject({ severity: "warning", outcome: "failure", actor: "integration key", context: { use: "camera", field: "rtspUrl", rule: "deny-list", address: "127.0.0.2" } });
		expect(JSON.stringify(audit)).not.toContain("secret");
		expect(audit.map(a => a.context.rule)).toEqual(["deny-list", "deny-list", "deny-list", "deny-list", "own-port"]);
	});

	it("FUACS test-connection: an RTSP server's own redirect is checked (FFmpeg would follow it): refused to a denied name, followed to an allowed one", async () => {
		expectFuacsRefusal(await api(node.baseUrl, `/cameras/test-connection${q({ rtspUrl: `rtsp://127.0.0.1:${dp}/to-evil` })}`), "deny-list");
		const ok = await api(node.baseUrl, `/cameras/test-connection${q({ rtspUrl: `rtsp://cam.test:${dp}/to-cam` })}`);
		expect(ok.status).toBe(200);
		expect(ok.body.data).toMatchObject({ connected: true, resolution: { width: 320, height: 240 } });
	}, 30_000);

	it("FUACS test-connection: FFmpeg is given the URL as checked, never the caller's text (it reads http://a\\@b/ as host b)", async () => {
		const res = await api(node.baseUrl, `/cameras/test-connection${q({ rtspUrl: `http://127.0.0.1:${hp}\\@127.0.0.2:${rp}/live` })}`);
		expect(res.status).toBe(200);
		expect(res.body.data.connected).toBe(false); // 127.0.0.1 answered 404; 127.0.0.2 was never reached (afterEach)
	});

	it("FUACS test-connection through an allowed name connects to the checked address (the name is only in OUTBOUND_HOSTS)", async () => {
		const res = await api(node.baseUrl, `/cameras/test-connection${q({ rtspUrl: `rtsp://cam.test:${rtsp.port}/live` })}`);
		expect(res.status).toBe(200);
		expect(res.body.data).toMatchObject({ connected: true, resolution: { width: 320, height: 240 } });
	}, 30_000);

	it("FUACS capture-frame: a caller's URL, and the URL the Java backend records for a cameraId", async () => {
		expectFuacsRefusal(await api(node.baseUrl, `/cameras/capture-frame${q({ rtspUrl: `rtsp://evil.test:${rp}/live` })}`), "deny-list");
		expectFuacsRefusal(await api(node.baseUrl, `/cameras/capture-frame${q({ rtspUrl: `http://127.0.0.1:${hp}/to-denied` })}`), "deny-list");
		const recorded = await api(node.baseUrl, `/cameras/capture-frame${q({ cameraId: 77 })}`);
		expectFuacsRefusal(recorded, "deny-list");
		expect(recorded.body.message).toMatch(/^cameraId: /);
		const ok = await api(node.baseUrl, `/cameras/capture-frame${q({ rtspUrl: `rtsp://cam.test:${rtsp.port}/live` })}`);
		expect(ok.status).toBe(200);
		expect(ok.body.data.image).toMatch(/^data:image\/jpeg;base64,/);
	}, 30_000);

	it("embeddings/generate: a videoUrl on a denied name, or redirecting to one", async () => {
		expectFuacsRefusal(await api(node.baseUrl, "/embeddings/generate", { body: { videoUrl: `http://evil.test:${rp}/v.mp4`, submissionId: 1 } }), "deny-list");
		expectFuacsRefusal(await api(node.baseUrl, "/embeddings/generate", { body: { videoUrl: `http://127.0.0.1:${hp}/to-evil`, submissionId: 2 } }), "deny-list");
		const audit = (await refusals()).filter(a => a.context.use === "video");
		expect(audit.map(a => a.context.field)).toEqual(["videoUrl", "videoUrl"]);
	});

	it("process-session: a refused callbackUrl or camera URL refuses the session before it is created", async () => {
		const body = (over: { callbackUrl?: string; rtspUrl?: string }) => ({
			slotId: 901,
			roomId: 1,
			students: [{ userId: 201, fullName: "A", rollNumber: "HE1", embeddingVector: vec(1), embeddingVersion: 1 }],
			cameras: [{ id: 1, name: "c", rtspUrl: over.rtspUrl ?? `rtsp://cam.test:${rtsp.port}/live` }],
			config: { callbackUrl: over.callbackUrl ?? backend.url }
		});
		const cb = await api(node.baseUrl, "/recognition/process-session", { body: body({ callbackUrl: `http://evil.test:${rp}/cb` }) });
		expectFuacsRefusal(cb, "deny-list");
		expect(cb.body.message).toMatch(/^config\.callbackUrl: /);
		const cam = await api(node.baseUrl, "/recognition/process-session", { body: body({ rtspUrl: `rtsp://mixed.test:${rp}/live` }) });
		expectFuacsRefusal(cam, "deny-list");
		expect(cam.body.message).toMatch(/^cameras\[0\]\.rtspUrl: /);
		expect(await node.broker.call("sessions.find", { query: { slotId: 901 } })).toEqual([]);
	});

	it("callback delivery: a callback URL that redirects to a denied address is not followed (audited); an allowed name delivers", async () => {
		const insert = (slotId: number, recognitionId: string) =>
			node.broker.call("recognitions.insert", {
				entity: { recognitionId, slotId, cameraId: 1, userId: 201, rollNumber: "HE1", fullName: "A", kind: "report", similarity: 0.9, recognizedAt: new Date(), embeddingVersion: 1, delivery: "pending", attempts: 0, nextAttemptAt: new Date() }
			});
		await node.broker.call("sessions.create", { slotId: 911, roomId: 1, status: "active", students: [], cameras: [], config: { callbackUrl: `http://127.0.0.1:${hp}/to-denied` }, startedAt: new Date() });
		await node.broker.call("sessions.create", { slotId: 912, roomId: 1, status: "active", students: [], cameras: [], config: { callbackUrl: backend.url.replace("127.0.0.1", "cam.test") }, startedAt: new Date() });
		await insert(911, "redirected-1");
		await insert(912, "named-1");
		const audit = await until("the refusal audited", async () => (await refusals()).filter(a => a.context.use === "callback" && a.context.slotId === 911), a => a.length > 0, 10_000);
		expect(audit[0]).toMatchObject({ context: { rule: "deny-list", slotId: 911, field: "config.callbackUrl" } });
		const [r] = await node.broker.call<any[], object>("recognitions.find", { query: { recognitionId: "redirected-1" } });
		expect(r.delivery).toBe("pending");
		expect(r.lastError ?? r.error ?? "").toMatch(/URL_NOT_ALLOWED/);
		await until("delivered through the name", async () => backend.requests.flatMap(q => q.body.results.map(x => x.recognitionId)), ids => ids.includes("named-1"), 10_000);
	}, 30_000);

	it("monitors: an enabled camera whose RTSP server redirects to a denied name is never connected there; the refusal is audited once", async () => {
		const cam = await call(node, "/cameras", { token, body: { name: "monitored", streamType: "RTSP", streamUrl: `rtsp://127.0.0.1:${dp}/to-evil`, enabled: true, sampleInterval: 1 } });
		expect(cam.status).toBe(201);
		const audit = await until("the monitor's refusal audited", async () => (await refusals()).filter(a => a.context.cameraId === cam.body.data.cameraId), a => a.length > 0, 20_000);
		expect(audit[0]).toMatchObject({ actor: expect.any(String), context: { use: "camera", field: "streamUrl", rule: "deny-list", address: "127.0.0.2" } });
		await new Promise(r => setTimeout(r, 2500)); // it retries meanwhile
		expect((await refusals()).filter(a => a.context.cameraId === cam.body.data.cameraId)).toHaveLength(1);
		expect((await call(node, `/cameras/${cam.body.data.id}`, { token })).body.data.status).toBe("offline");
		await call(node, `/cameras/${cam.body.data.id}`, { method: "DELETE", token });
	}, 40_000);

	it("Odoo: a base URL on a denied name is refused when saved and when tested; the client follows no redirect (to a denied address or any)", async () => {
		const conn = { database: "db", username: "sync@example.com", apiKey: "odoo-key-0123456789" };
		const bad = await call(node, "/odoo/config", { method: "PUT", token, body: { ...conn, baseUrl: `http://evil.test:${rp}` } });
		expect(bad.status).toBe(400);
		expect(bad.body.error).toMatchObject({ code: "URL_NOT_ALLOWED", details: [{ field: "baseUrl", issue: "deny-list" }] });
		const saved = await call(node, "/odoo/config", { method: "PUT", token, body: { ...conn, baseUrl: `http://127.0.0.1:${hp}/to-denied` } });
		expect(saved.status).toBe(200);
		const tried = await call(node, "/odoo/test", { token, body: { baseUrl: `http://mixed.test:${rp}` } });
		expect(tried.status).toBe(400);
		expect(tried.body.error).toMatchObject({ code: "URL_NOT_ALLOWED", details: [{ field: "baseUrl", issue: "deny-list" }] });
		const test = await call(node, "/odoo/test", { token, body: {} });
		expect(test.body.data).toMatchObject({ ok: false, error: { code: "ODOO_UNREACHABLE", message: expect.stringContaining("refused (redirect: \"error\")") } });
		expect((await refusals()).filter(a => a.context.use === "odoo").map(a => a.context.field)).toEqual(["baseUrl", "baseUrl"]);
	});

	it("console cameras: create, update and import refuse a denied stream URL; test-connection and snapshot refuse a redirect; all audited with the user", async () => {
		const create = await call(node, "/cameras", { token, body: { name: "evil", streamType: "RTSP", streamUrl: `rtsp://evil.test:${rp}/live`, enabled: false } });
		expect(create.status).toBe(400);
		expect(create.body).toMatchObject({ success: false, error: { code: "URL_NOT_ALLOWED", details: [{ field: "streamUrl", issue: "deny-list" }] } });
		const good = await call(node, "/cameras", { token, body: { name: "good", streamType: "RTSP", streamUrl: `rtsp://cam.test:${rtsp.port}/live`, enabled: false } });
		expect(good.status).toBe(201);
		const upd = await call(node, `/cameras/${good.body.data.id}`, { method: "PUT", token, body: { streamUrl: `rtsp://mixed.test:${rp}/live` } });
		expect(upd.status).toBe(400);
		expect(upd.body.error.code).toBe("URL_NOT_ALLOWED");
		const imp = await call(node, "/cameras/import", { token, body: { cameras: [{ name: "x", streamType: "HTTP", streamUrl: `http://evil.test:${rp}/mjpeg` }] } });
		expect(imp.status).toBe(400);
		expect(imp.body.error).toMatchObject({ code: "URL_NOT_ALLOWED", details: [{ field: "cameras[0].streamUrl", issue: "deny-list" }] });
		// Allowed when saved (127.0.0.1), refused when opened (its redirect).
		const redir = await call(node, "/cameras", { token, body: { name: "redirecting", streamType: "HTTP", streamUrl: `http://127.0.0.1:${hp}/to-evil`, enabled: false } });
		expect(redir.status).toBe(201);
		for (const what of ["test-connection", "snapshot"]) {
			const r = await call(node, `/cameras/${redir.body.data.id}/${what}`, { method: "POST", token });
			expect(r.status).toBe(400);
			expect(r.body.error).toMatchObject({ code: "URL_NOT_ALLOWED", message: expect.stringContaining("rule deny-list") });
		}
		const ok = await call(node, `/cameras/${good.body.data.id}/test-connection`, { method: "POST", token });
		expect(ok.body.data).toMatchObject({ success: true });
		const audit = (await refusals()).filter(a => a.actor === ADMIN.email && a.context.use === "camera");
		expect(audit.map(a => a.context.field)).toEqual(["streamUrl", "streamUrl", "cameras[0].streamUrl", "rtspUrl", "rtspUrl"]);
		const listed = await call(node, `/audit${q({ action: "outbound.refused", page: 1, pageSize: 100 })}`, { token });
		expect(listed.body.data.length).toBeGreaterThanOrEqual(audit.length);
	}, 30_000);
});
