/** Banner messages (seed 002 `GET/POST /services/banner-messages`): shown to every signed-in user while active. */
import { Schema } from "mongoose";

export const modelName = "BannerMessage";
export const schema = new Schema(
	{
		_id: { type: String },
		message: { type: String, required: true },
		level: { type: String, required: true },
		startsAt: { type: Date, required: true },
		endsAt: { type: Date, default: null },
		createdBy: { type: String, default: null },
		createdAt: { type: Date }
	},
	{ collection: "banner_messages", versionKey: false, minimize: false }
);
