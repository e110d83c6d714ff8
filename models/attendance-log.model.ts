/**
 * Attendance logs of the console (seed 002 `attendance_logs`): one per person per attendance
 * day in the site's zone (services/console/attendance-logs.service.ts, lib/attendance). The
 * id is made from (employeeId, day), so the store's unique `_id` keeps one log per person
 * per day on NeDB too; on MongoDB the compound unique index says the same.
 */
import { Schema } from "mongoose";

export const modelName = "AttendanceLog";
export const schema = new Schema(
	{
		_id: { type: String },
		employeeId: { type: String, required: true, index: true },
		personId: { type: String, default: null },
		name: { type: String, required: true },
		department: { type: String, default: null },
		day: { type: String, required: true, index: true },
		timezone: { type: String, required: true },
		timeInAt: { type: Date, default: null },
		timeOutAt: { type: Date, default: null, index: true },
		cameraId: { type: String, default: null, index: true },
		cameraName: { type: String, default: null },
		lastCameraId: { type: String, default: null },
		lastCameraName: { type: String, default: null },
		lastConfidence: { type: Number, default: null },
		accuracy: { type: Number, default: null },
		shiftId: { type: String, default: null, index: true },
		shiftName: { type: String, default: null },
		shiftStart: { type: Date, default: null },
		shiftEnd: { type: Date, default: null },
		lateAt: { type: Date, default: null },
		status: { type: String, enum: ["present", "late", "missed"], required: true, index: true },
		statusLocked: { type: Boolean, default: false },
		source: { type: String, enum: ["auto", "manual"], required: true },
		note: { type: String, default: null },
		manualBy: { type: String, default: null },
		sightings: { type: Number, default: 0 },
		odooStatus: { type: String, enum: ["pending", "synced", "failed"], required: true, index: true },
		odooSyncTime: { type: Date, default: null },
		odooError: { type: String, default: null },
		/** Odoo's hr.attendance id once synced (lib/odoo/sync.ts looks it up by it first). */
		odooAttendanceId: { type: Number, default: null },
		/** A sync run holding the log while it sends it (odooClaim), and until when (epoch ms). */
		odooClaimBy: { type: String, default: null },
		odooClaimUntil: { type: Number, default: 0 },
		createdAt: { type: Date },
		updatedAt: { type: Date },
		version: { type: Number, default: 1 }
	},
	{ collection: "attendance_logs", versionKey: false, minimize: false }
);
schema.index({ employeeId: 1, day: 1 }, { unique: true });
