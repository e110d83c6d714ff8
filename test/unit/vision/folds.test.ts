import { foldReport } from "../../../lib/vision/folds";

describe("per-fold verification figures", () => {
	// Fold a separates at 0.5; fold b has one same pair at 0.45 (below a's threshold).
	const pairs = [
		{ fold: "a", same: true, score: 0.9 },
		{ fold: "a", same: true, score: 0.6 },
		{ fold: "a", same: false, score: 0.4 },
		{ fold: "a", same: false, score: 0.1 },
		{ fold: "b", same: true, score: 0.8 },
		{ fold: "b", same: true, score: 0.45 },
		{ fold: "b", same: false, score: 0.3 },
		{ fold: "b", same: false, score: 0.2 }
	];

	it("reports each fold's best accuracy, its accuracy at the other folds' threshold, TAR and AUC, and their means", () => {
		const r = foldReport(pairs);
		expect(r.folds.map(f => f.fold)).toEqual(["a", "b"]);
		expect(r.folds.map(f => f.pairs)).toEqual([4, 4]);
		expect(r.folds.map(f => f.bestAccuracy)).toEqual([1, 1]);
		// b's best threshold (0.375) lets a's 0.4 different pair through; a's (0.5) puts b's 0.45 same pair below.
		expect(r.folds[0].crossAccuracy).toBe(0.75);
		expect(r.folds[1].crossAccuracy).toBe(0.75);
		expect(r.folds.map(f => f.auc)).toEqual([1, 1]);
		expect(r.folds.map(f => f.tarAtFar1e3)).toEqual([1, 1]);
		expect(r.mean.bestAccuracy).toBe(1);
		expect(r.mean.crossAccuracy).toBe(0.75);
	});

	it("gives no cross-fold accuracy with a single fold", () => {
		const r = foldReport(pairs.filter(p => p.fold === "a"));
		expect(r.folds[0].crossAccuracy).toBeNull();
		expect(r.mean.crossAccuracy).toBeNull();
	});
});
