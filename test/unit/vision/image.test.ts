import { decodeBmp, encodeBmp, isBmp } from "../../../lib/vision/bmp";
import { boxShrink, flipTensor, ImageError, rectAffine, rgbFrame, sampleToTensor, type RgbImage } from "../../../lib/vision/image";

function pattern(w: number, h: number): RgbImage {
	const data = new Uint8Array(w * h * 3);
	for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([(x * 7 + y) % 256, (y * 5) % 256, (x * y) % 256], (y * w + x) * 3);
	return { data, width: w, height: h };
}

describe("rgbFrame", () => {
	it("accepts a frame of width*height*3 bytes", () => {
		expect(rgbFrame(new Uint8Array(12), 2, 2).width).toBe(2);
	});
	it("rejects a wrong byte count or size with INVALID_FRAME", () => {
		expect(() => rgbFrame(new Uint8Array(11), 2, 2)).toThrow(/needs 12 bytes, got 11/);
		expect(() => rgbFrame(new Uint8Array(0), 0, 2)).toThrow(ImageError);
	});
});

describe("BMP", () => {
	it("round-trips a 24-bit bottom-up BMP with row padding", () => {
		const img = pattern(5, 3); // 15-byte rows pad to 16
		const bmp = encodeBmp(img);
		expect(isBmp(bmp)).toBe(true);
		const back = decodeBmp(bmp);
		expect([back.width, back.height]).toEqual([5, 3]);
		expect(Buffer.from(back.data).equals(Buffer.from(img.data))).toBe(true);
	});
	it("reads a 32-bit top-down BMP", () => {
		const w = 2,
			h = 2;
		const buf = Buffer.alloc(54 + w * h * 4);
		buf.write("BM", 0, "ascii");
		buf.writeUInt32LE(54, 10);
		buf.writeUInt32LE(40, 14);
		buf.writeInt32LE(w, 18);
		buf.writeInt32LE(-h, 22);
		buf.writeUInt16LE(1, 26);
		buf.writeUInt16LE(32, 28);
		// first (top) row: red, green; second: blue, white (stored B, G, R, A)
		[[0, 0, 255, 255], [0, 255, 0, 255], [255, 0, 0, 255], [255, 255, 255, 255]].forEach((px, i) => buf.set(px, 54 + i * 4));
		expect(Array.from(decodeBmp(buf).data)).toEqual([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
	});
	it("refuses 8-bit and truncated files with a clear error", () => {
		const bmp = encodeBmp(pattern(4, 4));
		const eight = Buffer.from(bmp);
		eight.writeUInt16LE(8, 28);
		expect(() => decodeBmp(eight)).toThrow(/8-bit pixels/);
		expect(() => decodeBmp(bmp.subarray(0, 60))).toThrow(/truncated/);
	});
});

describe("sampler", () => {
	it("identity map reproduces the pixels (RGB planes, mean/scale applied)", () => {
		const img = pattern(6, 4);
		const out = new Float32Array(3 * 24);
		sampleToTensor(img, rectAffine(0, 0, 6, 4, 6, 4), 6, 4, out, 0, { channels: "rgb", mean: 0, scale: 1 });
		for (let i = 0; i < 24; i++) {
			expect(out[i]).toBeCloseTo(img.data[i * 3], 4);
			expect(out[24 + i]).toBeCloseTo(img.data[i * 3 + 1], 4);
			expect(out[48 + i]).toBeCloseTo(img.data[i * 3 + 2], 4);
		}
	});
	it("BGR order swaps the first and last planes; grey uses BT.601 weights", () => {
		const img: RgbImage = { data: new Uint8Array([200, 100, 50]), width: 1, height: 1 };
		const bgr = new Float32Array(3);
		sampleToTensor(img, [1, 0, 0, 0, 1, 0], 1, 1, bgr, 0, { channels: "bgr", mean: 127, scale: 1 / 128 });
		expect(Array.from(bgr).map(v => Math.round(v * 128 + 127))).toEqual([50, 100, 200]);
		const grey = new Float32Array(1);
		sampleToTensor(img, [1, 0, 0, 0, 1, 0], 1, 1, grey, 0, { channels: "grey", mean: 0, scale: 1 });
		expect(grey[0]).toBeCloseTo(0.299 * 200 + 0.587 * 100 + 0.114 * 50, 3);
	});
	it("a 4x downscale averages each 4x4 block (anti-aliased), not a point sample", () => {
		// Vertical stripes 0/255 one pixel wide: point sampling would give 0 or 255.
		const w = 16,
			h = 16;
		const data = new Uint8Array(w * h * 3);
		for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.fill(x % 2 ? 255 : 0, (y * w + x) * 3, (y * w + x) * 3 + 3);
		const out = new Float32Array(3 * 16);
		sampleToTensor({ data, width: w, height: h }, rectAffine(0, 0, 16, 16, 4, 4), 4, 4, out, 0, { channels: "rgb", mean: 0, scale: 1 });
		for (const v of out) expect(Math.abs(v - 127.5)).toBeLessThan(1);
	});
	it("boxShrink averages blocks", () => {
		const img: RgbImage = { data: new Uint8Array([0, 0, 0, 10, 10, 10, 20, 20, 20, 30, 30, 30]), width: 2, height: 2 };
		expect(Array.from(boxShrink(img, 0, 0, 1, 1, 2).data)).toEqual([15, 15, 15]);
	});
	it("samples outside the image read as black", () => {
		const img: RgbImage = { data: new Uint8Array([255, 255, 255]), width: 1, height: 1 };
		const out = new Float32Array(3);
		sampleToTensor(img, [1, 0, 5, 0, 1, 5], 1, 1, out, 0, { channels: "rgb", mean: 0, scale: 1 });
		expect(Array.from(out)).toEqual([0, 0, 0]);
	});
	it("flipTensor mirrors every row of every plane", () => {
		const t = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]); // 2 planes of 2x2
		const f = new Float32Array(8);
		flipTensor(t, 0, f, 0, 2, 2, 2);
		expect(Array.from(f)).toEqual([2, 1, 4, 3, 6, 5, 8, 7]);
	});
});

describe("axis-aligned fast path", () => {
	it("matches the general sampler on a resize and on a crop reaching outside the image", () => {
		const img = pattern(37, 23);
		for (const m of [rectAffine(0, 0, 37, 23, 20, 15), rectAffine(-5, -3, 30, 30, 17, 17), rectAffine(2, 1, 10, 8, 25, 19)]) {
			const fast = new Float32Array(3 * 400 * 2);
			const general = new Float32Array(3 * 400 * 2);
			const [dw, dh] = [17, 13];
			sampleToTensor(img, m, dw, dh, fast, 0, { channels: "bgr", mean: 127, scale: 1 / 128 });
			// A rotation of 1e-12 rad takes the general path with the same geometry.
			const tilted: typeof m = [m[0], 1e-12, m[2], -1e-12, m[4], m[5]];
			sampleToTensor(img, tilted, dw, dh, general, 0, { channels: "bgr", mean: 127, scale: 1 / 128 });
			for (let i = 0; i < 3 * dw * dh; i++) expect(fast[i]).toBeCloseTo(general[i], 3);
		}
	});
});
