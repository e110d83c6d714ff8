import fs from "node:fs";
import path from "node:path";
import { aggregateEmbeddings, dot, MultipleIdentitiesError, normalize } from "../../../lib/enrollment/aggregate";
import { sniffContainer } from "../../../lib/enrollment/container";
import { ACCEPTABLE_QUALITY, frameMetrics, videoQualityReport, type FaceMeasurement } from "../../../lib/enrollment/quality";
import { resolveVideoLocation, VideoLocationError } from "../../../lib/enrollment/video-location";
import { tempDir } from "../../support/node";

function rng(seed: number) {
	let x = seed || 1;
	return () => {
		x ^= x << 13;
		x ^= x >>> 17;
		x ^= x << 5;
		return (x >>> 0) / 0xffffffff - 0.5;
	};
}
const person = (seed: number) => normalize(Array.from({ length: 512 }, rng(seed)));
/** A frame of `base` with noise: cosine to base ~ 1/sqrt(1+noise^2). */
function frameOf(base: Float32Array, seed: number, noise = 0.8) {
	const r = rng(seed);
	const n = normalize(Array.from({ length: 512 }, r));
	return normalize(base.map((x, i) => x + noise * n[i]));
}

describe("aggregateEmbeddings", () => {
	const alice = person(1);
	const bob = person(2);

	it("matches the person better than the single best frame does", () => {
		const frames = Array.from({ length: 10 }, (_, i) => ({ embedding: frameOf(alice, 100 + i), quality: 0.6 + i * 0.03 }));
		const agg = aggregateEmbeddings(frames);
		const bestSingle = frames.reduce((a, b) => (b.quality > a.quality ? b : a));
		expect(dot(agg.embedding, alice)).toBeGreaterThan(dot(normalize(bestSingle.embedding), alice) + 0.05);
		expect(agg.framesUsed).toBe(8);
		expect(Math.abs(dot(agg.embedding, agg.embedding) - 1)).toBeLessThan(1e-5);
	});

	it("drops a stray misdetection and keeps the main person", () => {
		const frames = [...Array.from({ length: 9 }, (_, i) => ({ embedding: frameOf(alice, 200 + i), quality: 0.8 })), { embedding: person(99), quality: 0.9 }];
		const agg = aggregateEmbeddings(frames);
		expect(agg.outliers).toBe(1);
		expect(dot(agg.embedding, alice)).toBeGreaterThan(0.8);
	});

	it("refuses a video whose main face is two different people", () => {
		const frames = [...Array.from({ length: 6 }, (_, i) => ({ embedding: frameOf(alice, 300 + i), quality: 0.8 })), ...Array.from({ length: 5 }, (_, i) => ({ embedding: frameOf(bob, 400 + i), quality: 0.8 }))];
		expect(() => aggregateEmbeddings(frames)).toThrow(MultipleIdentitiesError);
	});

	it("keeps one person whose frames split into two looks (light, pose) rather than refusing her", () => {
		// Two looks of one person: the looks' own cosine is 0.45, and single noisy frames of the
		// second look fall under 0.3 against the main one, though the looks' means do not.
		const look2 = normalize(alice.map((x, i) => 0.45 * x + Math.sqrt(1 - 0.45 ** 2) * person(7)[i]));
		const frames = [...Array.from({ length: 8 }, (_, i) => ({ embedding: frameOf(alice, 500 + i, 0.5), quality: 0.8 })), ...Array.from({ length: 4 }, (_, i) => ({ embedding: frameOf(look2, 600 + i, 1.2), quality: 0.7 }))];
		const second = frames.slice(8).map(f => dot(f.embedding, frames[0].embedding));
		expect(Math.max(...second)).toBeLessThan(0.3);
		const agg = aggregateEmbeddings(frames);
		expect(agg.outliers).toBe(0);
		expect(dot(agg.embedding, alice)).toBeGreaterThan(0.8);
	});
});

