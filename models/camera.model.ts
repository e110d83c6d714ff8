/** Rollcall's own camera registry, filled by sessions and by the API-key CRUD route. */
import { Schema } from "mongoose";

export const modelName = "Camera";
export const schema = new Schema(
	{
		cameraId: { type: Number, required: true, unique: true },
		name: { type: String },
		rtspUrl: { type: String, required: true },
		roomId: { type: Number },
		updatedAt: { type: Date }
	},
	{ collection: "cameras", versionKey: false, minimize: false }
);
