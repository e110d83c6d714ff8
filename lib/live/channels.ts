/**
 * The live channels (seed 002 "WebSocket Channels"): which broker event feeds which channel,
 * the message a client gets (the seed's shapes), and who may hear it. Pure: the gateway's
 * relay (services/gateway/live-relay.ts) carries these over Socket.IO and the plain `/ws`.
 */
import { hasPermission } from "../api/route-facts";

export const CHANNELS = {
	/** Detections of monitored cameras, all or one camera's. */
	detections: { permission: "cameras:read", byCamera: true },
	/** Monitored cameras going online / offline. */
	"camera-status": { permission: "cameras:read", byCamera: true },
	/** Alerts raised and changed. */
	alerts: { permission: "alerts:read", byCamera: true },
	/** The caller's own notifications, broadcast ones, banner messages. */
	notifications: { permission: null, byCamera: false },
	/** Progress of the caller's own export jobs. */
	exports: { permission: null, byCamera: false },
	/** Console attendance logs as they change. */
	attendance: { permission: "attendance:read", byCamera: true },
	/** Odoo sync progress. */
	odoo: { permission: "odoo:read", byCamera: false },
	/** Every audited change, as it is written. */
	audit: { permission: "audit:read", byCamera: false },
	/** The FUACS recognition sessions' live events (Socket.IO's original events), all or one slot's. */
	sessions: { permission: "attendance:read", byCamera: false }
} as const;
export type Channel = keyof typeof CHANNELS;

export const isChannel = (c: unknown): c is Channel => typeof c === "string" && Object.prototype.hasOwnProperty.call(CHANNELS, c);

/** Channels about the caller themselves (user principals only): joined at connect. */
export const OWN_CHANNELS: readonly Channel[] = ["notifications", "exports"];

/** What a relay needs of a caller. */
export interface Listener {
	kind: "user" | "api-key";
	id: string;
	permissions: readonly string[];
}

/** May this caller subscribe to the channel? Own channels need a signed-in user. */
export function mayHear(l: Listener, channel: Channel): boolean {
	const needed = CHANNELS[channel].permission;
	if (needed === null) return l.kind === "user" || l.permissions.includes("*");
	return hasPermission(l.permissions, needed);
}

/** One message for a channel: to everyone subscribed, to one camera's subscribers too, or to one user. */
export interface LiveMessage {
	channel: Channel;
	/** The camera it is about (subscribers of that camera get it, besides the channel's). */
	cameraId?: number;
	/** Only this user (own channels); undefined or null: every subscriber. */
	userId?: string | null;
	/** The session it is about (sessions channel: that slot's subscribers get it too). */
	slotId?: number;
	/** Besides the channel's permission, what the receiver must hold. */
	permission?: string;
	message: Record<string, unknown>;
	/** Socket.IO's event name for it (default: the channel); the sessions channel keeps the original names. */
	event?: string;
	/** What Socket.IO emits (default: message); the sessions channel keeps the original payloads. */
	payload?: Record<string, unknown>;
}

type Payload = Record<string, any>;

/**
 * The live messages a broker event makes (none when it feeds no channel). Every `live.*`
 * event also goes to the sessions channel under its original name and payload, as Socket.IO
 * clients have had them; console channels get the seed's shapes.
 */
export function messagesFor(event: string, p: Payload | undefined): LiveMessage[] {
	if (!p || typeof p !== "object") return [];
	const out: LiveMessage[] = [];
	const console = consoleMessage(event, p);
	if (console) out.push(console);
	if (event.startsWith("live.")) {
		const name = event.slice("live.".length);
		out.push({ channel: "sessions", slotId: num(p.slotId), message: { type: name, channel: "sessions", ...p }, event: name, payload: p });
	}
	return out;
}

