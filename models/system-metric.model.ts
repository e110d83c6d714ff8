/**
 * System metric samples (seed 002 `system_metrics`): one document per node per sample, its
 * CPU, memory, disk and network figures (lib/system/sample.ts), kept RETENTION_METRICS_DAYS.
 */
import { Schema } from "mongoose";

export const modelName = "SystemMetric";
export const schema = new Schema(
	{
		nodeID: { type: String, required: true, index: true },
		timestamp: { type: Date, required: true, index: true },
		cpu: { type: Schema.Types.Mixed, default: null },
		memory: { type: Schema.Types.Mixed, default: null },
		disk: { type: Schema.Types.Mixed, default: null },
		network: { type: Schema.Types.Mixed, default: null }
	},
	{ collection: "system_metrics", versionKey: false, minimize: false }
);
