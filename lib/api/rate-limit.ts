/**
 * Fixed-window request counting per key (a user, an address): at most `limit` requests per
 * `windowMs`; past it the caller is told how long to wait. In memory, per gateway process.
 */
export class RateLimiter {
	private windows = new Map<string, { start: number; count: number }>();
	private lastSweep = 0;

	constructor(
		readonly limit: number,
		readonly windowMs = 60_000,
		private readonly now: () => number = Date.now
	) {}

	/** Count one request for `key`; null when allowed, else the seconds to wait. */
	hit(key: string): number | null {
		const t = this.now();
		this.sweep(t);
		let w = this.windows.get(key);
		if (!w || t - w.start >= this.windowMs) {
			w = { start: t, count: 0 };
			this.windows.set(key, w);
		}
		w.count++;
		if (w.count <= this.limit) return null;
		return Math.max(1, Math.ceil((w.start + this.windowMs - t) / 1000));
	}

	/** Forget windows that ended, at most once a window, so memory follows the active callers. */
	private sweep(t: number): void {
		if (t - this.lastSweep < this.windowMs) return;
		this.lastSweep = t;
		for (const [k, w] of this.windows) if (t - w.start >= this.windowMs) this.windows.delete(k);
	}
}
