/**
 * The enrollment's decode path (issue 21): `inline` decoding (node-av's synchronous calls on
 * the calling thread, frame threads) and `skipUnsampled` (packets no sampled frame needs are
 * never decoded) against the reference path they replaced (one libuv-pool hop per call, one
 * decoder thread, every packet decoded), on small clips this test encodes itself, with and
 * without B-frames. The sampled frames must be the same frames (same timestamps) with the same
 * bytes, and the real vision engine must give the same embeddings and quality inputs:
 * identical, not within a tolerance (the same bytes through the same CPU models).
 */
import path from "node:path";
import { modelLocation } from "../../config";
import { openFrames, type FrameSourceOptions, type SourceStats, type VideoFrame } from "../../lib/video/frame-source";
import { VisionEngine } from "../../lib/vision/engine";
import { loadManifest } from "../../lib/vision/manifest";
import { FACES, makeFaceVideo } from "../support/face-video";
import { tempDir } from "../support/node";

const { modelsDir, modelsManifest } = modelLocation(process.env, path.join(__dirname, "../.."));

/** What services/enrollment.service.ts asks of generate's frame source (GENERATE_EVERY_SECONDS, ENROLL_FRAME_WIDTH). */
const GENERATE: FrameSourceOptions = { everySeconds: 0.5, width: 640, fastDecode: true };

async function all(file: string, opts: FrameSourceOptions, stats?: SourceStats): Promise<VideoFrame[]> {
	const out: VideoFrame[] = [];
	for await (const f of openFrames({ file }, { ...opts, stats })) out.push(f);
	return out;
}
const newStats = (): SourceStats => ({ packets: 0, decodedPackets: 0, frames: 0, mode: "full" });

describe("enrollment decode path: inline decoding and skipped unsampled packets give the reference path's frames", () => {
	let dir: string;
	let engine: VisionEngine;
	const clips: Record<string, string> = {};

	beforeAll(async () => {
		dir = tempDir("rollcall-enroll-decode-");
		// 960x540 (scaled to 640x360 like a 1080p clip), 10 fps, GOP 20 (key frames too rare
		// for 0.5 s samples: the full decode), 4 s; without B-frames every frame is a reference.
		const common = { ...FACES.anna, width: 960, height: 540, fps: 10, seconds: 4, keyint: 20, motion: "zoom" as const };
		clips.noB = (await makeFaceVideo(path.join(dir, "no-bframes.mp4"), { ...common, bframes: 0 })).file;
		clips.withB = (await makeFaceVideo(path.join(dir, "bframes.mp4"), { ...common, bframes: 2 })).file;
		engine = await VisionEngine.create({ modelsDir, manifest: loadManifest(modelsManifest), threads: 1 });
	}, 180_000);

	afterAll(async () => {
		await engine?.close();
	});

	for (const kind of ["noB", "withB"] as const)
		test(`${kind === "noB" ? "no B-frames" : "B-frames"}: same frames, bytes and embeddings`, async () => {
			const referenceStats = newStats();
			const reference = await all(clips[kind], { ...GENERATE, threads: 1 }, referenceStats);
			const inlineOneThread = await all(clips[kind], { ...GENERATE, threads: 1, inline: true });
			// What enrollment.service.ts uses (ENROLL_DECODE_THREADS=2, inline, skipUnsampled).
			const skipStats = newStats();
			const inline = await all(clips[kind], { ...GENERATE, threads: 2, inline: true, skipUnsampled: true }, skipStats);
			const skipOneThreadAsync = await all(clips[kind], { ...GENERATE, threads: 1, skipUnsampled: true });
			// 2 s GOPs sampled every 0.5 s: each GOP's frames after its last sample stay undecoded.
			// With B-frames the due time is known later (reordering delay), so little is left.
			expect(referenceStats.mode).toBe("full");
			// Every packet (the first key frame twice: the catch-up to full decoding replays it).
			expect(referenceStats.decodedPackets).toBeGreaterThanOrEqual(referenceStats.packets);
			expect(skipStats.packets).toBe(referenceStats.packets);
			if (kind === "noB") expect(skipStats.decodedPackets).toBeLessThan(referenceStats.packets * 0.9);
			else expect(skipStats.decodedPackets).toBeLessThan(referenceStats.decodedPackets);
			// 4 s sampled every 0.5 s (with B-frames a sample lands on the next reference frame: the last may fall past the end).
			expect(reference.length).toBeGreaterThanOrEqual(kind === "noB" ? 8 : 7);
			for (const other of [inline, inlineOneThread, skipOneThreadAsync]) {
				expect(other.map(f => f.timestamp)).toEqual(reference.map(f => f.timestamp));
				other.forEach((f, i) => {
					expect([f.width, f.height]).toEqual([640, 360]);
					expect(f.data.equals(reference[i].data)).toBe(true);
				});
			}
			for (let i = 0; i < reference.length; i++) {
				const [a, b] = await Promise.all([reference[i], inline[i]].map(f => engine.analyze({ frame: { data: f.data, width: f.width, height: f.height }, maxFaces: 1 })));
				expect(a.faces).toHaveLength(1);
				expect(b.faces[0].embedding).toEqual(a.faces[0].embedding);
				expect(b.faces[0].quality).toEqual(a.faces[0].quality);
				expect(b.faces[0].box).toEqual(a.faces[0].box);
			}
		}, 120_000);
});
