import { assertCalibrated, CALIBRATION, cosine, cosineFromSimilarity, EmbeddingVersionError, l2normalize, similarityFromCosine, similarityOfFar } from "../../../lib/vision/similarity";
import { fitCalibration } from "../../../lib/vision/calibrate";
import { bestAccuracy, normalQuantile, rocAuc, tarAtFar, type ScoredPair } from "../../../lib/vision/metrics";

describe("cosine", () => {
	it("of parallel, orthogonal and opposite vectors", () => {
		expect(cosine([1, 2, 3], [2, 4, 6])).toBeCloseTo(1);
		expect(cosine([1, 0], [0, 3])).toBeCloseTo(0);
		expect(cosine([1, 1], [-1, -1])).toBeCloseTo(-1);
	});
	it("compares versioned embeddings of one version and refuses different versions", () => {
		expect(cosine({ embedding: [1, 0], embeddingVersion: 1 }, { embedding: [1, 0], embeddingVersion: 1 })).toBeCloseTo(1);
		expect(() => cosine({ embedding: [1, 0], embeddingVersion: 1 }, { embedding: [1, 0], embeddingVersion: 2 })).toThrow(EmbeddingVersionError);
	});
	it("refuses vectors of different lengths", () => {
		expect(() => cosine([1, 2], [1, 2, 3])).toThrow(/lengths differ/);
	});
	it("l2normalize makes unit vectors", () => {
		const v = l2normalize([3, 4]);
		expect(v).toEqual([0.6, 0.8]);
	});
});

describe("calibrated similarity", () => {
	it("belongs to one embedder version: another version has no calibration and is refused", () => {
		expect(() => assertCalibrated(CALIBRATION.embeddingVersion)).not.toThrow();
		expect(() => assertCalibrated(CALIBRATION.embeddingVersion + 1)).toThrow(/No similarity calibration for embeddingVersion 2/);
	});

	it("is monotonic over the whole cosine range and maps onto [0, 1]", () => {
		let prev = -Infinity;
		for (let c = -1; c <= 1.0001; c += 0.01) {
			const s = similarityFromCosine(c);
			expect(s).toBeGreaterThan(prev);
			expect(s).toBeGreaterThanOrEqual(0);
			expect(s).toBeLessThanOrEqual(1);
			prev = s;
		}
	});
	it("0.85 stands for the fitted FAR 1e-3 cosine, and the committed fit is at least as strict as the LFW probe (0.34)", () => {
		const knot = CALIBRATION.knots.find(k => k[1] === 0.85)!;
		expect(knot).toBeDefined();
		expect(similarityFromCosine(knot[0])).toBeCloseTo(0.85, 6);
		expect(cosineFromSimilarity(0.85)).toBeCloseTo(knot[0], 6);
		expect(knot[0]).toBeGreaterThanOrEqual(0.34);
		expect(similarityOfFar(1e-3)).toBeCloseTo(0.85);
	});
	it("fitting on normal different-person cosines puts 0.85 at mean + tailFactor*sd*z(1e-3)", () => {
		// Deterministic normal sample by inverse CDF on a grid.
		const n = 5000;
		const pairs: ScoredPair[] = Array.from({ length: n }, (_, i) => ({ score: 0.02 + 0.1 * normalQuantile((i + 0.5) / n), same: false }));
		pairs.push(...Array.from({ length: 200 }, (_, i) => ({ score: 0.5 + 0.2 * ((i + 0.5) / 200), same: true })));
		const cal = fitCalibration(pairs, { tailFactor: 1.2, embeddingVersion: 1, data: "synthetic" });
		const c85 = cal.knots.find(k => k[1] === 0.85)![0];
		expect(c85).toBeCloseTo(0.02 + 0.1 * 1.2 * 3.0902, 2);
		// The fit is never more permissive than the observed FAR where the data can tell.
		const c75 = cal.knots.find(k => k[1] === 0.75)![0];
		expect(pairs.filter(p => !p.same && p.score >= c75).length / n).toBeLessThanOrEqual(0.01);
	});
});

describe("metrics", () => {
	const pairs: ScoredPair[] = [
		{ score: 0.9, same: true },
		{ score: 0.6, same: true },
		{ score: 0.5, same: false },
		{ score: 0.7, same: false },
		{ score: 0.1, same: false }
	];
	it("AUC counts same-over-different orderings", () => {
		// same 0.9 beats all 3; same 0.6 beats 2 of 3 -> 5/6
		expect(rocAuc(pairs)).toBeCloseTo(5 / 6);
	});
	it("best accuracy and its threshold", () => {
		const b = bestAccuracy(pairs);
		expect(b.accuracy).toBeCloseTo(4 / 5);
		expect(pairs.filter(p => (p.score >= b.threshold) === p.same).length).toBe(4);
	});
	it("TAR at FAR 0 puts the threshold above the highest different pair", () => {
		const r = tarAtFar(pairs, 0);
		expect(r.far).toBe(0);
		expect(r.tar).toBe(0.5);
	});
	it("normalQuantile matches known values", () => {
		expect(normalQuantile(0.5)).toBeCloseTo(0, 8);
		expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
		expect(normalQuantile(1 - 1e-3)).toBeCloseTo(3.090232, 5);
	});
});
