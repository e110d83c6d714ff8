/**
 * Detections (storage role; seed 002 "Live Detections"): one document per face TRACK of a
 * monitored camera (lib/recognition/tracker.ts), not per frame: who (a face profile, or
 * unknown), where, when first and last seen, how sure, its box and thumbnail. The monitor
 * actor writes them (`record`, idempotent by trackId) before it tells anyone; every write is
 * broadcast (`detections.updated`) so the live view on each gateway (detections-live) is
 * fed from memory, and relayed to Socket.IO clients (`live.detection`).
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { PurgeMixin } from "../../mixins/purge.mixin";
import { DbMixin } from "../../mixins/db.mixin";
import { pageParams, paged, pageQuery, type PageParams } from "../../lib/api/paging";
import { notFound } from "../../lib/errors";
import type { DbServiceVars } from "../schema";

export type DetectionStatus = "authorized" | "visitor" | "unknown";

export interface DetectionDoc {
	_id: string;
	trackId: string;
	cameraId: number;
	cameraName: string;
	personId: string | null;
	employeeId: string | null;
	name: string | null;
	department: string | null;
	status: DetectionStatus;
	confidence: number;
	boundingBox: { x: number; y: number; width: number; height: number };
	thumbnail: string | null;
	timestamp: Date;
	lastSeen: Date;
	frames: number;
	embeddingVersion: number | null;
}

export function detectionView(d: DetectionDoc) {
	return {
		id: d._id,
		trackId: d.trackId,
		personId: d.personId,
		employeeId: d.employeeId,
		name: d.name ?? "Unknown",
		department: d.department,
		cameraId: d.cameraId,
		cameraName: d.cameraName,
		status: d.status,
		confidence: Math.round(d.confidence * 1000) / 1000,
		boundingBox: d.boundingBox,
		thumbnail: d.thumbnail ? `/api/v1/assets/${d.thumbnail}` : null,
		timestamp: new Date(d.timestamp).toISOString(),
		lastSeen: new Date(d.lastSeen).toISOString(),
		frames: d.frames
	};
}
export type DetectionView = ReturnType<typeof detectionView>;

export const DETECTION_RESPONSE = {
	type: "object",
	properties: {
		id: { type: "string" },
		trackId: { type: "string" },
		personId: { type: ["string", "null"] },
		employeeId: { type: ["string", "null"] },
		name: { type: "string" },
		cameraId: { type: "integer" },
		status: { type: "string", enum: ["authorized", "visitor", "unknown"] },
		confidence: { type: "number" },
		boundingBox: { type: "object" },
		thumbnail: { type: ["string", "null"] },
		timestamp: { type: "string" },
		lastSeen: { type: "string" }
	}
};

export default function detectionsService(cfg: Config): ServiceSchema<{ family: string; resource: string }, object, DbServiceVars> {
	return {
		name: "detections",
		mixins: [DbMixin("detections", cfg), PurgeMixin(["lastSeen", "timestamp"])],
		settings: { family: "console", resource: "detection" },
		actions: {
			/** A track's detection, created or brought up to date (the monitor actor's write). */
			record: {
				visibility: "public",
				params: {
					trackId: { type: "string", max: 100 },
					cameraId: "number",
					cameraName: { type: "string", optional: true },
					personId: { type: "string", optional: true, nullable: true },
					employeeId: { type: "string", optional: true, nullable: true },
					name: { type: "string", optional: true, nullable: true },
					department: { type: "string", optional: true, nullable: true },
					status: { type: "enum", values: ["authorized", "visitor", "unknown"] },
					confidence: "number",
					boundingBox: "object",
					thumbnail: { type: "string", optional: true, nullable: true },
					timestamp: { type: "date", convert: true },
					lastSeen: { type: "date", convert: true },
					frames: { type: "number", integer: true, min: 1 },
					embeddingVersion: { type: "number", optional: true, nullable: true }
				},
				async handler(ctx: Context<Omit<DetectionDoc, "_id">>) {
					const p = ctx.params;
					const doc: DetectionDoc = {
						_id: p.trackId,
						trackId: p.trackId,
						cameraId: p.cameraId,
						cameraName: p.cameraName ?? `Camera ${p.cameraId}`,
						personId: p.personId ?? null,
						employeeId: p.employeeId ?? null,
						name: p.name ?? null,
						department: p.department ?? null,
						status: p.status,
						confidence: p.confidence,
						boundingBox: p.boundingBox,
						thumbnail: p.thumbnail ?? null,
						timestamp: p.timestamp,
						lastSeen: p.lastSeen,
						frames: p.frames,
						embeddingVersion: p.embeddingVersion ?? null
					};
					const existing: DetectionDoc | null = await this.adapter.findById(doc._id);
					const { _id, ...set } = doc;
					if (existing) await this.adapter.updateById(_id, { $set: { ...set, timestamp: existing.timestamp } });
					else
						await this.adapter.insert(doc).catch(async err => {
							// The same track written twice at once (a retry): the second one updates.
							if (!/unique|duplicate/i.test((err as Error).message)) throw err;
							await this.adapter.updateById(_id, { $set: set });
						});
					const view = detectionView(existing ? { ...doc, timestamp: existing.timestamp } : doc);
					this.broker.broadcast("detections.updated", view);
					this.broker.broadcast("live.detection", view);
					return view;
				}
			},

			list: {
				rest: "GET /detections",
				permission: "cameras:read",
				paged: true,
				openapi: { summary: "Detections (one per face track), newest first", tags: ["detections"], response: DETECTION_RESPONSE },
				params: {
					...pageParams,
					cameraId: { type: "number", integer: true, convert: true, optional: true },
					status: { type: "enum", values: ["authorized", "visitor", "unknown"], optional: true },
					employeeId: { type: "string", max: 64, optional: true },
					from: { type: "date", convert: true, optional: true },
					to: { type: "date", convert: true, optional: true },
					$$strict: true
				},
				async handler(ctx: Context<PageParams & { cameraId?: number; status?: string; employeeId?: string; from?: Date; to?: Date }>) {
					const p = ctx.params;
					const query: Record<string, unknown> = {};
					if (p.cameraId !== undefined) query.cameraId = p.cameraId;
					if (p.status) query.status = p.status;
					if (p.employeeId) query.employeeId = p.employeeId;
					if (p.from || p.to) query.timestamp = { ...(p.from ? { $gte: p.from } : {}), ...(p.to ? { $lte: p.to } : {}) };
					const { offset, limit } = pageQuery(p);
					const [rows, total] = await Promise.all([this.adapter.find({ query, sort: ["-timestamp"], offset, limit }), this.adapter.count({ query })]);
					return paged((rows as DetectionDoc[]).map(detectionView), total, p);
				}
			},

			get: {
				rest: "GET /detections/:id",
				permission: "cameras:read",
				openapi: { summary: "One detection", tags: ["detections"], response: DETECTION_RESPONSE, errors: ["DETECTION_NOT_FOUND"] },
				params: { id: { type: "string", max: 100 }, $$strict: true },
				async handler(ctx: Context<{ id: string }>) {
					const d: DetectionDoc | null = await this.adapter.findById(ctx.params.id);
					if (!d) throw notFound("DETECTION_NOT_FOUND", `Detection not found: ${ctx.params.id}`);
					return detectionView(d);
				}
			},

			/** The newest detections, for a gateway's live view when it starts (not routed). */
			latest: {
				visibility: "public",
				params: { limit: { type: "number", integer: true, min: 1, max: 1000, default: 200 } },
				async handler(ctx: Context<{ limit: number }>) {
					const rows: DetectionDoc[] = await this.adapter.find({ sort: ["-lastSeen"], limit: ctx.params.limit });
					return rows.map(detectionView);
				}
			}
		}
	};
}
