/**
 * Moleculer strategy for `inference.*` actions: picks the endpoint with the least expected
 * wait from the nodes' broadcast load (lib/cluster/inference-load.ts). The loads live on the
 * broker (`broker.inferenceLoads`), filled by the `inference.load` event listener of every
 * node that calls inference (services/inference.service.ts registers it).
 */
import { Strategies, type ServiceBroker } from "moleculer";
import { pickNode, type InferenceLoad } from "./inference-load";

export interface LoadBook {
	loads: Map<string, InferenceLoad>;
	/** Requests sent to a node since its last report. */
	sent: Map<string, number>;
}

export function loadBook(broker: ServiceBroker): LoadBook {
	const b = broker as ServiceBroker & { inferenceLoads?: LoadBook };
	b.inferenceLoads ??= { loads: new Map(), sent: new Map() };
	return b.inferenceLoads;
}

export function recordLoad(broker: ServiceBroker, load: InferenceLoad): void {
	const book = loadBook(broker);
	book.loads.set(load.nodeID, load);
	book.sent.set(load.nodeID, 0);
}

export class InferenceLoadStrategy extends Strategies.Base {
	select(list: any[]): any {
		const book = loadBook(this.broker);
		const byNode = new Map<string, any>(list.map(ep => [ep.id, ep]));
		// Shuffle first so equal nodes share the load rather than the first taking it all.
		const ids = [...byNode.keys()].sort(() => Math.random() - 0.5);
		const id = pickNode(ids, book.loads, book.sent, Date.now()) ?? ids[0];
		book.sent.set(id, (book.sent.get(id) ?? 0) + 1);
		return byNode.get(id);
	}
}

Strategies.register("InferenceLoad", InferenceLoadStrategy as any);
