/**
 * What each sync did with each attendance log (seed 002 `odoo_sync_logs`): success or
 * failure, the action (created / updated / unchanged / skipped / deferred / failed /
 * pending), Odoo's record id, the message, the run (job or auto-sync) it was part of.
 */
import { Schema } from "mongoose";

export const modelName = "OdooSyncLog";
export const schema = new Schema(
	{
		_id: { type: String },
		timestamp: { type: Date, required: true, index: true },
		runId: { type: String, required: true, index: true },
		jobId: { type: String, default: null },
		trigger: { type: String, enum: ["manual", "auto"], required: true },
		attendanceLogId: { type: String, required: true, index: true },
		employeeId: { type: String, required: true, index: true },
		result: { type: String, enum: ["success", "failure"], required: true, index: true },
		action: { type: String, required: true },
		odooAttendanceId: { type: Number, default: null },
		code: { type: String, default: null },
		message: { type: String, default: null },
		attempts: { type: Number, default: 0 }
	},
	{ collection: "odoo_sync_logs", versionKey: false, minimize: false }
);
