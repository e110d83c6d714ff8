/** The audit log: who did what to which session, camera or delivery, and when. */
import { Schema } from "mongoose";

export const modelName = "Audit";
export const schema = new Schema(
	{
		at: { type: Date, required: true, index: true },
		action: { type: String, required: true, index: true },
		actor: { type: String },
		slotId: { type: Number },
		cameraId: { type: Number },
		details: { type: Schema.Types.Mixed }
	},
	{ collection: "audit", versionKey: false, minimize: false }
);
