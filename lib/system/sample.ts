/**
 * A node's resource figures (seed 002 `collect_system_metrics`), the pure part: CPU use from
 * two readings of the cores' times, network rates from two readings of /proc/net/dev, disk
 * from statfs, and a bounded history. The sampler that reads the machine is
 * services/node-health.service.ts.
 */

export interface CpuTimes {
	idle: number;
	total: number;
}

/** Summed times of all cores (os.cpus()). */
export function cpuTimes(cpus: readonly { times: { user: number; nice: number; sys: number; idle: number; irq: number } }[]): CpuTimes {
	let idle = 0;
	let total = 0;
	for (const c of cpus) {
		idle += c.times.idle;
		total += c.times.user + c.times.nice + c.times.sys + c.times.idle + c.times.irq;
	}
	return { idle, total };
}

/** Percent of the machine's CPU busy between two readings (0..100; null without time between them). */
export function cpuPercent(prev: CpuTimes, cur: CpuTimes): number | null {
	const total = cur.total - prev.total;
	if (total <= 0) return null;
	const busy = total - (cur.idle - prev.idle);
	return round(Math.min(100, Math.max(0, (busy / total) * 100)), 1);
}

export interface InterfaceCounters {
	rxBytes: number;
	rxPackets: number;
	rxErrors: number;
	rxDropped: number;
	txBytes: number;
	txPackets: number;
	txErrors: number;
	txDropped: number;
}

/** Linux's /proc/net/dev: counters per interface (the loopback left out). */
export function parseProcNetDev(text: string): Record<string, InterfaceCounters> {
	const out: Record<string, InterfaceCounters> = {};
	for (const line of text.split("\n").slice(2)) {
		const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
		if (!m || m[1] === "lo") continue;
		const f = m[2].trim().split(/\s+/).map(Number);
		if (f.length < 16 || f.some(n => !Number.isFinite(n))) continue;
		out[m[1]] = { rxBytes: f[0], rxPackets: f[1], rxErrors: f[2], rxDropped: f[3], txBytes: f[8], txPackets: f[9], txErrors: f[10], txDropped: f[11] };
	}
	return out;
}

export interface NetworkFigures {
	interfaces: { name: string; rxBytesPerSec: number; txBytesPerSec: number; rxBytes: number; txBytes: number; errors: number; dropped: number }[];
	rxBytesPerSec: number;
	txBytesPerSec: number;
}

/** Rates between two readings `dtMs` apart (a counter that went back, an interface reset, counts as 0). */
export function networkRates(prev: Record<string, InterfaceCounters> | null, cur: Record<string, InterfaceCounters>, dtMs: number): NetworkFigures {
	const interfaces = Object.entries(cur).map(([name, c]) => {
		const p = prev?.[name];
		const rate = (a: number, b: number | undefined) => (b === undefined || dtMs <= 0 || a < b ? 0 : round(((a - b) * 1000) / dtMs, 1));
		return { name, rxBytesPerSec: rate(c.rxBytes, p?.rxBytes), txBytesPerSec: rate(c.txBytes, p?.txBytes), rxBytes: c.rxBytes, txBytes: c.txBytes, errors: c.rxErrors + c.txErrors, dropped: c.rxDropped + c.txDropped };
	});
	return { interfaces, rxBytesPerSec: round(interfaces.reduce((s, i) => s + i.rxBytesPerSec, 0), 1), txBytesPerSec: round(interfaces.reduce((s, i) => s + i.txBytesPerSec, 0), 1) };
}

export interface DiskFigures {
	path: string;
	totalBytes: number;
	freeBytes: number;
	usedBytes: number;
	usedPercent: number;
}

/** From fs.statfs of the data folder: blocks available to this process count as free. */
export function diskFigures(path: string, s: { bsize: number; blocks: number; bavail: number }): DiskFigures {
	const totalBytes = s.bsize * s.blocks;
	const freeBytes = s.bsize * s.bavail;
	const usedBytes = Math.max(0, totalBytes - freeBytes);
	return { path, totalBytes, freeBytes, usedBytes, usedPercent: totalBytes > 0 ? round((usedBytes / totalBytes) * 100, 1) : 0 };
}

export interface MemoryFigures {
	totalBytes: number;
	freeBytes: number;
	usedPercent: number;
	processRssBytes: number;
	processHeapUsedBytes: number;
}

export function memoryFigures(totalBytes: number, freeBytes: number, proc: { rss: number; heapUsed: number }): MemoryFigures {
	return { totalBytes, freeBytes, usedPercent: totalBytes > 0 ? round(((totalBytes - freeBytes) / totalBytes) * 100, 1) : 0, processRssBytes: proc.rss, processHeapUsedBytes: proc.heapUsed };
}

/** One sample of a node. */
export interface NodeSample {
	timestamp: string;
	cpu: { usedPercent: number | null; cores: number; loadAverage: number[]; processPercent: number | null };
	memory: MemoryFigures;
	disk: DiskFigures | null;
	network: NetworkFigures | null;
}

/** A bounded history: the newest `capacity` items, oldest first. */
export class Ring<T> {
	private items: T[] = [];

	constructor(readonly capacity: number) {
		if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError("capacity must be a positive integer");
	}

	push(item: T): void {
		this.items.push(item);
		if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
	}

	/** The newest `limit` (all by default), oldest first. */
	list(limit = this.capacity): T[] {
		return this.items.slice(Math.max(0, this.items.length - limit));
	}

	latest(): T | null {
		return this.items.at(-1) ?? null;
	}

	get size(): number {
		return this.items.length;
	}
}

function round(x: number, digits: number): number {
	const k = 10 ** digits;
	return Math.round(x * k) / k;
}
