/**
 * Attempts with exponential backoff for the Odoo sync (pure but for the clock): a step is
 * tried again only when its failure may pass (`retryable`: the network, a 5xx, a busy
 * database), at most `attempts` times in all, waiting backoffDelay (lib/video/backoff.ts)
 * between tries. A failure that cannot pass (refused credentials, an unknown employee, a
 * validation fault) is thrown at once.
 */
import { backoffDelay, type BackoffOptions } from "../video/backoff";

export interface RetryOptions {
	attempts: number;
	backoff: BackoffOptions;
	signal?: AbortSignal;
	onRetry?(attempt: number, err: Error, delayMs: number): void;
	sleep?(ms: number, signal?: AbortSignal): Promise<void>;
}

export const isRetryable = (err: unknown): boolean => !!(err as { retryable?: boolean })?.retryable;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise((resolve, reject) => {
		if (signal?.aborted) return reject(signal.reason ?? new Error("aborted"));
		const t = setTimeout(() => {
			signal?.removeEventListener("abort", stop);
			resolve();
		}, ms);
		const stop = () => {
			clearTimeout(t);
			reject(signal?.reason ?? new Error("aborted"));
		};
		signal?.addEventListener("abort", stop, { once: true });
	});
}

export async function withRetry<T>(step: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
	const wait = opts.sleep ?? sleep;
	for (let attempt = 0; ; attempt++) {
		try {
			return await step(attempt);
		} catch (err) {
			if (!isRetryable(err) || attempt + 1 >= opts.attempts || opts.signal?.aborted) throw err;
			const delay = backoffDelay(attempt, opts.backoff);
			opts.onRetry?.(attempt + 1, err as Error, delay);
			await wait(delay, opts.signal);
		}
	}
}
