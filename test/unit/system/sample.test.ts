/** A node's figures from two readings, the bounded history, and the registry grouped by service. */
import { Ring, cpuPercent, cpuTimes, diskFigures, memoryFigures, networkRates, parseProcNetDev } from "../../../lib/system/sample";
import { servicesView } from "../../../lib/system/registry";

const PROC_NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 5000 50 0 0 0 0 0 0 5000 50 0 0 0 0 0 0
  eth0: 1000 10 1 2 0 0 0 0 2000 20 3 4 0 0 0 0
`;

describe("node samples", () => {
	it("measures CPU use between two readings of the cores' times", () => {
		const t = (user: number, idle: number) => ({ times: { user, nice: 0, sys: 0, idle, irq: 0 } });
		const a = cpuTimes([t(100, 900), t(100, 900)]);
		const b = cpuTimes([t(150, 950), t(200, 900)]);
		expect(a).toEqual({ idle: 1800, total: 2000 });
		// 150 of the 200 ms since are busy.
		expect(cpuPercent(a, b)).toBe(75);
		expect(cpuPercent(b, b)).toBeNull();
	});

	it("reads /proc/net/dev without the loopback, and rates between readings", () => {
		const c = parseProcNetDev(PROC_NET_DEV);
		expect(Object.keys(c)).toEqual(["eth0"]);
		expect(c.eth0).toEqual({ rxBytes: 1000, rxPackets: 10, rxErrors: 1, rxDropped: 2, txBytes: 2000, txPackets: 20, txErrors: 3, txDropped: 4 });
		const later = { eth0: { ...c.eth0, rxBytes: 3000, txBytes: 2500 } };
		const r = networkRates(c, later, 2000);
		expect(r.interfaces[0]).toEqual(expect.objectContaining({ name: "eth0", rxBytesPerSec: 1000, txBytesPerSec: 250, errors: 4, dropped: 6 }));
		expect(r.rxBytesPerSec).toBe(1000);
		// No earlier reading, or a counter that went back (reset): 0.
		expect(networkRates(null, c, 0).rxBytesPerSec).toBe(0);
		expect(networkRates(later, c, 1000).interfaces[0].rxBytesPerSec).toBe(0);
	});

	it("derives disk and memory figures", () => {
		expect(diskFigures("/data", { bsize: 4096, blocks: 1000, bavail: 250 })).toEqual({ path: "/data", totalBytes: 4_096_000, freeBytes: 1_024_000, usedBytes: 3_072_000, usedPercent: 75 });
		expect(memoryFigures(1000, 400, { rss: 10, heapUsed: 5 })).toEqual({ totalBytes: 1000, freeBytes: 400, usedPercent: 60, processRssBytes: 10, processHeapUsedBytes: 5 });
	});

	it("keeps a bounded history, oldest first", () => {
		const r = new Ring<number>(3);
		expect(r.latest()).toBeNull();
		for (let i = 1; i <= 5; i++) r.push(i);
		expect(r.list()).toEqual([3, 4, 5]);
		expect(r.list(2)).toEqual([4, 5]);
		expect(r.latest()).toBe(5);
		expect(r.size).toBe(3);
		expect(() => new Ring(0)).toThrow(RangeError);
	});
});

describe("services of the registry", () => {
	it("groups entries by service with each node's state and uptime", () => {
		const now = new Date("2026-01-01T00:10:00Z");
		const view = servicesView(
			[
				{ name: "recognition", nodeID: "b", available: true },
				{ name: "recognition", nodeID: "a", available: false },
				{ name: "users", nodeID: "a", available: false, version: 2 },
				{ name: "$node", nodeID: "a", available: true },
				{ name: "api", nodeID: "c", available: true }
			],
			new Map([["b", { recognition: "2026-01-01T00:00:00Z" }]]),
			now,
			"1.0.0"
		);
		expect(view.map(s => [s.name, s.status, s.available, s.instances, s.version])).toEqual([
			["api", "running", 1, 1, "1.0.0"],
			["recognition", "degraded", 1, 2, "1.0.0"],
			["users", "down", 0, 1, "2"]
		]);
		expect(view[1].nodes).toEqual([
			{ nodeID: "a", available: false, startedAt: null, uptimeSeconds: null },
			{ nodeID: "b", available: true, startedAt: "2026-01-01T00:00:00Z", uptimeSeconds: 600 }
		]);
	});
});
