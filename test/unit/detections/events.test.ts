import { eventsQuery, frameEvent, meanLatency } from "../../../lib/detections/events";
import { meanMs, probeMessage, providerStatus } from "../../../lib/detections/provider";

describe("frame events", () => {
	const f = { cameraId: 3, cameraName: "Door", capturedAt: 1_000, doneAt: 1_245.6, source: "monitor" as const };
	it("says ok with faces, no_face without, and the latency from capture to result", () => {
		expect(frameEvent(f, { faces: 2, detections: ["3-t1"] })).toEqual({ cameraId: 3, cameraName: "Door", timestamp: new Date(1000), source: "monitor", latencyMs: 246, jobId: null, status: "ok", faces: 2, error: null, detections: ["3-t1"] });
		expect(frameEvent({ ...f, source: "send-frame", jobId: "j1" }, { faces: 0 })).toMatchObject({ status: "no_face", faces: 0, detections: [], jobId: "j1", source: "send-frame" });
	});
	it("keeps the error (bounded) of a frame that failed", () => {
		const e = frameEvent(f, { error: "x".repeat(900) });
		expect(e.status).toBe("error");
		expect(e.faces).toBe(0);
		expect(e.error).toHaveLength(500);
	});
	it("never reports a negative latency (clocks of two nodes)", () => {
		expect(frameEvent({ ...f, doneAt: 900 }, { faces: 1 }).latencyMs).toBe(0);
	});
});

describe("the event log's filters", () => {
	it("maps camera, status, source and an inclusive time range", () => {
		const from = new Date("2026-01-01T00:00:00Z");
		const to = new Date("2026-01-02T00:00:00Z");
		expect(eventsQuery({ cameraId: 4, status: "error", source: "send-frame", from, to })).toEqual({ cameraId: 4, status: "error", source: "send-frame", timestamp: { $gte: from, $lte: to } });
		expect(eventsQuery({ to })).toEqual({ timestamp: { $lte: to } });
		expect(eventsQuery({})).toEqual({});
	});
	it("averages the latency of frames that reached inference, newest first", () => {
		const t = (s: number) => new Date(s * 1000);
		expect(meanLatency([{ status: "error", latencyMs: 9000, timestamp: t(3) }, { status: "ok", latencyMs: 100, timestamp: t(2) }, { status: "no_face", latencyMs: 201, timestamp: t(1) }])).toEqual({
			calls: 3,
			errors: 1,
			averageLatencyMs: 151,
			lastOkAt: t(2).toISOString()
		});
		expect(meanLatency([])).toEqual({ calls: 0, errors: 0, averageLatencyMs: null, lastOkAt: null });
	});
});

describe("the provider's status", () => {
	const probe = (ok: boolean) => ({ ok, latencyMs: ok ? 120 : null, at: new Date() });
	it("is offline without an inference node, whatever was measured", () => {
		expect(providerStatus({ nodes: 0, lastProbe: probe(true), averageLatencyMs: 100, recentErrors: 0, recentCalls: 10 })).toBe("offline");
	});
	it("is connected with nodes and healthy calls, degraded when slow or failing", () => {
		expect(providerStatus({ nodes: 2, lastProbe: null, averageLatencyMs: null, recentErrors: 0, recentCalls: 0 })).toBe("connected");
		expect(providerStatus({ nodes: 2, lastProbe: probe(true), averageLatencyMs: 300, recentErrors: 1, recentCalls: 10 })).toBe("connected");
		expect(providerStatus({ nodes: 2, lastProbe: probe(true), averageLatencyMs: 6000, recentErrors: 0, recentCalls: 10 })).toBe("degraded");
		expect(providerStatus({ nodes: 2, lastProbe: probe(true), averageLatencyMs: 300, recentErrors: 5, recentCalls: 10 })).toBe("degraded");
	});
	it("is offline when the last test failed and nothing went through, degraded when some did", () => {
		expect(providerStatus({ nodes: 1, lastProbe: probe(false), averageLatencyMs: null, recentErrors: 0, recentCalls: 0 })).toBe("offline");
		expect(providerStatus({ nodes: 1, lastProbe: probe(false), averageLatencyMs: 200, recentErrors: 1, recentCalls: 5 })).toBe("degraded");
	});
	it("says why", () => {
		expect(probeMessage("offline", 0, null)).toBe("No inference node is running");
		expect(probeMessage("connected", 2, 80)).toBe("Provider healthy: 2 inference nodes");
		expect(probeMessage("offline", 1, null, "boom")).toBe("Inference failed: boom");
		expect(meanMs([1, 2, 4])).toBe(2);
		expect(meanMs([])).toBeNull();
	});
});
