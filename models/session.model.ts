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
		// Ownership lease of the session's actors (services/sessions.service.ts).
		leaseOwner: { type: String, default: null },
		leaseToken: { type: Number, default: 0 },
		leaseUntil: { type: Number, default: 0 },
		leaseHandTo: { type: String, default: null },
		startedAt: { type: Date },
		stoppedAt: { type: Date }
	},
	{ collection: "sessions", versionKey: false, minimize: false }
);
