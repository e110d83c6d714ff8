/** Alerts (seed 002 `alerts`): one open alert per cause, counted, acknowledged, muted, resolved. */
import { Schema } from "mongoose";

export const modelName = "Alert";
export const schema = new Schema(
	{
		_id: { type: String },
		cause: { type: String, required: true, index: true },
		generation: { type: Number, required: true },
		type: { type: String, required: true, index: true },
		title: { type: String, required: true },
		description: { type: String, default: "" },
		level: { type: String, required: true, index: true },
		cameraId: { type: Number, default: null, index: true },
		tags: { type: [String], default: [] },
		details: { type: Schema.Types.Mixed, default: {} },
		count: { type: Number, default: 1 },
		timestamp: { type: Date, required: true, index: true },
		lastSeen: { type: Date, required: true },
		acknowledged: { type: Boolean, default: false, index: true },
		acknowledgedBy: { type: String, default: null },
		acknowledgedAt: { type: Date, default: null },
		muted: { type: Boolean, default: false },
		mutedBy: { type: String, default: null },
		mutedAt: { type: Date, default: null },
		resolved: { type: Boolean, default: false },
		resolvedAt: { type: Date, default: null },
		updatedAt: { type: Date }
	},
	{ collection: "alerts", versionKey: false, minimize: false }
);
