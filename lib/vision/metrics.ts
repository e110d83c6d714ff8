/**
 * Verification metrics over labelled pair scores (pure; used by bench/eval.ts and the
 * calibration script): ROC AUC, best accuracy, TAR at a FAR, distribution summaries.
 */

export interface ScoredPair {
	score: number;
	same: boolean;
}

/** ROC AUC: the probability a same pair scores above a different pair (ties count half). */
export function rocAuc(pairs: ScoredPair[]): number {
	const sorted = [...pairs].sort((a, b) => a.score - b.score);
	let pos = 0,
		neg = 0,
		rankSum = 0;
	for (let i = 0; i < sorted.length; ) {
		let j = i;
		while (j < sorted.length && sorted[j].score === sorted[i].score) j++;
		const avgRank = (i + j + 1) / 2;
		for (let k = i; k < j; k++)
			if (sorted[k].same) {
				pos++;
				rankSum += avgRank;
			} else neg++;
		i = j;
	}
	if (pos === 0 || neg === 0) return NaN;
	return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** The threshold (score >= t means same) with the best accuracy. */
export function bestAccuracy(pairs: ScoredPair[]): { accuracy: number; threshold: number } {
	const sorted = [...pairs].sort((a, b) => a.score - b.score);
	const pos = sorted.filter(p => p.same).length;
	// Threshold below everything: all called same.
	let correct = pos;
	let best = { accuracy: correct / sorted.length, threshold: sorted.length ? sorted[0].score : 0 };
	for (let i = 0; i < sorted.length; i++) {
		correct += sorted[i].same ? -1 : 1;
		if (i + 1 < sorted.length && sorted[i + 1].score === sorted[i].score) continue;
		const t = i + 1 < sorted.length ? (sorted[i].score + sorted[i + 1].score) / 2 : sorted[i].score + 1e-6;
		if (correct / sorted.length > best.accuracy) best = { accuracy: correct / sorted.length, threshold: t };
	}
	return best;
}

/**
 * TAR at a FAR: the smallest threshold whose share of different pairs at or above it is
 * <= far, and the share of same pairs at or above it.
 */
export function tarAtFar(pairs: ScoredPair[], far: number): { tar: number; threshold: number; far: number } {
	const neg = pairs.filter(p => !p.same).map(p => p.score).sort((a, b) => b - a);
	const pos = pairs.filter(p => p.same).map(p => p.score);
	const allowed = Math.floor(far * neg.length);
	// Strictly above the (allowed+1)-th highest different-pair score.
	const threshold = neg.length > allowed ? neg[allowed] + 1e-9 : -Infinity;
	const tar = pos.filter(s => s >= threshold).length / (pos.length || 1);
	const falses = neg.filter(s => s >= threshold).length / (neg.length || 1);
	return { tar, threshold, far: falses };
}

export function quantile(sortedAsc: number[], q: number): number {
	if (sortedAsc.length === 0) return NaN;
	const pos = (sortedAsc.length - 1) * q;
	const lo = Math.floor(pos),
		hi = Math.ceil(pos);
	return sortedAsc[lo] + (sortedAsc[hi] - sortedAsc[lo]) * (pos - lo);
}

export function summary(values: number[]) {
	const s = [...values].sort((a, b) => a - b);
	const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
	const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, s.length - 1));
	return { n: s.length, mean, sd, min: s[0], p01: quantile(s, 0.01), p05: quantile(s, 0.05), median: quantile(s, 0.5), p95: quantile(s, 0.95), p99: quantile(s, 0.99), max: s[s.length - 1] };
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
	if (!(p > 0 && p < 1)) throw new Error(`normalQuantile needs 0 < p < 1, got ${p}`);
	const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
	const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
	const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
	const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
	const lo = 0.02425;
	if (p < lo) {
		const q = Math.sqrt(-2 * Math.log(p));
		return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	if (p > 1 - lo) return -normalQuantile(1 - p);
	const q = p - 0.5,
		r = q * q;
	return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
