/** A recognition session: one per class slot, with its students, cameras, config and counters. */
import { Schema } from "mongoose";

export const modelName = "Session";
export const schema = new Schema(
	{
		slotId: { type: Number, required: true, index: true },
		roomId: { type: Number },
		status: { type: String, enum: ["starting", "active", "stopping", "stopped"], required: true, index: true },
		students: { type: [Schema.Types.Mixed], default: [] },
		cameras: { type: [Schema.Types.Mixed], default: [] },
		config: { type: Schema.Types.Mixed, default: {} },
		counters: { type: Schema.Types.Mixed, default: {} },
		owner: { type: Schema.Types.Mixed },
		startedAt: { type: Date },
		stoppedAt: { type: Date }
	},
	{ collection: "sessions", versionKey: false, minimize: false }
);
