/**
 * Banner messages (storage role; seed 002 `GET/POST /services/banner-messages`): a line shown
 * to every signed-in user while active (maintenance tonight, a camera being replaced).
 * Posting and withdrawing need banners:write (admins); changes broadcast `banners.changed`.
 */
import crypto from "node:crypto";
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { DbMixin } from "../../mixins/db.mixin";
import { AUTHENTICATED } from "../../lib/api/route-facts";
import { badRequest, notFound } from "../../lib/errors";
import type { DbVars, GatewayMeta } from "../schema";

const LEVELS = ["info", "warning", "critical"] as const;

interface BannerDoc {
	_id: string;
	message: string;
	level: string;
	startsAt: Date;
	endsAt: Date | null;
	createdBy: string | null;
	createdAt: Date;
}

const view = (d: BannerDoc) => ({
	id: d._id,
	message: d.message,
	level: d.level,
	startsAt: new Date(d.startsAt).toISOString(),
	endsAt: d.endsAt ? new Date(d.endsAt).toISOString() : null,
	createdBy: d.createdBy ?? null,
	createdAt: new Date(d.createdAt).toISOString()
});

const RESPONSE = {
	type: "object",
	properties: {
		id: { type: "string" },
		message: { type: "string" },
		level: { type: "string", enum: [...LEVELS] },
		startsAt: { type: "string", format: "date-time" },
		endsAt: { type: ["string", "null"], format: "date-time" },
		createdBy: { type: ["string", "null"] },
		createdAt: { type: "string", format: "date-time" }
	}
};

export default function bannersService(cfg: Config): ServiceSchema<{ family: string; resource: string }, object, DbVars> {
	return {
		name: "banners",
		mixins: [DbMixin("banner_messages", cfg)],
		settings: { family: "console", resource: "banner" },
		actions: {
			list: {
				rest: "GET /services/banner-messages",
				permission: AUTHENTICATED,
				openapi: { summary: "Banner messages active now (all, scheduled and past too, with all=true for banners:write holders)", tags: ["system"], response: { type: "array", items: RESPONSE } },
				params: { all: { type: "boolean", convert: true, optional: true }, $$strict: true },
				async handler(ctx: Context<{ all?: boolean }, GatewayMeta>) {
					const docs: BannerDoc[] = await this.adapter.find({ sort: ["-startsAt"], limit: 500 });
					const now = Date.now();
					const perms = ctx.meta.user?.permissions ?? [];
					const everything = ctx.params.all && (perms.includes("*") || perms.includes("banners:write") || perms.includes("banners:*"));
					return docs.filter(d => everything || (new Date(d.startsAt).getTime() <= now && (!d.endsAt || new Date(d.endsAt).getTime() > now))).map(view);
				}
			},

			create: {
				rest: "POST /services/banner-messages",
				permission: "banners:write",
				status: 201,
				openapi: { summary: "Post a banner message (from now, or a scheduled window)", tags: ["system"], response: RESPONSE, errors: ["VALIDATION_ERROR"] },
				params: {
					message: { type: "string", min: 1, max: 500, trim: true },
					level: { type: "enum", values: [...LEVELS], default: "info" },
					startsAt: { type: "date", convert: true, optional: true },
					endsAt: { type: "date", convert: true, optional: true, nullable: true },
					$$strict: true
				},
				async handler(ctx: Context<{ message: string; level: string; startsAt?: Date; endsAt?: Date | null }, GatewayMeta>) {
					const now = new Date();
					const startsAt = ctx.params.startsAt ?? now;
					const endsAt = ctx.params.endsAt ?? null;
					if (endsAt && endsAt.getTime() <= startsAt.getTime()) throw badRequest("VALIDATION_ERROR", "endsAt: must be after startsAt", { details: [{ field: "endsAt", issue: "must be after startsAt" }] });
					const doc: BannerDoc = { _id: `BANNER-${crypto.randomBytes(5).toString("hex").toUpperCase()}`, message: ctx.params.message, level: ctx.params.level, startsAt, endsAt, createdBy: ctx.meta.user?.email ?? ctx.meta.user?.name ?? null, createdAt: now };
					const saved: BannerDoc = await this.adapter.insert(doc);
					ctx.meta.$audit = { resourceId: saved._id };
					this.broker.broadcast("banners.changed", view(saved));
					return view(saved);
				}
			},

			remove: {
				rest: "DELETE /services/banner-messages/:id",
				permission: "banners:write",
				status: 204,
				openapi: { summary: "Withdraw a banner message", tags: ["system"], errors: ["BANNER_NOT_FOUND"] },
				params: { id: { type: "string", min: 1, max: 64 }, $$strict: true },
				async handler(ctx: Context<{ id: string }, GatewayMeta>) {
					const d: BannerDoc | null = await this.adapter.findById(ctx.params.id);
					if (!d) throw notFound("BANNER_NOT_FOUND", `Banner message ${ctx.params.id} not found`);
					await this.adapter.removeById(d._id);
					ctx.meta.$audit = { resourceId: d._id };
					this.broker.broadcast("banners.changed", { ...view(d), deleted: true });
					return null;
				}
			}
		}
	};
}
