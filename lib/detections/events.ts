/**
 * The per-frame event log of detections (seed 002 `GET /detections/events`), the pure part:
 * what one processed frame's event says, the store query of the log's filters, and the cap
 * that keeps the log bounded. The plumbing is services/console/detection-events.service.ts.
 */

export const EVENT_STATUSES = ["ok", "no_face", "error"] as const;
export type FrameEventStatus = (typeof EVENT_STATUSES)[number];
/** Who asked for the frame: a monitor's own sample, or `POST /detections/send-frame`. */
export const EVENT_SOURCES = ["monitor", "send-frame"] as const;
export type FrameEventSource = (typeof EVENT_SOURCES)[number];

export interface FrameEvent {
	cameraId: number;
	cameraName: string;
	/** When the frame was captured (received from the stream). */
	timestamp: Date;
	status: FrameEventStatus;
	source: FrameEventSource;
	/** Faces found in the frame. */
	faces: number;
	/** ms from the frame's capture to its result (inference, matching, detections written). */
	latencyMs: number;
	error: string | null;
	/** The job of a send-frame. */
	jobId: string | null;
	/** Detections written or refreshed from this frame (their ids). */
	detections: string[];
}

/** The event of a frame handled at `doneAt`: ok with faces, no_face, or the error it failed with. */
export function frameEvent(
	f: { cameraId: number; cameraName: string; capturedAt: number; doneAt: number; source: FrameEventSource; jobId?: string | null },
	outcome: { faces: number; detections?: string[] } | { error: string }
): FrameEvent {
	const base = { cameraId: f.cameraId, cameraName: f.cameraName, timestamp: new Date(f.capturedAt), source: f.source, latencyMs: Math.max(0, Math.round(f.doneAt - f.capturedAt)), jobId: f.jobId ?? null };
	if ("error" in outcome) return { ...base, status: "error", faces: 0, error: outcome.error.slice(0, 500), detections: [] };
	return { ...base, status: outcome.faces > 0 ? "ok" : "no_face", faces: outcome.faces, error: null, detections: outcome.detections ?? [] };
}

export interface EventFilters {
	cameraId?: number;
	status?: FrameEventStatus;
	source?: FrameEventSource;
	from?: Date;
	to?: Date;
}

/** The store query of the log's filters (from and to inclusive, on the frame's time). */
export function eventsQuery(f: EventFilters): Record<string, unknown> {
	const q: Record<string, unknown> = {};
	if (f.cameraId !== undefined) q.cameraId = f.cameraId;
	if (f.status) q.status = f.status;
	if (f.source) q.source = f.source;
	if (f.from || f.to) q.timestamp = { ...(f.from ? { $gte: f.from } : {}), ...(f.to ? { $lte: f.to } : {}) };
	return q;
}

/** The mean latency of the frames that reached inference (ok / no_face), and how many failed, of the newest events. */
export function meanLatency(rows: readonly { status: string; latencyMs: number; timestamp: Date | string }[]): { calls: number; errors: number; averageLatencyMs: number | null; lastOkAt: string | null } {
	const done = rows.filter(r => r.status !== "error");
	return {
		calls: rows.length,
		errors: rows.length - done.length,
		averageLatencyMs: done.length ? Math.round(done.reduce((a, r) => a + r.latencyMs, 0) / done.length) : null,
		lastOkAt: done.length ? new Date(done[0].timestamp).toISOString() : null
	};
}
