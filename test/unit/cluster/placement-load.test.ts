import { expectedWaitMs, ewma, pickNode, STALE_MS, type InferenceLoad } from "../../../lib/cluster/inference-load";
import { claimDecision, leaseIsLive, liveOwner, placeActor, rankNodes } from "../../../lib/recognition/placement";

describe("rendezvous placement", () => {
	const nodes = ["actors-1", "actors-2", "actors-3"];

	it("is the same on every node whatever the order of the list", () => {
		for (let slot = 0; slot < 50; slot++) expect(placeActor(`session:${slot}`, nodes)).toBe(placeActor(`session:${slot}`, [...nodes].reverse()));
	});

	it("spreads sessions over the nodes", () => {
		const counts = new Map<string, number>();
		for (let slot = 0; slot < 300; slot++) {
			const n = placeActor(`session:${slot}`, nodes)!;
			counts.set(n, (counts.get(n) ?? 0) + 1);
		}
		for (const n of nodes) expect(counts.get(n)).toBeGreaterThan(60);
	});

	it("moves only the sessions of a node that leaves", () => {
		for (let slot = 0; slot < 200; slot++) {
			const before = placeActor(`session:${slot}`, nodes)!;
			const after = placeActor(`session:${slot}`, nodes.filter(n => n !== "actors-2"))!;
			if (before !== "actors-2") expect(after).toBe(before);
			else expect(after).not.toBe("actors-2");
		}
	});

	it("skips excluded (draining) nodes and says when none is left", () => {
		expect(placeActor("session:1", nodes, new Set(nodes))).toBeNull();
		const first = rankNodes("session:1", nodes)[0];
		expect(placeActor("session:1", nodes, new Set([first]))).toBe(rankNodes("session:1", nodes)[1]);
	});
});

describe("lease claims", () => {
	const now = 1_000_000;
	it("holds a lease live while it has an owner and its time has not come", () => {
		expect(leaseIsLive({ leaseOwner: "a", leaseUntil: now + 1 }, now)).toBe(true);
		expect(leaseIsLive({ leaseOwner: "a", leaseUntil: now }, now)).toBe(false);
		expect(leaseIsLive({ leaseOwner: "a", leaseUntil: null }, now)).toBe(false);
		expect(leaseIsLive({ leaseOwner: null, leaseUntil: now + 1000 }, now)).toBe(false);
		expect(leaseIsLive({}, now)).toBe(false);
		expect(liveOwner({ leaseOwner: "a", leaseUntil: now + 1 }, now)).toBe("a");
		expect(liveOwner({ leaseOwner: "a", leaseUntil: now - 1 }, now)).toBeNull();
	});
	it("gives a free or expired lease to a new owner with the next token", () => {
		expect(claimDecision({}, "a", now)).toEqual({ ok: true, token: 1, renew: false });
		expect(claimDecision({ leaseOwner: "b", leaseToken: 4, leaseUntil: now - 1 }, "a", now)).toEqual({ ok: true, token: 5, renew: false });
	});
	it("lets the owner renew with the same token and refuses anyone else while it is held", () => {
		expect(claimDecision({ leaseOwner: "a", leaseToken: 4, leaseUntil: now + 100 }, "a", now)).toEqual({ ok: true, token: 4, renew: true });
		expect(claimDecision({ leaseOwner: "b", leaseToken: 4, leaseUntil: now + 100 }, "a", now)).toEqual({ ok: false, owner: "b", until: now + 100 });
	});
	it("lets the node a lease was handed to take it at once, with a new token", () => {
		expect(claimDecision({ leaseOwner: "b", leaseToken: 4, leaseUntil: now + 100, leaseHandTo: "a" }, "a", now)).toEqual({ ok: true, token: 5, renew: false });
	});
});

describe("inference load balancing", () => {
	const now = 50_000;
	const load = (nodeID: string, running: number, waiting: number, latencyMs: number, concurrency = 1): InferenceLoad => ({ nodeID, running, waiting, latencyMs, concurrency, at: now });

	it("prefers the node with the shorter expected wait", () => {
		const loads = new Map([
			["a", load("a", 1, 3, 40)],
			["b", load("b", 1, 0, 60)]
		]);
		expect(pickNode(["a", "b"], loads, new Map(), now)).toBe("b");
	});

	it("counts what this caller sent since the last report", () => {
		const loads = new Map([
			["a", load("a", 0, 0, 50)],
			["b", load("b", 0, 0, 50)]
		]);
		expect(pickNode(["a", "b"], loads, new Map([["a", 3]]), now)).toBe("b");
	});

	it("treats a node that has not reported (or went quiet) as idle", () => {
		const loads = new Map([["a", load("a", 0, 2, 30)]]);
		expect(pickNode(["a", "new"], loads, new Map(), now)).toBe("new");
		expect(expectedWaitMs({ ...load("a", 9, 9, 100), at: now - STALE_MS - 1 }, 0, now)).toBe(0);
	});

	it("divides by the engines a node runs", () => {
		expect(expectedWaitMs(load("a", 2, 2, 50, 2), 0, now)).toBe(125);
	});

	it("averages latency exponentially", () => {
		expect(ewma(null, 10)).toBe(10);
		expect(ewma(10, 20, 0.5)).toBe(15);
	});
});
