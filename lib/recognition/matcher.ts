/**
 * 1:N matching of a face against a session's students, and the rule that guards against
 * false attendance (the worst error here: a student marked present who was not there).
 *
 * A face is a *sighting* of student S when
 *   1. S is the best match and its calibrated similarity >= the session's threshold, and
 *   2. S beats the second-best student by a margin of MARGIN_COSINE in raw cosine, so two
 *      look-alike students never turn one face into a guess between them.
 * Student S is *reported* (sent to the backend, once per session) at
 *   - the second sighting in different frames, or
 *   - the first sighting if its similarity >= STRONG_SIMILARITY (false-match rate ~1e-4),
 * so a single borderline frame (blur, a look-alike passer-by) is never enough alone.
 */
import { similarityFromCosine } from "../vision/similarity";

export const MARGIN_COSINE = 0.08;
export const STRONG_SIMILARITY = 0.95;
export const SIGHTINGS_TO_REPORT = 2;

export interface Candidate {
	userId: number;
	cosine: number;
	similarity: number;
}

export interface MatchResult {
	best: Candidate | null;
	second: Candidate | null;
	/** Whether this face counts as a sighting of `best`. */
	sighting: boolean;
	reason: "match" | "below-threshold" | "ambiguous" | "no-students";
}

export class StudentGallery {
	private readonly ids: number[];
	private readonly data: Float32Array;
	readonly dimension: number;

	constructor(students: { userId: number; embedding: ArrayLike<number> }[], dimension = 512) {
		this.dimension = dimension;
		this.ids = students.map(s => s.userId);
		this.data = new Float32Array(students.length * dimension);
		students.forEach((s, i) => {
			if (s.embedding.length !== dimension) throw new Error(`student ${s.userId}: embedding must have ${dimension} dimensions`);
			let n = 0;
			for (let j = 0; j < dimension; j++) n += s.embedding[j] * s.embedding[j];
			const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
			for (let j = 0; j < dimension; j++) this.data[i * dimension + j] = s.embedding[j] * inv;
		});
	}

	get size(): number {
		return this.ids.length;
	}

	/** Best and second-best students for a face embedding (normalised here). */
	match(embedding: ArrayLike<number>, threshold: number): MatchResult {
		if (this.ids.length === 0) return { best: null, second: null, sighting: false, reason: "no-students" };
		const d = this.dimension;
		let n = 0;
		for (let j = 0; j < d; j++) n += embedding[j] * embedding[j];
		const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
		let b = -1,
			bc = -Infinity,
			s = -1,
			sc = -Infinity;
		for (let i = 0; i < this.ids.length; i++) {
			let dot = 0;
			const off = i * d;
			for (let j = 0; j < d; j++) dot += embedding[j] * this.data[off + j];
			dot *= inv;
			if (dot > bc) {
				s = b;
				sc = bc;
				b = i;
				bc = dot;
			} else if (dot > sc) {
				s = i;
				sc = dot;
			}
		}
		const cand = (i: number, c: number): Candidate => ({ userId: this.ids[i], cosine: c, similarity: similarityFromCosine(c) });
		const best = cand(b, bc);
		const second = s >= 0 ? cand(s, sc) : null;
		if (best.similarity < threshold) return { best, second, sighting: false, reason: "below-threshold" };
		if (second && best.cosine - second.cosine < MARGIN_COSINE) return { best, second, sighting: false, reason: "ambiguous" };
		return { best, second, sighting: true, reason: "match" };
	}
}

/** Decides when a student's sightings become a report; one report per student per session. */
export class AttendanceRule {
	private readonly sightings = new Map<number, number>();
	private readonly reported = new Set<number>();

	constructor(alreadyReported: Iterable<number> = [], sightings: Iterable<[number, number]> = []) {
		for (const u of alreadyReported) this.reported.add(u);
		for (const [u, n] of sightings) this.sightings.set(u, n);
	}

	isReported(userId: number): boolean {
		return this.reported.has(userId);
	}

	/** Record a sighting; true when this sighting makes the student reportable now. */
	sight(userId: number, similarity: number): boolean {
		const n = (this.sightings.get(userId) ?? 0) + 1;
		this.sightings.set(userId, n);
		if (this.reported.has(userId)) return false;
		if (n >= SIGHTINGS_TO_REPORT || similarity >= STRONG_SIMILARITY) {
			this.reported.add(userId);
			return true;
		}
		return false;
	}

	snapshot(): { reported: number[]; sightings: [number, number][] } {
		return { reported: [...this.reported], sightings: [...this.sightings] };
	}

	/** Back to a snapshot: the decisions of a frame whose results could not be persisted are undone. */
	restore(snap: { reported: number[]; sightings: [number, number][] }): void {
		this.reported.clear();
		this.sightings.clear();
		for (const u of snap.reported) this.reported.add(u);
		for (const [u, n] of snap.sightings) this.sightings.set(u, n);
	}
}
