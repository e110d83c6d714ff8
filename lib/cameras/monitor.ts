/**
 * What a monitor actor (services/actors/monitor.actor.ts) keeps about a camera, pure: the
 * bounded sampling interval, the stream's measured rates, uptime per UTC day, when a preview
 * thumbnail is due, when an outage becomes an alert, and what of a camera's configuration
 * makes its actor restart. Units: rates per second of wall time, bitrate in kbit/s, times in
 * epoch ms.
 */
import crypto from "node:crypto";

/** A camera's sampleInterval is held to these seconds (as MONITOR_SAMPLE_INTERVAL is). */
export const SAMPLE_INTERVAL_MIN_S = 0.2;
export const SAMPLE_INTERVAL_MAX_S = 3600;

/** Preview thumbnails are kept at most this often (s), and never more often than samples. */
export const THUMBNAIL_MIN_EVERY_S = 10;
export const THUMBNAIL_WIDTH = 320;

export const thumbnailName = (cameraId: number) => `thumb-cam-${cameraId}.jpg`;

/** The camera's own interval when it is a number, else the default; held to the bounds. */
export function boundedSampleInterval(value: unknown, fallback: number): number {
	const v = typeof value === "number" && Number.isFinite(value) && value > 0 ? value : fallback;
	return Math.min(SAMPLE_INTERVAL_MAX_S, Math.max(SAMPLE_INTERVAL_MIN_S, v));
}

/**
 * When after its first sample a camera takes its second (then one per interval): the interval
 * times the fractional part of id x the golden ratio, so any run of camera ids spreads evenly
 * over the interval. In (0, interval].
 */
export function samplePhase(cameraId: number, intervalS: number): number {
	const f = (Math.abs(cameraId) * 0.6180339887498949) % 1;
	return f > 0.01 ? f * intervalS : intervalS;
}

/** Whether a new thumbnail is due: none yet, or the last is max(sampleInterval, 10 s) old. */
export function thumbnailDue(lastAt: number | null, now: number, sampleIntervalS: number): boolean {
	return lastAt === null || now - lastAt >= Math.max(sampleIntervalS, THUMBNAIL_MIN_EVERY_S) * 1000;
}

/**
 * Frames per second and kbit/s of a stream from cumulative counters (the frame source's
 * packets and bytes: every video packet is one frame, decoded or not), over a sliding window
 * of wall time. Null until the window holds two points a second apart.
 */
export class RateMeter {
	private points: { t: number; packets: number; bytes: number }[] = [];

	constructor(private readonly windowMs = 5000) {}

	add(t: number, packets: number, bytes: number): void {
		this.points.push({ t, packets, bytes });
		// Keep one point at or before the window's start, so the window is always covered.
		while (this.points.length > 2 && this.points[1].t <= t - this.windowMs) this.points.shift();
	}

	/** Forget the past (a reconnect: the gap must not count as a slow stream). */
	reset(): void {
		this.points = [];
	}

	private span(): { dt: number; packets: number; bytes: number } | null {
		if (this.points.length < 2) return null;
		const a = this.points[0];
		const b = this.points[this.points.length - 1];
		const dt = (b.t - a.t) / 1000;
		if (dt < 1) return null;
		return { dt, packets: b.packets - a.packets, bytes: b.bytes - a.bytes };
	}

	/** Frames per second, two decimals. */
	fps(): number | null {
		const s = this.span();
		return s ? Math.round((s.packets / s.dt) * 100) / 100 : null;
	}

	/** kbit/s (1 kbit = 1000 bits), whole. */
	kbps(): number | null {
		const s = this.span();
		return s ? Math.round((s.bytes * 8) / 1000 / s.dt) : null;
	}
}

/** Uptime of one UTC day, as the camera document keeps it. */
export interface UptimeDay {
	/** "YYYY-MM-DD", UTC. */
	day: string;
	onlineMs: number;
	observedMs: number;
}

export const utcDay = (t: number) => new Date(t).toISOString().slice(0, 10);

/** The day's uptime so far from a camera document (another actor's), or a fresh one. */
export function resumeUptime(doc: { uptimeDay?: string | null; uptimeOnlineMs?: number | null; uptimeObservedMs?: number | null }, now: number): UptimeDay {
	const day = utcDay(now);
	if (doc.uptimeDay !== day) return { day, onlineMs: 0, observedMs: 0 };
	const observedMs = Math.max(0, Number(doc.uptimeObservedMs) || 0);
	return { day, onlineMs: Math.min(observedMs, Math.max(0, Number(doc.uptimeOnlineMs) || 0)), observedMs };
}

/** Of two accounts of the same day, the one that has seen more (another day's does not count). */
export function laterUptime(a: UptimeDay, b: UptimeDay | null | undefined): UptimeDay {
	return b && b.day === a.day && b.observedMs > a.observedMs ? { ...b } : a;
}

/**
 * Count the observed time from `from` to `to`, online or not. Time past a UTC midnight
 * belongs to the new day, which starts from zero (the document keeps one day).
 */
export function accrueUptime(u: UptimeDay, from: number, to: number, online: boolean): UptimeDay {
	if (to <= from) return u;
	const day = utcDay(to);
	let out = u;
	let start = from;
	if (u.day !== day) {
		out = { day, onlineMs: 0, observedMs: 0 };
		start = Math.max(from, Date.parse(`${day}T00:00:00.000Z`));
	}
	const dt = to - start;
	return { day, onlineMs: out.onlineMs + (online ? dt : 0), observedMs: out.observedMs + dt };
}

/** Share of the observed time online, 0..1 (null before anything was observed). */
export function uptimeShare(u: UptimeDay): number | null {
	return u.observedMs > 0 ? u.onlineMs / u.observedMs : null;
}

/** An outage: since when the camera is offline, and whether it was alerted (once per outage). */
export interface Outage {
	since: number;
	alerted: boolean;
}

/** An outage that lasted `alertAfterMs` and was not alerted yet. */
export function alertDue(outage: Outage | null, now: number, alertAfterMs: number): boolean {
	return !!outage && !outage.alerted && now - outage.since >= alertAfterMs;
}

/**
 * What of a camera its actor was started from: a change restarts the actor (another stream,
 * credentials or interval). Other edits (name, location, tags) and the actor's own state
 * reports do not. The connection URL holds credentials: only its hash is kept.
 */
export function monitorFingerprint(doc: { streamType?: unknown; streamUrl?: unknown; sampleInterval?: unknown }, connectionUrl: string): string {
	const url = crypto.createHash("sha256").update(connectionUrl).digest("hex");
	return JSON.stringify([doc.streamType ?? null, doc.streamUrl ?? null, doc.sampleInterval ?? null, url]);
}
