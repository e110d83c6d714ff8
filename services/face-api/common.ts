/**
 * What the face API's services share (seed 001; they run on gateway nodes, next to the
 * uploads they are handed): the caller's images, taken from a multipart upload (decoded
 * safely at the gateway, services/gateway/uploads.ts) or from base64 text, both through
 * lib/images/safe-image.ts; the inference call, with boxes mapped back to the caller's
 * pixels; the model names of the model set the inference nodes run; measured timings.
 */
import type { Context, ServiceBroker } from "moleculer";
import type { Config } from "../../config";
import type { UploadFacts } from "../../lib/api/route-facts";
import { ApiError } from "../../lib/errors";
import { decodeBase64Image } from "../../lib/face-api/base64";
import { inCallerPixels, type Found } from "../../lib/face-api/format";
import type { ModelInfo, ModelRole } from "../../lib/face-api/models";
import { ImageRefusal, normalizeImage } from "../../lib/images/safe-image";
import type { ImageUpload } from "../gateway/uploads";

/** One image of a request, re-encoded: what inference gets, and the caller's own size. */
export interface CallerImage {
	filename: string;
	jpeg: Buffer;
	width: number;
	height: number;
}

/** Seed 001: at most 20 files a batch, 10 MB each. */
export const MAX_BATCH = 20;
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
/** A JSON body carrying a 10 MB image as base64 (4/3 larger), twice for compare, and its fields. */
export const BASE64_BODY_LIMIT = Math.ceil(((2 * MAX_IMAGE_BYTES) / 3) * 4) + 64 * 1024;

/** Multipart photos of field `field`, handed to the action as buffers (the face API only looks at them). */
export function imageUpload(field: string, maxFiles = 1): UploadFacts {
	return {
		mode: "images",
		keep: "buffer",
		field,
		maxFiles,
		maxBytes: MAX_IMAGE_BYTES,
		maxTotalBytes: Math.min(maxFiles, 5) * MAX_IMAGE_BYTES,
		missing: { code: "FILE_REQUIRED", message: `Field required: ${field} (multipart/form-data)` },
		tooLarge: { code: "PAYLOAD_TOO_LARGE", message: `At most ${maxFiles} file(s) of ${MAX_IMAGE_BYTES / 1048576} MB (${Math.min(maxFiles, 5) * 10} MB in all)` }
	};
}

export const uploadsParam = {
	type: "array",
	optional: true,
	items: {
		type: "object",
		props: {
			filename: "string",
			data: { type: "any", optional: true },
			width: { type: "number", optional: true },
			height: { type: "number", optional: true },
			jpegWidth: { type: "number", optional: true },
			jpegHeight: { type: "number", optional: true },
			blob: { type: "string", optional: true },
			error: { type: "object", optional: true }
		}
	}
} as const;

export const base64Param = { type: "string", min: 1, max: BASE64_BODY_LIMIT } as const;
export const modelParam = { type: "string", max: 64, optional: true } as const;
export const thresholdParam = { type: "number", min: 0, max: 1, convert: true, optional: true } as const;
export const maxFacesParam = { type: "number", integer: true, min: 1, max: 100, convert: true, optional: true } as const;

/** An upload the gateway decoded, or its refusal as a 400 with the refusal's code. */
export function fromUpload(u: ImageUpload | undefined, field: string): CallerImage {
	if (!u) throw new ApiError(400, "FILE_REQUIRED", `Field required: ${field}`);
	if (u.error || !u.data) throw new ApiError(u.error?.code === "IMAGE_TOO_LARGE" ? 413 : 400, u.error?.code ?? "INVALID_IMAGE", u.error?.message ?? `${u.filename}: not readable`);
	return { filename: u.filename, jpeg: bufferOf(u.data), width: u.width ?? u.jpegWidth ?? 0, height: u.height ?? u.jpegHeight ?? 0 };
}

/** Base64 text (plain or a data URL), decoded as safely as an upload. */
export async function fromBase64(text: unknown, field: string, filename = field): Promise<CallerImage> {
	const data = decodeBase64Image(text, field, MAX_IMAGE_BYTES);
	try {
		const n = await normalizeImage(data, { maxBytes: MAX_IMAGE_BYTES });
		return { filename, jpeg: n.jpeg, width: n.width, height: n.height };
	} catch (err) {
		if (err instanceof ImageRefusal) throw new ApiError(err.code === "IMAGE_TOO_LARGE" ? 413 : 400, err.code, `${field}: ${err.message}`);
		throw err;
	}
}

function bufferOf(v: unknown): Buffer {
	if (Buffer.isBuffer(v)) return v;
	if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.length);
	if (v && typeof v === "object" && Array.isArray((v as { data?: unknown }).data)) return Buffer.from((v as { data: number[] }).data);
	throw new ApiError(400, "INVALID_IMAGE", "the image is not binary");
}

export interface LookOptions {
	embed?: boolean;
	maxFaces?: number;
	liveness?: boolean;
	minFaceSize?: number;
}

/** The faces of an image, in the caller's pixels, with the time inference took (ms, measured here). */
export async function look(ctx: Context, img: CallerImage, o: LookOptions = {}): Promise<Found & { ms: number }> {
	const t = performance.now();
	const params = { image: img.jpeg, maxFaces: o.maxFaces ?? 20, minFaceSize: o.minFaceSize ?? 20, liveness: o.liveness ?? false };
	const result = await ctx.call<{ width: number; faces: Found["faces"]; timings: Record<string, number> }, object>(o.embed ? "inference.analyze" : "inference.detect", params, { timeout: 30_000 });
	return { ...inCallerPixels(result, img.width || result.width, img.height || (result as { height?: number }).height || 0), ms: performance.now() - t };
}

/** Run `fn` over `items` with at most `n` at a time, results in order. */
export async function mapLimit<T, R>(items: T[], n: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
	const out: R[] = new Array(items.length);
	let next = 0;
	await Promise.all(
		Array.from({ length: Math.min(n, items.length) }, async () => {
			while (next < items.length) {
				const i = next++;
				out[i] = await fn(items[i], i);
			}
		})
	);
	return out;
}

interface InferenceInfo {
	set: string;
	embeddingVersion: number;
	models: Partial<Record<ModelRole, ModelInfo>>;
}

/** The model set of the inference nodes, asked once a minute (it changes only with a redeploy). */
export class ModelSet {
	private cached: { at: number; info: Promise<InferenceInfo> } | null = null;
	constructor(private readonly broker: ServiceBroker) {}
	get(): Promise<InferenceInfo> {
		if (this.cached && Date.now() - this.cached.at < 60_000) return this.cached.info;
		const info = this.broker.call<InferenceInfo, object>("inference.info", {});
		this.cached = { at: Date.now(), info };
		info.catch(() => (this.cached = null));
		return info;
	}
	/** Is an inference node reachable? */
	async up(): Promise<boolean> {
		return this.get().then(
			() => true,
			() => false
		);
	}
}

export const elapsedMs = (t: number) => Math.round((performance.now() - t) * 100) / 100;

export type FaceApiConfig = Pick<Config, "similarityThreshold">;
