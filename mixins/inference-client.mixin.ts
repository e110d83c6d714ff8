/**
 * For services whose node calls `inference.*`: records the load every inference node
 * broadcasts, which the InferenceLoad strategy (lib/cluster/inference-strategy.ts) uses to
 * send each request to the node with the least expected wait.
 */
import type { Context, ServiceSchema, ServiceSettingSchema } from "moleculer";
import type { InferenceLoad } from "../lib/cluster/inference-load";
import { loadBook, recordLoad } from "../lib/cluster/inference-strategy";

export const InferenceClientMixin: Partial<ServiceSchema<ServiceSettingSchema, object, object>> = {
	events: {
		"inference.load"(ctx: Context<Omit<InferenceLoad, "at">>) {
			recordLoad(this.broker, { ...ctx.params, at: Date.now() });
		},
		"$node.disconnected"(ctx: Context<{ node: { id: string } }>) {
			const book = loadBook(this.broker);
			book.loads.delete(ctx.params.node.id);
			book.sent.delete(ctx.params.node.id);
		}
	}
};
