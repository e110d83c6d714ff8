/**
 * Face API recognition (seed 001 "Face Recognition"), the pure part: gallery hits turned into
 * the seed's matches and identity, a comparison's verdict, and the gallery document that
 * gallery/get answers and gallery/set takes. Similarities are the calibrated ones
 * (lib/vision/similarity.ts: 0.85 is a false-match rate of 1e-3); an identity needs the
 * best person at or above the threshold and ahead of the next other person by the
 * monitors' margin (lib/recognition/matcher.ts), so a look-alike pair is no identity. Pure.
 */
import { ApiError } from "../errors";
import { MARGIN_COSINE } from "../recognition/matcher";
import { similarityFromCosine } from "../vision/similarity";
import { round } from "./format";

export interface GalleryHit {
	score: number;
	payload: { profileId: string; employeeId?: string };
}

export interface Person {
	id: string;
	employeeId: string;
	name: string;
}

export interface SeedMatch {
	person_id: string;
	person_name: string;
	similarity: number;
	cosine: number;
	match_type: "database";
}

export interface Identity {
	has_identity: boolean;
	person_id: string | null;
	identity_name: string | null;
	recognition_confidence: number;
	matches: SeedMatch[];
	/** match, below-threshold (best under the threshold), ambiguous (two people too close), empty-gallery. */
	reason: "match" | "below-threshold" | "ambiguous" | "empty-gallery";
}

/**
 * The people a face looks like, best first, one entry per person (a person's several photos
 * are one candidate, at its best photo), at most `topK`; hits of profiles no longer there are
 * left out. Identity as the module header says.
 */
export function identify(hits: GalleryHit[], people: Map<string, Person>, threshold: number, topK = 5): Identity {
	const best = new Map<string, number>();
	for (const h of hits) if (!best.has(h.payload.profileId) || h.score > best.get(h.payload.profileId)!) best.set(h.payload.profileId, h.score);
	const ranked = [...best]
		.filter(([id]) => people.has(id))
		.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
		.map(([id, cos]) => ({ person: people.get(id)!, cos }));
	const matches: SeedMatch[] = ranked.slice(0, topK).map(r => ({ person_id: r.person.employeeId, person_name: r.person.name, similarity: round(similarityFromCosine(r.cos), 4), cosine: round(r.cos, 4), match_type: "database" }));
	if (ranked.length === 0) return { has_identity: false, person_id: null, identity_name: null, recognition_confidence: 0, matches, reason: "empty-gallery" };
	const [a, b] = ranked;
	const sim = similarityFromCosine(a.cos);
	const reason = sim < threshold ? "below-threshold" : b && a.cos - b.cos < MARGIN_COSINE ? "ambiguous" : "match";
	const ok = reason === "match";
	return { has_identity: ok, person_id: ok ? a.person.employeeId : null, identity_name: ok ? a.person.name : null, recognition_confidence: round(sim, 4), matches, reason };
}

/**
 * Two faces' verdict: same person when the calibrated similarity reaches the threshold.
 * `confidence` is the similarity on the side of the decision (similarity when the same,
 * 1 - similarity when not): a monotonic score, not a probability.
 */
export function compareVerdict(cos: number, threshold: number) {
	const similarity = similarityFromCosine(cos);
	const same = similarity >= threshold;
	return { similarity: round(similarity, 4), cosine: round(cos, 4), threshold, is_same_person: same, confidence: round(same ? similarity : 1 - similarity, 4) };
}

/** One person of gallery/set, as the faces store takes it. */
export interface GalleryPerson {
	employeeId: string;
	name?: string;
	department?: string;
	embeddings: { vector: number[]; quality?: number }[];
}

export const PERSON_ID = /^[A-Za-z0-9._-]{1,64}$/;
export const MAX_EMBEDDINGS_PER_PERSON = 5;
export const MAX_PEOPLE_PER_SET = 1000;

