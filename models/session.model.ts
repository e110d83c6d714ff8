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
		stoppedAt: { type: Date },
		/** Set while the session is not stopped: at most one live session per slot (index below). */
		live: { type: Boolean }
	},
	{ collection: "sessions", versionKey: false, minimize: false }
);
// With several nodes opening sessions on one MongoDB, this index is what makes an open atomic.
schema.index({ slotId: 1, live: 1 }, { name: "one_live_session_per_slot", unique: true, partialFilterExpression: { live: true } });
