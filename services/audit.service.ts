/** The audit log (storage role). Other services call `audit.record`; operators read it with `audit.find`. */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { DbMixin } from "../mixins/db.mixin";

interface RecordParams {
	action: string;
	actor?: string;
	slotId?: number;
	cameraId?: number;
	details?: Record<string, unknown>;
}

export default function auditService(cfg: Config): ServiceSchema {
	return {
		name: "audit",
		mixins: [DbMixin("audit", cfg)],
		settings: { fields: ["_id", "at", "action", "actor", "slotId", "cameraId", "details"], maxLimit: 10000 },
		actions: {
			record: {
				visibility: "public",
				params: {
					action: { type: "string", min: 1, max: 100 },
					actor: { type: "string", optional: true },
					slotId: { type: "number", optional: true },
					cameraId: { type: "number", optional: true },
					details: { type: "object", optional: true }
				},
				async handler(this: any, ctx: Context<RecordParams>) {
					const doc = { at: new Date(), actor: ctx.params.actor ?? ctx.nodeID ?? undefined, ...ctx.params };
					const saved = await this.adapter.insert(doc);
					return this.transformDocuments(ctx, {}, saved);
				}
			}
		}
	} as ServiceSchema;
}
