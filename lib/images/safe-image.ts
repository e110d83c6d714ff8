/**
 * Uploaded photos, decoded safely: the format is told by the bytes, not the name or the
 * declared type (JPEG, PNG, WebP); a picture of more than MAX_PIXELS (or larger than the
 * byte limit) is refused before it is decoded (decompression bombs); what is kept is a fresh
 * JPEG re-encoded from the pixels, at most MAX_SIDE on its longer side, oriented by its EXIF
 * tag and stripped of metadata (no location, no embedded payload survives).
 */
import sharp, { type Metadata } from "sharp";

export const MAX_PIXELS = 40_000_000;
export const MAX_SIDE = 1600;

export type ImageFormat = "jpeg" | "png" | "webp";

export class ImageRefusal extends Error {
	constructor(
		readonly code: "INVALID_IMAGE" | "IMAGE_TOO_LARGE" | "UNSUPPORTED_IMAGE_FORMAT",
		message: string
	) {
		super(message);
	}
}

export function sniffImage(b: Uint8Array): ImageFormat | null {
	if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
	if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a) return "png";
	if (b.length >= 12 && String.fromCharCode(...b.subarray(0, 4)) === "RIFF" && String.fromCharCode(...b.subarray(8, 12)) === "WEBP") return "webp";
	return null;
}

export interface NormalizedImage {
	jpeg: Buffer;
	format: ImageFormat;
	/** The upload's own size, pixels. */
	width: number;
	height: number;
	bytes: number;
}

export async function normalizeImage(data: Buffer, opts: { maxBytes: number; maxPixels?: number; maxSide?: number } = { maxBytes: 10 * 1024 * 1024 }): Promise<NormalizedImage> {
	if (data.length > opts.maxBytes) throw new ImageRefusal("IMAGE_TOO_LARGE", `the image is ${data.length} bytes, at most ${opts.maxBytes}`);
	const format = sniffImage(data);
	if (!format) throw new ImageRefusal("UNSUPPORTED_IMAGE_FORMAT", "not a JPEG, PNG or WebP image");
	const maxPixels = opts.maxPixels ?? MAX_PIXELS;
	let meta: Metadata;
	try {
		// Reads the header only: the size is known before any pixel is decoded.
		meta = await sharp(data, { limitInputPixels: maxPixels, failOn: "error" }).metadata();
	} catch (err) {
		const m = (err as Error).message;
		if (/pixel limit/i.test(m)) throw new ImageRefusal("IMAGE_TOO_LARGE", `the image has more than ${maxPixels} pixels`);
		throw new ImageRefusal("INVALID_IMAGE", "the image cannot be decoded");
	}
	if (meta.format !== format) throw new ImageRefusal("INVALID_IMAGE", `the bytes say ${format}, the image decodes as ${meta.format}`);
	const width = meta.width ?? 0;
	const height = meta.height ?? 0;
	if (!width || !height) throw new ImageRefusal("INVALID_IMAGE", "the image has no size");
	if (width * height > maxPixels) throw new ImageRefusal("IMAGE_TOO_LARGE", `the image has ${width * height} pixels, at most ${maxPixels}`);
	const side = opts.maxSide ?? MAX_SIDE;
	try {
		const jpeg = await sharp(data, { limitInputPixels: maxPixels, failOn: "error" })
			.rotate()
			.resize({ width: side, height: side, fit: "inside", withoutEnlargement: true })
			.flatten({ background: "#ffffff" })
			.jpeg({ quality: 90, mozjpeg: false })
			.toBuffer();
		return { jpeg, format, width, height, bytes: data.length };
	} catch {
		throw new ImageRefusal("INVALID_IMAGE", "the image cannot be decoded");
	}
}
