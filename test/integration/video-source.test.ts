/**
 * lib/video against real sources: GStreamer's RTSP server on 127.0.0.1, clips this test
 * encodes itself, a local HTTP server, and a TCP server that accepts and never answers.
 */
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { firstFrame, grabFrames, liveFrames, openFrames, type LiveEvent, type SourceStats, type VideoFrame } from "../../lib/video/frame-source";
import { VideoSourceError } from "../../lib/video/errors";
import { makeFaceVideo } from "../support/face-video";
import { tempDir } from "../support/node";
import { describeWithRtsp, encodeClip, startRtspServer, type RtspServer } from "../support/rtsp";

async function take(iter: AsyncGenerator<VideoFrame>, n: number): Promise<VideoFrame[]> {
	const out: VideoFrame[] = [];
	for await (const f of iter) {
		out.push(f);
		if (out.length >= n) break;
	}
	return out;
}

async function failure(p: Promise<unknown>): Promise<VideoSourceError> {
	try {
		await p;
	} catch (err) {
		if (err instanceof VideoSourceError) return err;
		throw err;
	}
	throw new Error("expected a failure");
}

describeWithRtsp("frame sources on node-av", () => {
	let server: RtspServer;
	let dir: string;
	const silent: net.Socket[] = [];
	let silentServer: net.Server;
	let silentPort: number;

	beforeAll(async () => {
		dir = tempDir("rollcall-video-");
		encodeClip(path.join(dir, "clip.mp4"), { width: 640, height: 360, fps: 25, seconds: 4, keyint: 25 });
		// x264 with B-frames (as many cameras' main/high profiles): the decoder delays output.
		await makeFaceVideo(path.join(dir, "bframes.mp4"), { pattern: true, width: 320, height: 240, fps: 25, keyint: 25, seconds: 8 });
		server = await startRtspServer({
			live: { "/live": { width: 640, height: 360, fps: 25, keyint: 25 }, "/rare-keys": { width: 320, height: 180, fps: 25, keyint: 100 } },
			files: { "/clip": path.join(dir, "clip.mp4"), "/bframes": path.join(dir, "bframes.mp4") }
		});
		// A server that accepts and never answers.
		silentServer = net.createServer(s => silent.push(s));
		await new Promise<void>(r => silentServer.listen(0, "127.0.0.1", () => r()));
		silentPort = (silentServer.address() as net.AddressInfo).port;
	}, 60_000);

	afterAll(async () => {
		await server?.stop();
		for (const s of silent) s.destroy();
		await new Promise(r => silentServer?.close(r));
		if (dir) fs.rmSync(dir, { recursive: true, force: true });
	});

	it("decodes a live RTSP stream to packed RGB at the requested size, with source size, timestamps and frame rate", async () => {
		const frames = await take(openFrames({ url: server.url("/live") }, { width: 320 }), 5);
		expect(frames).toHaveLength(5);
		for (const f of frames) {
			expect([f.width, f.height, f.sourceWidth, f.sourceHeight]).toEqual([320, 180, 640, 360]);
			expect(f.data.length).toBe(320 * 180 * 3);
			expect(f.frameRate).toBeCloseTo(25, 0);
		}
		expect(frames[0].keyFrame).toBe(true);
		for (let i = 1; i < frames.length; i++) expect(frames[i].timestamp - frames[i - 1].timestamp).toBeCloseTo(0.04, 2);
		// Not a blank picture: the test source draws a ball on grey.
		const px = frames[0].data;
		let min = 255;
		let max = 0;
		for (let i = 0; i < px.length; i++) {
			min = Math.min(min, px[i]);
			max = Math.max(max, px[i]);
		}
		expect(max - min).toBeGreaterThan(100);
	});

	it("receives RTSP over UDP when asked", async () => {
		const frames = await take(openFrames({ url: server.url("/live") }, { transport: "udp", width: 160 }), 3);
		expect(frames).toHaveLength(3);
		expect([frames[0].sourceWidth, frames[0].sourceHeight]).toEqual([640, 360]);
	});

	it("samples a live stream from key frames only when they come often enough", async () => {
		const stats: SourceStats = { packets: 0, decodedPackets: 0, frames: 0, mode: "key" };
		const frames = await take(openFrames({ url: server.url("/live") }, { everySeconds: 1, width: 160, stats }), 3);
		expect(frames.map(f => f.keyFrame)).toEqual([true, true, true]);
		for (let i = 1; i < 3; i++) expect(frames[i].timestamp - frames[i - 1].timestamp).toBeGreaterThanOrEqual(0.99);
		expect(stats.mode).toBe("key");
		// Only the sampled key frames reached the decoder, out of ~50 packets read.
		expect(stats.decodedPackets).toBeLessThanOrEqual(4);
		expect(stats.packets).toBeGreaterThan(40);
	});

	it("samples a stream with B-frames from key frames only too, each sample on time", async () => {
		const stats: SourceStats = { packets: 0, decodedPackets: 0, frames: 0, mode: "key" };
		const frames = await take(openFrames({ url: server.url("/bframes") }, { everySeconds: 2, width: 160, stats }), 3);
		expect(stats.mode).toBe("key");
		expect(frames.map(f => f.keyFrame)).toEqual([true, true, true]);
		for (let i = 1; i < 3; i++) expect(frames[i].timestamp - frames[i - 1].timestamp).toBeCloseTo(2, 1);
		// One decoded packet per sample, out of the ~100 read.
		expect(stats.decodedPackets).toBeLessThanOrEqual(4);
		expect(stats.packets).toBeGreaterThan(90);
	}, 30_000);

	it("falls back to full decoding when key frames are rarer than the sampling interval", async () => {
		const stats: SourceStats = { packets: 0, decodedPackets: 0, frames: 0, mode: "key" };
		const frames = await take(openFrames({ url: server.url("/rare-keys") }, { everySeconds: 1, stats }), 4);
		expect(stats.mode).toBe("full");
		expect(frames.filter(f => !f.keyFrame).length).toBeGreaterThan(0);
		for (let i = 1; i < frames.length; i++) {
			const gap = frames[i].timestamp - frames[i - 1].timestamp;
			expect(gap).toBeGreaterThanOrEqual(0.99);
			expect(gap).toBeLessThan(1.6);
		}
	}, 30_000);

	it("reads the clip through the RTSP file mount and first-frame helper", async () => {
		const grab = await grabFrames({ url: server.url("/clip") }, 10);
		expect(grab.frames).toHaveLength(10);
		expect(grab.frameRate).toBeCloseTo(25, 0);
		expect(grab.latencyMs).toBeGreaterThan(0);
		expect(grab.latencyMs).toBeLessThan(5000);
		const one = await firstFrame({ url: server.url("/clip") });
		expect([one.sourceWidth, one.sourceHeight]).toEqual([640, 360]);
	});

	it.each(["mp4", "mov", "mkv", "avi"])("samples a local %s file every 0.5 s, to its end", async ext => {
		const file = path.join(dir, `sample.${ext}`);
		encodeClip(file, { width: 320, height: 240, fps: 25, seconds: 3, keyint: 10 });
		const frames: VideoFrame[] = [];
		for await (const f of openFrames({ file }, { everySeconds: 0.5 })) frames.push(f);
		expect(frames).toHaveLength(6);
		expect(frames.map(f => Math.round(f.timestamp * 10) / 10)).toEqual([0, 0.5, 1, 1.5, 2, 2.5].map(t => expect.closeTo(t, 0)));
		for (const f of frames) expect([f.width, f.height]).toEqual([320, 240]);
		const all: VideoFrame[] = [];
		for await (const f of openFrames({ file })) all.push(f);
		expect(all).toHaveLength(75);
	});

	it("reads an http(s) URL, and never follows a redirect into another FFmpeg protocol", async () => {
		const clip = fs.readFileSync(path.join(dir, "clip.mp4"));
		const web = http.createServer((req, res) => {
			if (req.url === "/clip.mp4") {
				// Byte ranges, as any web server: the MP4 index sits at the end of the file.
				const range = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? "");
				const from = range ? Number(range[1]) : 0;
				const to = range?.[2] ? Number(range[2]) : clip.length - 1;
				const head: http.OutgoingHttpHeaders = { "Content-Type": "video/mp4", "Content-Length": to - from + 1, "Accept-Ranges": "bytes" };
				if (range) head["Content-Range"] = `bytes ${from}-${to}/${clip.length}`;
				res.writeHead(range ? 206 : 200, head);
				res.end(clip.subarray(from, to + 1));
			} else {
				res.writeHead(302, { Location: "file:///etc/passwd" });
				res.end();
			}
		});
		await new Promise<void>(r => web.listen(0, "127.0.0.1", () => r()));
		const port = (web.address() as net.AddressInfo).port;
		try {
			const frames = await take(openFrames({ url: `http://127.0.0.1:${port}/clip.mp4` }, { everySeconds: 1 }), 10);
			expect(frames).toHaveLength(4);
			const err = await failure(firstFrame({ url: `http://127.0.0.1:${port}/elsewhere.mp4` }));
			expect(err.code).toBe("CONNECT_FAILED");
		} finally {
			web.closeAllConnections();
			await new Promise(r => web.close(r));
		}
	});

	it("fails fast on a closed port and on a wrong path", async () => {
		const closed = net.createServer();
		await new Promise<void>(r => closed.listen(0, "127.0.0.1", () => r()));
		const port = (closed.address() as net.AddressInfo).port;
		await new Promise(r => closed.close(r));
		let t = Date.now();
		const refused = await failure(firstFrame({ url: `rtsp://127.0.0.1:${port}/x` }));
		expect(refused.code).toBe("CONNECT_FAILED");
		expect(refused.message).toMatch(/refused/i);
		expect(Date.now() - t).toBeLessThan(1000);
		t = Date.now();
		const wrong = await failure(firstFrame({ url: server.url("/no-such-path", "admin:s3cret") }));
		expect(wrong.code).toBe("CONNECT_FAILED");
		expect(wrong.message).toMatch(/404/);
		expect(wrong.message).not.toContain("s3cret");
		expect(Date.now() - t).toBeLessThan(2000);
	});

	it("gives up on a server that accepts and never answers within the connect timeout", async () => {
		const t = Date.now();
		const err = await failure(firstFrame({ url: `rtsp://127.0.0.1:${silentPort}/stream` }, { connectTimeoutMs: 2000 }));
		const took = Date.now() - t;
		expect(err.code).toBe("CONNECT_TIMEOUT");
		expect(err.message).toBe("Connection timeout after 2 seconds");
		expect(took).toBeGreaterThanOrEqual(1900);
		expect(took).toBeLessThan(3000);
	});

	it("refuses forbidden schemes and relative paths before opening anything", async () => {
		for (const url of ["file:///etc/passwd", "concat:/a.mp4|/b.mp4", "subfile:,start,0,end,0,:/etc/passwd", "pipe:0", "data:video/mp4;base64,AAAA", "tcp://127.0.0.1:1", "/etc/passwd", "rtsp:///nohost"]) {
			const err = await failure(firstFrame({ url }));
			expect(err.code).toBe("INVALID_SOURCE");
		}
		expect((await failure(firstFrame({ file: "relative/clip.mp4" }))).code).toBe("INVALID_SOURCE");
		// A local file is opened as a file: no protocol prefix sneaks through.
		expect((await failure(firstFrame({ file: "/nonexistent/concat:x.mp4" }))).code).toBe("CONNECT_FAILED");
	});

	it("reconnects with backoff when the stream stops mid-way and comes back, and frames resume", async () => {
		const events: LiveEvent[] = [];
		const ctl = new AbortController();
		const stamps: number[] = [];
		let restarted = false;
		const t0 = Date.now();
		for await (const frame of liveFrames(
			{ url: server.url("/live") },
			{ everySeconds: 0.2, width: 160, readTimeoutMs: 2000, signal: ctl.signal, backoff: { initialMs: 200, maxMs: 1000, factor: 2 }, onEvent: e => events.push(e) }
		)) {
			expect(frame.width).toBe(160);
			stamps.push(Date.now() - t0);
			if (!restarted && stamps.length >= 3) {
				restarted = true;
				// The camera goes away for 1.5 s, then comes back on the same address.
				void server.restart(1500);
			}
			if (restarted && events.filter(e => e.type === "connected").length >= 2 && stamps.length >= 8) ctl.abort();
			if (Date.now() - t0 > 30_000) break;
		}
		const kinds = events.map(e => e.type);
		expect(kinds[0]).toBe("connected");
		expect(kinds).toContain("disconnected");
		expect(kinds.filter(k => k === "connected").length).toBeGreaterThanOrEqual(2);
		const retries = events.filter((e): e is Extract<LiveEvent, { type: "disconnected" }> => e.type === "disconnected");
		for (const r of retries) expect(r.retryInMs).toBeLessThanOrEqual(1000);
		expect(stamps.length).toBeGreaterThanOrEqual(8);
		// A gap while the server was down, then frames again.
		const gaps = stamps.slice(1).map((s, i) => s - stamps[i]);
		expect(Math.max(...gaps)).toBeGreaterThan(1000);
	}, 45_000);

	it("treats a stalled stream as a disconnect after the read timeout, and recovers", async () => {
		const events: LiveEvent[] = [];
		const ctl = new AbortController();
		let frames = 0;
		let framesAfterResume = 0;
		let resumed = false;
		const t0 = Date.now();
		for await (const _ of liveFrames(
			{ url: server.url("/live") },
			{ everySeconds: 0.5, readTimeoutMs: 1500, connectTimeoutMs: 1500, signal: ctl.signal, backoff: { initialMs: 200, maxMs: 400, factor: 2 }, onEvent: e => events.push(e) }
		)) {
			frames++;
			if (resumed) framesAfterResume++;
			if (frames === 2) {
				// The server freezes: its TCP connection stays open, packets stop.
				server.pause();
				setTimeout(() => {
					server.resume();
					resumed = true;
				}, 4000);
			}
			if (framesAfterResume >= 2 || Date.now() - t0 > 30_000) ctl.abort();
		}
		const stall = events.find((e): e is Extract<LiveEvent, { type: "disconnected" }> => e.type === "disconnected");
		expect(stall?.code).toBe("READ_TIMEOUT");
		expect(framesAfterResume).toBeGreaterThanOrEqual(2);
		expect(events.filter(e => e.type === "connected").length).toBeGreaterThanOrEqual(2);
	}, 45_000);
});
