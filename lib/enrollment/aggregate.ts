/**
 * One enrollment embedding from many frames. Rather than "the single best frame", the
 * best frames of the one person in the video are combined: a quality-weighted mean of
 * their L2-normalised embeddings, renormalised (averaging cancels per-frame noise such
 * as blur, expression and pose). A video whose main face is two different people is
 * refused rather than enrolled as a blend of both.
 */

export interface FrameEmbedding {
	embedding: ArrayLike<number>;
	/** Overall quality of the face in that frame, 0..1. */
	quality: number;
}

export interface AggregateOptions {
	/** How many of the best frames to combine. */
	topK?: number;
	/**
	 * Raw cosine under which two faces are taken for different people. The embedder's
	 * different-person pairs stay under ~0.17 (95th percentile) and its false-match rate
	 * of 1e-3 sits near 0.34; frames of one person in one video score far above.
	 */
	samePersonCosine?: number;
	/** Share of face frames that must disagree with the main person to call it two people. */
	secondPersonShare?: number;
}

export interface Aggregate {
	embedding: Float32Array;
	/** Quality-weighted mean quality of the frames used. */
	quality: number;
	framesUsed: number;
	/** Frames dropped as not the main person (misdetections, passers-by). */
	outliers: number;
}

export class MultipleIdentitiesError extends Error {
	constructor(
		readonly mainFrames: number,
		readonly otherFrames: number
	) {
		super(`The video shows more than one person as the main face (${mainFrames} and ${otherFrames} frames)`);
	}
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
	let s = 0;
	for (let i = 0; i < a.length; i++) s += a[i] * b[i];
	return s;
}

export function normalize(v: ArrayLike<number>): Float32Array {
	const out = Float32Array.from(v);
	const n = Math.sqrt(dot(out, out));
	if (!(n > 0)) throw new Error("cannot normalise a zero vector");
	for (let i = 0; i < out.length; i++) out[i] /= n;
	return out;
}

/** Mean of some unit vectors, renormalised. */
function centroid(unit: Float32Array[], members: number[]): Float32Array {
	const sum = new Float32Array(unit[0].length);
	for (const i of members) for (let k = 0; k < sum.length; k++) sum[k] += unit[i][k];
	return normalize(sum);
}

export function aggregateEmbeddings(frames: FrameEmbedding[], opts: AggregateOptions = {}): Aggregate {
	if (frames.length === 0) throw new Error("no frame with a face");
	const topK = opts.topK ?? 8;
	const same = opts.samePersonCosine ?? 0.3;
	const share = opts.secondPersonShare ?? 0.2;
	const unit = frames.map(f => normalize(f.embedding));

	// The main person: the frame most similar to all others (medoid), weighted by quality.
	let medoid = 0;
	let best = -Infinity;
	for (let i = 0; i < unit.length; i++) {
		let s = 0;
		for (let j = 0; j < unit.length; j++) if (i !== j) s += dot(unit[i], unit[j]) * frames[j].quality;
		if (s > best) {
			best = s;
			medoid = i;
		}
	}
	const inliers: number[] = [];
	const outliers: number[] = [];
	unit.forEach((u, i) => (dot(u, unit[medoid]) >= same ? inliers : outliers).push(i));

	// Outliers that agree among themselves are a second person, not noise, unless the two
	// groups as a whole are one person: single frames of one person in different light or pose
	// can fall under `same` against the medoid while the groups' mean embeddings, with the
	// per-frame noise averaged out, stay well above it (different people stay under it).
	if (outliers.length >= 2 && outliers.length >= share * frames.length) {
		const second = outliers.filter(i => outliers.filter(j => j !== i && dot(unit[i], unit[j]) >= same).length >= Math.ceil((outliers.length - 1) / 2));
		if (second.length >= 2 && second.length >= share * frames.length) {
			if (dot(centroid(unit, inliers), centroid(unit, second)) < same) throw new MultipleIdentitiesError(inliers.length, second.length);
			inliers.push(...second);
			for (const i of second) outliers.splice(outliers.indexOf(i), 1);
		}
	}

	const chosen = inliers.sort((a, b) => frames[b].quality - frames[a].quality).slice(0, topK);
	const dim = unit[0].length;
	const sum = new Float32Array(dim);
	let weight = 0;
	let q = 0;
	for (const i of chosen) {
		const w = Math.max(1e-3, frames[i].quality);
		for (let k = 0; k < dim; k++) sum[k] += w * unit[i][k];
		weight += w;
		q += w * frames[i].quality;
	}
	return { embedding: normalize(sum), quality: q / weight, framesUsed: chosen.length, outliers: outliers.length };
}
