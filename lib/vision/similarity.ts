/**
 * Similarity: the score the API reports and thresholds against is a calibrated, monotonic
 * map of the embedder's cosine, fitted on labelled different-person pairs
 * (config/calibration.json, refitted by `npm run calibrate`; method in docs/vision.md):
 *
 *   similarity = 0.55 + 0.10 * log10(1 / FAR(cosine))
 *
 * where FAR(c) is the fitted false-match rate of a different-person pair at cosine >= c.
 * So 0.65 means FAR 1e-1, 0.75 -> 1e-2, 0.85 -> 1e-3, 0.95 -> 1e-4; between the knots it is
 * linear in cosine, and it falls linearly to 0 at cosine -1 and rises to 1 at cosine 1.
 */
import calibrationJson from "../../config/calibration.json";

export interface Calibration {
	embeddingVersion: number;
	method: string;
	/** (cosine, similarity) knots, strictly increasing in both. */
	knots: [number, number][];
	[k: string]: unknown;
}

export const CALIBRATION = calibrationJson as unknown as Calibration;

/**
 * The calibration belongs to one embedder: a model set of another embeddingVersion needs a
 * calibration of its own (`npm run calibrate`), or every similarity it reports is meaningless.
 */
export function assertCalibrated(embeddingVersion: number, calibration: Calibration = CALIBRATION): void {
	if (calibration.embeddingVersion !== embeddingVersion)
		throw new Error(`No similarity calibration for embeddingVersion ${embeddingVersion}: config/calibration.json is for version ${calibration.embeddingVersion} (fit one with npm run calibrate)`);
}

export class EmbeddingVersionError extends Error {
	constructor(a: number, b: number) {
		super(`embeddings of different versions cannot be compared (${a} vs ${b})`);
		this.name = "EmbeddingVersionError";
	}
}

export interface VersionedEmbedding {
	embedding: ArrayLike<number>;
	embeddingVersion: number;
}

type EmbeddingLike = ArrayLike<number> | VersionedEmbedding;

const isVersioned = (e: EmbeddingLike): e is VersionedEmbedding => typeof (e as VersionedEmbedding).embeddingVersion === "number";

/**
 * Cosine of two embeddings. Versioned embeddings of different versions throw; a versioned
 * and a bare vector are compared (the caller vouches for the bare one).
 */
export function cosine(a: EmbeddingLike, b: EmbeddingLike): number {
	if (isVersioned(a) && isVersioned(b) && a.embeddingVersion !== b.embeddingVersion) throw new EmbeddingVersionError(a.embeddingVersion, b.embeddingVersion);
	const x = isVersioned(a) ? a.embedding : a;
	const y = isVersioned(b) ? b.embedding : b;
	if (x.length !== y.length || x.length === 0) throw new Error(`embedding lengths differ (${x.length} vs ${y.length})`);
	let dot = 0,
		nx = 0,
		ny = 0;
	for (let i = 0; i < x.length; i++) {
		dot += x[i] * y[i];
		nx += x[i] * x[i];
		ny += y[i] * y[i];
	}
	if (nx === 0 || ny === 0) return 0;
	return dot / Math.sqrt(nx * ny);
}

function interpolate(x: number, knots: [number, number][], from: 0 | 1): number {
	const to = from === 0 ? 1 : 0;
	if (x <= knots[0][from]) return knots[0][to];
	for (let i = 1; i < knots.length; i++)
		if (x <= knots[i][from]) {
			const [p, q] = [knots[i - 1], knots[i]];
			return p[to] + ((x - p[from]) / (q[from] - p[from])) * (q[to] - p[to]);
		}
	return knots[knots.length - 1][to];
}

/** Calibrated similarity in [0, 1] of a raw cosine. */
export function similarityFromCosine(cos: number, cal: Calibration = CALIBRATION): number {
	return interpolate(Math.max(-1, Math.min(1, cos)), cal.knots, 0);
}

/** The cosine a similarity threshold stands for (e.g. for a vector store's min score). */
export function cosineFromSimilarity(sim: number, cal: Calibration = CALIBRATION): number {
	return interpolate(Math.max(0, Math.min(1, sim)), cal.knots, 1);
}

/** Similarity of a FAR on the calibration's scale (0.85 <-> 1e-3). */
export const similarityOfFar = (far: number) => 0.55 + 0.1 * Math.log10(1 / far);

/** L2-normalise in place; returns the array. */
export function l2normalize<T extends { length: number; [i: number]: number }>(v: T): T {
	let n = 0;
	for (let i = 0; i < v.length; i++) n += v[i] * v[i];
	n = Math.sqrt(n);
	if (n > 0) for (let i = 0; i < v.length; i++) v[i] /= n;
	return v;
}
