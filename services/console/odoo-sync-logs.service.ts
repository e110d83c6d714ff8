/**
 * What the Odoo sync did with each attendance log (storage role; seed 002 `odoo_sync_logs`,
 * `GET /odoo/logs`): one entry per log per run, success or failure, the action (created,
 * updated, unchanged, skipped, deferred, failed, pending), Odoo's record id, the reason.
 * Written by services/odoo-sync.service.ts (`record`), newest first.
 */
import crypto from "node:crypto";
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { DbMixin } from "../../mixins/db.mixin";
import { pageParams, pageQuery, paged, type PageParams } from "../../lib/api/paging";
import { badRequest } from "../../lib/errors";
import type { DbVars } from "../schema";

export const ACTIONS = ["created", "updated", "unchanged", "skipped", "deferred", "failed", "pending"] as const;

export interface SyncLogDoc {
	_id: string;
	timestamp: Date;
	runId: string;
	jobId: string | null;
	trigger: "manual" | "auto";
	attendanceLogId: string;
	employeeId: string;
	result: "success" | "failure";
	action: (typeof ACTIONS)[number];
	odooAttendanceId: number | null;
	code: string | null;
	message: string | null;
	attempts: number;
}

const view = (d: SyncLogDoc) => ({
	id: d._id,
	timestamp: new Date(d.timestamp).toISOString(),
	employeeId: d.employeeId,
	attendanceLogId: d.attendanceLogId,
	result: d.result,
	action: d.action,
	odooAttendanceId: d.odooAttendanceId ?? null,
	code: d.code ?? null,
	message: d.message ?? null,
	attempts: d.attempts ?? 0,
	trigger: d.trigger,
	runId: d.runId,
	jobId: d.jobId ?? null
});

const RESPONSE = {
	type: "object",
	properties: {
		id: { type: "string" },
		timestamp: { type: "string", format: "date-time" },
		employeeId: { type: "string" },
		attendanceLogId: { type: "string" },
		result: { type: "string", enum: ["success", "failure"] },
		action: { type: "string", enum: [...ACTIONS] },
		odooAttendanceId: { type: ["integer", "null"] },
		code: { type: ["string", "null"], description: "EMPLOYEE_NOT_FOUND, ODOO_VALIDATION_ERROR, ODOO_UNREACHABLE, ..." },
		message: { type: ["string", "null"] },
		attempts: { type: "integer" },
		trigger: { type: "string", enum: ["manual", "auto"] },
		runId: { type: "string" },
		jobId: { type: ["string", "null"] }
	}
};

type ListParams = PageParams & { result?: string; action?: string; employeeId?: string; attendanceLogId?: string; runId?: string; jobId?: string; from?: Date; to?: Date };

export default function odooSyncLogsService(cfg: Config): ServiceSchema<{ family: string; resource: string }, object, DbVars> {
	return {
		name: "odooSyncLogs",
		mixins: [DbMixin("odoo_sync_logs", cfg)],
		settings: { family: "console", resource: "odoo" },
		actions: {
			logs: {
				rest: "GET /odoo/logs",
				permission: "odoo:read",
				paged: true,
				openapi: { summary: "What the Odoo sync did with each attendance log, newest first (filters: result, action, employeeId, attendanceLogId, runId, jobId, from, to)", tags: ["odoo"], response: RESPONSE, errors: ["VALIDATION_ERROR"] },
				params: {
					...pageParams,
					result: { type: "enum", values: ["success", "failure"], optional: true },
					action: { type: "enum", values: [...ACTIONS], optional: true },
					employeeId: { type: "string", min: 1, max: 64, trim: true, optional: true },
					attendanceLogId: { type: "string", min: 1, max: 64, trim: true, optional: true },
					runId: { type: "string", min: 1, max: 100, optional: true },
					jobId: { type: "string", min: 1, max: 80, optional: true },
					from: { type: "date", convert: true, optional: true },
					to: { type: "date", convert: true, optional: true },
					$$strict: true
				},
				async handler(ctx: Context<ListParams>) {
					const p = ctx.params;
					if (p.from && p.to && p.to < p.from) throw badRequest("VALIDATION_ERROR", "to: before from", { details: [{ field: "to", issue: "before from" }] });
					const query: Record<string, unknown> = {};
					for (const k of ["result", "action", "employeeId", "attendanceLogId", "runId", "jobId"] as const) if (p[k] !== undefined) query[k] = p[k];
					if (p.from || p.to) query.timestamp = { ...(p.from ? { $gte: p.from } : {}), ...(p.to ? { $lte: p.to } : {}) };
					const { offset, limit } = pageQuery(p);
					const [rows, total] = await Promise.all([this.adapter.find({ query, sort: ["-timestamp"], offset, limit }), this.adapter.count({ query })]);
					return paged((rows as SyncLogDoc[]).map(view), total, p);
				}
			},

			/** A run's entries (the sync workers). */
			record: {
				visibility: "public",
				params: { entries: { type: "array", max: 100, items: "object" } },
				async handler(ctx: Context<{ entries: Omit<SyncLogDoc, "_id">[] }>) {
					if (!ctx.params.entries.length) return { recorded: 0 };
					const docs = ctx.params.entries.map(e => ({ ...e, _id: crypto.randomUUID(), timestamp: new Date(e.timestamp) }));
					await this.adapter.insertMany(docs);
					return { recorded: docs.length };
				}
			}
		}
	};
}
