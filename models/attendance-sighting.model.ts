/**
 * The confirmed detections attendance has counted, by detection id (`_id`): a retried
 * `attendanceLogs.recordSighting` finds its detection here and changes nothing.
 */
import { Schema } from "mongoose";

export const modelName = "AttendanceSighting";
export const schema = new Schema(
	{
		_id: { type: String },
		logId: { type: String, required: true, index: true },
		day: { type: String, required: true },
		employeeId: { type: String, required: true },
		personId: { type: String, default: null },
		cameraId: { type: String, default: null, index: true },
		at: { type: Date, required: true, index: true },
		confidence: { type: Number, default: null },
		applied: { type: Boolean, default: false },
		createdAt: { type: Date, index: true }
	},
	{ collection: "attendance_sightings", versionKey: false, minimize: false }
);