describe("video quality", () => {
	const good: FaceMeasurement = { areaFraction: 0.25, centerX: 0.5, centerY: 0.45, sharpness: 400, brightness: 130, contrast: 50, yaw: 3, pitch: 2 };

	it("gives full marks to a large, sharp, well-lit frontal face, with the spec's feedback", () => {
		const r = videoQualityReport([good, good]);
		expect(r.metrics.faceSize).toBe(1);
		expect(r.isAcceptable).toBe(true);
		expect(r.quality).toBeGreaterThanOrEqual(0.9);
		expect(r.feedback).toEqual(["Face is clearly visible", "Good lighting conditions", "Face is properly centered"]);
	});

	it("scores a small, dark, blurry face low and says what to fix", () => {
		const r = videoQualityReport([{ ...good, areaFraction: 0.05, brightness: 35, contrast: 12, sharpness: 30 }]);
		expect(r.isAcceptable).toBe(false);
		expect(r.quality).toBeLessThan(ACCEPTABLE_QUALITY);
		expect(r.metrics.faceSize).toBeCloseTo(0.25);
		expect(r.feedback).toEqual(expect.arrayContaining(["Face is too small. Move closer to camera", "Lighting is too dark. Record in brighter environment", "Video is slightly blurry. Hold camera steady"]));
	});

	it("scores a turned head lower on faceAngle", () => {
		expect(frameMetrics({ ...good, yaw: 40 }).faceAngle).toBeLessThan(0.3);
		expect(frameMetrics(good).faceAngle).toBeGreaterThan(0.9);
	});
});

describe("container sniffing", () => {
	const bytes = (s: string) => Uint8Array.from(Buffer.from(s, "latin1"));
	it("recognises MP4, MOV and AVI by content", () => {
		expect(sniffContainer(bytes("\0\0\0\x20ftypisom\0\0\x02\0"))).toBe("mp4");
		expect(sniffContainer(bytes("\0\0\0\x14ftypqt  \0\0\0\0"))).toBe("mov");
		expect(sniffContainer(bytes("\0\0\0\x08wide\0\0\0\0mdat"))).toBe("mov");
		expect(sniffContainer(bytes("RIFF\x10\0\0\0AVI LIST"))).toBe("avi");
	});
	it("refuses anything else, such as a PNG renamed .mp4", () => {
		expect(sniffContainer(bytes("\x89PNG\r\n\x1a\n\0\0\0\rIHDR"))).toBeNull();
		expect(sniffContainer(bytes("short"))).toBeNull();
	});
});

describe("video locations", () => {
	const root = tempDir();
	fs.mkdirSync(path.join(root, "identity/201"), { recursive: true });
	fs.writeFileSync(path.join(root, "identity/201/v.mp4"), "x");
	const outside = tempDir();
	fs.writeFileSync(path.join(outside, "secret.mp4"), "x");
	fs.symlinkSync(path.join(outside, "secret.mp4"), path.join(root, "identity/201/link.mp4"));

	it("resolves the spec's /uploads/... paths under UPLOADS_DIR", () => {
		expect(resolveVideoLocation("/uploads/identity/201/v.mp4", root)).toEqual({ kind: "file", path: fs.realpathSync(path.join(root, "identity/201/v.mp4")) });
		expect(resolveVideoLocation("identity/201/v.mp4", root).kind).toBe("file");
	});

	it.each(["/uploads/../../etc/passwd", "../secret.mp4", "/uploads/identity/../../x", "identity/201/link.mp4"])("never reads outside UPLOADS_DIR: %s", p => {
		expect(() => resolveVideoLocation(p, root)).toThrow(VideoLocationError);
		try {
			resolveVideoLocation(p, root);
		} catch (e) {
			expect((e as VideoLocationError).code).toBe("INVALID_VIDEO_URL");
		}
	});

	it("reports a missing file, and accepts only http(s) URLs", () => {
		expect(() => resolveVideoLocation("/uploads/identity/201/none.mp4", root)).toThrow(expect.objectContaining({ code: "VIDEO_FILE_NOT_FOUND" }));
		expect(resolveVideoLocation("https://files.example/v.mp4", root)).toEqual({ kind: "url", url: "https://files.example/v.mp4" });
		for (const bad of ["file:///etc/passwd", "concat:/a|/b", "rtsp://cam/x"]) expect(() => resolveVideoLocation(bad, root)).toThrow(expect.objectContaining({ code: "INVALID_VIDEO_URL" }));
	});
});
