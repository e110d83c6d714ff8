/** Streaming recognition's pure parts: the frame gate (rate, one waiting, newest kept), the protocol's checks and shapes, the log policy. */
import { FrameGate } from "../../../lib/stream/frame-gate";
import { MAX_FRAME_BYTES, parseClientMessage, shouldLog, streamFace, type FaceFacts } from "../../../lib/stream/protocol";

describe("stream: the frame gate", () => {
	it("starts a frame at once, then at most maxFps a second; a frame a little early waits for its slot", () => {
		const g = new FrameGate<number>(5);
		expect(g.offer(1, 0)).toBeNull();
		expect(g.take(0)).toEqual({ start: 1 });
		g.finish();
		// 150 ms later: 50 ms to wait for the 200 ms slot, nothing dropped.
		expect(g.offer(2, 150)).toBeNull();
		expect(g.take(150)).toEqual({ waitMs: 50 });
		expect(g.take(199)).toEqual({ waitMs: 1 });
		expect(g.take(200)).toEqual({ start: 2 });
		g.finish();
		expect(g.take(500)).toBeNull();
		expect(g.stats()).toEqual({ received: 2, started: 2, dropped: 0, droppedRate: 0, droppedBusy: 0 });
	});

	it("keeps at most one frame waiting: the newest, the one it replaces dropped with its reason", () => {
		const g = new FrameGate<number>(5);
		g.offer(1, 0);
		expect(g.take(0)).toEqual({ start: 1 });
		// Frame 1 still being analysed: 2 waits, 3 replaces it (busy), 4 replaces 3 (busy).
		expect(g.offer(2, 10)).toBeNull();
		expect(g.take(10)).toBeNull();
		expect(g.offer(3, 20)).toEqual({ frame: 2, reason: "busy" });
		expect(g.offer(4, 30)).toEqual({ frame: 3, reason: "busy" });
		g.finish();
		// Done at 100 ms: 4 waits for the rate; 5 replaces it (rate).
		expect(g.take(100)).toEqual({ waitMs: 100 });
		expect(g.offer(5, 150)).toEqual({ frame: 4, reason: "rate" });
		expect(g.take(200)).toEqual({ start: 5 });
		expect(g.stats()).toEqual({ received: 5, started: 2, dropped: 3, droppedRate: 1, droppedBusy: 2 });
		expect(g.stats().started + g.stats().dropped).toBe(g.stats().received);
	});

	it("never starts more than maxFps frames in any second, whatever the sender does", () => {
		for (const fps of [1, 5, 12.5]) {
			const g = new FrameGate<number>(fps);
			const starts: number[] = [];
			// A sender at 60 fps for 10 s, with analyses of 30 ms.
			let runningUntil = -1;
			for (let t = 0; t <= 10_000; t++) {
				if (runningUntil === t) {
					g.finish();
					runningUntil = -1;
				}
				if (t % 16 === 0) g.offer(t, t);
				const r = g.take(t);
				if (r && "start" in r) {
					starts.push(t);
					runningUntil = t + 30;
				}
			}
			for (let i = 1; i < starts.length; i++) expect(starts[i] - starts[i - 1]).toBeGreaterThanOrEqual(1000 / fps - 1e-9);
			expect(starts.length).toBeGreaterThanOrEqual(Math.floor(10 * fps) - 1);
			const s = g.stats();
			// Every frame is started, dropped, or (at most one) still waiting.
			expect(s.received - s.started - s.dropped).toBeLessThanOrEqual(1);
		}
		expect(() => new FrameGate(0)).toThrow(RangeError);
	});

	it("clear() forgets the waiting frame", () => {
		const g = new FrameGate<string>(5);
		g.offer("a", 0);
		expect(g.clear()).toBe("a");
		expect(g.take(0)).toBeNull();
	});
});

