/**
 * A bounded work queue: at most `concurrency` jobs run, at most `maxWaiting` wait behind
 * them, and one more is refused at once (QueueFullError) so the caller can try another
 * node instead of piling up latency on this one.
 */
export class QueueFullError extends Error {
	constructor(
		readonly running: number,
		readonly waiting: number
	) {
		super(`busy: ${running} running and ${waiting} queued`);
		this.name = "QueueFullError";
	}
}

export class BoundedQueue {
	private running = 0;
	private readonly waiting: (() => void)[] = [];

	constructor(
		readonly concurrency: number,
		readonly maxWaiting: number
	) {
		if (concurrency < 1) throw new Error("concurrency must be >= 1");
		if (maxWaiting < 0) throw new Error("maxWaiting must be >= 0");
	}

	get stats() {
		return { running: this.running, waiting: this.waiting.length, concurrency: this.concurrency, maxWaiting: this.maxWaiting };
	}

	async run<T>(job: () => Promise<T>): Promise<T> {
		if (this.running >= this.concurrency) {
			if (this.waiting.length >= this.maxWaiting) throw new QueueFullError(this.running, this.waiting.length);
			await new Promise<void>(resolve => this.waiting.push(resolve));
		} else this.running++;
		try {
			return await job();
		} finally {
			// Hand the slot straight to the next waiter, or free it.
			const next = this.waiting.shift();
			if (next) next();
			else this.running--;
		}
	}
}
