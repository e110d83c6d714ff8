/**
 * The audit log (storage role). Services call `audit.record` (the audit middleware does for
 * every console mutation); the console reads it at GET /audit.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { PurgeMixin } from "../mixins/purge.mixin";
import { DbMixin } from "../mixins/db.mixin";
import { pageParams, pageQuery, type PageParams } from "../lib/api/paging";
import type { DbServiceVars } from "./schema";

interface RecordParams {
	action: string;
	actor?: string;
	severity?: string;
	slotId?: number;
	cameraId?: number;
	details?: Record<string, unknown>;
	[k: string]: unknown;
}

const FIELDS = ["_id", "at", "action", "actor", "actorRole", "resourceType", "resourceId", "message", "severity", "outcome", "context", "ip", "userAgent", "requestId", "slotId", "cameraId", "details"];

/** Audit documents as the console shows them (seed 002's audit_logs). */
function view(d: Record<string, any>) {
	return {
		id: String(d._id),
		actor: d.actor ?? null,
		actorRole: d.actorRole ?? null,
		action: d.action,
		resourceType: d.resourceType ?? (d.slotId !== undefined ? "session" : d.cameraId !== undefined ? "camera" : null),
		resourceId: d.resourceId ?? (d.slotId !== undefined ? String(d.slotId) : d.cameraId !== undefined ? String(d.cameraId) : null),
		message: d.message ?? d.action,
		context: d.context ?? d.details ?? {},
		severity: d.severity ?? "info",
		outcome: d.outcome ?? "success",
		ipAddress: d.ip ?? null,
		userAgent: d.userAgent ?? null,
		requestId: d.requestId ?? null,
		timestamp: new Date(d.at).toISOString()
	};
}

interface Settings {
	fields: string[];
	maxLimit: number;
	family: string;
	resource: string;
}

export default function auditService(cfg: Config): ServiceSchema<Settings, object, DbServiceVars> {
	return {
		name: "audit",
		mixins: [DbMixin("audit", cfg), PurgeMixin(["at"])],
		settings: { fields: FIELDS, maxLimit: 10000, family: "console", resource: "audit" },
		actions: {
			record: {
				visibility: "public",
				params: {
					action: { type: "string", min: 1, max: 100 },
					actor: { type: "string", optional: true, max: 320 },
					severity: { type: "enum", values: ["info", "warning", "critical"], optional: true },
					slotId: { type: "number", optional: true },
					cameraId: { type: "number", optional: true },
					details: { type: "object", optional: true }
				},
				async handler(ctx: Context<RecordParams>) {
					const doc = { at: new Date(), actor: ctx.params.actor ?? ctx.nodeID ?? undefined, severity: "info", ...ctx.params };
					const saved = await this.adapter.insert(doc);
					// The live audit channel (audit:read holders only).
					this.broker.broadcast("audit.recorded", view(saved));
					return this.transformDocuments(ctx, {}, saved);
				}
			},

			list: {
				rest: "GET /audit",
				permission: "audit:read",
				paged: true,
				openapi: { summary: "Audit log, newest first", tags: ["audit"] },
				params: {
					...pageParams,
					actor: { type: "string", optional: true, max: 320 },
					action: { type: "string", optional: true, max: 100 },
					resource: { type: "string", optional: true, max: 100 },
					resourceId: { type: "string", optional: true, max: 200 },
					severity: { type: "enum", values: ["info", "warning", "critical"], optional: true },
					from: { type: "date", convert: true, optional: true },
					to: { type: "date", convert: true, optional: true },
					$$strict: true
				},
				async handler(ctx: Context<PageParams & { actor?: string; action?: string; resource?: string; resourceId?: string; severity?: string; from?: Date; to?: Date }>) {
					const p = ctx.params;
					const query: Record<string, unknown> = {};
					if (p.actor) query.actor = p.actor;
					if (p.action) query.action = p.action;
					if (p.resource) query.resourceType = p.resource;
					if (p.resourceId) query.resourceId = p.resourceId;
					if (p.severity) query.severity = p.severity;
					if (p.from || p.to) query.at = { ...(p.from ? { $gte: p.from } : {}), ...(p.to ? { $lte: p.to } : {}) };
					const { offset, limit } = pageQuery(p);
					const [rows, total] = await Promise.all([this.adapter.find({ query, sort: ["-at"], offset, limit }), this.adapter.count({ query })]);
					return { rows: rows.map(view), page: p.page, pageSize: p.pageSize, total, totalPages: Math.ceil(total / p.pageSize) };
				}
			}
		}
	};
}
