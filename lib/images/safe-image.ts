/**
 * Uploaded photos, decoded safely: the format is told by the bytes, not the name or the
 * declared type (JPEG, PNG, WebP, TIFF, and BMP through lib/vision/bmp.ts since libvips
 * reads no BMP); a picture of more than MAX_PIXELS (or larger than the
 * byte limit) is refused before it is decoded (decompression bombs); what is kept is a fresh
 * JPEG re-encoded from the pixels, at most MAX_SIDE on its longer side, oriented by its EXIF
 * tag and stripped of metadata (no location, no embedded payload survives).
 */
import sharp, { type Metadata, type Sharp } from "sharp";
import { decodeBmp } from "../vision/bmp";
import { ImageError } from "../vision/image";

export const MAX_PIXELS = 40_000_000;
export const MAX_SIDE = 1600;

export type ImageFormat = "jpeg" | "png" | "webp" | "tiff" | "bmp";

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
	if (b.length >= 4 && ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0x00) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0x00 && b[3] === 0x2a))) return "tiff";
	if (b.length >= 26 && b[0] === 0x42 && b[1] === 0x4d) return "bmp";
	return null;
}

export interface NormalizedImage {
	jpeg: Buffer;
	format: ImageFormat;
	/** The upload's own size, pixels, as oriented by its EXIF tag. */
	width: number;
	height: number;
	/** Size of the re-encoded JPEG (smaller than the upload's past MAX_SIDE). */
	jpegWidth: number;
	jpegHeight: number;
	bytes: number;
}

/** BMP width and height from its header, read before any pixel (the pixel limit applies to it too). */
function bmpSize(b: Uint8Array): { width: number; height: number } {
	const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
	return { width: Math.abs(dv.getInt32(18, true)), height: Math.abs(dv.getInt32(22, true)) };
}

export async function normalizeImage(data: Buffer, opts: { maxBytes: number; maxPixels?: number; maxSide?: number } = { maxBytes: 10 * 1024 * 1024 }): Promise<NormalizedImage> {
	if (data.length > opts.maxBytes) throw new ImageRefusal("IMAGE_TOO_LARGE", `the image is ${data.length} bytes, at most ${opts.maxBytes}`);
	const format = sniffImage(data);
	if (!format) throw new ImageRefusal("UNSUPPORTED_IMAGE_FORMAT", "not a JPEG, PNG, WebP, TIFF or BMP image");
	const maxPixels = opts.maxPixels ?? MAX_PIXELS;
	if (format === "bmp") return normalizeBmp(data, maxPixels, opts.maxSide ?? MAX_SIDE);
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
	const rotated = (meta.orientation ?? 1) >= 5;
	const width = (rotated ? meta.height : meta.width) ?? 0;
	const height = (rotated ? meta.width : meta.height) ?? 0;
	if (!width || !height) throw new ImageRefusal("INVALID_IMAGE", "the image has no size");
	if (width * height > maxPixels) throw new ImageRefusal("IMAGE_TOO_LARGE", `the image has ${width * height} pixels, at most ${maxPixels}`);
	return encode(sharp(data, { limitInputPixels: maxPixels, failOn: "error" }).rotate(), format, width, height, data.length, opts.maxSide ?? MAX_SIDE);
}

async function encode(img: Sharp, format: ImageFormat, width: number, height: number, bytes: number, side: number): Promise<NormalizedImage> {
	try {
		const { data: jpeg, info } = await img
			.resize({ width: side, height: side, fit: "inside", withoutEnlargement: true })
			.flatten({ background: "#ffffff" })
			.jpeg({ quality: 90, mozjpeg: false })
			.toBuffer({ resolveWithObject: true });
		return { jpeg, format, width, height, jpegWidth: info.width, jpegHeight: info.height, bytes };
	} catch {
		throw new ImageRefusal("INVALID_IMAGE", "the image cannot be decoded");
	}
}

async function normalizeBmp(data: Buffer, maxPixels: number, side: number): Promise<NormalizedImage> {
	const { width, height } = bmpSize(data);
	if (width * height > maxPixels) throw new ImageRefusal("IMAGE_TOO_LARGE", `the image has ${width * height} pixels, at most ${maxPixels}`);
	let rgb;
	try {
		rgb = decodeBmp(data);
	} catch (err) {
		if (err instanceof ImageError && err.code === "IMAGE_TOO_LARGE") throw new ImageRefusal("IMAGE_TOO_LARGE", err.message);
		throw new ImageRefusal("INVALID_IMAGE", err instanceof Error ? err.message : "the image cannot be decoded");
	}
	return encode(sharp(Buffer.from(rgb.data.buffer, rgb.data.byteOffset, rgb.data.length), { raw: { width: rgb.width, height: rgb.height, channels: 3 } }), "bmp", rgb.width, rgb.height, data.length, side);
}
