/**
 * The camera registry (storage role): id, name, rtspUrl, room. Filled by sessions and by
 * the API-key CRUD routes; capture-frame looks camera ids up here first.
 * rtspUrl is validated (rtsp, rtsps, http, https only) and never returned with credentials.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { DbMixin } from "../mixins/db.mixin";
import { badRequest, notFound } from "../lib/errors";
import { parseUrl, redactUrl } from "../lib/url";

export const CAMERA_URL_SCHEMES = ["rtsp", "rtsps", "http", "https"] as const;

interface CameraInput {
	id?: number | string;
	cameraId?: number;
	name?: string;
	rtspUrl?: string;
	roomId?: number;
}

function checkCamera(p: CameraInput, partial: boolean) {
	if (!partial && p.cameraId === undefined) throw badRequest("CAMERA_ID_REQUIRED", "Camera ID is required");
	if (p.cameraId !== undefined && (!Number.isInteger(p.cameraId) || p.cameraId < 0)) throw badRequest("INVALID_CAMERA_ID", "Camera ID must be a non-negative integer");
	if (!partial && !p.rtspUrl) throw badRequest("RTSP_URL_REQUIRED", "RTSP URL is required");
	if (p.rtspUrl !== undefined && !parseUrl(p.rtspUrl, CAMERA_URL_SCHEMES))
		throw badRequest("INVALID_CAMERA_URL", `Camera URL must be an rtsp, rtsps, http or https URL: ${redactUrl(String(p.rtspUrl))}`);
}

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
				params: { id: { type: "number", convert: true, integer: true } },
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
					cameraId: { type: "number", convert: true, optional: true },
					id: { type: "number", convert: true, optional: true },
					name: { type: "string", optional: true, max: 200 },
					rtspUrl: { type: "string", optional: true },
					roomId: { type: "number", optional: true, convert: true }
				},
				async handler(this: any, ctx: Context<CameraInput>) {
					if (ctx.params.cameraId === undefined && ctx.params.id !== undefined) ctx.params.cameraId = Number(ctx.params.id);
					checkCamera(ctx.params, false);
					const doc = { cameraId: ctx.params.cameraId, name: ctx.params.name ?? `Camera ${ctx.params.cameraId}`, rtspUrl: ctx.params.rtspUrl, roomId: ctx.params.roomId, updatedAt: new Date() };
					const existing = await this.adapter.findOne({ cameraId: doc.cameraId });
					const saved = existing ? await this.adapter.updateById(existing._id, { $set: doc }) : await this.adapter.insert(doc);
					return this.transformDocuments(ctx, {}, saved);
				}
			},
			update: {
				rest: "PUT /cameras/:id",
				permission: "cameras:write",
				message: "Camera updated successfully",
				params: { id: { type: "number", convert: true, integer: true }, name: { type: "string", optional: true, max: 200 }, rtspUrl: { type: "string", optional: true }, roomId: { type: "number", optional: true, convert: true } },
				async handler(this: any, ctx: Context<CameraInput & { id: number }>) {
					const { id, ...changes } = ctx.params;
					checkCamera(changes, true);
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
				params: { id: { type: "number", convert: true, integer: true } },
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
				params: { cameraId: { type: "number", convert: true } },
				async handler(this: any, ctx: Context<{ cameraId: number }, { internal?: boolean }>) {
					ctx.meta.internal = true;
					const doc = await this.adapter.findOne({ cameraId: ctx.params.cameraId });
					return doc ? { cameraId: doc.cameraId, name: doc.name, rtspUrl: doc.rtspUrl, roomId: doc.roomId } : null;
				}
			}
		}
	} as ServiceSchema;
}
