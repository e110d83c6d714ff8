/**
 * Refresh tokens (seed 002 `user_sessions`), stored as their SHA-256 only. A login is a
 * family of tokens (familyId): each refresh rotates to a new one; presenting a rotated one
 * again revokes the whole family.
 */
import { Schema } from "mongoose";

export const modelName = "Login";
export const schema = new Schema(
	{
		_id: { type: String },
		tokenHash: { type: String, required: true, unique: true },
		familyId: { type: String, required: true, index: true },
		userId: { type: String, required: true, index: true },
		expiresAt: { type: Date, required: true, index: true },
		createdAt: { type: Date },
		rotatedAt: { type: Date, default: null },
		revokedAt: { type: Date, default: null },
		ip: { type: String },
		userAgent: { type: String }
	},
	{ collection: "logins", versionKey: false, minimize: false }
);
