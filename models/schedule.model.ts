/**
 * Cluster-singleton schedules (mixins/schedule.mixin.ts), one document per task name: the
 * lease of the node that runs it, when it last ran and with what, when it runs next.
 */
import { Schema } from "mongoose";

export const modelName = "Schedule";
export const schema = new Schema(
	{
		_id: { type: String },
		leaseOwner: { type: String, default: null },
		leaseToken: { type: Number, default: 0 },
		leaseUntil: { type: Number, default: 0 },
		leaseHandTo: { type: String, default: null },
		lastRunAt: { type: Date, default: null },
		lastRunBy: { type: String, default: null },
		lastResult: { type: Schema.Types.Mixed, default: null },
		lastError: { type: String, default: null },
		nextRunAt: { type: Number, default: 0 },
		runs: { type: Number, default: 0 }
	},
	{ collection: "schedules", versionKey: false, minimize: false }
);
