/**
 * The camera registry (storage role): one registry for the console (seed 002 "Cameras",
 * seed 004 camera management) and the FUACS sessions. A camera has a console id (`CAM-07`,
 * or one the console gave) and a numeric `cameraId` (the Java backend's, or the next free
 * one): lib/cameras/registry.ts. Stream credentials are kept apart from `streamUrl`, sealed
 * with SECRETS_KEY, masked in every answer and never logged. Edits carry `version`: a stale
 * one answers 409. Enabled cameras are watched all day by monitor actors
 * (services/monitors.service.ts), whose leases and live state live in these documents.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { DbMixin } from "../mixins/db.mixin";
import { pageParams, paged, pageQuery, type PageParams } from "../lib/api/paging";
import { CAMERA_ID, CAMERA_STATUSES, STREAM_SCHEMES, STREAM_TYPES, consoleId, ipOf, joinStreamUrl, lookupOf, nextCameraId, numberOfId, splitStreamUrl, type Credentials } from "../lib/cameras/registry";
import { SecretBox, maskSecret } from "../lib/crypto/secrets";
import { ApiError, badRequest, notFound } from "../lib/errors";
import { claimDecision } from "../lib/recognition/placement";
import { redactUrl } from "../lib/url";
import { cameraId, cameraName, cameraUrl, roomId } from "../lib/validation/rules";
import type { DbServiceVars, GatewayMeta } from "./schema";
import { guardUrl } from "./outbound-guard";

export interface CameraDoc {
	_id: string;
	cameraId: number;
	name: string;
	location: string;
	streamType: string;
	streamUrl: string;
	/** Sealed `{username, password}` (lib/crypto/secrets.ts), or null. */
	credentials: string | null;
	enabled: boolean;
	sampleInterval: number;
	status: string;
	fps: number;
	latency: number;
	bitrate: number;
	resolution: string | null;
	ipAddress: string | null;
	tags: string[];
	thumbnail: string | null;
	roomId: number | null;
	lastSeen: Date | null;
	lastChecked: Date | null;
	uptimeDay: string | null;
	uptimeOnlineMs: number;
	uptimeObservedMs: number;
	leaseOwner: string | null;
	leaseToken: number;
	leaseUntil: number;
	leaseHandTo: string | null;
	createdAt: Date;
	updatedAt: Date;
	version: number;
}

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);
const today = () => new Date().toISOString().slice(0, 10);

class LeaseLost extends ApiError {
	constructor(cameraId: number, detail: string) {
		super(409, "LEASE_LOST", `Camera ${cameraId}: ${detail}`);
	}
}

/** Fields a console caller may set (create, update, import). */
const editable = (optional: boolean) => ({
	name: { type: "string", min: 1, max: 200, trim: true, optional },
	location: { type: "string", max: 200, trim: true, optional: true },
	streamType: { type: "enum", values: [...STREAM_TYPES], optional: true },
	streamUrl: { type: "string", min: 1, max: 2048, optional },
	username: { type: "string", max: 200, optional: true },
	password: { type: "string", max: 200, optional: true },
	enabled: { type: "boolean", optional: true },
	sampleInterval: { type: "number", min: 0.2, max: 3600, optional: true },
	tags: { type: "array", items: { type: "string", max: 50 }, max: 20, optional: true },
	roomId: { type: "number", integer: true, min: 0, optional: true, nullable: true },
	status: { type: "enum", values: ["maintenance", "offline"], optional: true }
});
type Editable = { name?: string; location?: string; streamType?: string; streamUrl?: string; username?: string; password?: string; enabled?: boolean; sampleInterval?: number; tags?: string[]; roomId?: number | null; status?: string };

const CAMERA_RESPONSE = {
	type: "object",
	properties: {
		id: { type: "string" },
		cameraId: { type: "integer" },
		name: { type: "string" },
		location: { type: "string" },
		streamType: { type: "string" },
		streamUrl: { type: "string" },
		credentials: { type: ["object", "null"], properties: { username: { type: "string" }, password: { type: "string", description: "masked" } } },
		status: { type: "string", enum: [...CAMERA_STATUSES] },
		fps: { type: "number" },
		latency: { type: "number" },
		bitrate: { type: "number" },
		resolution: { type: ["string", "null"] },
		ipAddress: { type: ["string", "null"] },
		tags: { type: "array", items: { type: "string" } },
		thumbnail: { type: ["string", "null"] },
		enabled: { type: "boolean" },
		sampleInterval: { type: "number" },
		lastSeen: { type: ["string", "null"] },
		lastChecked: { type: ["string", "null"] },
		version: { type: "integer" }
	}
};
const idParam = { type: "string", min: 1, max: 50, pattern: "^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$" } as const;

