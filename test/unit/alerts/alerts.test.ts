import { RateGate, alertId, decideRaise, type AlertState } from "../../../lib/alerts/alerts";

const state = (over: Partial<AlertState> = {}): AlertState => ({ cause: "camera:1:offline", generation: 1, level: "medium", resolved: false, muted: false, ...over });

describe("alert rules", () => {
	it("opens the first alert of a cause, counts repeats while open, opens the next generation once resolved", () => {
		expect(decideRaise(null, "high")).toEqual({ kind: "open", generation: 1 });
		expect(decideRaise(state(), "low")).toEqual({ kind: "repeat", level: "medium" });
		expect(decideRaise(state(), "critical")).toEqual({ kind: "repeat", level: "critical" });
		expect(decideRaise(state({ resolved: true, generation: 4 }), "low")).toEqual({ kind: "open", generation: 5 });
	});

	it("raises nothing for a muted cause, resolved or not, until unmuted", () => {
		expect(decideRaise(state({ muted: true }), "critical")).toEqual({ kind: "muted" });
		expect(decideRaise(state({ muted: true, resolved: true }), "critical")).toEqual({ kind: "muted" });
		expect(decideRaise(state({ muted: false, resolved: true }), "critical")).toEqual({ kind: "open", generation: 2 });
	});

	it("derives one id per (cause, generation), so concurrent opens collide", () => {
		expect(alertId("camera:1:offline", 1)).toBe(alertId("camera:1:offline", 1));
		expect(alertId("camera:1:offline", 1)).not.toBe(alertId("camera:1:offline", 2));
		expect(alertId("camera:1:offline", 1)).not.toBe(alertId("camera:2:offline", 1));
		expect(alertId("x", 3)).toMatch(/^ALERT-[0-9A-F]{12}-3$/);
	});

	it("lets one event per key through per interval, and forgets the oldest keys first", () => {
		const gate = new RateGate(1000, 2);
		expect(gate.pass("a", 0)).toBe(true);
		expect(gate.pass("a", 999)).toBe(false);
		expect(gate.pass("b", 999)).toBe(true);
		expect(gate.pass("a", 1000)).toBe(true);
		expect(gate.pass("c", 1001)).toBe(true); // b is forgotten now
		expect(gate.pass("b", 1002)).toBe(true);
		expect(gate.pass("c", 1003)).toBe(false);
	});
});
