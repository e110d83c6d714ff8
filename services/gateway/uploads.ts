/**
 * Streamed multipart uploads: the declared field is piped to the action (on whichever node
 * runs it) as it arrives, never buffered here; past the size limit the stream is cut and the
 * answer is the action's declared `tooLarge` error. The other form fields go along as params.
 */
import type { IncomingMessage } from "node:http";
import { PassThrough } from "node:stream";
import Busboy from "@fastify/busboy";
import type { Context } from "moleculer";
import { ApiError } from "../../lib/errors";
import type { UploadFacts } from "../../lib/api/route-facts";
import { ImageRefusal, normalizeImage } from "../../lib/images/safe-image";

/** Resolves with the action's result; rejects with the error to answer. */
export function streamUpload(ctx: Context, req: IncomingMessage, action: string, facts: UploadFacts): Promise<unknown> {
	const missing = () => new ApiError(400, facts.missing.code, facts.missing.message);
	const tooLarge = () => new ApiError(400, facts.tooLarge.code, facts.tooLarge.message);
	return new Promise((resolve, reject) => {
		const fail = (err: unknown) => {
			req.unpipe();
			req.resume(); // read the rest so the client sees the answer, not a reset
			reject(err);
		};
		if (!/^multipart\/form-data/i.test(req.headers["content-type"] ?? "")) return fail(missing());
		// Multipart framing adds a little; a declared length well past the limit is refused unread.
		if (Number(req.headers["content-length"]) > facts.maxBytes + 1024 * 1024) return fail(tooLarge());

		let busboy: ReturnType<typeof Busboy>;
		try {
			busboy = Busboy({ headers: req.headers as never, limits: { files: 1, fileSize: facts.maxBytes, fields: 20, fieldSize: 4096, parts: 40 } });
		} catch {
			return fail(missing());
		}
		const fields: Record<string, string> = {};
		let call: Promise<unknown> | null = null;
		let truncated = false;
		busboy.on("field", (name: string, value: string) => {
			if (!call && /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name)) fields[name] = value;
		});
		busboy.on("file", (field: string, file: NodeJS.ReadableStream & { resume(): void; unpipe(): void }, filename: string, _enc: string, mimetype: string) => {
			if (field !== facts.field || call) return file.resume();
			const pass = new PassThrough();
			file.on("limit", () => {
				truncated = true;
				file.unpipe();
				pass.destroy(tooLarge());
				file.resume();
			});
			file.pipe(pass);
			call = ctx.call(action, { ...fields, filename, mimetype }, { stream: pass } as never);
			// An early refusal must not leave the upload stalled behind a full pipe.
			call.catch(() => {
				file.unpipe();
				file.resume();
			});
		});
		busboy.on("error", () => fail(missing()));
		busboy.on("finish", async () => {
			if (!call) return fail(missing());
			try {
				const data = await call;
				if (truncated) return fail(tooLarge());
				resolve(data);
			} catch (err) {
				fail(truncated ? tooLarge() : err);
			}
		});
		req.pipe(busboy);
	});
}

export interface ImageUpload {
	filename: string;
	blob?: string;
	/** The re-encoded JPEG itself (`keep: "buffer"`). */
	data?: Buffer;
	/** The upload's size, pixels (oriented). */
	width?: number;
	height?: number;
	/** The re-encoded JPEG's size. */
	jpegWidth?: number;
	jpegHeight?: number;
	error?: { code: string; message: string };
}

/** Photos decoded at once: libvips decodes them on libuv's threads, side by side. */
const DECODE_CONCURRENCY = 4;

/**
 * Multipart photos: each file of the declared field is read up to its byte limit, decoded
 * safely and re-encoded here at the edge, and kept as an `upload` blob for an hour; the
 * action gets the blob names (or why a file was refused) and the other fields.
 */
