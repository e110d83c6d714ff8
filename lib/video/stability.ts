/**
 * Stream stability from the arrival intervals of consecutive frames (ms): a camera whose
 * frames come at an even pace is stable; one with bursts and gaps is unstable. Fewer than
 * three intervals say nothing.
 */
export type Stability = "stable" | "unstable" | "unknown";

/** Coefficient of variation above which the pace is called uneven. */
export const MAX_STABLE_CV = 0.5;
/** A single gap this many times the median interval is a stall. */
export const MAX_STABLE_GAP = 3;

export function streamStability(intervalsMs: readonly number[]): Stability {
	const xs = intervalsMs.filter(x => Number.isFinite(x) && x >= 0);
	if (xs.length < 3) return "unknown";
	const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
	if (mean <= 0) return "unknown";
	const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) * (b - mean), 0) / xs.length);
	const sorted = [...xs].sort((a, b) => a - b);
	const median = sorted[Math.floor(sorted.length / 2)];
	const maxGap = sorted[sorted.length - 1];
	if (sd / mean > MAX_STABLE_CV) return "unstable";
	if (median > 0 && maxGap > MAX_STABLE_GAP * median) return "unstable";
	return "stable";
}

/** Frames per second from presentation timestamps (s) of consecutive frames; null when unknown. */
export function frameRateFromTimestamps(timestamps: readonly number[]): number | null {
	if (timestamps.length < 2) return null;
	const span = timestamps[timestamps.length - 1] - timestamps[0];
	if (!(span > 0)) return null;
	return (timestamps.length - 1) / span;
}
