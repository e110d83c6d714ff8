/**
 * The per-frame event log of detections (storage role; seed 002 `GET /detections/events`):
 * one document per processed frame, of every monitored camera's samples and of every
 * `POST /detections/send-frame`: camera, the frame's time, status ok / no_face / error, the
 * faces found, latency from capture to result, the error, the detections it wrote. Monitor
 * actors send their events in batches (`recordMany`). Bounded twice: retention deletes events
 * older than RETENTION_DETECTIONS_DAYS (lib/retention/policy.ts), and the log is trimmed to its
 * newest DETECTION_EVENTS_MAX events (checked every TRIM_EVERY inserts).
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { DbMixin } from "../../mixins/db.mixin";
import { PurgeMixin } from "../../mixins/purge.mixin";
import { pageParams, paged, pageQuery, type PageParams } from "../../lib/api/paging";
import { EVENT_SOURCES, EVENT_STATUSES, eventsQuery, meanLatency, type EventFilters, type FrameEvent } from "../../lib/detections/events";
import type { DbVars, Implements } from "../schema";

const TRIM_EVERY = 500;

export interface FrameEventDoc extends FrameEvent {
	_id: string;
}

export function eventView(d: FrameEventDoc) {
	return {
		id: String(d._id),
		cameraId: d.cameraId,
		cameraName: d.cameraName,
		timestamp: new Date(d.timestamp).toISOString(),
		status: d.status,
		source: d.source,
		faces: d.faces,
		latencyMs: d.latencyMs,
		error: d.error,
		jobId: d.jobId,
		detections: d.detections
	};
}

const EVENT_RESPONSE = {
	type: "object",
	properties: {
		id: { type: "string" },
		cameraId: { type: "integer" },
		cameraName: { type: "string" },
		timestamp: { type: "string", format: "date-time", description: "when the frame was captured" },
		status: { type: "string", enum: [...EVENT_STATUSES] },
		source: { type: "string", enum: [...EVENT_SOURCES] },
		faces: { type: "integer" },
		latencyMs: { type: "integer", description: "capture to result (inference, matching, detections written)" },
		error: { type: ["string", "null"] },
		jobId: { type: ["string", "null"] },
		detections: { type: "array", items: { type: "string" } }
	}
};

const eventRule = {
	type: "object",
	strict: "remove",
	props: {
		cameraId: "number",
		cameraName: { type: "string", max: 200 },
		timestamp: { type: "date", convert: true },
		status: { type: "enum", values: [...EVENT_STATUSES] },
		source: { type: "enum", values: [...EVENT_SOURCES] },
		faces: { type: "number", integer: true, min: 0 },
		latencyMs: { type: "number", min: 0 },
		error: { type: "string", nullable: true, optional: true },
		jobId: { type: "string", nullable: true, optional: true },
		detections: { type: "array", items: "string", optional: true }
	}
};

interface Methods {
	insertEvents(events: FrameEvent[]): Promise<FrameEventDoc[]>;
	trim(): Promise<number>;
}
type Vars = DbVars & { sinceTrim: number; trimming: Promise<number> | null };

export default function detectionEventsService(cfg: Config): ServiceSchema<{ family: string; resource: string }, Methods, Vars> {
	return {
		name: "detectionEvents",
		mixins: [DbMixin("detection_events", cfg), PurgeMixin(["timestamp"])],
		settings: { family: "console", resource: "detection-event" },
		actions: {
			record: {
				visibility: "public",
				params: { event: eventRule },
				async handler(ctx: Context<{ event: FrameEvent }>) {
					const [doc] = await this.insertEvents([ctx.params.event]);
					return eventView(doc);
				}
			},
			recordMany: {
				visibility: "public",
				params: { events: { type: "array", items: eventRule, max: 1000 } },
				async handler(ctx: Context<{ events: FrameEvent[] }>) {
					return { recorded: (await this.insertEvents(ctx.params.events)).length };
				}
			},
			list: {
				rest: "GET /detections/events",
				permission: "cameras:read",
				paged: true,
				openapi: { summary: "The per-frame event log (monitor samples and send-frame), newest first", tags: ["detections"], response: EVENT_RESPONSE },
				params: {
					...pageParams,
					cameraId: { type: "number", integer: true, convert: true, optional: true },
					status: { type: "enum", values: [...EVENT_STATUSES], optional: true },
					source: { type: "enum", values: [...EVENT_SOURCES], optional: true },
					from: { type: "date", convert: true, optional: true },
					to: { type: "date", convert: true, optional: true },
					$$strict: true
				},
				async handler(ctx: Context<PageParams & EventFilters>) {
					const query = eventsQuery(ctx.params);
					const { offset, limit } = pageQuery(ctx.params);
					const [rows, total] = await Promise.all([this.adapter.find({ query, sort: ["-timestamp"], offset, limit }), this.adapter.count({ query })]);
					return paged((rows as FrameEventDoc[]).map(eventView), total, ctx.params);
				}
			},
			/** The latencies of the newest frames that went through inference (the provider's measured latency; not routed). */
			recentLatency: {
				visibility: "public",
				params: { limit: { type: "number", integer: true, min: 1, max: 1000, default: 100 } },
				async handler(ctx: Context<{ limit: number }>) {
					const rows: FrameEventDoc[] = await this.adapter.find({ sort: ["-timestamp"], limit: ctx.params.limit });
					return meanLatency(rows);
				}
			}
		},
		methods: {
			async insertEvents(events: FrameEvent[]) {
				const docs = (await this.adapter.insertMany(events.map(e => ({ ...e, error: e.error ?? null, jobId: e.jobId ?? null, detections: e.detections ?? [] })))) as FrameEventDoc[];
				this.sinceTrim += docs.length;
				if (this.sinceTrim >= TRIM_EVERY && !this.trimming) {
					this.sinceTrim = 0;
					this.trimming = this.trim()
						.catch((err: Error) => {
							this.logger.warn("Detection events not trimmed", { error: err.message });
							return 0;
						})
						.finally(() => (this.trimming = null));
				}
				return docs;
			},
			/** Delete the events beyond the newest DETECTION_EVENTS_MAX. */
			async trim() {
				const [edge]: FrameEventDoc[] = await this.adapter.find({ sort: ["-timestamp"], offset: cfg.detectionEventsMax, limit: 1 });
				if (!edge) return 0;
				const removed = await this.adapter.removeMany({ timestamp: { $lte: new Date(edge.timestamp) } });
				this.logger.info("Detection events trimmed", { removed, max: cfg.detectionEventsMax });
				return removed;
			}
		} satisfies Implements<Methods, { family: string; resource: string }, Vars>,
		created() {
			this.sinceTrim = 0;
			this.trimming = null;
		}
	};
}
