/**
 * Alerts (storage role; seed 002 "Alerts & Notifications"). Raised by what happens, never by
 * a user: services call `alerts.raise` with a cause, a stable key of what went wrong
 * ("camera:12:offline"), and `alerts.resolve` when it has passed. One open alert per cause
 * (a repeat is counted on it), a muted cause raises nothing new until unmuted
 * (lib/alerts/alerts.ts). The console lists, acknowledges, mutes and deletes them.
 * New alerts broadcast `alerts.raised`, changes `alerts.updated` (the live `alerts` channel).
 *
 * Raises of one cause are handled one at a time here; with a shared MongoDB several nodes
 * serve this, and the alert's id derived from (cause, generation) makes a concurrent second
 * open collide on the primary key, and count as a repeat.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { DbMixin } from "../../mixins/db.mixin";
import { ALERT_LEVELS, CAUSE_PATTERN, alertId, decideRaise, type AlertLevel } from "../../lib/alerts/alerts";
import { pageParams, pageQuery, paged, type PageParams } from "../../lib/api/paging";
import { notFound } from "../../lib/errors";
import type { DbVars, GatewayMeta, Implements } from "../schema";

export interface AlertDoc {
	_id: string;
	cause: string;
	generation: number;
	type: string;
	title: string;
	description: string;
	level: AlertLevel;
	cameraId: number | null;
	tags: string[];
	details: Record<string, unknown>;
	count: number;
	timestamp: Date;
	lastSeen: Date;
	acknowledged: boolean;
	acknowledgedBy: string | null;
	acknowledgedAt: Date | null;
	muted: boolean;
	mutedBy: string | null;
	mutedAt: Date | null;
	resolved: boolean;
	resolvedAt: Date | null;
	updatedAt: Date;
}

export interface RaiseParams {
	cause: string;
	type: string;
	level: AlertLevel;
	title: string;
	description?: string;
	cameraId?: number;
	tags?: string[];
	details?: Record<string, unknown>;
}

export interface RaiseResult {
	/** A new alert was opened (and announced). */
	raised: boolean;
	/** The cause is muted: nothing was raised. */
	muted: boolean;
	alert: AlertView;
}

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);

export function alertView(d: AlertDoc) {
	return {
		id: d._id,
		title: d.title,
		description: d.description,
		level: d.level,
		type: d.type,
		cause: d.cause,
		cameraId: d.cameraId ?? null,
		tags: d.tags ?? [],
		details: d.details ?? {},
		count: d.count,
		timestamp: iso(d.timestamp),
		lastSeen: iso(d.lastSeen),
		acknowledged: !!d.acknowledged,
		acknowledgedBy: d.acknowledgedBy ?? null,
		acknowledgedAt: iso(d.acknowledgedAt),
		muted: !!d.muted,
		resolved: !!d.resolved,
		resolvedAt: iso(d.resolvedAt)
	};
}
export type AlertView = ReturnType<typeof alertView>;

const ALERT_RESPONSE = {
	type: "object",
	properties: {
		id: { type: "string" },
		title: { type: "string" },
		description: { type: "string" },
		level: { type: "string", enum: [...ALERT_LEVELS] },
		type: { type: "string", description: "camera_offline, unknown_face, callback_failing, inference_capacity, store_unreachable, odoo_sync_failed, ..." },
		cause: { type: "string", description: "what the alert is about; one open alert per cause" },
		cameraId: { type: ["integer", "null"] },
		tags: { type: "array", items: { type: "string" } },
		count: { type: "integer", description: "occurrences counted while open" },
		timestamp: { type: "string", format: "date-time", description: "raised" },
		lastSeen: { type: "string", format: "date-time" },
		acknowledged: { type: "boolean" },
		acknowledgedBy: { type: ["string", "null"] },
		muted: { type: "boolean" },
		resolved: { type: "boolean", description: "its cause has passed" },
		resolvedAt: { type: ["string", "null"], format: "date-time" }
	}
};

const id = { type: "string", min: 1, max: 64, pattern: "^[A-Za-z0-9_-]+$" } as const;
const bool = { type: "boolean", convert: true, optional: true } as const;

interface Settings {
	family: string;
	resource: string;
}
interface Methods {
	byId(id: string): Promise<AlertDoc>;
	latestOf(cause: string): Promise<AlertDoc | null>;
	serial<T>(cause: string, work: () => Promise<T>): Promise<T>;
	open(p: RaiseParams, generation: number, now: Date): Promise<AlertDoc | null>;
	changed(d: AlertDoc): void;
}
interface Vars extends DbVars {
	queues: Map<string, Promise<unknown>>;
}

type ListParams = PageParams & { level?: string; acknowledged?: boolean; muted?: boolean; resolved?: boolean; type?: string; cameraId?: number; from?: Date; to?: Date };

