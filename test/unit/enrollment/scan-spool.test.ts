import fs from "node:fs";
import { Readable } from "node:stream";
import { mainFace, measure, scanFrames, type EngineFace } from "../../../lib/enrollment/scan";
import { spoolUpload, UploadTooLargeError } from "../../../lib/enrollment/spool";
import type { VideoFrame } from "../../../lib/video/frame-source";
import { tempDir } from "../../support/node";

const q = { sharpness: 200, brightness: 0.5, contrast: 0.2, yaw: 3, pitch: -2 };
const face = (box: [number, number, number, number]): EngineFace => ({ box, quality: q });
const frame = (t: number): VideoFrame => ({ data: Buffer.alloc(0), width: 200, height: 100, sourceWidth: 200, sourceHeight: 100, timestamp: t, frameRate: 2, keyFrame: false });
async function* frames(n: number, every = 0.5) {
	for (let i = 0; i < n; i++) yield frame(i * every);
}

describe("scan: main face and measurements", () => {
	it("takes the largest face", () => {
		const small = face([0, 0, 10, 10]);
		const big = face([50, 20, 90, 80]);
		expect(mainFace([small, big])).toBe(big);
		expect(mainFace([])).toBeNull();
	});

	it("measures area, centre and the engine's 0..1 grey levels as 0..255", () => {
		const m = measure(face([50, 0, 150, 50]), 200, 100);
		expect(m.areaFraction).toBeCloseTo(0.25);
		expect(m.centerX).toBeCloseTo(0.5);
		expect(m.centerY).toBeCloseTo(0.25);
		expect(m.brightness).toBeCloseTo(127.5);
		expect(m.contrast).toBeCloseTo(51);
		expect(m.yaw).toBe(3);
	});

	it("clips a box that leaves the frame before measuring it", () => {
		expect(measure(face([-100, -100, 100, 50]), 200, 100).areaFraction).toBeCloseTo(0.25);
	});
});

describe("scanFrames", () => {
	it("keeps at most inFlight analyses running and returns faces in frame order", async () => {
		let running = 0;
		let peak = 0;
		const res = await scanFrames(
			frames(7),
			async f => {
				running++;
				peak = Math.max(peak, running);
				// Later frames finish first, to check the order is restored.
				await new Promise(r => setTimeout(r, 30 - f.timestamp * 8));
				running--;
				return { faces: f.timestamp === 1 ? [] : [face([0, 0, 20, 20]), face([0, 0, 40, 40])] };
			},
			{ inFlight: 2 }
		);
		expect(peak).toBe(2);
		expect(res.totalFrames).toBe(7);
		expect(res.faces.map(f => f.frame)).toEqual([0, 1, 3, 4, 5, 6]);
		expect(res.faces.every(f => f.face.box[2] === 40)).toBe(true);
	});

	it("stops after maxSeconds of video", async () => {
		const res = await scanFrames(frames(100), async () => ({ faces: [] }), { maxSeconds: 2 });
		expect(res.totalFrames).toBe(5); // 0, 0.5, 1, 1.5, 2
	});

	it("fails with the first analysis error", async () => {
		await expect(scanFrames(frames(5), async f => (f.timestamp === 1 ? Promise.reject(new Error("engine down")) : { faces: [] }))).rejects.toThrow("engine down");
	});
});

describe("spoolUpload", () => {
	it("writes the upload to a file and keeps its first bytes", async () => {
		const dir = tempDir();
		const data = Buffer.from("....ftypisom" + "x".repeat(5000));
		const s = await spoolUpload(Readable.from([data.subarray(0, 7), data.subarray(7)]), dir, 10_000);
		expect(s.bytes).toBe(data.length);
		expect(fs.readFileSync(s.path).equals(data)).toBe(true);
		expect(s.head.toString()).toBe(data.subarray(0, 64).toString());
		fs.rmSync(dir, { recursive: true });
	});

	it("stops past the limit and leaves no file", async () => {
		const dir = tempDir();
		const chunks = Array.from({ length: 20 }, () => Buffer.alloc(1000, 1));
		await expect(spoolUpload(Readable.from(chunks), dir, 10_000)).rejects.toBeInstanceOf(UploadTooLargeError);
		expect(fs.readdirSync(dir)).toEqual([]);
		fs.rmSync(dir, { recursive: true });
	});

	it("accepts exactly the limit", async () => {
		const dir = tempDir();
		const s = await spoolUpload(Readable.from([Buffer.alloc(10_000, 2)]), dir, 10_000);
		expect(s.bytes).toBe(10_000);
		fs.rmSync(dir, { recursive: true });
	});
});
