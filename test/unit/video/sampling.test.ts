import { SamplingPlan, targetSize, type PacketAction } from "../../../lib/video/sampling";

/** Feed a 25 fps stream with a key frame every `keyint` packets; return the actions and yielded times. */
function run(plan: SamplingPlan, seconds: number, keyint: number, firstKey = 0) {
	const actions: PacketAction[] = [];
	const yielded: number[] = [];
	const gop: number[] = [];
	for (let i = 0; i < seconds * 25; i++) {
		const t = i / 25;
		const key = i >= firstKey && (i - firstKey) % keyint === 0;
		const action = plan.onPacket(t, key);
		actions.push(action);
		// What the frame source does: decode, or replay the buffered GOP then this packet.
		const decoded = action === "catch-up" ? [...gop, t] : action === "decode" ? [t] : [];
		for (const ft of decoded) if (plan.onFrame(ft)) yielded.push(ft);
		if (plan.buffersGop) {
			if (key) gop.length = 0;
			gop.push(t);
		}
	}
	return { actions, yielded, decodes: actions.filter(a => a !== "skip").length };
}

describe("sampling plan", () => {
	it("with a phase, the second frame comes that long after the first, then one per interval", () => {
		const plan = new SamplingPlan({ everySeconds: 5, keyFramesOnly: "auto", phaseSeconds: 2 });
		const { yielded, decodes } = run(plan, 30, 25);
		expect(plan.mode).toBe("key");
		expect(yielded).toEqual([0, 2, 7, 12, 17, 22, 27]);
		expect(decodes).toBe(7);
		// Out of range: the plain interval.
		expect(run(new SamplingPlan({ everySeconds: 5, keyFramesOnly: "auto", phaseSeconds: 9 }), 16, 25).yielded).toEqual([0, 5, 10, 15]);
	});

	it("decodes only the due key frames when key frames come often enough", () => {
		const plan = new SamplingPlan({ everySeconds: 5, keyFramesOnly: "auto" });
		const { yielded, decodes } = run(plan, 60, 25);
		expect(plan.mode).toBe("key");
		expect(yielded).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55]);
		expect(decodes).toBe(12); // of 1500 packets
	});

	it("waits for the first key frame before decoding anything", () => {
		const plan = new SamplingPlan({ everySeconds: 1, keyFramesOnly: "auto" });
		const { actions, yielded } = run(plan, 3, 25, 7);
		expect(actions.slice(0, 7).every(a => a === "skip")).toBe(true);
		expect(yielded[0]).toBeCloseTo(7 / 25);
	});

	it("switches to full decoding when key frames are too rare, catching up from the buffered GOP", () => {
		const plan = new SamplingPlan({ everySeconds: 1, keyFramesOnly: "auto" });
		const { actions, yielded } = run(plan, 20, 250); // a key frame every 10 s
		expect(plan.mode).toBe("full");
		expect(actions.filter(a => a === "catch-up")).toHaveLength(1);
		// One frame per second from the start, not one per key frame.
		expect(yielded).toHaveLength(20);
		yielded.forEach((t, i) => expect(t).toBeCloseTo(i, 6));
	});

	it("keeps a late but tolerable key frame (within half an interval) in key mode", () => {
		const plan = new SamplingPlan({ everySeconds: 5, keyFramesOnly: "auto" });
		const { yielded } = run(plan, 30, 50); // key every 2 s
		expect(plan.mode).toBe("key");
		expect(yielded).toEqual([0, 6, 12, 18, 24]);
	});

	it("after losing its GOP buffer, resumes full decoding only from a key frame", () => {
		const plan = new SamplingPlan({ everySeconds: 1, keyFramesOnly: "auto" });
		expect(plan.onPacket(0, true)).toBe("decode");
		plan.onFrame(0);
		plan.gopOverflow();
		expect(plan.onPacket(1.6, false)).toBe("skip");
		expect(plan.mode).toBe("full");
		expect(plan.onPacket(1.64, false)).toBe("skip");
		expect(plan.onPacket(1.68, true)).toBe("decode");
		expect(plan.onPacket(1.72, false)).toBe("decode");
	});

	it("decodes and yields every frame without an interval, or when told never to skip", () => {
		const every = run(new SamplingPlan({ everySeconds: 0, keyFramesOnly: "auto" }), 2, 25);
		expect(every.yielded).toHaveLength(50);
		const never = new SamplingPlan({ everySeconds: 1, keyFramesOnly: "never" });
		const r = run(never, 4, 25);
		expect(never.mode).toBe("full");
		expect(r.decodes).toBe(100);
		expect(r.yielded).toEqual([0, 1, 2, 3]);
	});

	it("sizes output frames: exact, keeping the aspect, or the source size", () => {
		expect(targetSize(1920, 1080, { width: 640, height: 480 })).toEqual({ width: 640, height: 480 });
		expect(targetSize(1920, 1080, { width: 640 })).toEqual({ width: 640, height: 360 });
		expect(targetSize(1920, 1080, { height: 540 })).toEqual({ width: 960, height: 540 });
		expect(targetSize(1920, 1080, {})).toEqual({ width: 1920, height: 1080 });
	});
});
