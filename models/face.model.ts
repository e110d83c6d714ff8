/** Face profiles (seed 002 face_profiles and face_images): a person and up to five photos. */
import { Schema } from "mongoose";

export const modelName = "FaceProfile";
export const schema = new Schema(
	{
		_id: { type: String },
		employeeId: { type: String, required: true, unique: true },
		name: { type: String, required: true },
		department: { type: String, default: "", index: true },
		status: { type: String, enum: ["pending", "active", "archived"], required: true, index: true },
		archived: { type: Boolean, default: false },
		images: { type: [Schema.Types.Mixed], default: [] },
		createdAt: { type: Date },
		updatedAt: { type: Date },
		version: { type: Number, default: 1 }
	},
	{ collection: "faces", versionKey: false, minimize: false }
);
