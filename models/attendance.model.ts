/** Who was in the room: one document per (session, student), first and last sighting. */
import { Schema } from "mongoose";

export const modelName = "Attendance";
export const schema = new Schema(
	{
		slotId: { type: Number, required: true, index: true },
		sessionId: { type: String, index: true },
		userId: { type: Number, required: true },
		rollNumber: { type: String },
		fullName: { type: String },
		recognitionId: { type: String },
		firstSeenAt: { type: Date },
		lastSeenAt: { type: Date },
		sightings: { type: Number, default: 0 },
		bestSimilarity: { type: Number }
	},
	{ collection: "attendance", versionKey: false, minimize: false }
);
schema.index({ sessionId: 1, userId: 1 }, { unique: true });
