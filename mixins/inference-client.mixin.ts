/**
 * For services whose node calls `inference.*`: records the load every inference node
 * broadcasts, which the InferenceLoad strategy (lib/cluster/inference-strategy.ts) uses to
 * send each request to the node with the least expected wait.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { InferenceLoad } from "../lib/cluster/inference-load";
import { recordLoad } from "../lib/cluster/inference-strategy";

export const InferenceClientMixin: Partial<ServiceSchema> = {
	events: {
		"inference.load"(this: any, ctx: Context<Omit<InferenceLoad, "at">>) {
			recordLoad(this.broker, { ...ctx.params, at: Date.now() });
		},
		"$node.disconnected"(this: any, ctx: Context<{ node: { id: string } }>) {
			const book = this.broker.inferenceLoads;
			book?.loads.delete(ctx.params.node.id);
			book?.sent.delete(ctx.params.node.id);
		}
	}
};
