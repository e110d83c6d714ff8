/** Detections (seed 002 `detections`): one per face track of a monitored camera. */
import { Schema } from "mongoose";

export const modelName = "Detection";
export const schema = new Schema(
	{
		_id: { type: String },
		trackId: { type: String, required: true, unique: true },
		cameraId: { type: Number, required: true, index: true },
		cameraName: { type: String },
		personId: { type: String, default: null, index: true },
		employeeId: { type: String, default: null, index: true },
		name: { type: String, default: null },
		department: { type: String, default: null },
		status: { type: String, required: true, index: true },
		confidence: { type: Number },
		boundingBox: { type: Schema.Types.Mixed },
		thumbnail: { type: String, default: null },
		timestamp: { type: Date, required: true, index: true },
		lastSeen: { type: Date, required: true, index: true },
		frames: { type: Number },
		embeddingVersion: { type: Number, default: null }
	},
	{ collection: "detections", versionKey: false, minimize: false }
);
