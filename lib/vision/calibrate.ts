/**
 * Fitting the similarity calibration (see lib/vision/similarity.ts) from labelled pair
 * cosines. Different-person cosines are modelled as a normal distribution (mean, sd fitted
 * on the pairs) whose sd is widened by `tailFactor`, because impostor tails on large,
 * varied sets are heavier than a normal fitted on a small one (issue 3's LFW probe: cosine
 * 0.34 at FAR 1e-3, where a normal fitted to its mean and 95th percentile gives 0.31). Each
 * knot's cosine is also kept at or above the empirical quantile of the data when the data
 * has enough pairs to estimate it, so the fit never promises a lower FAR than observed.
 */
import { normalQuantile, quantile, summary, type ScoredPair } from "./metrics";
import { similarityOfFar, type Calibration } from "./similarity";

export const KNOT_FARS = [0.5, 1e-1, 1e-2, 1e-3, 1e-4];

export function fitCalibration(pairs: ScoredPair[], opts: { tailFactor: number; embeddingVersion: number; data: string }): Calibration {
	const diff = pairs.filter(p => !p.same).map(p => p.score).sort((a, b) => a - b);
	const same = pairs.filter(p => p.same).map(p => p.score);
	if (diff.length < 100) throw new Error(`calibration needs at least 100 different-person pairs, got ${diff.length}`);
	const s = summary(diff);
	const knots: [number, number][] = [[-1, 0]];
	const checks: Record<string, unknown>[] = [];
	for (const far of KNOT_FARS) {
		const model = s.mean + s.sd * opts.tailFactor * normalQuantile(1 - far);
		// An empirical quantile means something only with ~10 pairs beyond it.
		const empirical = far * diff.length >= 10 ? quantile(diff, 1 - far) : null;
		let cos = Math.max(model, empirical ?? -1);
		if (cos <= knots[knots.length - 1][0]) cos = knots[knots.length - 1][0] + 1e-6;
		const sim = similarityOfFar(far);
		knots.push([+cos.toFixed(6), +sim.toFixed(6)]);
		checks.push({
			far,
			similarity: +sim.toFixed(4),
			cosine: +cos.toFixed(4),
			modelCosine: +model.toFixed(4),
			empiricalCosine: empirical === null ? null : +empirical.toFixed(4),
			observedFar: +(diff.filter(c => c >= cos).length / diff.length).toFixed(6),
			observedTar: same.length ? +(same.filter(c => c >= cos).length / same.length).toFixed(4) : null
		});
	}
	knots.push([1, 1]);
	return {
		embeddingVersion: opts.embeddingVersion,
		method: `normal model of different-person cosines (mean ${s.mean.toFixed(4)}, sd ${s.sd.toFixed(4)}) with sd x ${opts.tailFactor}, knots at FAR ${KNOT_FARS.join(", ")}; similarity = 0.55 + 0.1*log10(1/FAR), linear between knots`,
		data: opts.data,
		differentPairs: diff.length,
		samePairs: same.length,
		tailFactor: opts.tailFactor,
		fit: { mean: s.mean, sd: s.sd },
		knots,
		checks
	};
}