/**
 * The gallery document of gallery/set (the shape gallery/get answers):
 * `{ embedding_version, gallery: { "<person_id>": { person_name, department?, embeddings: [[512 numbers], ...] } } }`.
 * Every fault is named in the 400's details; nothing is taken from a faulty document.
 */
export function parseGallery(body: unknown, dimension: number, embeddingVersion: number): GalleryPerson[] {
	const faults: { field: string; issue: string }[] = [];
	const doc = body as { gallery?: unknown; embedding_version?: unknown } | null;
	if (!doc || typeof doc !== "object" || !doc.gallery || typeof doc.gallery !== "object" || Array.isArray(doc.gallery))
		throw new ApiError(400, "INVALID_GALLERY", "gallery must be an object: { \"<person_id>\": { person_name, embeddings: [[...]] } }");
	if (doc.embedding_version !== undefined && doc.embedding_version !== embeddingVersion)
		throw new ApiError(400, "EMBEDDING_VERSION_MISMATCH", `embedding_version ${String(doc.embedding_version)} is not this engine's (${embeddingVersion}): embeddings of another model cannot be matched`);
	const entries = Object.entries(doc.gallery as Record<string, unknown>);
	if (entries.length === 0) throw new ApiError(400, "INVALID_GALLERY", "gallery has no person");
	if (entries.length > MAX_PEOPLE_PER_SET) throw new ApiError(400, "TOO_MANY_PEOPLE", `At most ${MAX_PEOPLE_PER_SET} people per request (${entries.length} sent)`);
	const people: GalleryPerson[] = [];
	for (const [id, v] of entries) {
		const at = `gallery.${id}`;
		if (!PERSON_ID.test(id)) faults.push({ field: at, issue: "person_id: 1-64 of A-Z a-z 0-9 . _ -" });
		const p = v as { person_name?: unknown; department?: unknown; embeddings?: unknown };
		if (!p || typeof p !== "object") {
			faults.push({ field: at, issue: "must be an object" });
			continue;
		}
		if (p.person_name !== undefined && (typeof p.person_name !== "string" || p.person_name.trim() === "" || p.person_name.length > 200)) faults.push({ field: `${at}.person_name`, issue: "a string of 1-200 characters" });
		if (p.department !== undefined && (typeof p.department !== "string" || p.department.length > 200)) faults.push({ field: `${at}.department`, issue: "a string of at most 200 characters" });
		const embs = p.embeddings;
		if (!Array.isArray(embs) || embs.length === 0 || embs.length > MAX_EMBEDDINGS_PER_PERSON) {
			faults.push({ field: `${at}.embeddings`, issue: `1 to ${MAX_EMBEDDINGS_PER_PERSON} embeddings` });
			continue;
		}
		const list: GalleryPerson["embeddings"] = [];
		embs.forEach((e, i) => {
			const vec = Array.isArray(e) ? e : (e as { embedding?: unknown })?.embedding;
			if (!Array.isArray(vec) || vec.length !== dimension) return faults.push({ field: `${at}.embeddings[${i}]`, issue: `${dimension} numbers` });
			let n = 0;
			for (const x of vec) {
				if (typeof x !== "number" || !Number.isFinite(x)) return faults.push({ field: `${at}.embeddings[${i}]`, issue: "finite numbers only" });
				n += x * x;
			}
			if (n === 0) return faults.push({ field: `${at}.embeddings[${i}]`, issue: "all zeros" });
			const q = Array.isArray(e) ? undefined : (e as { quality?: unknown }).quality;
			list.push({ vector: vec as number[], ...(typeof q === "number" && Number.isFinite(q) ? { quality: q } : {}) });
		});
		people.push({ employeeId: id, ...(typeof p.person_name === "string" ? { name: p.person_name.trim() } : {}), ...(typeof p.department === "string" ? { department: p.department } : {}), embeddings: list });
	}
	if (faults.length) throw new ApiError(400, "INVALID_GALLERY", `${faults.length} fault(s) in the gallery: ${faults.slice(0, 3).map(f => `${f.field}: ${f.issue}`).join("; ")}`, { details: faults.slice(0, 100) });
	return people;
}
