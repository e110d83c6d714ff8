/**
 * Decode an encoded image file (JPEG, PNG, WebP and whatever else libvips reads, plus BMP
 * through our own decoder) to RGB24, applying EXIF orientation. Very large photos are
 * shrunk on load (JPEG DCT scaling + lanczos) to at most `maxSide`, which is plenty for
 * faces and far faster; `scale` maps the decoded image back to source pixels.
 */
import sharp from "sharp";
import { decodeBmp, isBmp } from "./bmp";
import { ImageError, MAX_SIDE, type RgbImage } from "./image";

export interface Decoded {
	image: RgbImage;
	/** Source pixels per decoded pixel (1 unless the photo was shrunk on load). */
	scale: number;
	/** Size of the (oriented) source image. */
	width: number;
	height: number;
}

export const DEFAULT_MAX_DECODE_SIDE = 2048;

// One decode at a time per call; libvips' own thread pool is not needed for a single image.
sharp.concurrency(1);
sharp.cache(false);

export async function decodeImage(buf: Uint8Array, maxSide = DEFAULT_MAX_DECODE_SIDE): Promise<Decoded> {
	if (buf.length === 0) throw new ImageError("UNDECODABLE_IMAGE", "the image is empty");
	if (isBmp(buf)) {
		const image = decodeBmp(buf);
		return { image, scale: 1, width: image.width, height: image.height };
	}
	try {
		const input = sharp(buf, { failOn: "error", limitInputPixels: MAX_SIDE * MAX_SIDE });
		const meta = await input.metadata();
		if (!meta.width || !meta.height) throw new Error("no image size");
		const rotated = (meta.orientation ?? 1) >= 5;
		const width = rotated ? meta.height : meta.width;
		const height = rotated ? meta.width : meta.height;
		let pipeline = input.rotate().removeAlpha().toColourspace("srgb");
		if (Math.max(width, height) > maxSide)
			pipeline = pipeline.resize({ width: maxSide, height: maxSide, fit: "inside", kernel: "lanczos3" });
		const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
		if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
		const image: RgbImage = { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
		return { image, scale: width / info.width, width, height };
	} catch (err) {
		if (err instanceof ImageError) throw err;
		throw new ImageError("UNDECODABLE_IMAGE", `the image cannot be decoded (JPEG, PNG, WebP or 24/32-bit BMP expected): ${(err as Error).message}`);
	}
}
