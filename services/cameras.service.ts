/**
 * The camera registry (storage role): id, name, rtspUrl, room. Filled by sessions and by
 * the API-key CRUD routes; capture-frame looks camera ids up here first.
 * rtspUrl is validated (rtsp, rtsps, http, https only) and never returned with credentials.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { DbMixin } from "../mixins/db.mixin";
import { notFound } from "../lib/errors";
import { redactUrl } from "../lib/url";
import { coded } from "../lib/validation/coded";
import { cameraId, cameraName, cameraUrl, requiredUnless, roomId } from "../lib/validation/rules";

interface CameraInput {
	name?: string;
	rtspUrl?: string;
	roomId?: number;
}

/** A camera id in the path or the query. */
const idParam = { ...cameraId, convert: true };

export default function camerasService(cfg: Config): ServiceSchema {
	return {
		name: "cameras",
		mixins: [DbMixin("cameras", cfg)],
		settings: { family: "integration", fields: ["cameraId", "name", "rtspUrl", "roomId", "updatedAt"], maxLimit: 10000 },
		hooks: {
			after: {
				// Credentials inside camera URLs never leave the registry through the API.
				"*"(ctx: Context<unknown, { internal?: boolean }>, res: unknown) {
					if (ctx.meta.internal) return res;
					const clean = (d: any) => (d && typeof d.rtspUrl === "string" ? { ...d, rtspUrl: redactUrl(d.rtspUrl) } : d);
					if (Array.isArray(res)) return res.map(clean);
					if (res && typeof res === "object" && Array.isArray((res as any).rows)) return { ...(res as any), rows: (res as any).rows.map(clean) };
					return clean(res);
				}
			}
		},
		actions: {
			list: { rest: "GET /cameras", permission: "cameras:read", message: "Cameras retrieved successfully" },
			get: {
				rest: "GET /cameras/:id",
				permission: "cameras:read",
				message: "Camera retrieved successfully",
				params: { id: idParam },
				async handler(this: any, ctx: Context<{ id: number }>) {
					const doc = await this.adapter.findOne({ cameraId: ctx.params.id });
					if (!doc) throw notFound("CAMERA_NOT_FOUND", `Camera not found: ${ctx.params.id}`);
					return this.transformDocuments(ctx, {}, doc);
				}
			},
			/**
			 * Create or replace a camera by its id (idempotent; sessions call this for their cameras).
			 * The id may come as `cameraId` or as `id`, the name the spec's camera objects use.
			 */
			create: {
				rest: "POST /cameras",
				permission: "cameras:write",
				message: "Camera saved successfully",
				params: {
					cameraId: { ...idParam, optional: true },
					id: { ...idParam, optional: true, custom: requiredUnless("cameraId"), messages: { ...(cameraId.messages as Record<string, string>), requiredUnless: coded("CAMERA_ID_REQUIRED", "Camera ID is required") } },
					name: { ...cameraName, optional: true },
					rtspUrl: cameraUrl,
					roomId: { ...roomId, convert: true, optional: true }
				},
				async handler(this: any, ctx: Context<CameraInput & { cameraId?: number; id?: number; rtspUrl: string }>) {
					const id = (ctx.params.cameraId ?? ctx.params.id) as number;
					const doc = { cameraId: id, name: ctx.params.name ?? `Camera ${id}`, rtspUrl: ctx.params.rtspUrl, roomId: ctx.params.roomId, updatedAt: new Date() };
					const existing = await this.adapter.findOne({ cameraId: doc.cameraId });
					const saved = existing ? await this.adapter.updateById(existing._id, { $set: doc }) : await this.adapter.insert(doc);
					return this.transformDocuments(ctx, {}, saved);
				}
			},
			update: {
				rest: "PUT /cameras/:id",
				permission: "cameras:write",
				message: "Camera updated successfully",
				params: { id: idParam, name: { ...cameraName, optional: true }, rtspUrl: { ...cameraUrl, optional: true }, roomId: { ...roomId, convert: true, optional: true } },
				async handler(this: any, ctx: Context<CameraInput & { id: number }>) {
					const { id, ...given } = ctx.params;
					const changes = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
					const existing = await this.adapter.findOne({ cameraId: id });
					if (!existing) throw notFound("CAMERA_NOT_FOUND", `Camera not found: ${id}`);
					const saved = await this.adapter.updateById(existing._id, { $set: { ...changes, updatedAt: new Date() } });
					return this.transformDocuments(ctx, {}, saved);
				}
			},
			remove: {
				rest: "DELETE /cameras/:id",
				permission: "cameras:write",
				message: "Camera deleted successfully",
				params: { id: idParam },
				async handler(this: any, ctx: Context<{ id: number }>) {
					const existing = await this.adapter.findOne({ cameraId: ctx.params.id });
					if (!existing) throw notFound("CAMERA_NOT_FOUND", `Camera not found: ${ctx.params.id}`);
					await this.adapter.removeById(existing._id);
					return { cameraId: ctx.params.id, deleted: true };
				}
			},
			/** Lookup with the real URL, for services that connect to the camera. */
			resolve: {
				visibility: "public",
				params: { cameraId: idParam },
				async handler(this: any, ctx: Context<{ cameraId: number }, { internal?: boolean }>) {
					ctx.meta.internal = true;
					const doc = await this.adapter.findOne({ cameraId: ctx.params.cameraId });
					return doc ? { cameraId: doc.cameraId, name: doc.name, rtspUrl: doc.rtspUrl, roomId: doc.roomId } : null;
				}
			}
		}
	} as ServiceSchema;
}