interface Methods {
	byPathId(id: string): Promise<CameraDoc>;
	view(d: CameraDoc): Record<string, unknown>;
	credentialsOf(d: CameraDoc): Credentials | null;
	seal(id: string, c: Credentials | null): string | null;
	/** A camera document from console input (create and import); throws with the field at fault. */
	build(input: Editable & { id?: string; cameraId?: number }, taken: { ids: Set<string>; numbers: Set<number> }): CameraDoc;
	/** Changes from console input to an existing camera. */
	changes(doc: CameraDoc, input: Editable): Partial<CameraDoc>;
	changed(doc: Pick<CameraDoc, "_id" | "cameraId" | "enabled" | "version">, deleted?: boolean): void;
	saveVersioned(doc: CameraDoc, version: number | undefined, set: Partial<CameraDoc>): Promise<CameraDoc>;
	taken(): Promise<{ ids: Set<string>; numbers: Set<number> }>;
	migrate(): Promise<void>;
}
type Vars = DbServiceVars & { box: SecretBox };

const fieldError = (field: string, issue: string) => new ApiError(400, "VALIDATION_ERROR", `${field}: ${issue}`, { details: [{ field, issue }] });

export default function camerasService(cfg: Config): ServiceSchema<{ family: string; resource: string; fields: string[]; maxLimit: number }, Methods, Vars> {
	return {
		name: "cameras",
		mixins: [DbMixin("cameras", cfg)],
		settings: { family: "console", resource: "camera", fields: [], maxLimit: 10000 },
		actions: {
			list: {
				rest: "GET /cameras",
				permission: "cameras:read",
				paged: true,
				openapi: { summary: "Cameras, with their live state", tags: ["cameras"], response: CAMERA_RESPONSE },
				params: {
					...pageParams,
					status: { type: "enum", values: [...CAMERA_STATUSES], optional: true },
					streamType: { type: "enum", values: [...STREAM_TYPES], optional: true },
					enabled: { type: "boolean", convert: true, optional: true },
					search: { type: "string", max: 100, trim: true, optional: true },
					$$strict: true
				},
				async handler(ctx: Context<PageParams & { status?: string; streamType?: string; enabled?: boolean; search?: string }>) {
					const p = ctx.params;
					const query: Record<string, unknown> = {};
					if (p.status) query.status = p.status;
					if (p.streamType) query.streamType = p.streamType;
					if (p.enabled !== undefined) query.enabled = p.enabled;
					let docs: CameraDoc[] = await this.adapter.find({ query, sort: ["cameraId"] });
					const s = p.search?.toLowerCase();
					if (s) docs = docs.filter(d => [d._id, d.name, d.location, ...(d.tags ?? [])].some(v => String(v ?? "").toLowerCase().includes(s)));
					const { offset, limit } = pageQuery(p);
					return paged(docs.slice(offset, offset + limit).map(d => this.view(d)), docs.length, p);
				}
			},

			summary: {
				rest: "GET /cameras/summary",
				permission: "cameras:read",
				openapi: {
					summary: "Per camera today: detections, unknown faces, uptime",
					tags: ["cameras"],
					response: { type: "array", items: { type: "object", properties: { id: { type: "string" }, detectionsToday: { type: "integer" }, unknownFaces: { type: "integer" }, uptimePercent: { type: "number" } } } }
				},
				params: { $$strict: true },
				async handler(ctx: Context) {
					const docs: CameraDoc[] = await this.adapter.find({ sort: ["cameraId"] });
					const since = new Date(`${today()}T00:00:00Z`);
					const day = today();
					return Promise.all(
						docs.map(async d => {
							const [detections, unknown] = await Promise.all([
								ctx.call<number, object>("recognitions.count", { query: { cameraId: d.cameraId, kind: { $in: ["report", "sighting"] }, recognizedAt: { $gte: since } } }),
								ctx.call<number, object>("recognitions.count", { query: { cameraId: d.cameraId, kind: "unknown", recognizedAt: { $gte: since } } })
							]);
							const up = d.uptimeDay === day && d.uptimeObservedMs > 0 ? (100 * d.uptimeOnlineMs) / d.uptimeObservedMs : 0;
							return { id: d._id, cameraId: d.cameraId, detectionsToday: detections, unknownFaces: unknown, uptimePercent: Math.round(up * 10) / 10 };
						})
					);
				}
			},

			export: {
				rest: "GET /cameras/export",
				permission: "cameras:read",
				openapi: { summary: "Every camera as JSON, for import elsewhere (credentials left out)", tags: ["cameras"], response: { type: "object" } },
				params: { $$strict: true },
				async handler() {
					const docs: CameraDoc[] = await this.adapter.find({ sort: ["cameraId"] });
					return {
						exportedAt: new Date().toISOString(),
						cameras: docs.map(d => ({ id: d._id, cameraId: d.cameraId, name: d.name, location: d.location, streamType: d.streamType, streamUrl: d.streamUrl, enabled: d.enabled, sampleInterval: d.sampleInterval, tags: d.tags, roomId: d.roomId }))
					};
				}
			},

			import: {
				rest: "POST /cameras/import",
				permission: "cameras:write",
				status: 201,
				openapi: { summary: "Add cameras from an export: every entry is checked, and one refused entry refuses them all", tags: ["cameras"], errors: ["IMPORT_REFUSED", "URL_NOT_ALLOWED"] },
				params: { cameras: { type: "array", min: 1, max: 1000, items: "object" }, exportedAt: { type: "string", optional: true }, $$strict: true },
				async handler(ctx: Context<{ cameras: Record<string, unknown>[] }>) {
					const check = this.broker.validator!.compile({ id: { type: "string", optional: true, max: 50 }, cameraId: { type: "number", integer: true, min: 1, max: 32767, optional: true }, ...editable(false), $$strict: true } as never) as (v: unknown) => true | { field: string; message: string }[];
					const taken = await this.taken();
					const defaultInterval = await ctx.call<{ sampleInterval: number }, object>("site.recognition", {}).then(r => r.sampleInterval, () => undefined);
					const refused: { index: number; id: string | null; issues: { field: string; issue: string }[] }[] = [];
					const docs: CameraDoc[] = [];
					ctx.params.cameras.forEach((entry, index) => {
						const entryCopy = { ...entry };
						const r = check(entryCopy);
						if (r !== true) return refused.push({ index, id: typeof entry.id === "string" ? entry.id : null, issues: r.map(e => ({ field: e.field, issue: e.message })) });
						try {
							// Without its own interval: the recognition settings' default, as a camera created one by one.
							if (entryCopy.sampleInterval === undefined && defaultInterval !== undefined) entryCopy.sampleInterval = defaultInterval;
							const doc = this.build(entryCopy as Editable & { id?: string; cameraId?: number }, taken);
							taken.ids.add(doc._id);
							taken.numbers.add(doc.cameraId);
							docs.push(doc);
						} catch (err) {
							const d = ((err as ApiError).data as { details?: { field: string; issue: string }[] } | undefined)?.details;
							refused.push({ index, id: typeof entry.id === "string" ? entry.id : null, issues: d ?? [{ field: "", issue: (err as Error).message }] });
						}
					});
					if (refused.length)
						throw new ApiError(400, "IMPORT_REFUSED", `${refused.length} of ${ctx.params.cameras.length} cameras refused; nothing was imported`, {
							details: refused.flatMap(r => r.issues.map(i => ({ field: `cameras[${r.index}]${i.field ? `.${i.field}` : ""}`, issue: i.issue }))),
							refused
						});
					for (const [i, d] of docs.entries()) await guardUrl(ctx, cfg, d.streamUrl, "camera", `cameras[${i}].streamUrl`);
					const saved: CameraDoc[] = [];
					try {
						for (const d of docs) saved.push(await this.adapter.insert(d));
					} catch (err) {
						// All or nothing: a concurrent create took an id meanwhile.
						for (const d of saved) await this.adapter.removeById(d._id).catch(() => undefined);
						throw new ApiError(409, "CAMERA_EXISTS", `Import stopped, nothing kept: ${(err as Error).message}`);
					}
					for (const d of saved) this.changed(d);
					return { imported: saved.length, cameras: saved.map(d => this.view(d)) };
				}
			},

			get: {
				rest: "GET /cameras/:id",
				permission: "cameras:read",
				openapi: { summary: "One camera (by CAM-NN id or numeric camera id)", tags: ["cameras"], response: CAMERA_RESPONSE, errors: ["CAMERA_NOT_FOUND"] },
				params: { id: idParam, $$strict: true },
				async handler(ctx: Context<{ id: string }>) {
					return this.view(await this.byPathId(ctx.params.id));
				}
			},

			create: {
				rest: "POST /cameras",
				permission: "cameras:write",
				status: 201,
				openapi: { summary: "Add a camera (id optional: CAM-NN is made from its number)", tags: ["cameras"], response: CAMERA_RESPONSE, errors: ["CAMERA_EXISTS", "INVALID_CAMERA_URL", "URL_NOT_ALLOWED"] },
				params: { id: { ...idParam, optional: true }, cameraId: { type: "number", integer: true, min: 1, max: 32767, optional: true }, ...editable(false), $$strict: true },
				async handler(ctx: Context<Editable & { id?: string; cameraId?: number }>) {
					// Without its own interval: the recognition settings' default (GET /detections/provider/config).
					const sampleInterval = ctx.params.sampleInterval ?? (await ctx.call<{ sampleInterval: number }, object>("site.recognition", {}).then(r => r.sampleInterval, () => undefined));
					const doc = this.build({ ...ctx.params, ...(sampleInterval !== undefined ? { sampleInterval } : {}) }, await this.taken());
					await guardUrl(ctx, cfg, doc.streamUrl, "camera", "streamUrl");
					try {
						await this.adapter.insert(doc);
					} catch (err) {
						if (/unique|duplicate/i.test((err as Error).message)) throw new ApiError(409, "CAMERA_EXISTS", `A camera with this id exists: ${doc._id}`);
						throw err;
					}
					this.changed(doc);
					return this.view(doc);
				}
			},

			update: {
				rest: "PUT /cameras/:id",
				permission: "cameras:write",
				openapi: { summary: "Change a camera; send the version you read (a stale one answers 409)", tags: ["cameras"], response: CAMERA_RESPONSE, errors: ["CAMERA_NOT_FOUND", "VERSION_CONFLICT", "INVALID_CAMERA_URL", "URL_NOT_ALLOWED"] },
				params: { id: idParam, version: { type: "number", integer: true, min: 1, optional: true }, ...editable(true), $$strict: true },
				async handler(ctx: Context<Editable & { id: string; version?: number }>) {
					const { id, version, ...input } = ctx.params;
					const doc = await this.byPathId(id);
					const set = this.changes(doc, input);
					if (set.streamUrl !== undefined && set.streamUrl !== doc.streamUrl) await guardUrl(ctx, cfg, set.streamUrl, "camera", "streamUrl");
					return this.view(await this.saveVersioned(doc, version, set));
				}
			},

			remove: {
				rest: "DELETE /cameras/:id",
				permission: "cameras:write",
				status: 204,
				openapi: { summary: "Remove a camera (its monitor stops)", tags: ["cameras"], errors: ["CAMERA_NOT_FOUND"] },
				params: { id: idParam, $$strict: true },
				async handler(ctx: Context<{ id: string }, GatewayMeta>) {
					const doc = await this.byPathId(ctx.params.id);
					await this.adapter.removeById(doc._id);
					if (doc.thumbnail) await ctx.call("blobs.remove", { name: doc.thumbnail }).catch(() => undefined);
					this.changed(doc, true);
					ctx.meta.$audit = { resourceId: doc._id };
					return null;
				}
			},

			state: {
				rest: "PATCH /cameras/:id/state",
				permission: "cameras:write",
				openapi: { summary: "Enable or disable a camera (its monitor starts or stops)", tags: ["cameras"], response: CAMERA_RESPONSE, errors: ["CAMERA_NOT_FOUND", "VERSION_CONFLICT"] },
				params: { id: idParam, enabled: "boolean", version: { type: "number", integer: true, min: 1, optional: true }, $$strict: true },
				async handler(ctx: Context<{ id: string; enabled: boolean; version?: number }>) {
					const doc = await this.byPathId(ctx.params.id);
					return this.view(await this.saveVersioned(doc, ctx.params.version, { enabled: ctx.params.enabled }));
				}
			},

			startStream: {
				rest: "POST /cameras/:id/start-stream",
				permission: "cameras:write",
				openapi: { summary: "Start monitoring the camera (seed 004; the same as enabling it)", tags: ["cameras"], response: CAMERA_RESPONSE },
				params: { id: idParam, $$strict: true },
				async handler(ctx: Context<{ id: string }>) {
					const doc = await this.byPathId(ctx.params.id);
					return this.view(doc.enabled ? doc : await this.saveVersioned(doc, undefined, { enabled: true }));
				}
			},

			stopStream: {
				rest: "POST /cameras/:id/stop-stream",
				permission: "cameras:write",
				openapi: { summary: "Stop monitoring the camera (seed 004; the same as disabling it)", tags: ["cameras"], response: CAMERA_RESPONSE },
				params: { id: idParam, $$strict: true },
				async handler(ctx: Context<{ id: string }>) {
					const doc = await this.byPathId(ctx.params.id);
					return this.view(doc.enabled ? await this.saveVersioned(doc, undefined, { enabled: false }) : doc);
				}
			},

			// (not `health`: that is the store's reachability probe, from the db mixin)
			liveState: {
				rest: "GET /cameras/:id/health",
				permission: "cameras:read",
				openapi: { summary: "A camera's live state as its monitor measured it", tags: ["cameras"], response: { type: "object" } },
				params: { id: idParam, $$strict: true },
				async handler(ctx: Context<{ id: string }>) {
					const d = await this.byPathId(ctx.params.id);
					const live = !!d.leaseOwner && d.leaseUntil > Date.now();
					const up = d.uptimeDay === today() && d.uptimeObservedMs > 0 ? (100 * d.uptimeOnlineMs) / d.uptimeObservedMs : 0;
					return {
						id: d._id,
						cameraId: d.cameraId,
						enabled: d.enabled,
						status: d.status,
						healthy: d.enabled && d.status === "online",
						monitoredBy: live ? d.leaseOwner : null,
						fps: d.fps,
						bitrate: d.bitrate,
						latency: d.latency,
						resolution: d.resolution,
						lastSeen: iso(d.lastSeen),
						lastChecked: iso(d.lastChecked),
						uptimePercentToday: Math.round(up * 10) / 10
					};
				}
			},

			testConnection: {
				rest: "POST /cameras/:id/test-connection",
				permission: "cameras:write",
				audit: false,
				openapi: { summary: "Open the camera's stream now and time it", tags: ["cameras"], response: { type: "object", properties: { success: { type: "boolean" }, latencyMs: { type: ["number", "null"] }, bitrate: { type: ["number", "null"] }, message: { type: "string" } } }, errors: ["URL_NOT_ALLOWED"] },
				params: { id: idParam, $$strict: true },
				async handler(ctx: Context<{ id: string }>) {
					const d = await this.byPathId(ctx.params.id);
					const r = await ctx.call<{ connected: boolean; latency?: number; frameRate?: number | null; resolution?: { width: number; height: number }; error?: string }, object>("streams.testConnection", { rtspUrl: joinStreamUrl(d.streamUrl, this.credentialsOf(d)) });
					await this.adapter.updateById(d._id, { $set: { lastChecked: new Date() } });
					if (!r.connected) return { success: false, latencyMs: null, bitrate: null, message: `Connection failed: ${r.error ?? "no frame"}` };
					const res = r.resolution ? `${r.resolution.width}x${r.resolution.height}` : "unknown size";
					return { success: true, latencyMs: r.latency ?? null, bitrate: d.bitrate || null, fps: r.frameRate ?? null, resolution: r.resolution ? res : null, message: `Connection OK: ${res}${r.frameRate ? ` at ${r.frameRate} fps` : ""}` };
				}
			},

			snapshot: {
				rest: "POST /cameras/:id/snapshot",
				permission: "cameras:write",
				status: 201,
				openapi: { summary: "Take a JPEG snapshot now; it is kept in the blob store", tags: ["cameras"], response: { type: "object", properties: { assetId: { type: "string" }, url: { type: "string" }, timestamp: { type: "string" } } }, errors: ["FRAME_CAPTURE_FAILED", "URL_NOT_ALLOWED"] },
				params: { id: idParam, $$strict: true },
				async handler(ctx: Context<{ id: string }, GatewayMeta>) {
					const d = await this.byPathId(ctx.params.id);
					const r = await ctx.call<{ image: string; capturedAt: string }, object>("streams.captureFrame", { rtspUrl: joinStreamUrl(d.streamUrl, this.credentialsOf(d)), format: "base64" });
					const jpeg = Buffer.from(r.image.replace(/^data:image\/jpeg;base64,/, ""), "base64");
					const name = `snapshot-${d._id.toLowerCase()}-${Date.now()}.jpg`;
					await ctx.call("blobs.put", { name, kind: "snapshot", contentType: "image/jpeg", data: jpeg, ttlSeconds: 7 * 24 * 3600 });
					ctx.meta.$audit = { resourceId: d._id, message: `Snapshot of ${d._id}` };
					return { assetId: name, url: `/api/v1/assets/${name}`, timestamp: r.capturedAt };
				}
			},

			// ---- for other services (not routed) ----

			/** A FUACS session's camera: kept by its numeric id, created when new (not monitored unless enabled in the console). */
			register: {
				visibility: "public",
				params: { cameraId, name: { ...cameraName, optional: true }, rtspUrl: cameraUrl, roomId: { ...roomId, optional: true } },
				async handler(ctx: Context<{ cameraId: number; name?: string; rtspUrl: string; roomId?: number }>) {
					const { cameraId, name, rtspUrl, roomId } = ctx.params;
					const scheme = new URL(rtspUrl).protocol.startsWith("http") ? "HTTP" : "RTSP";
					const split = splitStreamUrl(rtspUrl, [...STREAM_SCHEMES.RTSP, ...STREAM_SCHEMES.HTTP]);
					const [existing]: CameraDoc[] = await this.adapter.find({ query: { cameraId }, limit: 1 });
					if (existing) {
						const set: Partial<CameraDoc> = { streamUrl: split.url, credentials: this.seal(existing._id, split.credentials), ipAddress: ipOf(split.host), updatedAt: new Date() };
						if (name) set.name = name;
						if (roomId !== undefined) set.roomId = roomId;
						if (existing.streamUrl === set.streamUrl && JSON.stringify(this.credentialsOf(existing)) === JSON.stringify(split.credentials) && (!name || name === existing.name)) return { id: existing._id, cameraId };
						const saved = await this.adapter.updateById(existing._id, { $set: { ...set, version: existing.version + 1 } });
						this.changed(saved);
						return { id: existing._id, cameraId };
					}
					const taken = await this.taken();
					const doc = this.build({ cameraId, name: name ?? `Camera ${cameraId}`, streamType: scheme, streamUrl: rtspUrl, enabled: false, roomId: roomId ?? null, location: "" }, taken);
					await this.adapter.insert(doc).catch(err => {
						if (!/unique|duplicate/i.test((err as Error).message)) throw err; // a concurrent register of the same camera
					});
					return { id: doc._id, cameraId };
				}
			},

			/** Lookup with the real URL (credentials in), for services that connect to the camera. */
			resolve: {
				visibility: "public",
				params: { cameraId: { ...cameraId, convert: true } },
				async handler(ctx: Context<{ cameraId: number }>) {
					const [d]: CameraDoc[] = await this.adapter.find({ query: { cameraId: ctx.params.cameraId }, limit: 1 });
					return d ? { cameraId: d.cameraId, id: d._id, name: d.name, rtspUrl: joinStreamUrl(d.streamUrl, this.credentialsOf(d)), roomId: d.roomId } : null;
				}
			},

			connection: {
				visibility: "public",
				params: { cameraId: "number" },
				async handler(ctx: Context<{ cameraId: number }>) {
					const [d]: CameraDoc[] = await this.adapter.find({ query: { cameraId: ctx.params.cameraId }, limit: 1 });
					return d ? { cameraId: d.cameraId, id: d._id, name: d.name, url: joinStreamUrl(d.streamUrl, this.credentialsOf(d)) } : null;
				}
			},

			/** Enabled network cameras, with their monitor lease: what monitor actors should run. */
			monitored: {
				visibility: "public",
				async handler() {
					const docs: CameraDoc[] = await this.adapter.find({ query: { enabled: true } });
					return docs.filter(d => d.streamType in STREAM_SCHEMES).map(monitorView);
				}
			},

			monitorDoc: {
				visibility: "public",
				params: { cameraId: "number" },
				async handler(ctx: Context<{ cameraId: number }>) {
					const [d]: CameraDoc[] = await this.adapter.find({ query: { cameraId: ctx.params.cameraId, enabled: true }, limit: 1 });
					return d && d.streamType in STREAM_SCHEMES ? monitorView(d) : null;
				}
			},

			claim: {
				visibility: "public",
				params: { cameraId: "number", nodeID: "string", ttlMs: { type: "number", positive: true } },
				async handler(ctx: Context<{ cameraId: number; nodeID: string; ttlMs: number }>) {
					const { cameraId, nodeID, ttlMs } = ctx.params;
					const [doc]: CameraDoc[] = await this.adapter.find({ query: { cameraId, enabled: true }, limit: 1 });
					if (!doc) return null;
					const now = Date.now();
					const d = claimDecision(doc, nodeID, now);
					if (!d.ok) return null;
					const changed = await this.adapter.updateMany({ _id: doc._id, enabled: true, leaseToken: doc.leaseToken }, { $set: { leaseOwner: nodeID, leaseToken: d.token, leaseUntil: now + ttlMs, leaseHandTo: null } });
					if (changed !== 1) return null; // another claim won the race
					return { cameraId, token: d.token, leaseUntil: now + ttlMs };
				}
			},

			renew: {
				visibility: "public",
				params: { cameraId: "number", nodeID: "string", token: "number", ttlMs: { type: "number", positive: true } },
				async handler(ctx: Context<{ cameraId: number; nodeID: string; token: number; ttlMs: number }>) {
					const { cameraId, nodeID, token, ttlMs } = ctx.params;
					const leaseUntil = Date.now() + ttlMs;
					const changed = await this.adapter.updateMany({ cameraId, enabled: true, leaseOwner: nodeID, leaseToken: token, leaseHandTo: null }, { $set: { leaseUntil } });
					if (changed !== 1) throw new LeaseLost(cameraId, `lease ${token} of ${nodeID} is no longer current`);
					return { cameraId, token, leaseUntil };
				}
			},

			release: {
				visibility: "public",
				params: { cameraId: "number", token: "number", handTo: { type: "string", optional: true } },
				async handler(ctx: Context<{ cameraId: number; token: number; handTo?: string }>) {
					const { cameraId, token, handTo } = ctx.params;
					const changed = await this.adapter.updateMany({ cameraId, leaseToken: token }, { $set: { leaseUntil: 0, leaseHandTo: handTo ?? null } });
					return { released: changed === 1 };
				}
			},

			/** A monitor's measurements, written only under its current lease (fencing). */
			reportState: {
				visibility: "public",
				params: { cameraId: "number", token: "number", state: "object" },
				async handler(ctx: Context<{ cameraId: number; token: number; state: Record<string, unknown> }>) {
					const { cameraId, token } = ctx.params;
					const [doc]: CameraDoc[] = await this.adapter.find({ query: { cameraId, leaseToken: token }, limit: 1 });
					if (!doc) throw new LeaseLost(cameraId, `lease ${token} is no longer current`);
					const s = ctx.params.state;
					const set: Record<string, unknown> = {};
					for (const k of ["status", "fps", "bitrate", "latency", "resolution", "thumbnail", "uptimeDay", "uptimeOnlineMs", "uptimeObservedMs"]) if (s[k] !== undefined) set[k] = s[k];
					for (const k of ["lastSeen", "lastChecked"]) if (s[k] !== undefined && s[k] !== null) set[k] = new Date(s[k] as string);
					// A camera in maintenance stays so until the console says otherwise.
					if (doc.status === "maintenance") delete set.status;
					const changed = await this.adapter.updateMany({ _id: doc._id, leaseToken: token }, { $set: set });
					if (changed !== 1) throw new LeaseLost(cameraId, `lease ${token} is no longer current`);
					return { ok: true, previousStatus: doc.status };
				}
			}
		},

		methods: {
			async byPathId(id: string) {
				const [doc]: CameraDoc[] = await this.adapter.find({ query: lookupOf(id), limit: 1 });
				if (!doc) throw notFound("CAMERA_NOT_FOUND", `Camera not found: ${id}`);
				return doc;
			},

			view(d: CameraDoc) {
				const c = this.credentialsOf(d);
				return {
					id: d._id,
					cameraId: d.cameraId,
					name: d.name,
					location: d.location,
					streamType: d.streamType,
					streamUrl: d.streamUrl,
					credentials: c ? { username: c.username, password: maskSecret(c.password) } : null,
					status: d.status,
					fps: d.fps,
					latency: d.latency,
					bitrate: d.bitrate,
					resolution: d.resolution,
					ipAddress: d.ipAddress,
					tags: d.tags ?? [],
					thumbnail: d.thumbnail ? `/api/v1/assets/${d.thumbnail}` : null,
					enabled: d.enabled,
					sampleInterval: d.sampleInterval,
					roomId: d.roomId,
					lastSeen: iso(d.lastSeen),
					lastChecked: iso(d.lastChecked),
					createdAt: iso(d.createdAt),
					updatedAt: iso(d.updatedAt),
					version: d.version
				};
			},

			credentialsOf(d: CameraDoc) {
				if (!d.credentials) return null;
				try {
					return JSON.parse(this.box.open(d.credentials, `camera-credentials:${d._id}`)) as Credentials;
				} catch {
					this.logger.error("Camera credentials cannot be opened (another SECRETS_KEY?)", { cameraId: d.cameraId, id: d._id });
					return null;
				}
			},

			seal(id: string, c: Credentials | null) {
				return c && (c.username || c.password) ? this.box.seal(JSON.stringify(c), `camera-credentials:${id}`) : null;
			},

			build(input, taken) {
				const type = input.streamType ?? "RTSP";
				if (!input.streamUrl) throw fieldError("streamUrl", "required");
				const schemes = STREAM_SCHEMES[type];
				if (!schemes) throw fieldError("streamType", `${type} streams cannot be opened by this server (RTSP or HTTP)`);
				let split;
				try {
					split = splitStreamUrl(input.streamUrl, schemes);
				} catch (err) {
					throw new ApiError(400, "INVALID_CAMERA_URL", `streamUrl: ${(err as Error).message}: ${redactUrl(input.streamUrl)}`, { details: [{ field: "streamUrl", issue: (err as Error).message }] });
				}
				const fromId = input.id ? numberOfId(input.id) : null;
				const cameraId = input.cameraId ?? (fromId !== null && !taken.numbers.has(fromId) ? fromId : nextCameraId(taken.numbers));
				const id = input.id ?? consoleId(cameraId);
				if (!CAMERA_ID.test(id)) throw fieldError("id", "letters, digits, - or _ (at most 50)");
				if (taken.ids.has(id) || taken.numbers.has(cameraId)) throw new ApiError(409, "CAMERA_EXISTS", `A camera with this id exists: ${taken.ids.has(id) ? id : cameraId}`, { details: [{ field: "id", issue: "exists" }] });
				const credentials: Credentials | null =
					input.username !== undefined || input.password !== undefined ? { username: input.username ?? split.credentials?.username ?? "", password: input.password ?? split.credentials?.password ?? "" } : split.credentials;
				const now = new Date();
				return {
					_id: id,
					cameraId,
					name: input.name ?? id,
					location: input.location ?? "",
					streamType: type,
					streamUrl: split.url,
					credentials: this.seal(id, credentials),
					enabled: input.enabled ?? true,
					sampleInterval: input.sampleInterval ?? cfg.monitorSampleInterval,
					status: input.status ?? "offline",
					fps: 0,
					latency: 0,
					bitrate: 0,
					resolution: null,
					ipAddress: ipOf(split.host),
					tags: input.tags ?? [],
					thumbnail: null,
					roomId: input.roomId ?? null,
					lastSeen: null,
					lastChecked: null,
					uptimeDay: null,
					uptimeOnlineMs: 0,
					uptimeObservedMs: 0,
					leaseOwner: null,
					leaseToken: 0,
					leaseUntil: 0,
					leaseHandTo: null,
					createdAt: now,
					updatedAt: now,
					version: 1
				};
			},

			changes(doc, input) {
				const set: Partial<CameraDoc> = {};
				for (const k of ["name", "location", "enabled", "sampleInterval", "tags", "roomId"] as const) if (input[k] !== undefined) (set as Record<string, unknown>)[k] = input[k];
				if (input.status !== undefined) set.status = input.status === "maintenance" ? "maintenance" : "offline";
				const type = input.streamType ?? doc.streamType;
				if (input.streamType !== undefined && !STREAM_SCHEMES[type]) throw fieldError("streamType", `${type} streams cannot be opened by this server (RTSP or HTTP)`);
				set.streamType = type;
				let creds = this.credentialsOf(doc);
				if (input.streamUrl !== undefined || input.streamType !== undefined) {
					try {
						const split = splitStreamUrl(input.streamUrl ?? doc.streamUrl, STREAM_SCHEMES[type]);
						set.streamUrl = split.url;
						set.ipAddress = ipOf(split.host);
						if (split.credentials) creds = split.credentials;
					} catch (err) {
						throw new ApiError(400, "INVALID_CAMERA_URL", `streamUrl: ${(err as Error).message}`, { details: [{ field: "streamUrl", issue: (err as Error).message }] });
					}
				}
				if (input.username !== undefined || input.password !== undefined) creds = { username: input.username ?? creds?.username ?? "", password: input.password ?? creds?.password ?? "" };
				set.credentials = this.seal(doc._id, creds);
				return set;
			},

			async saveVersioned(doc, version, set) {
				if (version !== undefined && version !== doc.version) throw new ApiError(409, "VERSION_CONFLICT", `Camera ${doc._id} changed meanwhile (version ${doc.version})`);
				const changed = await this.adapter.updateMany({ _id: doc._id, version: doc.version }, { $set: { ...set, updatedAt: new Date(), version: doc.version + 1 } });
				if (changed !== 1) throw new ApiError(409, "VERSION_CONFLICT", `Camera ${doc._id} changed meanwhile`);
				const saved: CameraDoc = await this.adapter.findById(doc._id);
				this.changed(saved);
				return saved;
			},

			changed(doc, deleted = false) {
				this.broker.broadcast("cameras.changed", { cameraId: doc.cameraId, id: doc._id, enabled: !deleted && doc.enabled, deleted, version: doc.version });
			},

			async taken() {
				const docs: CameraDoc[] = await this.adapter.find({});
				return { ids: new Set(docs.map(d => d._id)), numbers: new Set(docs.map(d => d.cameraId)) };
			},

			/** Cameras kept by an earlier release ({cameraId, name, rtspUrl, roomId}) take the registry's shape. */
			async migrate() {
				const old: (Partial<CameraDoc> & { _id: string; rtspUrl?: string })[] = await this.adapter.find({ query: { version: { $exists: false } } });
				for (const o of old) {
					if (typeof o.cameraId !== "number" || typeof o.rtspUrl !== "string") continue;
					await this.adapter.removeById(o._id);
					const taken = await this.taken();
					try {
						await this.adapter.insert(this.build({ cameraId: o.cameraId, name: o.name, streamType: o.rtspUrl.startsWith("http") ? "HTTP" : "RTSP", streamUrl: o.rtspUrl, enabled: false, roomId: o.roomId ?? null }, taken));
					} catch (err) {
						this.logger.error("Camera not migrated", { cameraId: o.cameraId, error: (err as Error).message });
					}
				}
			}
		},

		created() {
			this.box = new SecretBox(cfg.secretsKey);
		},

		async started() {
			await this.migrate();
		}
	};
}

function monitorView(d: CameraDoc) {
	return {
		cameraId: d.cameraId,
		id: d._id,
		name: d.name,
		enabled: true,
		sampleInterval: d.sampleInterval,
		leaseOwner: d.leaseOwner,
		leaseToken: d.leaseToken,
		leaseUntil: d.leaseUntil,
		leaseHandTo: d.leaseHandTo,
		version: d.version,
		updatedAt: d.updatedAt,
		// A monitor that takes over (move, failover) resumes the day's uptime from these.
		uptimeDay: d.uptimeDay,
		uptimeOnlineMs: d.uptimeOnlineMs,
		uptimeObservedMs: d.uptimeObservedMs
	};
}
