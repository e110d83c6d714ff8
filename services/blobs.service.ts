/**
 * The blob store (storage role; with MongoDB, every gateway and actors node): snapshots,
 * previews, thumbnails, face images, exports, behind lib/store/blobs.ts (a DATA_DIR folder,
 * or GridFS with MONGO_URI). Any node reads a blob through this service, so a file taken on
 * one node is served by every gateway. A blob put whole is at most BLOB_MAX_SIZE (it
 * crosses the transporter in one message); expired ones and previews beyond PREVIEW_MAX_FILES go.
 *
 * Large files (exports) go as streams, which Moleculer carries in chunks of its
 * `maxChunkSize` (256 KB) across nodes, and which never sit whole in memory here:
 * - `putStream {name, kind, contentType, ttlSeconds? | expiresAt?}` with the bytes as the call's stream
 *   (`ctx.call("blobs.putStream", params, { stream, timeout: 0 })`), at most
 *   BLOB_STREAM_MAX_SIZE (413 BLOB_TOO_LARGE, nothing kept) -> BlobInfo. The blob appears
 *   once it is complete; a sender that dies or fails its stream leaves nothing.
 * - `openStream {name}` -> the bytes as a stream (404 FILE_NOT_FOUND); `info {name}` -> BlobInfo or null.
 */
import crypto from "node:crypto";
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { AUTHENTICATED, hasPermission } from "../lib/api/route-facts";
import type { Readable } from "node:stream";
import { BLOB_KINDS, BlobNameError, BlobTooLargeError, createBlobStore, expiredBlobs, type BlobInfo, type BlobKind, type BlobStore } from "../lib/store/blobs";
import { isPreviewName } from "../lib/video/previews";
import { ApiError, badRequest, notFound } from "../lib/errors";
import { fails } from "../lib/validation/coded";
import { mustBe } from "../lib/validation/rules";
import type { GatewayMeta } from "./schema";

/** Who may read a blob of a kind through the console's /assets route. */
const READ_PERMISSION: Record<BlobKind, string> = { preview: "cameras:read", snapshot: "cameras:read", thumbnail: "cameras:read", face: "faces:read", export: "attendance:read", upload: "faces:write" };
const EXT: Record<string, string> = { "image/jpeg": "jpg", "image/png": "png", "text/csv": "csv", "application/pdf": "pdf", "application/json": "json" };

interface Methods {
	read(name: string): Promise<{ info: BlobInfo; data: Buffer } | null>;
	sweep(): Promise<number>;
}
interface Vars {
	store: BlobStore;
	sweepTimer: NodeJS.Timeout;
}

