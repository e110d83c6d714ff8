import sharp from "sharp";
import { encodeBmp } from "../../../lib/vision/bmp";
import { decodeImage } from "../../../lib/vision/decode";
import { ImageError } from "../../../lib/vision/image";

/** A w x h image whose left half is red and right half blue. */
async function halves(w: number, h: number) {
	const data = Buffer.alloc(w * h * 3);
	for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(x < w / 2 ? [255, 0, 0] : [0, 0, 255], (y * w + x) * 3);
	return { data, w, h, png: await sharp(data, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer() };
}

describe("decodeImage", () => {
	it("decodes PNG to exact RGB24", async () => {
		const { data, png } = await halves(8, 4);
		const d = await decodeImage(png);
		expect([d.width, d.height, d.scale]).toEqual([8, 4, 1]);
		expect(Buffer.from(d.image.data).equals(data)).toBe(true);
	});
	it("decodes BMP through the built-in decoder", async () => {
		const { data } = await halves(6, 3);
		const d = await decodeImage(encodeBmp({ data, width: 6, height: 3 }));
		expect(Buffer.from(d.image.data).equals(data)).toBe(true);
	});
	it("applies EXIF orientation (6 = rotate 90° clockwise)", async () => {
		const { w, h, data } = await halves(8, 4);
		const jpeg = await sharp(data, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
		const d = await decodeImage(jpeg);
		expect([d.width, d.height]).toEqual([4, 8]);
		// After rotating clockwise, the red (left) half is on top.
		expect(d.image.data[0]).toBeGreaterThan(200);
		expect(d.image.data[(7 * 4) * 3 + 2]).toBeGreaterThan(200);
	});
	it("shrinks large photos on load and reports the scale back to source pixels", async () => {
		const { png } = await halves(3000, 1000);
		const d = await decodeImage(png, 1500);
		expect([d.width, d.height]).toEqual([3000, 1000]);
		expect([d.image.width, d.image.height]).toEqual([1500, 500]);
		expect(d.scale).toBe(2);
	});
	it("rejects garbage and empty input with UNDECODABLE_IMAGE", async () => {
		await expect(decodeImage(Buffer.from("definitely not an image"))).rejects.toMatchObject({ code: "UNDECODABLE_IMAGE" });
		await expect(decodeImage(Buffer.alloc(0))).rejects.toBeInstanceOf(ImageError);
		const { png } = await halves(8, 4);
		await expect(decodeImage(png.subarray(0, png.length / 2))).rejects.toMatchObject({ code: "UNDECODABLE_IMAGE" });
	});
});
