import fs from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { ImageRefusal, normalizeImage, sniffImage } from "../../lib/images/safe-image";

const SAMPLE = path.join(require.resolve("@vladmandic/face-api/package.json"), "..", "demo", "sample1.jpg");

describe("safe image decoding", () => {
	it("tells the format by the bytes, and re-encodes a fresh, bounded JPEG", async () => {
		const jpg = fs.readFileSync(SAMPLE);
		expect(sniffImage(jpg)).toBe("jpeg");
		const png = await sharp(jpg).png().toBuffer();
		expect(sniffImage(png)).toBe("png");
		const big = await sharp({ create: { width: 3000, height: 2000, channels: 3, background: "#808080" } }).withMetadata({ exif: { IFD0: { Copyright: "leak-me" } } }).jpeg().toBuffer();
		const n = await normalizeImage(big, { maxBytes: 20 * 1024 * 1024 });
		const meta = await sharp(n.jpeg).metadata();
		expect([meta.format, meta.width, meta.height]).toEqual(["jpeg", 1600, 1067]);
		expect(meta.exif).toBeUndefined();
		expect(n.jpeg.includes(Buffer.from("leak-me"))).toBe(false);
		expect((await normalizeImage(png, { maxBytes: 1e7 })).format).toBe("png");
	});

	it("refuses what is not an image, lies about its format, or is too large", async () => {
		const refusal = (p: Promise<unknown>) => p.then(() => null, (e: ImageRefusal) => e.code);
		expect(await refusal(normalizeImage(Buffer.from("GIF89a not supported"), { maxBytes: 1e6 }))).toBe("UNSUPPORTED_IMAGE_FORMAT");
		expect(await refusal(normalizeImage(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(500, 7)]), { maxBytes: 1e6 }))).toBe("INVALID_IMAGE");
		expect(await refusal(normalizeImage(fs.readFileSync(SAMPLE), { maxBytes: 1000 }))).toBe("IMAGE_TOO_LARGE");
		// A decompression bomb: tiny file, huge canvas; refused from its header.
		const bomb = await sharp({ create: { width: 10000, height: 10000, channels: 3, background: "#000000" } }).png({ compressionLevel: 9 }).toBuffer();
		expect(bomb.length).toBeLessThan(1_000_000);
		expect(await refusal(normalizeImage(bomb, { maxBytes: 1e7, maxPixels: 40_000_000 }))).toBe("IMAGE_TOO_LARGE");
	});
});
