/**
 * Recognition logs (storage role; seed 003's RecognitionLog): what the streaming recognition
 * (ws /ws/recognize, services/gateway/recognize-stream.ts) saw. The gateway writes a frame's
 * entries (`record`) before it sends the frame's result; which faces are logged is
 * lib/stream/protocol.ts `shouldLog` (a track's first face and status changes, then at most
 * one per track every RECOGNITION_LOG_INTERVAL_MS). The console reads them at
 * `GET /recognition-logs` (attendance:read, paging, filters). The retention task
 * (services/retention.service.ts) deletes them with the other event logs, after
 * RETENTION_DETECTIONS_DAYS (`purgeOlder` on createdAt).
 */
import crypto from "node:crypto";
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { pageParams, paged, pageQuery, type PageParams } from "../../lib/api/paging";
import { DbMixin } from "../../mixins/db.mixin";
import { PurgeMixin } from "../../mixins/purge.mixin";
import type { DbVars } from "../schema";

export interface RecognitionLogDoc {
	_id: string;
	sessionId: string;
	trackId: string;
	userId: string | null;
	profileId: string | null;
	userName: string | null;
	isUnknown: boolean;
	status: "recognized" | "unknown" | "tentative";
	confidence: number;
	framePosition: { x: number; y: number; width: number; height: number };
	frameId: number | string | null;
	caller: string | null;
	createdAt: Date;
}

export type RecognitionLogEntry = Omit<RecognitionLogDoc, "_id" | "createdAt"> & { createdAt: Date | string };

const view = (d: RecognitionLogDoc) => ({
	id: d._id,
	sessionId: d.sessionId,
	trackId: d.trackId,
	userId: d.userId,
	userName: d.userName,
	isUnknown: d.isUnknown,
	status: d.status,
	confidence: d.confidence,
	framePosition: d.framePosition,
	frameId: d.frameId,
	createdAt: new Date(d.createdAt).toISOString()
});

const RESPONSE = {
	type: "object",
	properties: {
		id: { type: "string" },
		sessionId: { type: "string" },
		trackId: { type: "string" },
		userId: { type: ["string", "null"] },
		userName: { type: ["string", "null"] },
		isUnknown: { type: "boolean" },
		status: { type: "string", enum: ["recognized", "unknown", "tentative"] },
		confidence: { type: "number" },
		framePosition: { type: "object", properties: { x: { type: "integer" }, y: { type: "integer" }, width: { type: "integer" }, height: { type: "integer" } } },
		frameId: { type: ["integer", "string", "null"] },
		createdAt: { type: "string" }
	}
};

type Vars = DbVars & { adapter: DbVars["adapter"] & { insertMany(docs: object[]): Promise<unknown[]> } };

export default function recognitionLogsService(cfg: Config): ServiceSchema<{ family: string; resource: string }, object, Vars> {
	return {
		name: "recognitionLogs",
		mixins: [
			DbMixin("recognition_logs", cfg),
			// Deleted with the other event logs by the retention task (RETENTION_DETECTIONS_DAYS).
			PurgeMixin(["createdAt"])
		],
		settings: { family: "console", resource: "recognition-log" },
		actions: {
			/** A frame's logged faces, written at once (the streaming gateway's write, not routed). */
			record: {
				visibility: "public",
				params: {
					entries: {
						type: "array",
						min: 1,
						max: 100,
						items: {
							type: "object",
							props: {
								sessionId: { type: "string", max: 64 },
								trackId: { type: "string", max: 64 },
								userId: { type: "string", max: 128, nullable: true },
								profileId: { type: "string", max: 128, nullable: true },
								userName: { type: "string", max: 300, nullable: true },
								isUnknown: "boolean",
								status: { type: "enum", values: ["recognized", "unknown", "tentative"] },
								confidence: { type: "number", min: 0, max: 1 },
								framePosition: { type: "object", props: { x: "number", y: "number", width: "number", height: "number" } },
								frameId: { type: "any", nullable: true },
								caller: { type: "string", max: 128, nullable: true },
								createdAt: { type: "date", convert: true }
							}
						}
					}
				},
				async handler(ctx: Context<{ entries: RecognitionLogEntry[] }>) {
					const docs: RecognitionLogDoc[] = ctx.params.entries.map(e => ({ ...e, _id: crypto.randomUUID(), createdAt: new Date(e.createdAt) }));
					await this.adapter.insertMany(docs);
					return { recorded: docs.length, ids: docs.map(d => d._id) };
				}
			},

			list: {
				rest: "GET /recognition-logs",
				permission: "attendance:read",
				paged: true,
				openapi: { summary: "Recognition logs of the streaming recognition (ws /ws/recognize), newest first", tags: ["recognition"], response: RESPONSE },
				params: {
					...pageParams,
					sessionId: { type: "string", max: 64, optional: true },
					userId: { type: "string", max: 128, optional: true },
					trackId: { type: "string", max: 64, optional: true },
					isUnknown: { type: "boolean", convert: true, optional: true },
					from: { type: "date", convert: true, optional: true },
					to: { type: "date", convert: true, optional: true },
					$$strict: true
				},
				async handler(ctx: Context<PageParams & { sessionId?: string; userId?: string; trackId?: string; isUnknown?: boolean; from?: Date; to?: Date }>) {
					const p = ctx.params;
					const query: Record<string, unknown> = {};
					if (p.sessionId) query.sessionId = p.sessionId;
					if (p.userId) query.userId = p.userId;
					if (p.trackId) query.trackId = p.trackId;
					if (p.isUnknown !== undefined) query.isUnknown = p.isUnknown;
					if (p.from || p.to) query.createdAt = { ...(p.from ? { $gte: p.from } : {}), ...(p.to ? { $lte: p.to } : {}) };
					const { offset, limit } = pageQuery(p);
					const [rows, total] = await Promise.all([this.adapter.find({ query, sort: ["-createdAt"], offset, limit }), this.adapter.count({ query })]);
					return paged((rows as RecognitionLogDoc[]).map(view), total, p);
				}
			}
		}
	};
}
