/** One face seen by a camera during a session: a recognised student, or an unknown face (userId null). */
import { Schema } from "mongoose";

export const modelName = "Recognition";
export const schema = new Schema(
	{
		recognitionId: { type: String, required: true, unique: true },
		slotId: { type: Number, required: true, index: true },
		/** The session document it belongs to (a slot may be run more than once). */
		sessionId: { type: String, index: true },
		cameraId: { type: Number },
		userId: { type: Number, default: null, index: true },
		rollNumber: { type: String },
		fullName: { type: String },
		/** A sighting of an already reported student, an unknown face, or the report itself. */
		kind: { type: String, enum: ["report", "sighting", "unknown"], required: true },
		similarity: { type: Number },
		cosine: { type: Number },
		box: { type: [Number] },
		recognizedAt: { type: Date, required: true },
		delivery: { type: String, enum: ["none", "pending", "delivered", "failed"], default: "none", index: true },
		attempts: { type: Number, default: 0 },
		nextAttemptAt: { type: Date, index: true },
		deliveredAt: { type: Date },
		lastError: { type: String },
		/** Delivery lease: which outbox holds this result until when. */
		claimedBy: { type: String },
		claimUntil: { type: Date },
		embeddingVersion: { type: Number },
		processingMs: { type: Number },
		/** Lease token of the session actor that wrote it: which owner saw the face. */
		leaseToken: { type: Number }
	},
	{ collection: "recognitions", versionKey: false, minimize: false }
);
