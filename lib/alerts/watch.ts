/**
 * The gateways' alert watch, the pure part: from what a gateway sees now (inference nodes in
 * the registry, their load reports, whether actors need inference, each store's health
 * check) which conditions hold. Each condition is a cause of lib/alerts/alerts.ts (one open
 * alert per cause); a watched cause that does not hold is resolved. The plumbing is in
 * services/health.service.ts.
 */
import { STALE_MS, type InferenceLoad } from "../cluster/inference-load";
import type { AlertLevel } from "./alerts";

export interface WatchFacts {
	/** Nodes whose inference service is available now. */
	inferenceNodes: readonly string[];
	/** Whether actors need inference (live sessions, enabled cameras); null when unknown (the stores did not say). */
	needInference: boolean | null;
	loads: readonly InferenceLoad[];
	/** Store service -> its health check passed. */
	stores: Readonly<Record<string, boolean>>;
	now: number;
}

export interface Condition {
	cause: string;
	type: string;
	level: AlertLevel;
	title: string;
	description: string;
	details: Record<string, unknown>;
}

export const CAPACITY_CAUSE = "inference:capacity";
export const saturatedCause = (nodeID: string) => `inference:saturated:${nodeID}`;
export const storeCause = (store: string) => `store:${store}:unreachable`;

/** A node's queue is near capacity: at least `ratio` of its waiting slots taken (a fresh report with a capacity only). */
export function isSaturated(load: InferenceLoad, ratio: number, now: number): boolean {
	if (now - load.at > STALE_MS || !load.queueCapacity || load.queueCapacity <= 0) return false;
	return load.waiting / load.queueCapacity >= ratio;
}

/**
 * What holds now (`active`) and every cause looked at (`watched`): a watched cause not active
 * has passed. Capacity is not judged while the need is unknown (neither raised nor cleared).
 */
export function watchConditions(f: WatchFacts, opts: { saturation: number }): { active: Condition[]; watched: string[] } {
	const active: Condition[] = [];
	const watched: string[] = [];
	if (f.needInference !== null) {
		watched.push(CAPACITY_CAUSE);
		if (f.needInference && f.inferenceNodes.length === 0)
			active.push({ cause: CAPACITY_CAUSE, type: "inference_capacity", level: "critical", title: "Inference capacity lost", description: "No inference node is available while sessions or cameras need one: nothing is recognised", details: {} });
	}
	const live = new Set(f.inferenceNodes);
	for (const load of f.loads) {
		watched.push(saturatedCause(load.nodeID));
		if (live.has(load.nodeID) && isSaturated(load, opts.saturation, f.now))
			active.push({
				cause: saturatedCause(load.nodeID),
				type: "inference_saturated",
				level: "high",
				title: `Inference saturated on ${load.nodeID}`,
				description: `${load.waiting} of ${load.queueCapacity} queue places taken (${load.running} running): requests past it are refused as busy`,
				details: { nodeID: load.nodeID, running: load.running, waiting: load.waiting, queueCapacity: load.queueCapacity, concurrency: load.concurrency }
			});
	}
	for (const [store, ok] of Object.entries(f.stores)) {
		watched.push(storeCause(store));
		if (!ok) active.push({ cause: storeCause(store), type: "store_unreachable", level: "critical", title: `Store unreachable: ${store}`, description: `The ${store} store does not answer its health check`, details: { store } });
	}
	return { active, watched };
}
