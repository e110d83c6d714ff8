/** The alert watch's conditions: capacity lost, a saturated queue, an unreachable store; what passes is watched. */
import { CAPACITY_CAUSE, isSaturated, saturatedCause, storeCause, watchConditions, type WatchFacts } from "../../../lib/alerts/watch";

const NOW = 1_000_000;
const load = (nodeID: string, waiting: number, queueCapacity: number | undefined, at = NOW) => ({ nodeID, running: 1, waiting, concurrency: 1, queueCapacity, latencyMs: 50, at });
const facts = (f: Partial<WatchFacts>): WatchFacts => ({ inferenceNodes: ["inf-1"], needInference: true, loads: [], stores: { sessions: true }, now: NOW, ...f });

describe("alert watch conditions", () => {
	it("loses inference capacity only while actors need it and no inference node is there", () => {
		const causes = (f: Partial<WatchFacts>) => watchConditions(facts(f), { saturation: 0.8 }).active.map(c => c.cause);
		expect(causes({ inferenceNodes: [] })).toEqual([CAPACITY_CAUSE]);
		expect(causes({ inferenceNodes: [], needInference: false })).toEqual([]);
		expect(causes({})).toEqual([]);
		// Unknown need: neither raised nor resolved.
		const unknown = watchConditions(facts({ inferenceNodes: [], needInference: null }), { saturation: 0.8 });
		expect(unknown.active).toEqual([]);
		expect(unknown.watched).not.toContain(CAPACITY_CAUSE);
		expect(watchConditions(facts({}), { saturation: 0.8 }).watched).toContain(CAPACITY_CAUSE);
	});

	it("saturates a node whose fresh report has its queue near capacity", () => {
		expect(isSaturated(load("a", 4, 5), 0.8, NOW)).toBe(true);
		expect(isSaturated(load("a", 3, 5), 0.8, NOW)).toBe(false);
		expect(isSaturated(load("a", 4, 5, NOW - 6000), 0.8, NOW)).toBe(false); // stale
		expect(isSaturated(load("a", 4, undefined), 0.8, NOW)).toBe(false); // an older node's report
		expect(isSaturated(load("a", 0, 0), 0.8, NOW)).toBe(false);
		const r = watchConditions(facts({ inferenceNodes: ["inf-1", "inf-2"], loads: [load("inf-1", 16, 16), load("inf-2", 1, 16), load("gone", 16, 16)] }), { saturation: 0.8 });
		expect(r.active.map(c => c.cause)).toEqual([saturatedCause("inf-1")]);
		expect(r.active[0].details).toEqual(expect.objectContaining({ waiting: 16, queueCapacity: 16 }));
		// A node gone from the registry is watched, so its alert passes.
		expect(r.watched).toEqual(expect.arrayContaining([saturatedCause("inf-2"), saturatedCause("gone")]));
	});

	it("raises a store whose health check fails, and watches every store", () => {
		const r = watchConditions(facts({ stores: { sessions: true, embeddings: false } }), { saturation: 0.8 });
		expect(r.active.map(c => [c.cause, c.type, c.level])).toEqual([[storeCause("embeddings"), "store_unreachable", "critical"]]);
		expect(r.watched).toEqual(expect.arrayContaining([storeCause("sessions"), storeCause("embeddings")]));
	});
});
