/** Face API recognition rules: matches per person, identity with threshold and margin, compare's verdict, the gallery document. */
import { compareVerdict, identify, parseGallery, type Person } from "../../../lib/face-api/recognition";
import { similarityFromCosine } from "../../../lib/vision/similarity";

const people = new Map<string, Person>([
	["p1", { id: "p1", employeeId: "emp1", name: "Ann" }],
	["p2", { id: "p2", employeeId: "emp2", name: "Bo" }],
	["p3", { id: "p3", employeeId: "emp3", name: "Cy" }]
]);
const hit = (profileId: string, score: number) => ({ score, payload: { profileId } });

describe("face API recognition rules", () => {
	it("ranks one entry per person at its best photo, leaving out profiles that are gone", () => {
		const r = identify([hit("p1", 0.5), hit("p2", 0.7), hit("p1", 0.8), hit("gone", 0.9)], people, 0.85);
		expect(r.matches.map(m => [m.person_id, m.cosine])).toEqual([
			["emp1", 0.8],
			["emp2", 0.7]
		]);
		expect(r.matches[0]).toEqual({ person_id: "emp1", person_name: "Ann", similarity: Math.round(similarityFromCosine(0.8) * 1e4) / 1e4, cosine: 0.8, match_type: "database" });
		// Clear of the next person by the margin: an identity.
		expect(r).toEqual(expect.objectContaining({ has_identity: true, person_id: "emp1", identity_name: "Ann", reason: "match" }));
		expect(identify([hit("p1", 0.9)], people, 0.85, 5).matches).toHaveLength(1);
	});

	it("names nobody below the threshold, between look-alikes, or in an empty gallery", () => {
		expect(identify([hit("p1", 0.2)], people, 0.85)).toEqual(expect.objectContaining({ has_identity: false, person_id: null, identity_name: null, reason: "below-threshold" }));
		expect(identify([hit("p1", 0.8), hit("p2", 0.75)], people, 0.85)).toEqual(expect.objectContaining({ has_identity: false, reason: "ambiguous" }));
		expect(identify([], people, 0.85)).toEqual(expect.objectContaining({ has_identity: false, reason: "empty-gallery", matches: [] }));
		expect(identify([hit("p1", 0.9), hit("p2", 0.8), hit("p3", 0.7)], people, 0.85, 2).matches.map(m => m.person_id)).toEqual(["emp1", "emp2"]);
	});

	it("compares on the calibrated similarity", () => {
		const same = compareVerdict(0.7, 0.85);
		expect(same).toEqual(expect.objectContaining({ is_same_person: true, cosine: 0.7, threshold: 0.85 }));
		expect(same.confidence).toBe(same.similarity);
		const diff = compareVerdict(0.05, 0.85);
		expect(diff.is_same_person).toBe(false);
		expect(diff.confidence).toBeCloseTo(1 - diff.similarity, 4);
	});

	it("reads the gallery document and names every fault", () => {
		const v = Array.from({ length: 4 }, (_, i) => i + 1);
		expect(parseGallery({ embedding_version: 1, gallery: { "emp-1": { person_name: " Ann ", embeddings: [v, { embedding: v, quality: 0.9 }] } } }, 4, 1)).toEqual([
			{ employeeId: "emp-1", name: "Ann", embeddings: [{ vector: v }, { vector: v, quality: 0.9 }] }
		]);
		const fault = (body: unknown) => {
			try {
				parseGallery(body, 4, 1);
			} catch (e) {
				return e as { type: string; data?: { details?: { field: string }[] } };
			}
			throw new Error("accepted");
		};
		expect(fault({}).type).toBe("INVALID_GALLERY");
		expect(fault({ gallery: {} }).type).toBe("INVALID_GALLERY");
		expect(fault({ embedding_version: 2, gallery: { a: { embeddings: [v] } } }).type).toBe("EMBEDDING_VERSION_MISMATCH");
		const many = fault({ gallery: { "bad id": { embeddings: [v] }, ok: { embeddings: [[1, 2]] }, z: { embeddings: [[0, 0, 0, 0]] }, n: { embeddings: [[1, 2, 3, Number.NaN]] }, e: { embeddings: [] } } });
		expect(many.type).toBe("INVALID_GALLERY");
		expect(many.data?.details?.map(d => d.field)).toEqual(["gallery.bad id", "gallery.ok.embeddings[0]", "gallery.z.embeddings[0]", "gallery.n.embeddings[0]", "gallery.e.embeddings"]);
		const lots = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`p${i}`, { embeddings: [v] }]));
		expect(fault({ gallery: lots }).type).toBe("TOO_MANY_PEOPLE");
	});
});
