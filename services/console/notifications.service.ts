/**
 * Notifications (storage role; seed 002 `GET /notifications`, `POST /notifications/{id}/acknowledge`,
 * `DELETE /notifications`). Services send them with `notifications.notify` to one user or to
 * everyone (userId null: an export ready, an Odoo sync done, a critical alert). Each reader
 * acknowledges and clears their own: a broadcast cleared by one stays for the others.
 * New ones broadcast `notifications.created` (the live `notifications` channel, per user).
 */
import crypto from "node:crypto";
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { DbMixin } from "../../mixins/db.mixin";
import { AUTHENTICATED } from "../../lib/api/route-facts";
import { pageParams, pageQuery, paged, type PageParams } from "../../lib/api/paging";
import { notFound, ApiError } from "../../lib/errors";
import type { DbVars, GatewayMeta, Implements } from "../schema";

export const NOTIFICATION_LEVELS = ["info", "warning", "critical"] as const;
type Level = (typeof NOTIFICATION_LEVELS)[number];

interface NotificationDoc {
	_id: string;
	userId: string | null;
	title: string;
	message: string;
	level: Level;
	link: string | null;
	timestamp: Date;
	acknowledgedBy: string[];
	dismissedBy: string[];
}

/** A notification as its reader sees it. */
export function notificationView(d: NotificationDoc, reader: string | null) {
	return {
		id: d._id,
		userId: d.userId ?? null,
		broadcast: d.userId == null,
		title: d.title,
		message: d.message,
		level: d.level,
		link: d.link ?? null,
		acknowledged: reader !== null && (d.acknowledgedBy ?? []).includes(reader),
		timestamp: new Date(d.timestamp).toISOString()
	};
}

const RESPONSE = {
	type: "object",
	properties: {
		id: { type: "string" },
		userId: { type: ["string", "null"] },
		broadcast: { type: "boolean" },
		title: { type: "string" },
		message: { type: "string" },
		level: { type: "string", enum: [...NOTIFICATION_LEVELS] },
		link: { type: ["string", "null"] },
		acknowledged: { type: "boolean", description: "by the caller" },
		timestamp: { type: "string", format: "date-time" }
	}
};

/** A user's notifications, newest first, at most this many kept in view. */
const MAX_SCAN = 5000;

interface Settings {
	family: string;
	resource: string;
}
interface Methods {
	readerOf(ctx: Context<unknown, GatewayMeta>): string;
	visibleTo(reader: string): Promise<NotificationDoc[]>;
}

/**
 * Ids that sort as they were made, so two notifications of the same millisecond keep their
 * order (newest first) rather than a random one: time, a per-process sequence, randomness.
 */
let sequence = 0;
function notificationId(): string {
	sequence = (sequence + 1) % 36 ** 4;
	return `NOTIF-${Date.now().toString(36).padStart(9, "0")}${sequence.toString(36).padStart(4, "0")}-${crypto.randomBytes(4).toString("hex")}`;
}

export default function notificationsService(cfg: Config): ServiceSchema<Settings, Methods, DbVars> {
	return {
		name: "notifications",
		mixins: [DbMixin("notifications", cfg)],
		settings: { family: "console", resource: "notification" },
		actions: {
			list: {
				rest: "GET /notifications",
				permission: AUTHENTICATED,
				paged: true,
				openapi: { summary: "The caller's notifications and broadcast ones, newest first", tags: ["alerts"], response: RESPONSE },
				params: { ...pageParams, acknowledged: { type: "boolean", convert: true, optional: true }, $$strict: true },
				async handler(ctx: Context<PageParams & { acknowledged?: boolean }, GatewayMeta>) {
					const reader = this.readerOf(ctx);
					let docs = await this.visibleTo(reader);
					if (ctx.params.acknowledged !== undefined) docs = docs.filter(d => (d.acknowledgedBy ?? []).includes(reader) === ctx.params.acknowledged);
					const { offset, limit } = pageQuery(ctx.params);
					return paged(
						docs.slice(offset, offset + limit).map(d => notificationView(d, reader)),
						docs.length,
						ctx.params
					);
				}
			},

			acknowledge: {
				rest: "POST /notifications/:id/acknowledge",
				permission: AUTHENTICATED,
				openapi: { summary: "Mark one of the caller's notifications read", tags: ["alerts"], response: RESPONSE, errors: ["NOTIFICATION_NOT_FOUND"] },
				params: { id: { type: "string", min: 1, max: 64 }, $$strict: true },
				async handler(ctx: Context<{ id: string }, GatewayMeta>) {
					const reader = this.readerOf(ctx);
					const d: NotificationDoc | null = await this.adapter.findById(ctx.params.id);
					if (!d || (d.userId !== null && d.userId !== reader) || (d.dismissedBy ?? []).includes(reader)) throw notFound("NOTIFICATION_NOT_FOUND", `Notification ${ctx.params.id} not found`);
					const saved: NotificationDoc = (d.acknowledgedBy ?? []).includes(reader) ? d : await this.adapter.updateById(d._id, { $addToSet: { acknowledgedBy: reader } });
					ctx.meta.$audit = { resourceId: d._id };
					return notificationView(saved, reader);
				}
			},

			clear: {
				rest: "DELETE /notifications",
				permission: AUTHENTICATED,
				status: 204,
				openapi: { summary: "Clear the caller's notifications (their own are deleted, broadcast ones hidden for them)", tags: ["alerts"] },
				params: { $$strict: true },
				async handler(ctx: Context<object, GatewayMeta>) {
					const reader = this.readerOf(ctx);
					const removed = await this.adapter.removeMany({ userId: reader });
					const hidden = await this.adapter.updateMany({ userId: null }, { $addToSet: { dismissedBy: reader } });
					ctx.meta.$audit = { resourceId: reader, context: { removed, hidden } };
					return null;
				}
			},

			/** Send a notification to a user (or to everyone with userId null). */
			notify: {
				visibility: "public",
				params: {
					userId: { type: "string", min: 1, max: 64, nullable: true, optional: true },
					title: { type: "string", min: 1, max: 255 },
					message: { type: "string", max: 2000, optional: true },
					level: { type: "enum", values: [...NOTIFICATION_LEVELS], default: "info" },
					link: { type: "string", max: 500, optional: true }
				},
				async handler(ctx: Context<{ userId?: string | null; title: string; message?: string; level: Level; link?: string }>) {
					const p = ctx.params;
					const doc: NotificationDoc = {
						_id: notificationId(),
						userId: p.userId ?? null,
						title: p.title,
						message: p.message ?? "",
						level: p.level,
						link: p.link ?? null,
						timestamp: new Date(),
						acknowledgedBy: [],
						dismissedBy: []
					};
					const saved: NotificationDoc = await this.adapter.insert(doc);
					this.broker.broadcast("notifications.created", notificationView(saved, null));
					return notificationView(saved, null);
				}
			}
		},

		methods: {
			readerOf(ctx: Context<unknown, GatewayMeta>) {
				const u = ctx.meta.user;
				if (!u || u.kind !== "user") throw new ApiError(403, "FORBIDDEN", "Notifications belong to signed-in users");
				return u.id;
			},

			async visibleTo(reader: string) {
				const docs: NotificationDoc[] = await this.adapter.find({ query: { $or: [{ userId: reader }, { userId: null }] }, sort: ["-timestamp", "-_id"], limit: MAX_SCAN });
				return docs.filter(d => !(d.dismissedBy ?? []).includes(reader));
			}
		} satisfies Implements<Methods, Settings, DbVars>
	};
}
