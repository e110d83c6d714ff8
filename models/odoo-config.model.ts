/**
 * The Odoo connection (seed 002 `odoo_config`): one document, `_id` "odoo", changed by
 * compare-and-set on its version (services/console/odoo.service.ts). The API key is sealed
 * (lib/crypto/secrets.ts). `failureCount`: sync runs failed in a row.
 */
import { Schema } from "mongoose";

export const modelName = "OdooConfig";
export const schema = new Schema(
	{
		_id: { type: String },
		baseUrl: { type: String, default: null },
		database: { type: String, default: null },
		company: { type: String, default: null },
		username: { type: String, default: null },
		apiKeySealed: { type: String, default: null },
		matchField: { type: String, enum: ["barcode", "identification_id"], default: "barcode" },
		autoSync: { type: Boolean, default: false },
		status: { type: String, enum: ["connected", "disconnected", "error"], default: "disconnected" },
		statusMessage: { type: String, default: null },
		serverVersion: { type: String, default: null },
		lastTestAt: { type: Date, default: null },
		lastSync: { type: Date, default: null },
		lastSyncResult: { type: Schema.Types.Mixed, default: null },
		lastSyncError: { type: String, default: null },
		pendingCount: { type: Number, default: 0 },
		failureCount: { type: Number, default: 0 },
		syncRuns: { type: Number, default: 0 },
		createdAt: { type: Date },
		updatedAt: { type: Date },
		updatedBy: { type: String, default: null },
		version: { type: Number, default: 1 }
	},
	{ collection: "odoo_config", versionKey: false, minimize: false }
);
