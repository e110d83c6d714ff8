import { DEFAULT_BACKOFF, backoffDelay } from "../../../lib/video/backoff";

describe("reconnect backoff", () => {
	const opts = { initialMs: 500, maxMs: 30_000, factor: 2 };

	it("grows exponentially up to the cap, between half and all of each step", () => {
		const steps = [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000];
		steps.forEach((step, attempt) => {
			expect(backoffDelay(attempt, opts, () => 0)).toBe(step / 2);
			expect(backoffDelay(attempt, opts, () => 0.999999)).toBe(step);
			expect(backoffDelay(attempt, opts, () => 0.5)).toBe(Math.round(step * 0.75));
		});
	});

	it("spreads retries of many clients (jitter), within the bounds", () => {
		const delays = Array.from({ length: 200 }, () => backoffDelay(3, DEFAULT_BACKOFF));
		for (const d of delays) {
			expect(d).toBeGreaterThanOrEqual(2000);
			expect(d).toBeLessThanOrEqual(4000);
		}
		expect(new Set(delays).size).toBeGreaterThan(50);
	});

	it("treats a negative attempt as the first", () => {
		expect(backoffDelay(-1, opts, () => 0)).toBe(250);
	});
});
