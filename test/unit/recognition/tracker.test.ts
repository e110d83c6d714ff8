import { CameraTracker, candidatesOf, iou, type Box, type GalleryHit, type TrackedFace } from "../../../lib/recognition/tracker";
import { similarityFromCosine } from "../../../lib/vision/similarity";

/** A unit vector along axis k, slightly perturbed: distinct people are orthogonal here. */
function person(k: number, jitter = 0): number[] {
	const v = new Array(16).fill(0);
	v[k] = 1;
	v[(k + 1) % 16] = jitter;
	return v;
}
const hit = (profileId: string, similarity: number, cosine = similarity - 0.5): GalleryHit => ({ profileId, employeeId: profileId.toUpperCase(), similarity, cosine });
const face = (box: Box, embedding: number[], best: GalleryHit | null, second: GalleryHit | null = null, quality = 0.8): TrackedFace => ({ box, embedding, best, second, quality });

describe("face tracks of a camera", () => {
	let n = 0;
	const tracker = () => new CameraTracker({ threshold: 0.85, maxGapMs: 3000 }, () => `T${++n}`);

	it("keeps one track for one person walking past, confirmed at the second sighting", () => {
		const t = tracker();
		const a = t.update([face([100, 100, 200, 220], person(0), hit("anna", 0.9))], 0);
		expect(a.assigned[0].status).toBe("tentative");
		// She moved: boxes no longer overlap, but she looks the same.
		const b = t.update([face([400, 110, 500, 230], person(0, 0.05), hit("anna", 0.9))], 1000);
		expect(b.assigned[0].id).toBe(a.assigned[0].id);
		expect(b.changed.map(x => [x.id, x.status, x.identity?.profileId])).toEqual([[a.assigned[0].id, "authorized", "anna"]]);
		const c = t.update([face([420, 110, 520, 230], person(0), hit("anna", 0.92))], 2000);
		expect(c.changed).toEqual([]);
		expect(t.tracks).toHaveLength(1);
		expect(t.tracks[0].confidence).toBeCloseTo(0.92);
		expect(t.tracks[0].frames).toBe(3);
	});

	it("confirms at once on a very strong match; a stranger becomes unknown after two frames", () => {
		const t = tracker();
		const first = t.update([face([0, 0, 100, 100], person(1), hit("bea", 0.97)), face([300, 0, 400, 100], person(5), hit("bea", 0.6))], 0);
		expect(first.changed.map(x => x.status)).toEqual(["authorized"]);
		const second = t.update([face([5, 0, 105, 100], person(1), hit("bea", 0.96)), face([305, 0, 405, 100], person(5), hit("bea", 0.61))], 1000);
		expect(second.changed.map(x => x.status)).toEqual(["unknown"]);
		expect(t.tracks.map(x => x.status).sort()).toEqual(["authorized", "unknown"]);
	});

	it("never confirms an ambiguous face: two look-alikes within the margin", () => {
		const t = tracker();
		for (let i = 0; i < 5; i++) t.update([face([0, 0, 100, 100], person(2), hit("cleo", 0.9, 0.45), hit("dora", 0.89, 0.44))], i * 1000);
		expect(t.tracks[0].status).toBe("unknown");
		expect(t.tracks[0].identity).toBeNull();
	});

	it("keeps two people apart when they cross, and ends tracks after the gap", () => {
		const t = tracker();
		t.update([face([0, 0, 100, 100], person(3), hit("ed", 0.9)), face([300, 0, 400, 100], person(4), hit("fay", 0.9))], 0);
		// They swapped places: appearance wins over the boxes.
		const u = t.update([face([300, 0, 400, 100], person(3), hit("ed", 0.9)), face([0, 0, 100, 100], person(4), hit("fay", 0.9))], 1000);
		expect(u.assigned.map(x => x.identity?.profileId)).toEqual(["ed", "fay"]);
		expect(t.expire(3500)).toHaveLength(0);
		expect(t.expire(4500).map(x => x.identity?.profileId).sort()).toEqual(["ed", "fay"]);
		expect(t.tracks).toHaveLength(0);
		const again = t.update([face([0, 0, 100, 100], person(3), hit("ed", 0.9))], 9000);
		expect(again.assigned[0].status).toBe("tentative");
	});

	it("starts a new track when someone else steps into the same spot", () => {
		const t = tracker();
		const a = t.update([face([100, 100, 200, 200], person(6), hit("gus", 0.9))], 0);
		const b = t.update([face([100, 100, 200, 200], person(7), hit("gus", 0.6))], 1000);
		expect(b.assigned[0].id).not.toBe(a.assigned[0].id);
		expect(t.tracks).toHaveLength(2);
	});

	it("measures box overlap", () => {
		expect(iou([0, 0, 10, 10], [0, 0, 10, 10])).toBe(1);
		expect(iou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(1 / 3);
		expect(iou([0, 0, 10, 10], [20, 20, 30, 30])).toBe(0);
	});
});

describe("candidatesOf: a face's gallery answer as the tracker reads it", () => {
	const point = (profileId: string, score: number) => ({ score, payload: { profileId, employeeId: `E-${profileId}` } });
	it("keeps the best, and the second only when it is another person, with calibrated similarity", () => {
		const two = candidatesOf([point("a", 0.7), point("b", 0.4)]);
		expect(two.best).toEqual({ profileId: "a", employeeId: "E-a", cosine: 0.7, similarity: similarityFromCosine(0.7) });
		expect(two.second).toEqual({ profileId: "b", employeeId: "E-b", cosine: 0.4, similarity: similarityFromCosine(0.4) });
		// Two photos of the same person are one candidate.
		expect(candidatesOf([point("a", 0.7), point("a", 0.6)]).second).toBeNull();
		expect(candidatesOf([point("a", 0.7)])).toEqual({ best: expect.objectContaining({ profileId: "a" }), second: null });
		expect(candidatesOf([])).toEqual({ best: null, second: null });
	});
});