export function receiveImages(ctx: Context, req: IncomingMessage, facts: UploadFacts): Promise<{ fields: Record<string, string>; uploads: ImageUpload[] }> {
	const maxFiles = facts.maxFiles ?? 1;
	const maxTotal = facts.maxTotalBytes ?? maxFiles * facts.maxBytes;
	return new Promise((resolve, reject) => {
		const fail = (err: unknown) => {
			req.unpipe();
			req.resume();
			reject(err);
		};
		if (!/^multipart\/form-data/i.test(req.headers["content-type"] ?? "")) return fail(new ApiError(400, facts.missing.code, facts.missing.message));
		if (Number(req.headers["content-length"]) > maxTotal + 1024 * 1024) return fail(new ApiError(413, facts.tooLarge.code, facts.tooLarge.message));
		let busboy: ReturnType<typeof Busboy>;
		try {
			busboy = Busboy({ headers: req.headers as never, limits: { files: maxFiles + 1, fileSize: facts.maxBytes, fields: 20, fieldSize: 4096, parts: maxFiles + 25 } });
		} catch {
			return fail(new ApiError(400, facts.missing.code, facts.missing.message));
		}
		const fields: Record<string, string> = {};
		const files: { filename: string; chunks: Buffer[]; truncated: boolean }[] = [];
		let tooMany = false;
		let total = 0;
		let overTotal = false;
		busboy.on("field", (name: string, value: string) => {
			if (/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name)) fields[name] = value;
		});
		busboy.on("file", (field: string, file: NodeJS.ReadableStream & { resume(): void }, filename: string) => {
			if (field !== facts.field && field !== `${facts.field}[]`) return file.resume();
			if (files.length >= maxFiles) {
				tooMany = true;
				return file.resume();
			}
			const f = { filename: String(filename || `image-${files.length + 1}`).slice(0, 200), chunks: [] as Buffer[], truncated: false };
			files.push(f);
			file.on("data", (c: Buffer) => {
				total += c.length;
				// A body without a declared length is held to the same total as one with it.
				if (total > maxTotal) overTotal = true;
				if (!overTotal) f.chunks.push(c);
			});
			file.on("limit", () => (f.truncated = true));
		});
		busboy.on("error", () => fail(new ApiError(400, facts.missing.code, facts.missing.message)));
		busboy.on("finish", async () => {
			if (tooMany) return reject(new ApiError(400, "TOO_MANY_IMAGES", `At most ${maxFiles} images per request`));
			if (overTotal) return reject(new ApiError(413, facts.tooLarge.code, facts.tooLarge.message));
			try {
				const one = async (f: (typeof files)[number]): Promise<ImageUpload> => {
					if (f.truncated) return { filename: f.filename, error: { code: "IMAGE_TOO_LARGE", message: `${f.filename}: larger than ${facts.maxBytes} bytes` } };
					try {
						const n = await normalizeImage(Buffer.concat(f.chunks), { maxBytes: facts.maxBytes });
						f.chunks = [];
						const size = { width: n.width, height: n.height, jpegWidth: n.jpegWidth, jpegHeight: n.jpegHeight };
						if (facts.keep === "buffer") return { filename: f.filename, data: n.jpeg, ...size };
						const saved = await ctx.call<{ name: string }, object>("blobs.put", { kind: "upload", contentType: "image/jpeg", data: n.jpeg, ttlSeconds: 3600 });
						return { filename: f.filename, blob: saved.name, ...size };
					} catch (err) {
						if (!(err instanceof ImageRefusal)) throw err;
						return { filename: f.filename, error: { code: err.code, message: `${f.filename}: ${err.message}` } };
					}
				};
				const uploads: ImageUpload[] = new Array(files.length);
				let next = 0;
				const worker = async () => {
					while (next < files.length) {
						const i = next++;
						uploads[i] = await one(files[i]);
					}
				};
				await Promise.all(Array.from({ length: Math.min(DECODE_CONCURRENCY, files.length) }, worker));
				resolve({ fields, uploads });
			} catch (err) {
				reject(err);
			}
		});
		req.pipe(busboy);
	});
}