export default function alertsService(cfg: Config): ServiceSchema<Settings, Methods, Vars> {
	return {
		name: "alerts",
		mixins: [DbMixin("alerts", cfg)],
		settings: { family: "console", resource: "alert" },
		actions: {
			list: {
				rest: "GET /alerts",
				permission: "alerts:read",
				paged: true,
				openapi: { summary: "Alerts, newest first", tags: ["alerts"], response: ALERT_RESPONSE },
				params: {
					...pageParams,
					level: { type: "string", pattern: `^(${ALERT_LEVELS.join("|")})(,(${ALERT_LEVELS.join("|")}))*$`, optional: true, description: "one level or several, comma-separated" },
					acknowledged: bool,
					muted: bool,
					resolved: { ...bool, description: "false: only alerts whose cause is still there" },
					type: { type: "string", max: 64, optional: true },
					cameraId: { type: "number", integer: true, convert: true, optional: true },
					from: { type: "date", convert: true, optional: true },
					to: { type: "date", convert: true, optional: true },
					$$strict: true
				},
				async handler(ctx: Context<ListParams>) {
					const p = ctx.params;
					const query: Record<string, unknown> = {};
					if (p.level) query.level = { $in: p.level.split(",") };
					for (const k of ["acknowledged", "muted", "resolved", "type", "cameraId"] as const) if (p[k] !== undefined) query[k] = p[k];
					if (p.from || p.to) query.timestamp = { ...(p.from ? { $gte: p.from } : {}), ...(p.to ? { $lte: p.to } : {}) };
					const { offset, limit } = pageQuery(p);
					const [rows, total] = await Promise.all([this.adapter.find({ query, sort: ["-timestamp"], offset, limit }), this.adapter.count({ query })]);
					return paged((rows as AlertDoc[]).map(alertView), total, p);
				}
			},

			get: {
				rest: "GET /alerts/:id",
				permission: "alerts:read",
				openapi: { summary: "One alert", tags: ["alerts"], response: ALERT_RESPONSE, errors: ["ALERT_NOT_FOUND"] },
				params: { id, $$strict: true },
				async handler(ctx: Context<{ id: string }>) {
					return alertView(await this.byId(ctx.params.id));
				}
			},

			acknowledge: {
				rest: "POST /alerts/:id/acknowledge",
				permission: "alerts:write",
				openapi: { summary: "Acknowledge an alert (it stays until its cause passes, but is marked seen)", tags: ["alerts"], response: ALERT_RESPONSE, errors: ["ALERT_NOT_FOUND"] },
				params: { id, $$strict: true },
				async handler(ctx: Context<{ id: string }, GatewayMeta>) {
					const d = await this.byId(ctx.params.id);
					const by = ctx.meta.user?.email ?? ctx.meta.user?.name ?? null;
					const saved: AlertDoc = d.acknowledged ? d : await this.adapter.updateById(d._id, { $set: { acknowledged: true, acknowledgedBy: by, acknowledgedAt: new Date(), updatedAt: new Date() } });
					ctx.meta.$audit = { resourceId: d._id };
					if (!d.acknowledged) this.changed(saved);
					return alertView(saved);
				}
			},

			mute: {
				rest: "POST /alerts/:id/mute",
				permission: "alerts:write",
				openapi: { summary: "Mute an alert's cause (nothing new is raised for it until unmuted), or unmute with muted: false", tags: ["alerts"], response: ALERT_RESPONSE, errors: ["ALERT_NOT_FOUND"] },
				params: { id, muted: { type: "boolean", convert: true, default: true }, $$strict: true },
				async handler(ctx: Context<{ id: string; muted: boolean }, GatewayMeta>) {
					const d = await this.byId(ctx.params.id);
					const muted = ctx.params.muted;
					const by = ctx.meta.user?.email ?? ctx.meta.user?.name ?? null;
					const saved: AlertDoc = await this.adapter.updateById(d._id, { $set: { muted, mutedBy: muted ? by : null, mutedAt: muted ? new Date() : null, updatedAt: new Date() } });
					ctx.meta.$audit = { resourceId: d._id };
					this.changed(saved);
					return alertView(saved);
				}
			},

			remove: {
				rest: "DELETE /alerts/:id",
				permission: "alerts:write",
				status: 204,
				openapi: { summary: "Clear an alert (its cause raises a new one if it happens again)", tags: ["alerts"], errors: ["ALERT_NOT_FOUND"] },
				params: { id, $$strict: true },
				async handler(ctx: Context<{ id: string }, GatewayMeta>) {
					const d = await this.byId(ctx.params.id);
					await this.serial(d.cause, () => this.adapter.removeById(d._id));
					ctx.meta.$audit = { resourceId: d._id };
					this.broker.broadcast("alerts.updated", { ...alertView(d), deleted: true });
					return null;
				}
			},

			/** An occurrence of a cause: opens an alert, counts a repeat, or nothing when muted. */
			raise: {
				visibility: "public",
				params: {
					cause: { type: "string", pattern: CAUSE_PATTERN },
					type: { type: "string", min: 1, max: 64 },
					level: { type: "enum", values: [...ALERT_LEVELS] },
					title: { type: "string", min: 1, max: 255 },
					description: { type: "string", max: 2000, optional: true },
					cameraId: { type: "number", integer: true, optional: true },
					tags: { type: "array", items: "string", max: 20, optional: true },
					details: { type: "object", optional: true }
				},
				handler(ctx: Context<RaiseParams>): Promise<RaiseResult> {
					const p = ctx.params;
					return this.serial(p.cause, async () => {
						for (let attempt = 0; attempt < 3; attempt++) {
							const now = new Date();
							const latest = await this.latestOf(p.cause);
							const decision = decideRaise(latest, p.level);
							if (decision.kind === "open") {
								const opened = await this.open(p, decision.generation, now);
								if (!opened) continue; // another node opened it a moment ago: count on that one
								this.logger.warn("Alert raised", { alertId: opened._id, cause: p.cause, level: p.level, cameraId: p.cameraId ?? null });
								this.broker.broadcast("alerts.raised", alertView(opened));
								return { raised: true, muted: false, alert: alertView(opened) };
							}
							const set: Record<string, unknown> = { lastSeen: now, updatedAt: now };
							if (decision.kind === "repeat") set.level = decision.level;
							const saved: AlertDoc = await this.adapter.updateById(latest!._id, { $set: set, $inc: { count: 1 } });
							return { raised: false, muted: decision.kind === "muted", alert: alertView(saved ?? latest!) };
						}
						throw new Error(`alert for ${p.cause} could not be opened`);
					});
				}
			},

			/** The cause has passed: its open alert is resolved (kept, marked). */
			resolve: {
				visibility: "public",
				params: { cause: { type: "string", pattern: CAUSE_PATTERN } },
				handler(ctx: Context<{ cause: string }>) {
					return this.serial(ctx.params.cause, async () => {
						const latest = await this.latestOf(ctx.params.cause);
						if (!latest || latest.resolved) return { resolved: false };
						const saved: AlertDoc = await this.adapter.updateById(latest._id, { $set: { resolved: true, resolvedAt: new Date(), updatedAt: new Date() } });
						this.changed(saved);
						return { resolved: true, alert: alertView(saved) };
					});
				}
			},

			/** Alerts of a type raised since a moment (the dashboard's unknown faces today). */
			countSince: {
				visibility: "public",
				params: { type: "string", since: { type: "date", convert: true } },
				handler(ctx: Context<{ type: string; since: Date }>) {
					return this.adapter.count({ query: { type: ctx.params.type, timestamp: { $gte: ctx.params.since } } });
				}
			}
		},

		methods: {
			async byId(alertIdParam: string) {
				const d: AlertDoc | null = await this.adapter.findById(alertIdParam);
				if (!d) throw notFound("ALERT_NOT_FOUND", `Alert ${alertIdParam} not found`);
				return d;
			},

			async latestOf(cause: string) {
				const [d] = (await this.adapter.find({ query: { cause }, sort: ["-generation"], limit: 1 })) as AlertDoc[];
				return d ?? null;
			},

			/** One raise/resolve/remove per cause at a time on this node. */
			serial<T>(cause: string, work: () => Promise<T>): Promise<T> {
				const prev = this.queues.get(cause) ?? Promise.resolve();
				const next = prev.then(work, work);
				const tail = next.catch(() => undefined);
				this.queues.set(cause, tail);
				void tail.then(() => {
					if (this.queues.get(cause) === tail) this.queues.delete(cause);
				});
				return next;
			},

			/** Insert the cause's next alert; null when that id exists already (opened elsewhere). */
			async open(p: RaiseParams, generation: number, now: Date) {
				const doc: AlertDoc = {
					_id: alertId(p.cause, generation),
					cause: p.cause,
					generation,
					type: p.type,
					title: p.title,
					description: p.description ?? "",
					level: p.level,
					cameraId: p.cameraId ?? null,
					tags: p.tags ?? [],
					details: p.details ?? {},
					count: 1,
					timestamp: now,
					lastSeen: now,
					acknowledged: false,
					acknowledgedBy: null,
					acknowledgedAt: null,
					muted: false,
					mutedBy: null,
					mutedAt: null,
					resolved: false,
					resolvedAt: null,
					updatedAt: now
				};
				try {
					return (await this.adapter.insert(doc)) as AlertDoc;
				} catch (err) {
					if (/unique|duplicate|E11000/i.test((err as Error).message)) return null;
					throw err;
				}
			},

			changed(d: AlertDoc) {
				this.broker.broadcast("alerts.updated", alertView(d));
			}
		} satisfies Implements<Methods, Settings, Vars>,

		created() {
			this.queues = new Map();
		}
	};
}
