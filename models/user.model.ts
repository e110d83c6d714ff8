/** Console accounts (seed 002 `users`): email is the login name; the password only as its Argon2id hash. */
import { Schema } from "mongoose";

export const modelName = "User";
export const schema = new Schema(
	{
		_id: { type: String },
		email: { type: String, required: true, unique: true },
		name: { type: String, required: true },
		passwordHash: { type: String, required: true },
		roleId: { type: String, required: true, index: true },
		status: { type: String, enum: ["active", "suspended"], required: true, index: true },
		lastActive: { type: Date, default: null },
		createdAt: { type: Date },
		updatedAt: { type: Date },
		version: { type: Number, default: 1 }
	},
	{ collection: "users", versionKey: false, minimize: false }
);
