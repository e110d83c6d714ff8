/**
 * Frame sources on node-av: a local file (MP4, MOV, AVI, MKV), an http(s) URL or an
 * rtsp(s) stream, read as an async iterator of packed RGB24 frames at a requested size.
 *
 * Facts this code is built on (measured, see ENVIRONMENT.md): an RTSP open without FFmpeg's
 * `timeout` option can hang forever and an AbortSignal does not interrupt it, so every
 * remote open carries FFmpeg's socket timeout and is raced against our own connect timer;
 * a stalled stream ends `packets()` with no error, so end-of-stream on a live source is a
 * disconnect; `skipStreamInfo` cuts the time to first frame from ~1.25 s to ~0.23 s.
 *
 * Every packet and frame is freed and every input closed on every path, so a source that
 * runs for days holds constant memory.
 */
import { av, type Decoder, type Demuxer, type Frame, type Packet } from "./av";
import { idrReader } from "./idr";
import { DEFAULT_BACKOFF, backoffDelay, type BackoffOptions } from "./backoff";
import { VideoSourceError, describeOpenError } from "./errors";
import { SamplingPlan, targetSize, type SamplingMode } from "./sampling";
import { resolveSource, type ResolvedSource, type SourceSpec } from "./source";
import { frameRateFromTimestamps } from "./stability";
import { OutboundResolveError, resolveStreamUrl, streamInput, UrlNotAllowed, type OutboundPolicy, type OutboundUse } from "../net/outbound";
import { openRtspRelay, type RtspRelay } from "../net/rtsp-relay";

export type { SourceSpec } from "./source";

const { AV_CODEC_ID_H264, AV_CODEC_ID_HEVC, AV_LOG_QUIET, AV_NOPTS_VALUE, EOF, Log, Scaler } = av;

// FFmpeg's own log can print stream URLs (with credentials); our errors say what matters.
Log.setLevel(AV_LOG_QUIET);

export interface VideoFrame {
	/** Packed RGB24, width * height * 3 bytes. */
	data: Buffer;
	width: number;
	height: number;
	sourceWidth: number;
	sourceHeight: number;
	/** Presentation time in the stream, seconds. */
	timestamp: number;
	/** Frames per second of the source; null while unknown. */
	frameRate: number | null;
	keyFrame: boolean;
}

export interface FrameSourceOptions {
	/** Output size: both sides exact, one side keeps the aspect ratio, none keeps the source size. */
	width?: number;
	height?: number;
	/** Yield at most one frame per this many seconds of stream time; 0 (default) yields every frame. */
	everySeconds?: number;
	/** "auto" (default): decode key frames only while they are frequent enough for `everySeconds`. */
	keyFramesOnly?: "auto" | "never";
	/** The second frame this long after the first, then every `everySeconds` (lib/video/sampling.ts). */
	phaseSeconds?: number;
	/** RTSP transport; tcp by default (no loss, passes NAT). */
	transport?: "tcp" | "udp";
	/** Give up opening after this long, ms (default 10 000). */
	connectTimeoutMs?: number;
	/** A remote source that sends nothing for this long is disconnected, ms (default 10 000). */
	readTimeoutMs?: number;
	/** End-of-stream is a disconnect (STREAM_ENDED). Default: true for rtsp, false otherwise. */
	live?: boolean;
	/** Decoder threads (default 1: sampled sources need little, and cores are shared). */
	threads?: number;
	/**
	 * Sampled analysis only: skip the deblocking filter and frames no other frame refers to
	 * (a sample then lands on the next reference frame). Faster; never for previews.
	 */
	fastDecode?: boolean;
	/**
	 * Sampled full decoding (H.264, HEVC): hold each packet back until a frame at or after it
	 * is due, and drop those still held when an IDR frame (or the end) comes: no sampled frame
	 * refers to them. Frames yielded and their bytes are the same; a GOP's packets after its
	 * last sample are never decoded. Held packets are decoded in a burst when a frame is due:
	 * for short files (enrollment), not for live cameras, whose frames would come later.
	 */
	skipUnsampled?: boolean;
	/**
	 * Decode and convert on the calling thread with node-av's synchronous calls instead of one
	 * libuv-pool hop per send, receive and scale. The decoder then costs what FFmpeg's own
	 * command line costs (measured on 1080p H.264: 0.56 s of CPU for 250 frames against 0.80-0.92 s
	 * with a hop per call, docs/measurements.md). Each packet blocks the event loop while it
	 * decodes (~2-15 ms for a 1080p frame on one decoder thread, less with frame threads), the
	 * loop runs between packets: for short bursts (an enrollment video), not for cameras that
	 * run for days on a node with many of them. Frames and their order are the same either way.
	 */
	inline?: boolean;
	/** Most packets kept since the last key frame for a switch to full decoding (default 1500). */
	maxGopPackets?: number;
	signal?: AbortSignal;
	/** Called once the input is open, before the first frame. */
	onOpen?: (info: OpenInfo) => void;
	/** Filled while running: what was read and decoded (benchmarks, tests, metrics). */
	stats?: SourceStats;
	/**
	 * The outbound-URL policy for a URL source: checked (and its http redirects followed under
	 * the policy) before every open, FFmpeg given the checked address and no redirects of its
	 * own; a refusal fails the open with URL_NOT_ALLOWED.
	 */
	outbound?: { policy: OutboundPolicy; use: OutboundUse };
}

