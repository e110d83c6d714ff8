/**
 * Alert rules (pure): one open alert per cause, muted causes raise nothing, levels ranked.
 * A cause is a stable key of what went wrong ("camera:12:offline", "odoo:sync-failures"); the
 * alerts service keeps the documents, this decides what a new occurrence does to them.
 */
import crypto from "node:crypto";

/** Seed 002 `alerts.level`. */
export const ALERT_LEVELS = ["low", "medium", "high", "critical"] as const;
export type AlertLevel = (typeof ALERT_LEVELS)[number];

export const levelRank = (l: AlertLevel): number => ALERT_LEVELS.indexOf(l);

/** The part of an alert document the rules look at. */
export interface AlertState {
	cause: string;
	generation: number;
	level: AlertLevel;
	resolved: boolean;
	muted: boolean;
}

export type RaiseDecision =
	/** Nothing open for this cause: a new alert, the cause's next generation. */
	| { kind: "open"; generation: number }
	/** Already open: count the occurrence on it (and raise its level if this one is worse). */
	| { kind: "repeat"; level: AlertLevel }
	/** The cause is muted: counted on the muted alert, nothing new raised until it is unmuted. */
	| { kind: "muted" };

/** What an occurrence of a cause does, given the cause's latest alert (if any). */
export function decideRaise(latest: AlertState | null, level: AlertLevel): RaiseDecision {
	if (!latest) return { kind: "open", generation: 1 };
	if (latest.muted) return { kind: "muted" };
	if (!latest.resolved) return { kind: "repeat", level: levelRank(level) > levelRank(latest.level) ? level : latest.level };
	return { kind: "open", generation: latest.generation + 1 };
}

/**
 * The id of a cause's n-th alert: derived, not random, so two nodes raising the same cause at
 * once (shared MongoDB) collide on the primary key instead of opening two alerts.
 */
export function alertId(cause: string, generation: number): string {
	const h = crypto.createHash("sha256").update(cause).digest("hex").slice(0, 12).toUpperCase();
	return `ALERT-${h}-${generation}`;
}

/** Causes are short printable keys. */
export const CAUSE_PATTERN = "^[A-Za-z0-9_.:@/-]{1,200}$";

/**
 * At most one event per key per interval (unknown faces: one alert per camera per interval,
 * however many unknown tracks pass). Bounded: the oldest keys are forgotten first.
 */
export class RateGate {
	private last = new Map<string, number>();

	constructor(
		private readonly intervalMs: number,
		private readonly maxKeys = 10_000
	) {}

	/** True when an event for `key` may pass now (and counts it). */
	pass(key: string, now: number): boolean {
		const at = this.last.get(key);
		if (at !== undefined && now - at < this.intervalMs) return false;
		this.last.delete(key);
		this.last.set(key, now);
		if (this.last.size > this.maxKeys) this.last.delete(this.last.keys().next().value as string);
		return true;
	}
}
