/** Named API keys with a role: shown once, kept as their SHA-256, found by their public prefix. */
import { Schema } from "mongoose";

export const modelName = "ApiKey";
export const schema = new Schema(
	{
		_id: { type: String },
		name: { type: String, required: true },
		prefix: { type: String, required: true, unique: true },
		hash: { type: String, required: true },
		roleId: { type: String, required: true },
		createdBy: { type: String },
		createdAt: { type: Date },
		revokedAt: { type: Date, default: null },
		lastUsedAt: { type: Date, default: null }
	},
	{ collection: "api_keys", versionKey: false, minimize: false }
);
