/** Per-user console preferences (seed 002 `user_preferences`). */
import { Schema } from "mongoose";

export const modelName = "Preference";
export const schema = new Schema(
	{
		userId: { type: String, required: true, unique: true },
		theme: { type: String },
		gridMode: { type: String },
		autoRotate: { type: Boolean },
		language: { type: String },
		timezone: { type: String },
		preferences: { type: Schema.Types.Mixed, default: {} },
		createdAt: { type: Date },
		updatedAt: { type: Date }
	},
	{ collection: "preferences", versionKey: false, minimize: false }
);
