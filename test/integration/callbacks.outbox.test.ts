/**
 * The outbox against a backend that never recovers: results stay pending (retried with capped
 * backoff) while their session runs, and are marked failed, audited, announced and counted in
 * /metrics once CALLBACK_GIVE_UP_MS has passed since the session ended; and batches of at most
 * 100 results per request; failing deliveries raise the slot's callback alert, resolved when
 * delivered. Real HTTP both ways.
 */
import { startJavaBackend, type JavaBackend } from "../support/java-backend";
import { api, startNode, type TestNode } from "../support/node";
import { until } from "../support/until";

describe("callbacks outbox: batches, and giving up on an unreachable backend", () => {
	let node: TestNode;
	let backend: JavaBackend;
	beforeAll(async () => {
		backend = await startJavaBackend();
		backend.answer(503);
		node = await startNode({ CALLBACK_POLL_MS: "100", CALLBACK_RETRY_BASE_MS: "20", CALLBACK_RETRY_MAX_MS: "100", CALLBACK_GIVE_UP_MS: "1500", LOG_LEVEL: "error" });
	});
	afterAll(async () => {
		await node?.stop();
		await backend?.close();
	});

	const pendingReport = (slotId: number, recognitionId: string) =>
		node.broker.call("recognitions.insert", {
			entity: { recognitionId, slotId, cameraId: 1, userId: 201, rollNumber: "HE1", fullName: "A", kind: "report", similarity: 0.9, recognizedAt: new Date(), embeddingVersion: 1, delivery: "pending", attempts: 0, nextAttemptAt: new Date() }
		});
	const delivery = async (recognitionId: string) => ((await node.broker.call<any[], object>("recognitions.find", { query: { recognitionId } }))[0] as { delivery: string; attempts: number }) ?? null;

	it("keeps retrying while the session runs, and gives up only after the session ended plus CALLBACK_GIVE_UP_MS", async () => {
		await node.broker.call("sessions.create", { slotId: 501, roomId: 1, status: "active", students: [], cameras: [], config: { callbackUrl: backend.url }, startedAt: new Date() });
		const ended = new Date();
		await node.broker.call("sessions.create", { slotId: 502, roomId: 1, status: "stopped", students: [], cameras: [], config: { callbackUrl: backend.url }, startedAt: ended, stoppedAt: ended });
		await pendingReport(501, "running-1");
		await pendingReport(502, "ended-1");

		const failed = await until("the ended session's result marked failed", () => delivery("ended-1"), d => d?.delivery === "failed", 15_000);
		expect(Date.now() - ended.getTime()).toBeGreaterThanOrEqual(1500);
		expect(failed.attempts).toBeGreaterThan(1);
		// The running session's result is still pending, and was tried more than once meanwhile.
		const running = await delivery("running-1");
		expect(running.delivery).toBe("pending");
		expect(backend.requests.filter(r => r.body.results.some(x => x.recognitionId === "running-1")).length).toBeGreaterThan(3);

		const audit = await node.broker.call<any[], object>("audit.find", { query: { action: "callback.failed", slotId: 502 } });
		expect(audit).toHaveLength(1);
		expect(audit[0].details.recognitionIds).toEqual(["ended-1"]);
		const metrics = (await api(node.baseUrl, "/metrics")).body.data;
		expect(metrics.callbacks).toMatchObject({ failed: 1, pending: 1, delivered: 0 });
		expect(backend.delivered()).toEqual([]);
		// Each slot's failing deliveries raised one alert (after CALLBACK_ALERT_ATTEMPTS, 3), the given-up one critical.
		const alerts = async () => (await node.broker.call<any, object>("alerts.list", { type: "callback_failing", page: 1, pageSize: 10 })).rows as any[];
		const raised = await alerts();
		expect(raised.map(a => [a.cause, a.level, a.resolved]).sort()).toEqual([
			["callbacks:slot:501", "high", false],
			["callbacks:slot:502", "critical", false]
		]);
		expect(raised.find(a => a.cause === "callbacks:slot:501").count).toBeGreaterThan(1);

		// The backend comes back: the running session's result is delivered, the failed one is not resent.
		backend.answer(200);
		await until("the running session's result delivered", () => delivery("running-1"), d => d?.delivery === "delivered", 10_000);
		expect(backend.delivered().map(r => r.recognitionId)).toEqual(["running-1"]);
		// Delivered at last: slot 501's alert has passed; 502's results stay given up, its alert open.
		await until("slot 501's alert resolved", alerts, rows => rows.find(a => a.cause === "callbacks:slot:501")?.resolved === true, 5000);
		expect((await alerts()).find(a => a.cause === "callbacks:slot:502").resolved).toBe(false);
	}, 30_000);

	it("sends at most 100 results per request: 150 pending results of one session arrive in two requests, each once", async () => {
		const first = backend.requests.length;
		await node.broker.call("sessions.create", { slotId: 503, roomId: 1, status: "active", students: [], cameras: [], config: { callbackUrl: backend.url }, startedAt: new Date() });
		for (let i = 0; i < 150; i++) await pendingReport(503, `many-${i}`);
		await until("150 results delivered", () => backend.delivered().filter(r => r.recognitionId.startsWith("many-")).length, n => n >= 150, 15_000);
		const requests = backend.requests.slice(first).filter(r => r.body.slotId === 503);
		expect(requests.every(r => r.body.results.length <= 100)).toBe(true);
		expect(requests.length).toBeGreaterThanOrEqual(2);
		const ids = backend.delivered().filter(r => r.recognitionId.startsWith("many-")).map(r => r.recognitionId);
		expect(new Set(ids).size).toBe(150);
		expect(ids).toHaveLength(150);
	}, 30_000);
});
