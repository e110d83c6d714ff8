/**
 * Face tracks of one camera, across its sampled frames. A face joins the live track it
 * overlaps or resembles most (box IoU and embedding cosine), else starts one; a track not seen
 * for `maxGapMs` ends. A track's identity is decided on its evidence with the same guard as
 * sessions (lib/recognition/matcher.ts): a frame is a *sighting* of profile P when P is the
 * best gallery match at or above the threshold and beats the second best by the margin; the
 * track is *confirmed* as P at the second sighting, or at one of at least STRONG similarity.
 * A track seen in `unknownAfter` frames with no sighting is `unknown` (it can still be
 * confirmed later). One person walking past is one track, one detection. Pure.
 */
import { similarityFromCosine } from "../vision/similarity";
import { MARGIN_COSINE, SIGHTINGS_TO_REPORT, STRONG_SIMILARITY } from "./matcher";

export type Box = [number, number, number, number];

export interface GalleryHit {
	profileId: string;
	employeeId: string;
	cosine: number;
	similarity: number;
}

/** A gallery point as `gallery.search` answers it (highest cosine first). */
export interface GalleryPoint {
	score: number;
	payload: { profileId: string; employeeId: string };
}

/**
 * A face's two candidates from its `gallery.search` answer (limit 2): the best, and the
 * second only when it is another person (a person's own photos are one candidate), with
 * their calibrated similarity. What the tracker's guard reads (monitors and the stream alike).
 */
export function candidatesOf(hits: readonly GalleryPoint[]): { best: GalleryHit | null; second: GalleryHit | null } {
	const [a, b] = hits.map(h => ({ profileId: h.payload.profileId, employeeId: h.payload.employeeId, cosine: h.score, similarity: similarityFromCosine(h.score) }));
	return { best: a ?? null, second: b && a && b.profileId !== a.profileId ? b : null };
}

export interface TrackedFace {
	box: Box;
	/** Unit-length embedding, or null when the face had none. */
	embedding: ArrayLike<number> | null;
	/** Best and second-best gallery matches of this face. */
	best: GalleryHit | null;
	second: GalleryHit | null;
	quality: number;
}

export type TrackStatus = "tentative" | "unknown" | "authorized";

export interface Track {
	id: string;
	firstAt: number;
	lastAt: number;
	frames: number;
	box: Box;
	/** Running mean of the track's embeddings, unit length. */
	embedding: Float32Array | null;
	status: TrackStatus;
	identity: GalleryHit | null;
	/** Sightings per profile. */
	sightings: Record<string, number>;
	/** Highest similarity of a sighting of the identity (or the best match seen, while unknown). */
	confidence: number;
	/** The sharpest, largest face of the track so far: its thumbnail's frame. */
	bestQuality: number;
	bestAt: number;
	bestBox: Box;
}

export interface TrackerOptions {
	threshold: number;
	margin?: number;
	strong?: number;
	sightingsToConfirm?: number;
	/** A track unseen this long ends. */
	maxGapMs: number;
	/** Frames without a sighting before a track is `unknown`. */
	unknownAfter?: number;
	minIou?: number;
	/** A face far from the track joins it only when at least this alike. */
	minCosine?: number;
	/** A face never joins a track it is less alike than this, wherever it is. */
	sameCosine?: number;
}

export interface TrackUpdate {
	/** Tracks whose status changed in this frame (now unknown, or now authorized). */
	changed: Track[];
	/** Every track that got a face in this frame. */
	seen: Track[];
	/** Each face's track, in the order of the faces given. */
	assigned: Track[];
}

export function iou(a: Box, b: Box): number {
	const x1 = Math.max(a[0], b[0]);
	const y1 = Math.max(a[1], b[1]);
	const x2 = Math.min(a[2], b[2]);
	const y2 = Math.min(a[3], b[3]);
	const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
	const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
	return union > 0 ? inter / union : 0;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
	let s = 0;
	for (let i = 0; i < a.length; i++) s += a[i] * b[i];
	return s;
}

function normalized(v: ArrayLike<number>): Float32Array {
	const out = Float32Array.from(v as ArrayLike<number>);
	const n = Math.sqrt(dot(out, out));
	if (n > 0) for (let i = 0; i < out.length; i++) out[i] /= n;
	return out;
}

export class CameraTracker {
	private live: Track[] = [];
	private seq = 0;
	private readonly o: Required<TrackerOptions>;

