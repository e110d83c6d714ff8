/**
 * A small BMP decoder (sharp/libvips does not read BMP): uncompressed 24- and 32-bit
 * BITMAPINFOHEADER-family files (BI_RGB, or BI_BITFIELDS with the standard masks),
 * bottom-up or top-down. Anything else is a clear error.
 */
import { ImageError, MAX_SIDE, type RgbImage } from "./image";

export function isBmp(buf: Uint8Array): boolean {
	return buf.length >= 2 && buf[0] === 0x42 && buf[1] === 0x4d;
}

export function decodeBmp(buf: Uint8Array): RgbImage {
	const fail = (why: string): never => {
		throw new ImageError("UNDECODABLE_IMAGE", `unsupported or corrupt BMP: ${why}`);
	};
	if (!isBmp(buf)) fail("no BM signature");
	if (buf.length < 54) fail("file shorter than its headers");
	const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
	const dataOffset = dv.getUint32(10, true);
	const headerSize = dv.getUint32(14, true);
	if (headerSize < 40) fail(`header size ${headerSize} (OS/2 bitmaps are not supported)`);
	const width = dv.getInt32(18, true);
	const rawHeight = dv.getInt32(22, true);
	const bpp = dv.getUint16(28, true);
	const compression = dv.getUint32(30, true);
	const topDown = rawHeight < 0;
	const height = Math.abs(rawHeight);
	if (width < 1 || height < 1) fail(`size ${width}x${rawHeight}`);
	if (width > MAX_SIDE || height > MAX_SIDE) throw new ImageError("IMAGE_TOO_LARGE", `BMP ${width}x${height} exceeds ${MAX_SIDE} px per side`);
	if (bpp !== 24 && bpp !== 32) fail(`${bpp}-bit pixels (only 24- and 32-bit are supported)`);
	// BI_RGB = 0; BI_BITFIELDS = 3 and BI_ALPHABITFIELDS = 6 accepted only with the usual BGRA masks.
	if (compression !== 0) {
		if (!(bpp === 32 && (compression === 3 || compression === 6) && headerSize >= 52)) fail(`compression ${compression}`);
		const [r, g, b] = [dv.getUint32(54, true), dv.getUint32(58, true), dv.getUint32(62, true)];
		if (r !== 0x00ff0000 || g !== 0x0000ff00 || b !== 0x000000ff) fail("non-standard bit masks");
	}
	const bytesPerPixel = bpp / 8;
	const stride = Math.ceil((width * bytesPerPixel) / 4) * 4;
	if (dataOffset + stride * (height - 1) + width * bytesPerPixel > buf.length) fail("pixel data truncated");
	const out = new Uint8Array(width * height * 3);
	for (let y = 0; y < height; y++) {
		const srcRow = dataOffset + (topDown ? y : height - 1 - y) * stride;
		let p = srcRow;
		let o = y * width * 3;
		for (let x = 0; x < width; x++, p += bytesPerPixel, o += 3) {
			out[o] = buf[p + 2];
			out[o + 1] = buf[p + 1];
			out[o + 2] = buf[p];
		}
	}
	return { data: out, width, height };
}

/** Encode RGB as a 24-bit bottom-up BMP (tests and tools). */
export function encodeBmp(img: RgbImage): Buffer {
	const stride = Math.ceil((img.width * 3) / 4) * 4;
	const size = 54 + stride * img.height;
	const buf = Buffer.alloc(size);
	buf.write("BM", 0, "ascii");
	buf.writeUInt32LE(size, 2);
	buf.writeUInt32LE(54, 10);
	buf.writeUInt32LE(40, 14);
	buf.writeInt32LE(img.width, 18);
	buf.writeInt32LE(img.height, 22);
	buf.writeUInt16LE(1, 26);
	buf.writeUInt16LE(24, 28);
	buf.writeUInt32LE(stride * img.height, 34);
	for (let y = 0; y < img.height; y++) {
		const row = 54 + (img.height - 1 - y) * stride;
		for (let x = 0; x < img.width; x++) {
			const s = (y * img.width + x) * 3;
			buf[row + x * 3] = img.data[s + 2];
			buf[row + x * 3 + 1] = img.data[s + 1];
			buf[row + x * 3 + 2] = img.data[s];
		}
	}
	return buf;
}
