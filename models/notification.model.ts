/** Notifications (seed 002 `notifications`): to one user, or to everyone (userId null). */
import { Schema } from "mongoose";

export const modelName = "Notification";
export const schema = new Schema(
	{
		_id: { type: String },
		userId: { type: String, default: null, index: true },
		title: { type: String, required: true },
		message: { type: String, default: "" },
		level: { type: String, required: true },
		link: { type: String, default: null },
		timestamp: { type: Date, required: true, index: true },
		// Per reader, so a broadcast read by one stays unread for the others.
		acknowledgedBy: { type: [String], default: [] },
		dismissedBy: { type: [String], default: [] }
	},
	{ collection: "notifications", versionKey: false, minimize: false }
);