	constructor(
		opts: TrackerOptions,
		private readonly newId: () => string = () => `t${Date.now().toString(36)}${(this.seq++).toString(36)}`
	) {
		this.o = { margin: MARGIN_COSINE, strong: STRONG_SIMILARITY, sightingsToConfirm: SIGHTINGS_TO_REPORT, unknownAfter: 2, minIou: 0.2, minCosine: 0.55, sameCosine: 0.3, ...opts };
	}

	get tracks(): readonly Track[] {
		return this.live;
	}

	/** End the tracks unseen since `now - maxGapMs`; answers them. */
	expire(now: number): Track[] {
		const ended = this.live.filter(t => now - t.lastAt > this.o.maxGapMs);
		this.live = this.live.filter(t => now - t.lastAt <= this.o.maxGapMs);
		return ended;
	}

	/** The faces of one frame at `at` (epoch ms). */
	update(faces: TrackedFace[], at: number): TrackUpdate {
		this.expire(at);
		// Greedy assignment by a combined score, best pairs first; a track takes one face a frame.
		const pairs: { f: number; t: Track; score: number }[] = [];
		faces.forEach((face, f) => {
			for (const t of this.live) {
				const overlap = iou(face.box, t.box);
				const both = !!face.embedding && !!t.embedding;
				const cos = both ? dot(normalized(face.embedding!), t.embedding!) : 0;
				// Where the faces can be compared, they must look alike (someone else may step
				// into the same spot between two samples); close enough, or in the same place.
				if (both ? cos < this.o.sameCosine || (overlap < this.o.minIou && cos < this.o.minCosine) : overlap < this.o.minIou) continue;
				pairs.push({ f, t, score: overlap + cos });
			}
		});
		pairs.sort((a, b) => b.score - a.score);
		const assigned: (Track | undefined)[] = new Array(faces.length);
		const taken = new Set<Track>();
		for (const p of pairs) {
			if (assigned[p.f] || taken.has(p.t)) continue;
			assigned[p.f] = p.t;
			taken.add(p.t);
		}
		const changed: Track[] = [];
		faces.forEach((face, f) => {
			let t = assigned[f];
			if (!t) {
				t = { id: this.newId(), firstAt: at, lastAt: at, frames: 0, box: face.box, embedding: null, status: "tentative", identity: null, sightings: {}, confidence: 0, bestQuality: -1, bestAt: at, bestBox: face.box };
				this.live.push(t);
				assigned[f] = t;
			}
			if (this.observe(t, face, at)) changed.push(t);
		});
		return { changed, seen: [...new Set(assigned as Track[])], assigned: assigned as Track[] };
	}

	/** Add a face to its track; true when the track's status changed. */
	private observe(t: Track, face: TrackedFace, at: number): boolean {
		t.frames++;
		t.lastAt = at;
		t.box = face.box;
		if (face.embedding) {
			const e = normalized(face.embedding);
			if (!t.embedding) t.embedding = e;
			else {
				// Running mean, renormalised: the track's look, steadier than one frame.
				for (let i = 0; i < e.length; i++) t.embedding[i] = (t.embedding[i] * (t.frames - 1) + e[i]) / t.frames;
				t.embedding = normalized(t.embedding);
			}
		}
		if (face.quality > t.bestQuality) {
			t.bestQuality = face.quality;
			t.bestAt = at;
			t.bestBox = face.box;
		}
		const before = t.status;
		const b = face.best;
		const sighting = !!b && b.similarity >= this.o.threshold && (!face.second || b.cosine - face.second.cosine >= this.o.margin);
		if (sighting && b) {
			t.sightings[b.profileId] = (t.sightings[b.profileId] ?? 0) + 1;
			if (t.status !== "authorized" && (t.sightings[b.profileId] >= this.o.sightingsToConfirm || b.similarity >= this.o.strong)) {
				t.status = "authorized";
				t.identity = b;
				t.confidence = b.similarity;
			} else if (t.identity?.profileId === b.profileId) t.confidence = Math.max(t.confidence, b.similarity);
		} else if (t.status === "tentative" && !t.identity) t.confidence = Math.max(t.confidence, b?.similarity ?? 0);
		if (t.status === "tentative" && t.frames >= this.o.unknownAfter) t.status = "unknown";
		return t.status !== before;
	}
}
