/** The site's settings (one document, `_id` "site"): its time zone and the attendance rules' defaults. */
import { Schema } from "mongoose";

export const modelName = "Site";
export const schema = new Schema(
	{
		_id: { type: String },
		timezone: { type: String, required: true },
		onSiteAbsenceMinutes: { type: Number, required: true },
		lateAfterMinutes: { type: Number, required: true },
		recognition: { type: Schema.Types.Mixed, default: undefined },
		updatedAt: { type: Date },
		updatedBy: { type: String, default: null },
		version: { type: Number, default: 1 }
	},
	{ collection: "site", versionKey: false, minimize: false }
);
