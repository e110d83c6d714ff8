/**
 * Per-fold verification figures (the LFW protocol): for each fold its best accuracy (best
 * threshold of that fold), its accuracy at the threshold that is best on the other folds
 * (the protocol's honest figure: the threshold is never chosen on the pairs it is scored
 * on), TAR at FAR 1e-3 and AUC; and the mean of each over the folds.
 */
import { bestAccuracy, rocAuc, tarAtFar, type ScoredPair } from "./metrics";

export interface FoldFigures {
	fold: string;
	pairs: number;
	bestAccuracy: number;
	/** Accuracy at the threshold that is best on the other folds (null with one fold). */
	crossAccuracy: number | null;
	tarAtFar1e3: number;
	auc: number;
}

export interface FoldReport {
	folds: FoldFigures[];
	mean: { bestAccuracy: number; crossAccuracy: number | null; tarAtFar1e3: number; auc: number };
}

const accuracyAt = (pairs: ScoredPair[], t: number) => pairs.filter(p => (p.score >= t) === p.same).length / (pairs.length || 1);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / (xs.length || 1);

export function foldReport(pairs: (ScoredPair & { fold: string })[]): FoldReport {
	const names = [...new Set(pairs.map(p => p.fold))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
	const folds = names.map(fold => {
		const mine = pairs.filter(p => p.fold === fold);
		const others = pairs.filter(p => p.fold !== fold);
		return {
			fold,
			pairs: mine.length,
			bestAccuracy: bestAccuracy(mine).accuracy,
			crossAccuracy: others.length ? accuracyAt(mine, bestAccuracy(others).threshold) : null,
			tarAtFar1e3: tarAtFar(mine, 1e-3).tar,
			auc: rocAuc(mine)
		};
	});
	const cross = folds.map(f => f.crossAccuracy).filter((x): x is number => x !== null);
	return {
		folds,
		mean: {
			bestAccuracy: mean(folds.map(f => f.bestAccuracy)),
			crossAccuracy: cross.length === folds.length && folds.length > 0 ? mean(cross) : null,
			tarAtFar1e3: mean(folds.map(f => f.tarAtFar1e3)),
			auc: mean(folds.map(f => f.auc))
		}
	};
}
