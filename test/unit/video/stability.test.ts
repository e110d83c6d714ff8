import { frameRateFromTimestamps, streamStability } from "../../../lib/video/stability";

describe("stream stability from frame intervals", () => {
	it("calls an even pace stable, with ordinary network jitter", () => {
		expect(streamStability([40, 40, 40, 40, 40, 40, 40, 40, 40])).toBe("stable");
		expect(streamStability([38, 43, 40, 36, 44, 41, 39, 40, 42])).toBe("stable");
	});

	it("calls bursts and stalls unstable", () => {
		expect(streamStability([5, 5, 150, 5, 5, 150, 5, 5, 150])).toBe("unstable");
		expect(streamStability([40, 40, 40, 40, 400, 40, 40, 40, 40])).toBe("unstable");
	});

	it("says unknown with too few intervals or no elapsed time", () => {
		expect(streamStability([])).toBe("unknown");
		expect(streamStability([40, 40])).toBe("unknown");
		expect(streamStability([0, 0, 0])).toBe("unknown");
		expect(streamStability([NaN, 40, -1])).toBe("unknown");
	});

	it("measures frames per second from timestamps", () => {
		expect(frameRateFromTimestamps([0, 0.04, 0.08, 0.12, 0.16])).toBeCloseTo(25, 6);
		expect(frameRateFromTimestamps([10, 10.5, 11])).toBeCloseTo(2, 6);
		expect(frameRateFromTimestamps([1])).toBeNull();
		expect(frameRateFromTimestamps([1, 1])).toBeNull();
	});
});