function consoleMessage(event: string, p: Payload): LiveMessage | null {
	switch (event) {
		case "live.detection":
			return { channel: "detections", cameraId: num(p.cameraId), message: { type: "detection", channel: "detections", cameraId: p.cameraId, detection: p } };
		case "detections.job":
			// A send-frame job's state (and its result once completed): to the camera's subscribers.
			return { channel: "detections", cameraId: num(p.cameraId), message: { type: "detection-job", channel: "detections", cameraId: p.cameraId ?? null, job: p } };
		case "live.camera.status":
			if (p.slotId !== undefined) return null; // a session's camera, not a monitored one
			return {
				channel: "camera-status",
				cameraId: num(p.cameraId),
				message: { type: "camera-status", channel: "camera-status", cameraId: p.cameraId, id: p.id ?? null, status: p.status, lastSeen: p.lastSeen ?? null, fps: p.fps ?? null, resolution: p.resolution ?? null, at: p.at ?? null }
			};
		case "live.attendance.updated":
			if (p.slotId !== undefined) return null;
			return { channel: "attendance", cameraId: num(p.cameraId), message: { type: "attendance", channel: "attendance", cameraId: p.cameraId ?? null, attendance: p } };
		case "alerts.raised":
		case "alerts.updated":
			return { channel: "alerts", cameraId: num(p.cameraId), message: { type: "alert", channel: "alerts", event: event === "alerts.raised" ? "raised" : p.deleted ? "deleted" : "updated", alert: p } };
		case "notifications.created":
			return { channel: "notifications", userId: p.userId ?? null, message: { type: "notification", channel: "notifications", notification: p } };
		case "banners.changed":
			return { channel: "notifications", userId: null, message: { type: "banner", channel: "notifications", banner: p } };
		case "exports.progress":
			// An export without an owner goes to nobody rather than to everyone.
			if (typeof p.userId !== "string") return null;
			return { channel: "exports", userId: p.userId, message: { type: "export", channel: "exports", export: p } };
		case "odoo.sync.progress":
			return { channel: "odoo", message: { type: "odoo-sync", channel: "odoo", sync: p } };
		case "audit.recorded":
			return { channel: "audit", message: { type: "audit", channel: "audit", entry: p } };
		default:
			return null;
	}
}

/** The broker events that feed the channels besides `live.**` (the gateway subscribes to exactly these). */
export const CHANNEL_EVENTS = [
	"alerts.raised",
	"alerts.updated",
	"notifications.created",
	"banners.changed",
	"exports.progress",
	"odoo.sync.progress",
	"audit.recorded",
	"detections.job"
] as const;

function num(v: unknown): number | undefined {
	return typeof v === "number" && Number.isInteger(v) ? v : undefined;
}

/** The subscription keys a message reaches: the channel's, and its camera's or slot's. */
export function keysOf(m: LiveMessage): string[] {
	const keys = [m.channel as string];
	if (m.cameraId !== undefined && CHANNELS[m.channel].byCamera) keys.push(`${m.channel}:camera:${m.cameraId}`);
	if (m.slotId !== undefined && m.channel === "sessions") keys.push(`sessions:slot:${m.slotId}`);
	return keys;
}

/** The subscription key of a channel, or of one camera's (or, for sessions, one slot's) part of it. */
export function subscriptionKey(channel: Channel, scope: { cameraId?: number; slotId?: number } = {}): string {
	if (channel === "sessions" && scope.slotId !== undefined) return `sessions:slot:${scope.slotId}`;
	if (scope.cameraId !== undefined && CHANNELS[channel].byCamera) return `${channel}:camera:${scope.cameraId}`;
	return channel;
}

/** Should this listener get the message (its permission, its own user)? */
export function reaches(l: Listener, m: LiveMessage): boolean {
	if (!mayHear(l, m.channel)) return false;
	if (m.permission && !hasPermission(l.permissions, m.permission)) return false;
	if (m.userId !== undefined && m.userId !== null && !(l.kind === "user" && l.id === m.userId)) return false;
	return true;
}
