/**
 * Which frames of one streaming connection are analysed (seed 003's MAX_FRAME_RATE): one frame
 * at a time, started at most `maxFps` times a second, and at most ONE frame waiting. A frame
 * that arrives while another waits replaces it (the newest is the one worth analysing) and the
 * replaced frame is dropped: `busy` when it waited behind a frame still being analysed, `rate`
 * when it waited only for the rate. A sender within the rate loses nothing to jitter (a frame
 * that comes a little early waits for its slot), a faster sender has the surplus dropped, and
 * memory per connection is one frame whatever the client sends. Pure: time is passed in.
 *
 *   gate.offer(frame, now)   -> the frame it replaced, if any
 *   gate.take(now)           -> {start: frame} | {waitMs} | null (nothing to do, or one is running)
 *   gate.finish()            -> the running frame is done
 */

export type DropReason = "rate" | "busy";

export interface GateStats {
	/** Frames offered. */
	received: number;
	/** Frames started (each gets an answer: its result or an error). */
	started: number;
	/** Frames dropped, in all and by reason. */
	dropped: number;
	droppedRate: number;
	droppedBusy: number;
}

export class FrameGate<T> {
	private pending: T | null = null;
	private running = false;
	private lastStart = -Infinity;
	private readonly minIntervalMs: number;
	private readonly counts = { received: 0, started: 0, droppedRate: 0, droppedBusy: 0 };

	constructor(maxFps: number) {
		if (!(maxFps > 0)) throw new RangeError("maxFps must be positive");
		this.minIntervalMs = 1000 / maxFps;
	}

	/** A frame arrived; answers the waiting frame it replaced (dropped), if there was one. */
	offer(frame: T, _now: number): { frame: T; reason: DropReason } | null {
		this.counts.received++;
		const replaced = this.pending;
		this.pending = frame;
		if (replaced === null) return null;
		const reason: DropReason = this.running ? "busy" : "rate";
		if (reason === "busy") this.counts.droppedBusy++;
		else this.counts.droppedRate++;
		return { frame: replaced, reason };
	}

	/** The frame to analyse now, or how long until the waiting one may start; null: nothing to start. */
	take(now: number): { start: T } | { waitMs: number } | null {
		if (this.running || this.pending === null) return null;
		const wait = this.lastStart + this.minIntervalMs - now;
		if (wait > 0) return { waitMs: Math.ceil(wait) };
		const frame = this.pending;
		this.pending = null;
		this.running = true;
		this.lastStart = now;
		this.counts.started++;
		return { start: frame };
	}

	/** The running frame is done (answered). */
	finish(): void {
		this.running = false;
	}

	get busy(): boolean {
		return this.running;
	}

	get waiting(): boolean {
		return this.pending !== null;
	}

	/** Forget the waiting frame (the connection closes); answers it. */
	clear(): T | null {
		const p = this.pending;
		this.pending = null;
		return p;
	}

	stats(): GateStats {
		const c = this.counts;
		return { received: c.received, started: c.started, dropped: c.droppedRate + c.droppedBusy, droppedRate: c.droppedRate, droppedBusy: c.droppedBusy };
	}
}
