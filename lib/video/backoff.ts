/**
 * Reconnect delays: exponential growth with "equal jitter" (half fixed, half random), so
 * many camera actors that lost the same server do not all come back in the same instant,
 * yet none retries sooner than half its step.
 */
export interface BackoffOptions {
	/** First delay, ms. */
	initialMs: number;
	/** Upper bound, ms. */
	maxMs: number;
	/** Growth per attempt. */
	factor: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, factor: 2 };

/** Delay before reconnect attempt `attempt` (0-based); `random` returns [0, 1). */
export function backoffDelay(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
	const step = Math.min(opts.maxMs, opts.initialMs * Math.pow(opts.factor, Math.max(0, attempt)));
	return Math.round(step / 2 + random() * (step / 2));
}