export default function blobsService(cfg: Config): ServiceSchema<{ family: string; resource: string }, Methods, Vars> {
	return {
		name: "blobs",
		settings: { family: "console", resource: "asset" },
		actions: {
			/** Keep a blob; answers its info. `name` is made from the kind when absent. */
			put: {
				visibility: "public",
				params: {
					name: { type: "string", optional: true, max: 160 },
					kind: { type: "enum", values: [...BLOB_KINDS] },
					contentType: { type: "string", max: 100 },
					data: { type: "any" },
					ttlSeconds: { type: "number", integer: true, min: 1, optional: true }
				},
				async handler(ctx: Context<{ name?: string; kind: BlobKind; contentType: string; data: Buffer; ttlSeconds?: number }>) {
					const data = Buffer.isBuffer(ctx.params.data) ? ctx.params.data : Buffer.from(ctx.params.data as unknown as Uint8Array);
					if (data.length > cfg.blobMaxBytes) throw new ApiError(413, "BLOB_TOO_LARGE", `A stored file is at most ${cfg.blobMaxBytes} bytes, got ${data.length}`);
					const name = ctx.params.name ?? `${ctx.params.kind}-${crypto.randomUUID()}.${EXT[ctx.params.contentType] ?? "bin"}`;
					const expiresAt = ctx.params.ttlSeconds ? new Date(Date.now() + ctx.params.ttlSeconds * 1000) : null;
					try {
						const info = await this.store.put(name, data, { kind: ctx.params.kind, contentType: ctx.params.contentType, expiresAt });
						// Previews are counted (PREVIEW_MAX_FILES): the oldest go as a new one comes.
						if (ctx.params.kind === "preview") await this.sweep();
						return info;
					} catch (err) {
						if (err instanceof BlobNameError) throw badRequest("INVALID_FILE_NAME", err.message);
						throw err;
					}
				}
			},

			/** Keep the call's stream as a blob (exports and other large files). */
			putStream: {
				visibility: "public",
				params: {
					name: { type: "string", max: 160 },
					kind: { type: "enum", values: [...BLOB_KINDS] },
					contentType: { type: "string", max: 100 },
					ttlSeconds: { type: "number", integer: true, min: 1, optional: true },
					expiresAt: { type: "date", convert: true, optional: true }
				},
				async handler(ctx: Context<{ name: string; kind: BlobKind; contentType: string; ttlSeconds?: number; expiresAt?: Date }>) {
					const stream = (ctx as unknown as { stream?: Readable | null }).stream;
					if (!stream) throw badRequest("STREAM_REQUIRED", "blobs.putStream takes its bytes as the call's stream");
					const expiresAt = ctx.params.expiresAt ?? (ctx.params.ttlSeconds ? new Date(Date.now() + ctx.params.ttlSeconds * 1000) : null);
					try {
						const info = await this.store.putStream(ctx.params.name, stream, { kind: ctx.params.kind, contentType: ctx.params.contentType, expiresAt }, cfg.blobStreamMaxBytes);
						this.logger.info("Blob stored from a stream", { name: info.name, kind: info.kind, size: info.size });
						return info;
					} catch (err) {
						stream.resume(); // let a sender still writing finish into nothing
						if (err instanceof BlobNameError) throw badRequest("INVALID_FILE_NAME", err.message);
						if (err instanceof BlobTooLargeError) throw new ApiError(413, "BLOB_TOO_LARGE", err.message);
						throw err;
					}
				}
			},

			/** A blob as a stream (any size; across nodes in chunks). */
			openStream: {
				visibility: "public",
				params: { name: "string" },
				async handler(ctx: Context<{ name: string }>) {
					let opened: { info: BlobInfo; stream: Readable } | null = null;
					try {
						opened = await this.store.openStream(ctx.params.name);
					} catch (err) {
						if (!(err instanceof BlobNameError)) throw err;
					}
					if (!opened) throw notFound("FILE_NOT_FOUND", `File not found: ${ctx.params.name}`);
					return opened.stream;
				}
			},

			info: {
				visibility: "public",
				params: { name: "string" },
				async handler(ctx: Context<{ name: string }>) {
					try {
						return await this.store.info(ctx.params.name);
					} catch (err) {
						if (err instanceof BlobNameError) return null;
						throw err;
					}
				}
			},

			get: {
				visibility: "public",
				params: { name: "string" },
				async handler(ctx: Context<{ name: string }>) {
					const blob = await this.read(ctx.params.name);
					if (!blob) throw notFound("FILE_NOT_FOUND", `File not found: ${ctx.params.name}`);
					return blob;
				}
			},

			remove: {
				visibility: "public",
				params: { name: "string" },
				async handler(ctx: Context<{ name: string }>) {
					try {
						return { removed: await this.store.remove(ctx.params.name) };
					} catch (err) {
						if (err instanceof BlobNameError) return { removed: false };
						throw err;
					}
				}
			},

			list: {
				visibility: "public",
				params: { kind: { type: "enum", values: [...BLOB_KINDS], optional: true } },
				handler(ctx: Context<{ kind?: BlobKind }>) {
					return this.store.list(ctx.params.kind);
				}
			},

			/** GET /api/v1/files/:name (FUACS section 6): a saved preview, by name only. */
			file: {
				rest: "GET /files/:name",
				family: "integration",
				permission: "cameras:read",
				params: { name: { type: "string", custom: mustBe(isPreviewName), messages: fails("INVALID_FILE_NAME", "Invalid file name") } },
				async handler(ctx: Context<{ name: string }, GatewayMeta>) {
					const blob = await this.read(ctx.params.name);
					if (!blob || blob.info.kind !== "preview") throw notFound("FILE_NOT_FOUND", `File not found: ${ctx.params.name}`);
					ctx.meta.$responseType = blob.info.contentType;
					ctx.meta.$responseHeaders = { "Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff" };
					return blob.data;
				}
			},

			/** GET /api/v1/assets/:name: a stored file for the console, if the caller may read its kind. */
			asset: {
				rest: "GET /assets/:name",
				permission: AUTHENTICATED,
				openapi: { summary: "A stored file (snapshot, preview, thumbnail, face image, export), if the caller may read its kind", tags: ["assets"], errors: ["FILE_NOT_FOUND"] },
				params: { name: { type: "string", max: 200 }, $$strict: true },
				async handler(ctx: Context<{ name: string }, GatewayMeta>) {
					const blob = await this.read(ctx.params.name);
					if (!blob) throw notFound("FILE_NOT_FOUND", `File not found: ${ctx.params.name}`);
					const user = ctx.meta.user;
					const needed = READ_PERMISSION[blob.info.kind];
					if (user && !hasPermission(user.permissions, needed)) throw new ApiError(403, "FORBIDDEN", `This needs the ${needed} permission`);
					ctx.meta.$responseType = blob.info.contentType;
					ctx.meta.$responseHeaders = { "Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff", ETag: `"${blob.info.sha256.slice(0, 32)}"` };
					return blob.data;
				}
			},

			health: {
				visibility: "public",
				async handler() {
					await this.store.list("preview");
					return { ok: true };
				}
			}
		},

		methods: {
			async read(name: string) {
				try {
					return await this.store.get(name);
				} catch (err) {
					if (err instanceof BlobNameError) return null;
					throw err;
				}
			},

			async sweep() {
				const gone = expiredBlobs(await this.store.list(), new Date(), { preview: cfg.previewMaxFiles });
				// (expiry of previews: PREVIEW_MAX_AGE, given to each at put)
				for (const name of gone) await this.store.remove(name).catch(() => undefined);
				return gone.length;
			}
		},

		created() {
			this.store = createBlobStore(cfg);
		},

		async started() {
			await this.store.open();
			this.sweepTimer = setInterval(() => void this.sweep().catch(err => this.logger.warn("Blob sweep failed", { error: (err as Error).message })), 60_000).unref();
		},

		async stopped() {
			clearInterval(this.sweepTimer);
			await this.store.close();
		}
	};
}
