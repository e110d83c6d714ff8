/**
 * The camera registry (services/cameras.service.ts): the console's cameras and the FUACS
 * sessions' cameras in one collection; `_id` is the console id (CAM-07), `cameraId` the number.
 */
import { Schema } from "mongoose";

export const modelName = "Camera";
export const schema = new Schema(
	{
		_id: { type: String },
		cameraId: { type: Number, required: true, unique: true },
		name: { type: String, required: true },
		location: { type: String, default: "" },
		streamType: { type: String, required: true },
		streamUrl: { type: String, required: true },
		credentials: { type: String, default: null },
		enabled: { type: Boolean, required: true, index: true },
		sampleInterval: { type: Number },
		status: { type: String, index: true },
		fps: { type: Number, default: 0 },
		latency: { type: Number, default: 0 },
		bitrate: { type: Number, default: 0 },
		resolution: { type: String, default: null },
		ipAddress: { type: String, default: null },
		tags: { type: [String], default: [] },
		thumbnail: { type: String, default: null },
		roomId: { type: Number, default: null },
		lastSeen: { type: Date, default: null },
		lastChecked: { type: Date, default: null },
		uptimeDay: { type: String, default: null },
		uptimeOnlineMs: { type: Number, default: 0 },
		uptimeObservedMs: { type: Number, default: 0 },
		leaseOwner: { type: String, default: null },
		leaseToken: { type: Number, default: 0 },
		leaseUntil: { type: Number, default: 0 },
		leaseHandTo: { type: String, default: null },
		createdAt: { type: Date },
		updatedAt: { type: Date },
		version: { type: Number, default: 1 }
	},
	{ collection: "cameras", versionKey: false, minimize: false }
);
