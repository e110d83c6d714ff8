/**
 * Which packets a sampled source decodes. Sampling one frame every few seconds must not
 * cost a full decode: while key frames come often enough, only the first key frame at or
 * after each due time reaches the decoder (every other packet is dropped before it). When
 * a due frame's key frame is more than half an interval late, the stream's key frames are
 * too rare: the plan switches to full decoding for good, first replaying the packets since
 * the last key frame so the decoder catches up at once.
 *
 * Pure: the frame source feeds it packet times and key flags and does what it says.
 */
export type SamplingMode = "key" | "full";

export type PacketAction =
	/** Drop the packet (not needed, or no key frame yet to start from). */
	| "skip"
	/** Send it to the decoder. */
	| "decode"
	/** Switch to full decoding: replay the buffered packets since the last key frame, then this one. */
	| "catch-up";

export interface SamplingOptions {
	/** Yield at most one frame per this many seconds; 0 yields every frame. */
	everySeconds: number;
	/** "auto": key frames only while they are frequent enough; "never": always decode fully. */
	keyFramesOnly: "auto" | "never";
	/**
	 * The second frame is due this long after the first (0 < phase <= everySeconds), then every
	 * everySeconds: sources opened together (a node's cameras at start) then sample at
	 * different instants, not all in the same one. Default everySeconds.
	 */
	phaseSeconds?: number;
}

export class SamplingPlan {
	mode: SamplingMode;
	/** Stream time (s) from which the next frame may be yielded. */
	private nextDue = Number.NEGATIVE_INFINITY;
	private started = false;
	/**
	 * Key mode: the caller holds every packet since the last key frame (a catch-up is possible).
	 * Full mode: the decoder has had every packet since a key frame.
	 */
	private gopComplete = false;
	private readonly every: number;
	/** The gap after the first frame; then `every`. */
	private firstGap: number;

	constructor(opts: SamplingOptions) {
		this.every = Math.max(0, opts.everySeconds);
		const phase = opts.phaseSeconds ?? this.every;
		this.firstGap = phase > 0 && phase <= this.every ? phase : this.every;
		this.mode = this.every > 0 && opts.keyFramesOnly === "auto" ? "key" : "full";
	}

	/** Whether the caller should keep packets since the last key frame (for a catch-up). */
	get buffersGop(): boolean {
		return this.mode === "key";
	}

	/** The caller dropped its buffer (it grew too large): a catch-up must wait for a key frame. */
	gopOverflow(): void {
		this.gopComplete = false;
	}

	/** Decide what to do with a video packet at stream time `t` (s). */
	onPacket(t: number, isKey: boolean): PacketAction {
		if (isKey) this.gopComplete = true;
		if (!this.started) {
			// A decoder can only start at a key frame.
			if (!isKey) return "skip";
			this.started = true;
			return "decode";
		}
		// Full decoding needs every packet since a key frame; after an overflow, wait for one.
		if (this.mode === "full") return this.gopComplete ? "decode" : "skip";
		if (isKey) return t >= this.nextDue ? "decode" : "skip";
		if (t > this.nextDue + this.every / 2) {
			this.mode = "full";
			return this.gopComplete ? "catch-up" : "skip";
		}
		return "skip";
	}

	/**
	 * Could a frame at stream time `t` still be yielded? False once a later frame is due:
	 * the due time only moves forward, so the answer stays false.
	 */
	wanted(t: number): boolean {
		return t >= this.nextDue;
	}

	/** A decoded frame at stream time `t`: yield it? */
	onFrame(t: number): boolean {
		if (t < this.nextDue) return false;
		this.nextDue = t + this.firstGap - 1e-6;
		this.firstGap = this.every;
		return true;
	}
}

/** Output size for a source size and a request: both sides exact, one side keeps the aspect, none keeps the source. */
export function targetSize(sourceWidth: number, sourceHeight: number, want: { width?: number; height?: number }): { width: number; height: number } {
	const w = want.width && want.width > 0 ? Math.round(want.width) : 0;
	const h = want.height && want.height > 0 ? Math.round(want.height) : 0;
	if (w && h) return { width: w, height: h };
	if (w) return { width: w, height: Math.max(1, Math.round((sourceHeight * w) / sourceWidth)) };
	if (h) return { width: Math.max(1, Math.round((sourceWidth * h) / sourceHeight)), height: h };
	return { width: sourceWidth, height: sourceHeight };
}
