/**
 * Balancing frames over inference nodes by what they report: each inference node broadcasts
 * its queue (running, waiting, capacity) and its recent time per request; callers send the
 * next request to the node with the least expected wait, counting the requests they have
 * sent it since its last report. Nodes that have not reported yet (just started) are
 * assumed idle, so a new node takes load at once.
 */

export interface InferenceLoad {
	nodeID: string;
	running: number;
	waiting: number;
	/** Requests it runs at once (engine workers). */
	concurrency: number;
	/** Requests it queues behind those before answering INFERENCE_BUSY (INFERENCE_QUEUE); absent in reports of older nodes. */
	queueCapacity?: number;
	/** Exponentially weighted mean time per request, ms. */
	latencyMs: number;
	/** When the report was received, epoch ms. */
	at: number;
}

/** Reports older than this are ignored (the node is treated as unknown, i.e. idle). */
export const STALE_MS = 5000;

/** Expected wait of one more request on a node: queue ahead of it, in request times, per slot. */
export function expectedWaitMs(load: InferenceLoad | undefined, sentSinceReport: number, now: number, defaultLatencyMs = 50): number {
	if (!load || now - load.at > STALE_MS) return sentSinceReport * defaultLatencyMs;
	const ahead = load.running + load.waiting + sentSinceReport;
	return ((ahead + 1) * Math.max(1, load.latencyMs)) / Math.max(1, load.concurrency);
}

/** The node with the least expected wait (ties: the first in the given order). */
export function pickNode(nodeIDs: readonly string[], loads: ReadonlyMap<string, InferenceLoad>, sent: ReadonlyMap<string, number>, now: number): string | null {
	let best: string | null = null;
	let bestWait = Infinity;
	for (const id of nodeIDs) {
		const w = expectedWaitMs(loads.get(id), sent.get(id) ?? 0, now);
		if (w < bestWait) {
			best = id;
			bestWait = w;
		}
	}
	return best;
}

/** Exponentially weighted moving average. */
export function ewma(previous: number | null, sample: number, alpha = 0.2): number {
	return previous === null ? sample : previous + alpha * (sample - previous);
}
