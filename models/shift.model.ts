/** Shift schedules (seed 002 `shift_schedules`): local clock times in the site's zone, on ISO weekdays. */
import { Schema } from "mongoose";

export const modelName = "Shift";
export const schema = new Schema(
	{
		_id: { type: String },
		name: { type: String, required: true },
		start: { type: String, required: true },
		end: { type: String, required: true },
		days: { type: [Number], default: [1, 2, 3, 4, 5] },
		location: { type: String, default: "" },
		expectedHeadcount: { type: Number, required: true },
		lateAfterMinutes: { type: Number, default: null },
		createdAt: { type: Date },
		updatedAt: { type: Date },
		version: { type: Number, default: 1 }
	},
	{ collection: "shifts", versionKey: false, minimize: false }
);