describe("stream: client messages", () => {
	const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]);
	it("reads a frame with plain base64 or a data URL, frame ids as integers or strings, the timestamp echoed", () => {
		for (const data of [jpeg.toString("base64"), `data:image/jpeg;base64,${jpeg.toString("base64")}`]) {
			const m = parseClientMessage(JSON.stringify({ type: "frame", data, timestamp: 1234567890, frame_id: 1 }), false);
			expect(m).toEqual({ kind: "frame", frameId: 1, timestamp: 1234567890, image: jpeg });
		}
		expect(parseClientMessage(Buffer.from(JSON.stringify({ type: "frame", data: jpeg.toString("base64"), frame_id: "cam-7" })), false)).toEqual({ kind: "frame", frameId: "cam-7", timestamp: null, image: jpeg });
		expect(parseClientMessage('{"type":"ping"}', false)).toEqual({ kind: "ping" });
		expect(parseClientMessage('{"type":"stats"}', false)).toEqual({ kind: "stats" });
	});

	it("answers each bad message with its code and the frame id when it has one", () => {
		const err = (text: string | Buffer, binary = false) => {
			const m = parseClientMessage(text, binary);
			return m.kind === "error" ? [m.code, m.frameId] : m.kind;
		};
		expect(err("not json")).toEqual(["INVALID_MESSAGE", null]);
		expect(err("[1,2]")).toEqual(["INVALID_MESSAGE", null]);
		expect(err(Buffer.from([1, 2, 3]), true)).toEqual(["INVALID_MESSAGE", null]);
		expect(err('{"type":"video","frame_id":3}')).toEqual(["UNKNOWN_TYPE", 3]);
		expect(err('{"type":"frame","data":"AAAA"}')).toEqual(["INVALID_FRAME_ID", null]);
		expect(err('{"type":"frame","data":"AAAA","frame_id":1.5}')).toEqual(["INVALID_FRAME_ID", null]);
		expect(err(JSON.stringify({ type: "frame", data: "AAAA", frame_id: "x".repeat(65) }))).toEqual(["INVALID_FRAME_ID", null]);
		expect(err('{"type":"frame","data":"AAAA","frame_id":2,"timestamp":{}}')).toEqual(["INVALID_TIMESTAMP", 2]);
		expect(err('{"type":"frame","frame_id":4}')).toEqual(["IMAGE_REQUIRED", 4]);
		expect(err('{"type":"frame","data":"this is not base64!!","frame_id":5}')).toEqual(["INVALID_BASE64", 5]);
		expect(err('{"type":"frame","data":"data:image/jpeg,abc","frame_id":6}')).toEqual(["INVALID_BASE64", 6]);
		const m = parseClientMessage(JSON.stringify({ type: "frame", data: "this is not base64!!", frame_id: 5 }), false);
		expect(m.kind === "error" && m.message).toContain("not valid base64");
	});

	it("refuses a frame decoding past the size limit from its length, before decoding it", () => {
		const big = Buffer.alloc(2048, 1).toString("base64");
		const m = parseClientMessage(JSON.stringify({ type: "frame", data: big, frame_id: 9 }), false, 1024);
		expect(m).toEqual(expect.objectContaining({ kind: "error", code: "IMAGE_TOO_LARGE", frameId: 9 }));
		expect(MAX_FRAME_BYTES).toBe(10 * 1024 * 1024);
	});
});

describe("stream: faces and logs", () => {
	const face = (o: Partial<FaceFacts> = {}): FaceFacts => ({ trackId: "1", status: "authorized", userId: "EMP-1", userName: "Anna", similarity: 0.934567, box: [10.4, 20.6, 110.2, 140.9], detectionScore: 0.99123, ...o });

	it("shapes a face as seed 003 does: bbox [x, y, w, h] clipped to the frame, the person only when recognised", () => {
		expect(streamFace(face(), 640, 360)).toEqual({ track_id: "1", user_id: "EMP-1", user_name: "Anna", confidence: 0.935, bbox: [10, 21, 100, 120], is_unknown: false, status: "recognized", detection_score: 0.991 });
		expect(streamFace(face({ status: "unknown", userId: null, userName: null, similarity: 0.41, box: [600, -5, 700, 100] }), 640, 360)).toEqual({ track_id: "1", user_id: null, user_name: null, confidence: 0.41, bbox: [600, 0, 40, 100], is_unknown: true, status: "unknown", detection_score: 0.991 });
		const tentative = streamFace(face({ status: "tentative" }), 640, 360);
		expect([tentative.user_id, tentative.is_unknown, tentative.status]).toEqual([null, false, "tentative"]);
	});

	it("logs a track's first face, its changes, then at most once per interval (0: every face)", () => {
		const f = face();
		expect(shouldLog(f, undefined, 0, 5000)).toBe(true);
		const last = { at: 0, status: "authorized", userId: "EMP-1" };
		expect(shouldLog(f, last, 1000, 5000)).toBe(false);
		expect(shouldLog(f, last, 5000, 5000)).toBe(true);
		expect(shouldLog(face({ status: "unknown", userId: null }), last, 1000, 5000)).toBe(true);
		expect(shouldLog(face({ userId: "EMP-2" }), last, 1000, 5000)).toBe(true);
		expect(shouldLog(f, last, 1, 0)).toBe(true);
	});
});
