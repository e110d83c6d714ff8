import { AttendanceRule, MARGIN_COSINE, StudentGallery, STRONG_SIMILARITY } from "../../../lib/recognition/matcher";
import { cosineFromSimilarity } from "../../../lib/vision/similarity";

function unit(seed: number): number[] {
	let x = seed;
	const v = Array.from({ length: 512 }, () => {
		x = (x * 1103515245 + 12345) & 0x7fffffff;
		return x / 0x7fffffff - 0.5;
	});
	const n = Math.hypot(...v);
	return v.map(a => a / n);
}
/** A vector at exactly cosine c to `base` (orthogonal noise from `seed`). */
function at(base: number[], c: number, seed: number): number[] {
	const r = unit(seed);
	const d = r.reduce((s, x, i) => s + x * base[i], 0);
	const o = r.map((x, i) => x - d * base[i]);
	const on = Math.hypot(...o);
	return base.map((x, i) => c * x + Math.sqrt(1 - c * c) * (o[i] / on));
}

describe("StudentGallery", () => {
	const a = unit(1),
		b = unit(2),
		c = unit(3);
	const gallery = new StudentGallery([
		{ userId: 201, embedding: a },
		{ userId: 202, embedding: b },
		{ userId: 203, embedding: c }
	]);

	it("finds the student a face belongs to, with calibrated similarity", () => {
		const r = gallery.match(at(a, 0.6, 10), 0.85);
		expect(r.sighting).toBe(true);
		expect(r.best?.userId).toBe(201);
		expect(r.best?.cosine).toBeCloseTo(0.6, 2);
		expect(r.best!.similarity).toBeGreaterThan(0.95);
	});

	it("does not count a face below the threshold", () => {
		const cos = cosineFromSimilarity(0.85) - 0.02;
		const r = gallery.match(at(a, cos, 11), 0.85);
		expect(r.sighting).toBe(false);
		expect(r.reason).toBe("below-threshold");
	});

	it("does not guess between two look-alike students", () => {
		const twin = at(a, 0.9, 12);
		const g = new StudentGallery([
			{ userId: 1, embedding: a },
			{ userId: 2, embedding: twin }
		]);
		const face = a.map((x, i) => x + twin[i]);
		const r = g.match(face, 0.5);
		expect(r.best!.cosine - r.second!.cosine).toBeLessThan(MARGIN_COSINE);
		expect(r.sighting).toBe(false);
		expect(r.reason).toBe("ambiguous");
	});

	it("matches nobody in an empty gallery", () => {
		expect(new StudentGallery([]).match(a, 0.85)).toEqual({ best: null, second: null, sighting: false, reason: "no-students" });
	});
});

describe("AttendanceRule", () => {
	it("reports a student once, at the second sighting, or at the first strong one", () => {
		const rule = new AttendanceRule();
		expect(rule.sight(201, 0.9)).toBe(false);
		expect(rule.sight(201, 0.9)).toBe(true);
		expect(rule.sight(201, 0.99)).toBe(false);
		expect(rule.sight(202, STRONG_SIMILARITY)).toBe(true);
		expect(rule.isReported(202)).toBe(true);
	});

	it("resumes from a snapshot without reporting twice", () => {
		const rule = new AttendanceRule();
		rule.sight(1, 0.9);
		rule.sight(1, 0.9);
		rule.sight(2, 0.9);
		const snap = rule.snapshot();
		const resumed = new AttendanceRule(snap.reported, snap.sightings);
		expect(resumed.sight(1, 0.99)).toBe(false);
		expect(resumed.sight(2, 0.9)).toBe(true);
	});

	it("undoes the decisions of a frame that could not be persisted", () => {
		const rule = new AttendanceRule();
		rule.sight(1, 0.9);
		const before = rule.snapshot();
		expect(rule.sight(1, 0.9)).toBe(true);
		rule.restore(before);
		expect(rule.isReported(1)).toBe(false);
		// The next frame reports the student: nothing was lost with the failed write.
		expect(rule.sight(1, 0.9)).toBe(true);
	});
});
