/**
 * Login throttling: after `slowAfter` failures within `windowMs` each further attempt is
 * answered only after a growing delay; after `lockAfter` the key (an account, an address)
 * is refused until the window has passed since its last failure. A success clears the key.
 */
export interface ThrottleOptions {
	slowAfter: number;
	lockAfter: number;
	windowMs: number;
	/** Delay per failure past slowAfter, capped at maxDelayMs. */
	delayStepMs: number;
	maxDelayMs: number;
}

export const LOGIN_THROTTLE: ThrottleOptions = { slowAfter: 3, lockAfter: 5, windowMs: 15 * 60_000, delayStepMs: 500, maxDelayMs: 3000 };
export const ADDRESS_THROTTLE: ThrottleOptions = { slowAfter: 10, lockAfter: 30, windowMs: 15 * 60_000, delayStepMs: 250, maxDelayMs: 3000 };

export class LoginThrottle {
	private failures = new Map<string, { count: number; last: number }>();

	constructor(
		readonly opts: ThrottleOptions,
		private readonly now: () => number = Date.now
	) {}

	private entry(key: string) {
		const e = this.failures.get(key);
		if (e && this.now() - e.last >= this.opts.windowMs) {
			this.failures.delete(key);
			return undefined;
		}
		return e;
	}

	/** Seconds the key stays refused, or 0. */
	lockedFor(key: string): number {
		const e = this.entry(key);
		if (!e || e.count < this.opts.lockAfter) return 0;
		return Math.max(1, Math.ceil((e.last + this.opts.windowMs - this.now()) / 1000));
	}

	/** Delay before answering an attempt of this key, ms. */
	delayMs(key: string): number {
		const e = this.entry(key);
		if (!e || e.count < this.opts.slowAfter) return 0;
		return Math.min(this.opts.maxDelayMs, (e.count - this.opts.slowAfter + 1) * this.opts.delayStepMs);
	}

	fail(key: string): void {
		const e = this.entry(key);
		this.failures.set(key, { count: (e?.count ?? 0) + 1, last: this.now() });
		if (this.failures.size > 100_000) this.failures.delete(this.failures.keys().next().value as string);
	}

	succeed(key: string): void {
		this.failures.delete(key);
	}
}
