/** The per-frame detection event log (seed 002 `detection_event_logs`): one per processed frame. */
import { Schema } from "mongoose";

export const modelName = "DetectionEvent";
export const schema = new Schema(
	{
		cameraId: { type: Number, required: true, index: true },
		cameraName: { type: String },
		timestamp: { type: Date, required: true, index: true },
		status: { type: String, required: true, index: true },
		source: { type: String, required: true },
		faces: { type: Number, default: 0 },
		latencyMs: { type: Number },
		error: { type: String, default: null },
		jobId: { type: String, default: null },
		detections: { type: [String], default: [] }
	},
	{ collection: "detection_events", versionKey: false, minimize: false }
);
