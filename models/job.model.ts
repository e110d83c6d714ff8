/**
 * Background jobs (lib/jobs/jobs.ts): kind, owner, params, status, progress, result or
 * error, and the lease of the worker node running it (a dead node's job is taken up again).
 */
import { Schema } from "mongoose";

export const modelName = "Job";
export const schema = new Schema(
	{
		_id: { type: String },
		kind: { type: String, required: true, index: true },
		userId: { type: String, default: null, index: true },
		params: { type: Schema.Types.Mixed, default: {} },
		status: { type: String, required: true, index: true },
		progress: { type: Number, default: 0 },
		result: { type: Schema.Types.Mixed, default: null },
		error: { type: Schema.Types.Mixed, default: null },
		attempts: { type: Number, default: 0 },
		createdAt: { type: Date, index: true },
		updatedAt: { type: Date },
		startedAt: { type: Date, default: null },
		finishedAt: { type: Date, default: null },
		expiresAt: { type: Date, default: null, index: true },
		leaseOwner: { type: String, default: null },
		leaseToken: { type: Number, default: 0 },
		leaseUntil: { type: Number, default: 0 },
		leaseHandTo: { type: String, default: null }
	},
	{ collection: "jobs", versionKey: false, minimize: false }
);
