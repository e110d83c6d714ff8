/**
 * The audit log: who did what to which resource, and when. Integration events (sessions,
 * enrollments, deliveries) and every console mutation share it.
 */
import { Schema } from "mongoose";

export const modelName = "Audit";
export const schema = new Schema(
	{
		at: { type: Date, required: true, index: true },
		action: { type: String, required: true, index: true },
		actor: { type: String, index: true },
		actorRole: { type: String },
		resourceType: { type: String, index: true },
		resourceId: { type: String },
		message: { type: String },
		severity: { type: String, index: true },
		outcome: { type: String },
		context: { type: Schema.Types.Mixed },
		ip: { type: String },
		userAgent: { type: String },
		requestId: { type: String },
		slotId: { type: Number },
		cameraId: { type: Number },
		details: { type: Schema.Types.Mixed }
	},
	{ collection: "audit", versionKey: false, minimize: false }
);
