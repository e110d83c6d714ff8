/**
 * Recognition logs (seed 003 `RecognitionLog`): what the streaming recognition saw, one entry
 * per logged face of a result: its track, the person (employee id and name) or unknown, the
 * confidence, its position in the frame, the streaming session (one per connection).
 */
import { Schema } from "mongoose";

export const modelName = "RecognitionLog";
export const schema = new Schema(
	{
		_id: { type: String },
		sessionId: { type: String, required: true, index: true },
		trackId: { type: String, required: true },
		userId: { type: String, default: null, index: true },
		profileId: { type: String, default: null },
		userName: { type: String, default: null },
		isUnknown: { type: Boolean, required: true, index: true },
		status: { type: String, required: true },
		confidence: { type: Number, required: true },
		framePosition: { type: Schema.Types.Mixed },
		frameId: { type: Schema.Types.Mixed },
		caller: { type: String, default: null },
		createdAt: { type: Date, required: true, index: true }
	},
	{ collection: "recognition_logs", versionKey: false, minimize: false }
);