export interface OpenInfo {
	/** The source, credentials hidden. */
	source: string;
	kind: ResolvedSource["kind"];
	openMs: number;
	frameRate: number | null;
}

export interface SourceStats {
	packets: number;
	/** Bytes of the video packets read (a stream's bitrate, with the wall time). */
	bytes?: number;
	decodedPackets: number;
	frames: number;
	mode: SamplingMode;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_READ_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_GOP_PACKETS = 1500;

const seconds = (v: bigint, tb: { num: number; den: number }) => (Number(v) * tb.num) / tb.den;

function rate(r: { num: number; den: number } | undefined): number | null {
	return r && r.num > 0 && r.den > 0 ? r.num / r.den : null;
}

type Prepared = ResolvedSource & { headers?: string; relay?: RtspRelay };

const refusalError = (err: UrlNotAllowed) => new VideoSourceError("URL_NOT_ALLOWED", err.message, { rule: err.rule, url: err.url, address: err.address });

/**
 * A URL source under the outbound policy: what FFmpeg opens instead. http(s): the last hop of
 * its redirects, checked, at the checked address. rtsp over TCP: a relay to the checked
 * address that checks the server's own redirects (lib/net/rtsp-relay.ts). rtsp over UDP:
 * the checked address in the URL.
 */
async function guarded(src: ResolvedSource, outbound: NonNullable<FrameSourceOptions["outbound"]>, connectMs: number, transport: "tcp" | "udp"): Promise<Prepared> {
	try {
		const { checked } = await resolveStreamUrl(outbound.policy, outbound.use, src.input, connectMs);
		if (checked.scheme === "rtsp" && transport === "tcp" && checked.addresses.length > 0) {
			const relay = await openRtspRelay(outbound.policy, outbound.use, checked, connectMs);
			return { ...src, input: relay.input, relay };
		}
		const pinned = streamInput(checked);
		return { ...src, input: pinned.input, headers: pinned.headers };
	} catch (err) {
		if (err instanceof UrlNotAllowed) throw refusalError(err);
		if (err instanceof OutboundResolveError) throw new VideoSourceError("CONNECT_FAILED", err.message);
		if ((err as Error).name === "TimeoutError" || (err as NodeJS.ErrnoException).code === "ETIMEDOUT")
			throw new VideoSourceError("CONNECT_TIMEOUT", `Connection timeout after ${Math.round(connectMs / 100) / 10} seconds`);
		throw new VideoSourceError("CONNECT_FAILED", describeOpenError(err));
	}
}

/** Open an input with FFmpeg's protocol allow-list and timeouts, raced against our connect timer. */
async function openInput(src: Prepared, opts: FrameSourceOptions, connectMs: number, readMs: number): Promise<Demuxer> {
	const options: Record<string, string> = { protocol_whitelist: src.protocols };
	if (src.formats) options.format_whitelist = src.formats;
	// FFmpeg's socket timeout (µs) is a backstop a little beyond ours, so our timers decide the
	// reported reason and FFmpeg still guarantees the native call returns.
	const ioTimeout = String((Math.max(connectMs, readMs) + 1000) * 1000);
	if (src.kind === "rtsp") {
		options.rtsp_transport = opts.transport ?? "tcp";
		options.timeout = ioTimeout;
	} else if (src.kind === "http") {
		options.rw_timeout = ioTimeout;
		options.timeout = ioTimeout;
		options.reconnect = "0";
		// Under the outbound policy its redirects were followed and checked already.
		if (opts.outbound) options.max_redirects = "0";
		if (src.headers) options.headers = src.headers;
	}
	const opening = av.Demuxer.open(src.input, { skipStreamInfo: src.kind !== "file", options });
	let timer: NodeJS.Timeout | undefined;
	let onAbort: (() => void) | undefined;
	const guard = new Promise<never>((_, reject) => {
		timer = setTimeout(
			() => reject(new VideoSourceError("CONNECT_TIMEOUT", `Connection timeout after ${Math.round(connectMs / 100) / 10} seconds`)),
			connectMs
		);
		onAbort = () => reject(new VideoSourceError("CONNECT_FAILED", "Aborted"));
		opts.signal?.addEventListener("abort", onAbort, { once: true });
	});
	try {
		return await Promise.race([opening, guard]);
	} catch (err) {
		// The native open may still succeed later: close it then, never leak it.
		opening.then(input => input.close()).catch(() => undefined);
		if (err instanceof VideoSourceError) throw err;
		throw new VideoSourceError("CONNECT_FAILED", describeOpenError(err));
	} finally {
		clearTimeout(timer);
		if (onAbort) opts.signal?.removeEventListener("abort", onAbort);
	}
}

/**
 * Decoded frames of one source, one connection: ends at end-of-stream (files), throws
 * STREAM_ENDED or READ_TIMEOUT when a live source stops, returns quietly on abort.
 */
export async function* openFrames(spec: SourceSpec, opts: FrameSourceOptions = {}): AsyncGenerator<VideoFrame> {
	const src = resolveSource(spec);
	const connectMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
	const readMs = opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
	const live = opts.live ?? src.kind === "rtsp";
	const maxGop = opts.maxGopPackets ?? DEFAULT_MAX_GOP_PACKETS;
	if (opts.signal?.aborted) return;

	const t0 = performance.now();
	const prepared: Prepared = opts.outbound && src.kind !== "file" ? await guarded(src, opts.outbound, connectMs, opts.transport ?? "tcp") : src;
	let input: Demuxer;
	try {
		input = await openInput(prepared, opts, connectMs, readMs);
	} catch (err) {
		prepared.relay?.close();
		// The server redirected to a refused address: that is why the open failed.
		const refused = prepared.relay?.refusal();
		if (refused) throw refusalError(refused);
		throw err;
	}
	let decoder: Decoder | null = null;
	const scaler = new Scaler();
	const gop: Packet[] = [];
	let aborted = false;
	let readTimedOut = false;
	let watchdog: NodeJS.Timeout | undefined;
	const onAbort = () => {
		aborted = true;
		input.interrupt();
	};
	opts.signal?.addEventListener("abort", onAbort, { once: true });
	/** Packets held back by skipUnsampled, in decode order since the last decoded one. */
	const held: Packet[] = [];
	const clearGop = () => {
		for (const p of gop) p.free();
		gop.length = 0;
	};
	const clearHeld = () => {
		for (const p of held) p.free();
		held.length = 0;
	};
	try {
		const stream = input.video();
		if (!stream) throw new VideoSourceError("NO_VIDEO", "The source has no video stream");
		decoder = await av.Decoder.create(stream, {
			threadCount: opts.threads ?? 1,
			// AVCodecContext's generic options, applied by avcodec_open2.
			options: opts.fastDecode ? { skip_loop_filter: "all", skip_frame: "noref" } : undefined
		});
		const inline = opts.inline === true;
		const tb = stream.timeBase;
		const plan = new SamplingPlan({ everySeconds: opts.everySeconds ?? 0, keyFramesOnly: opts.keyFramesOnly ?? "auto", phaseSeconds: opts.phaseSeconds });
		const stats = opts.stats ?? { packets: 0, decodedPackets: 0, frames: 0, mode: plan.mode };
		stats.mode = plan.mode;
		const codecId = stream.codecpar.codecId;
		const isIdr =
			opts.skipUnsampled && (opts.everySeconds ?? 0) > 0
				? idrReader(codecId === AV_CODEC_ID_H264 ? "h264" : codecId === AV_CODEC_ID_HEVC ? "hevc" : null, stream.codecpar.extradata)
				: null;
		let frameRate = rate(stream.avgFrameRate) ?? rate(stream.rFrameRate);
		const recentPts: number[] = [];
		let lastT = 0;
		opts.onOpen?.({ source: src.display, kind: src.kind, openMs: Math.round(performance.now() - t0), frameRate });

		const armWatchdog = () => {
			if (src.kind === "file") return;
			clearTimeout(watchdog);
			watchdog = setTimeout(() => {
				readTimedOut = true;
				input.interrupt();
			}, readMs);
		};

		const toVideoFrame = async (frame: Frame): Promise<VideoFrame | null> => {
			try {
				const pts = frame.pts !== AV_NOPTS_VALUE ? frame.pts : frame.bestEffortTimestamp;
				const t = pts !== AV_NOPTS_VALUE ? seconds(pts, tb) : lastT;
				if (!plan.onFrame(t)) return null;
				const size = targetSize(frame.width, frame.height, opts);
				const resize = size.width === frame.width && size.height === frame.height ? undefined : size;
				const data = inline ? scaler.toBufferSync(frame, { resize, format: "rgb" }) : await scaler.toBuffer(frame, { resize, format: "rgb" });
				stats.frames++;
				return { data, ...size, sourceWidth: frame.width, sourceHeight: frame.height, timestamp: t, frameRate, keyFrame: frame.keyFrame === 1 };
			} finally {
				frame.free();
			}
		};

		/** Send one packet and collect the frames it completes (already filtered by the plan). */
		const decode = async (packet: Packet | null): Promise<VideoFrame[]> => {
			try {
				if (inline) decoder!.decodeSync(packet);
				else await decoder!.decode(packet);
			} catch {
				return []; // a damaged packet: the next key frame recovers
			}
			if (packet) stats.decodedPackets++;
			return receiveFrames();
		};

		/** Collect every frame the decoder has ready (already filtered by the plan). */
		const receiveFrames = async (): Promise<VideoFrame[]> => {
			const out: VideoFrame[] = [];
			for (;;) {
				const f = inline ? decoder!.receiveSync() : await decoder!.receive();
				if (!f || f === EOF) break;
				const vf = await toVideoFrame(f);
				if (vf) out.push(vf);
			}
			return out;
		};

		/**
		 * Key mode: a decoder with a reordering delay (streams with B-frames) holds a lone key
		 * frame back until more frames follow, and none will. Drain it out now and reset the
		 * decoder for the next key frame (each is a fresh start).
		 */
		const drainKeyFrame = async (): Promise<VideoFrame[]> => {
			if (inline) decoder!.flushSync();
			else await decoder!.flush();
			const out = await receiveFrames();
			decoder!.getCodecContext()?.flushBuffers();
			return out;
		};

		armWatchdog();
		for await (const packet of input.packets(stream.index)) {
			if (!packet) break;
			armWatchdog();
			let keep = false;
			try {
				stats.packets++;
				stats.bytes = (stats.bytes ?? 0) + packet.size;
				const ts = packet.pts !== AV_NOPTS_VALUE ? packet.pts : packet.dts;
				const t = ts !== AV_NOPTS_VALUE ? seconds(ts, tb) : lastT;
				lastT = t;
				if (frameRate === null) {
					recentPts.push(t);
					if (recentPts.length > 50) recentPts.shift();
					const estimate = recentPts.length >= 10 ? frameRateFromTimestamps([...recentPts].sort((a, b) => a - b)) : null;
					if (estimate) frameRate = Math.round(estimate * 100) / 100;
				}
				const isKey = packet.isKeyframe;
				const action = plan.onPacket(t, isKey);
				stats.mode = plan.mode;
				let frames: VideoFrame[] = [];
				if (action === "catch-up") {
					for (const p of gop) frames.push(...(await decode(p)));
					clearGop();
					frames.push(...(await decode(packet)));
				} else if (action === "decode" && isIdr && plan.mode === "full") {
					// Nothing after an IDR refers to the held packets, and none of them is due.
					if (isKey && isIdr(packet.data ?? Buffer.alloc(0))) clearHeld();
					if (packet.pts !== AV_NOPTS_VALUE && !plan.wanted(t)) {
						held.push(packet);
						keep = true;
					} else {
						for (const p of held) frames.push(...(await decode(p)));
						clearHeld();
						frames.push(...(await decode(packet)));
					}
				} else if (action === "decode") {
					frames = await decode(packet);
					if (frames.length === 0 && isKey && plan.mode === "key") frames = await drainKeyFrame();
				}
				if (plan.buffersGop) {
					if (isKey) clearGop();
					if (gop.length < maxGop) {
						gop.push(packet);
						keep = true;
					} else {
						clearGop();
						plan.gopOverflow();
					}
				}
				for (const f of frames) {
					if (aborted) return;
					yield f;
				}
			} finally {
				if (!keep) packet.free();
			}
			if (aborted) return;
		}
		clearTimeout(watchdog);
		if (aborted) return;
		if (readTimedOut) throw new VideoSourceError("READ_TIMEOUT", `No data for ${Math.round(readMs / 100) / 10} seconds`);
		if (live) throw new VideoSourceError("STREAM_ENDED", "The stream ended");
		for (const f of await decode(null)) yield f;
	} finally {
		clearTimeout(watchdog);
		opts.signal?.removeEventListener("abort", onAbort);
		clearGop();
		clearHeld();
		scaler.close();
		decoder?.close();
		await input.close();
		prepared.relay?.close();
	}
}

export type LiveEvent =
	| { type: "connected"; source: string; attempt: number; openMs: number }
	| { type: "disconnected"; source: string; code: string; reason: string; attempt: number; retryInMs: number; refusal?: VideoSourceError["refusal"] };

export interface LiveOptions extends FrameSourceOptions {
	backoff?: BackoffOptions;
	onEvent?: (event: LiveEvent) => void;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise(resolve => {
		const done = () => {
			clearTimeout(timer);
			signal?.removeEventListener("abort", done);
			resolve();
		};
		const timer = setTimeout(done, ms);
		signal?.addEventListener("abort", done, { once: true });
	});
}

/**
 * A camera that comes back: reopens the source after any disconnect, end-of-stream or
 * failed open, waiting an exponential backoff with jitter (reset once frames flow again).
 * Runs until `signal` aborts; only an invalid source is thrown.
 */
export async function* liveFrames(spec: SourceSpec, opts: LiveOptions = {}): AsyncGenerator<VideoFrame> {
	const display = resolveSource(spec).display;
	let attempt = 0;
	while (!opts.signal?.aborted) {
		let code = "STREAM_ENDED";
		let reason = "The stream ended";
		let refusal: VideoSourceError["refusal"];
		try {
			const source = openFrames(spec, {
				live: true,
				...opts,
				onOpen: info => {
					opts.onEvent?.({ type: "connected", source: display, attempt, openMs: info.openMs });
					opts.onOpen?.(info);
				}
			});
			for await (const frame of source) {
				attempt = 0;
				yield frame;
			}
		} catch (err) {
			if (err instanceof VideoSourceError && err.code === "INVALID_SOURCE") throw err;
			code = err instanceof VideoSourceError ? err.code : "DECODE_FAILED";
			reason = err instanceof Error ? err.message : String(err);
			if (err instanceof VideoSourceError) refusal = err.refusal;
		}
		if (opts.signal?.aborted) break;
		const retryInMs = backoffDelay(attempt, opts.backoff ?? DEFAULT_BACKOFF);
		opts.onEvent?.({ type: "disconnected", source: display, code, reason, attempt, retryInMs, ...(refusal ? { refusal } : {}) });
		attempt++;
		await sleep(retryInMs, opts.signal);
	}
}

export interface GrabResult {
	frames: VideoFrame[];
	/** ms from the start of the open to each frame's arrival. */
	arrivalsMs: number[];
	/** ms from the start of the open to the first frame. */
	latencyMs: number;
	openMs: number;
	frameRate: number | null;
}

/**
 * Open, take `count` consecutive frames with their arrival times, close (test-connection,
 * capture-frame). Fails with CONNECT_* on open, or READ_TIMEOUT when the frames do not all
 * arrive within `connectTimeoutMs + readTimeoutMs`.
 */
export async function grabFrames(spec: SourceSpec, count: number, opts: FrameSourceOptions = {}): Promise<GrabResult> {
	const deadlineMs = (opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS) + (opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS);
	const ctl = new AbortController();
	const outer = opts.signal;
	const relay = () => ctl.abort();
	outer?.addEventListener("abort", relay, { once: true });
	const deadline = setTimeout(() => ctl.abort(), deadlineMs);
	const t0 = performance.now();
	const frames: VideoFrame[] = [];
	const arrivalsMs: number[] = [];
	let openMs = 0;
	let frameRate: number | null = null;
	try {
		for await (const frame of openFrames(spec, { everySeconds: 0, live: false, ...opts, signal: ctl.signal, onOpen: i => (openMs = i.openMs) })) {
			frames.push(frame);
			arrivalsMs.push(performance.now() - t0);
			frameRate = frame.frameRate;
			if (frames.length >= count) break;
		}
	} finally {
		clearTimeout(deadline);
		outer?.removeEventListener("abort", relay);
	}
	if (frames.length === 0) {
		if (outer?.aborted) throw new VideoSourceError("CONNECT_FAILED", "Aborted");
		throw new VideoSourceError("READ_TIMEOUT", ctl.signal.aborted ? `No frame within ${Math.round(deadlineMs / 1000)} seconds` : "The source has no decodable frame");
	}
	if (frames.length < count && ctl.signal.aborted && !outer?.aborted)
		throw new VideoSourceError("READ_TIMEOUT", `Only ${frames.length} of ${count} frames within ${Math.round(deadlineMs / 1000)} seconds`);
	// Prefer the rate the timestamps show over what the container declares.
	const measured = frameRateFromTimestamps(frames.map(f => f.timestamp));
	return { frames, arrivalsMs, latencyMs: Math.round(arrivalsMs[0]), openMs, frameRate: measured ?? frameRate };
}

/** The first decodable frame of a source. */
export async function firstFrame(spec: SourceSpec, opts: FrameSourceOptions = {}): Promise<VideoFrame> {
	return (await grabFrames(spec, 1, opts)).frames[0];
}
