import crypto from "node:crypto";
import sharp from "sharp";
import { framePayload, MAX_REMOTE_BYTES, MAX_REMOTE_WIDTH } from "../../../lib/cluster/frame-transport";

const noise = (width: number, height: number) => ({ data: crypto.randomBytes(width * height * 3), width, height });

describe("frame transport to inference", () => {
	it("passes the raw frame itself to an engine in this process", async () => {
		const f = noise(64, 48);
		const p = await framePayload(f, true);
		expect("frame" in p && p.frame.data).toBe(f.data);
	});

	it("sends a JPEG under NATS's default message limit across the transporter, even for pure noise at 1080p", async () => {
		const p = await framePayload(noise(1920, 1080), false);
		expect("image" in p).toBe(true);
		const img = (p as { image: Buffer }).image;
		expect(img.length).toBeLessThanOrEqual(MAX_REMOTE_BYTES);
		const meta = await sharp(img).metadata();
		expect(meta.format).toBe("jpeg");
	});

	it("scales a 4K frame down to at most the remote width", async () => {
		const { data, info } = await sharp({ create: { width: 3840, height: 2160, channels: 3, background: { r: 120, g: 80, b: 40 } } }).raw().toBuffer({ resolveWithObject: true });
		const p = (await framePayload({ data, width: info.width, height: info.height }, false)) as { image: Buffer };
		const meta = await sharp(p.image).metadata();
		expect(meta.width).toBe(MAX_REMOTE_WIDTH);
		expect(meta.height).toBe(1080);
	});
});
