import { decodeRegression, iou, ultrafacePriors, type Box } from "../../../lib/vision/detect";
import { cutRegion, isolatedFaces, layout, pastePatch, rng, scoreFrame, texturedBackground } from "../../../lib/vision/compose";
import { cutByInnerEdge, fineScaleHelps, planCost, tileStarts, tileViews } from "../../../lib/vision/tiles";

describe("small-face tiles", () => {
	it("tileStarts: evenly spread tiles from 0 to L - t whose neighbours overlap by at least the overlap", () => {
		expect(tileStarts(300, 320, 40)).toEqual([0]);
		expect(tileStarts(320, 320, 40)).toEqual([0]);
		const s = tileStarts(960, 320, 40);
		expect(s).toHaveLength(4); // ceil((960 - 40) / 280)
		expect(s[0]).toBe(0);
		expect(s[s.length - 1]).toBeCloseTo(640);
		for (let i = 1; i < s.length; i++) expect(s[i - 1] + 320 - s[i]).toBeGreaterThanOrEqual(40);
		expect(() => tileStarts(960, 40, 40)).toThrow(RangeError);
	});

	it("tileViews: one view of the whole frame when it fits a tile, its input the frame at the scale", () => {
		const v = tileViews(1920, 1080, { scale: 1 / 3, tileW: 640, tileH: 480, overlap: 64 });
		expect(v).toHaveLength(1);
		expect(v[0].rect).toEqual([0, 0, 1920, 1080]);
		expect([v[0].inW, v[0].inH]).toEqual([640, 360]);
		expect(v[0].inner).toEqual([false, false, false, false]);
		expect(tileViews(1920, 1080, { scale: 0.5, tileW: Infinity, tileH: Infinity, overlap: 0 })).toEqual([{ rect: [0, 0, 1920, 1080], inW: 960, inH: 540, inner: [false, false, false, false] }]);
	});

	it("tileViews: tiles cover the frame, and every face up to the overlap lies whole in some tile", () => {
		const plan = { scale: 0.5, tileW: 320, tileH: 240, overlap: 40 };
		const views = tileViews(1920, 1080, plan);
		expect(views).toHaveLength(4 * 3); // 960 -> 4 tiles across, 540 -> 3 down
		for (const v of views) {
			expect([v.inW, v.inH]).toEqual([320, 240]);
			expect(v.rect[2]).toBeCloseTo(640);
			expect(v.rect[0] + v.rect[2]).toBeLessThanOrEqual(1920 + 1e-6);
			expect(v.rect[1] + v.rect[3]).toBeLessThanOrEqual(1080 + 1e-6);
		}
		const r = rng(7);
		const face = 40 / plan.scale; // source pixels
		for (let k = 0; k < 500; k++) {
			const x = r() * (1920 - face),
				y = r() * (1080 - face);
			const box: Box = [x, y, x + face, y + face];
			const whole = views.filter(v => box[0] >= v.rect[0] && box[1] >= v.rect[1] && box[2] <= v.rect[0] + v.rect[2] && box[3] <= v.rect[1] + v.rect[3]);
			expect(whole.length).toBeGreaterThanOrEqual(1);
		}
		// Edges at the frame's border are not inner edges.
		expect(views[0].inner).toEqual([false, false, true, true]);
		expect(views[views.length - 1].inner).toEqual([true, true, false, false]);
	});

	it("cutByInnerEdge: a box at a tile's inner edge is cut, at the frame's border it is not", () => {
		const [first] = tileViews(1920, 1080, { scale: 0.5, tileW: 320, tileH: 240, overlap: 40 });
		expect(cutByInnerEdge([600, 100, 640, 140], first, 4)).toBe(true); // right edge at x = 640
		expect(cutByInnerEdge([0, 0, 40, 40], first, 4)).toBe(false); // the frame's corner
		expect(cutByInnerEdge([300, 200, 340, 240], first, 4)).toBe(false);
	});

	it("fineScaleHelps: only when the fine pass sees the frame finer than the frame-wide one", () => {
		expect(fineScaleHelps(1920, 1080, 320, 240, 1 / 3)).toBe(true); // 0.333 against 0.167
		expect(fineScaleHelps(640, 360, 320, 240, 1 / 3)).toBe(false); // the frame-wide pass is at 0.5 already
		expect(fineScaleHelps(1280, 720, 320, 240, 1 / 3)).toBe(true); // 0.333 against 0.25
	});

	it("planCost counts runs and input pixels", () => {
		expect(planCost(1920, 1080, { scale: 1 / 3, tileW: 640, tileH: 480, overlap: 64 })).toEqual({ views: 1, pixels: 640 * 360 });
		expect(planCost(3840, 2160, { scale: 1 / 3, tileW: 640, tileH: 480, overlap: 64 }).views).toBe(3 * 2);
	});
});

describe("UltraFace priors at any size", () => {
	it("as many priors as the feature maps have cells times anchors; 4420 at 320x240", () => {
		expect(ultrafacePriors(320, 240).length / 4).toBe(4420);
		// 640x360: 80x45x3 + 40x23x2 + 20x12x2 + 10x6x3
		expect(ultrafacePriors(640, 360).length / 4).toBe(80 * 45 * 3 + 40 * 23 * 2 + 20 * 12 * 2 + 10 * 6 * 3);
		const p = ultrafacePriors(320, 240);
		expect(Array.from(p.slice(0, 4))).toEqual([0.5 / 40, 0.5 / 30, 10 / 320, 10 / 240].map(Math.fround));
		for (const v of p) expect(v >= 0 && v <= 1).toBe(true);
	});
	it("decodeRegression: zero regression gives each prior's own box; offsets scale with the variances", () => {
		const priors = Float32Array.from([0.5, 0.5, 0.2, 0.4]);
		expect(Array.from(decodeRegression(new Float32Array(4), priors)).map(v => +v.toFixed(6))).toEqual([0.4, 0.3, 0.6, 0.7]);
		const b = decodeRegression(Float32Array.from([1, 0, Math.log(2) / 0.2, 0]), priors);
		// centre x moves by 0.1 * 0.2, width doubles
		expect(+((b[0] + b[2]) / 2).toFixed(6)).toBeCloseTo(0.52);
		expect(b[2] - b[0]).toBeCloseTo(0.4);
		expect(() => decodeRegression(new Float32Array(8), priors)).toThrow(/rows/);
	});
});

describe("composed frames", () => {
	it("rng is deterministic per seed", () => {
		const a = rng(3),
			b = rng(3),
			c = rng(4);
		const xs = [a(), a(), a()];
		expect([b(), b(), b()]).toEqual(xs);
		expect(c()).not.toBe(xs[0]);
		for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
	});
	it("layout places patches inside the frame without overlaps", () => {
		const sizes = Array.from({ length: 40 }, (_, i) => ({ w: 60 + (i % 5) * 10, h: 80 + (i % 3) * 10 }));
		const spots = layout(1920, 1080, sizes, rng(1));
		const placed = spots.map((s, i) => (s ? ([s.x, s.y, s.x + sizes[i].w, s.y + sizes[i].h] as Box) : null)).filter((b): b is Box => !!b);
		expect(placed.length).toBe(40);
		for (const b of placed) expect(b[0] >= 0 && b[1] >= 0 && b[2] <= 1920 && b[3] <= 1080).toBe(true);
		for (let i = 0; i < placed.length; i++) for (let j = i + 1; j < placed.length; j++) expect(iou(placed[i], placed[j])).toBe(0);
	});
	it("texturedBackground is deterministic and textured; pastePatch blends at its feathered edges only", () => {
		const a = texturedBackground(160, 90, 5);
		expect(texturedBackground(160, 90, 5).data).toEqual(a.data);
		const mean = a.data.reduce((s, v) => s + v, 0) / a.data.length;
		const sd = Math.sqrt(a.data.reduce((s, v) => s + (v - mean) ** 2, 0) / a.data.length);
		expect(sd).toBeGreaterThan(10);
		const dst = { data: new Uint8Array(20 * 20 * 3), width: 20, height: 20 };
		pastePatch(dst, { data: new Uint8Array(10 * 10 * 3).fill(200), width: 10, height: 10 }, 5, 5, 2);
		expect(dst.data[(10 * 20 + 10) * 3]).toBe(200); // inside
		expect(dst.data[(5 * 20 + 5) * 3]).toBe(100); // corner: half blended
		expect(dst.data[(2 * 20 + 2) * 3]).toBe(0); // outside
	});
	it("cutRegion and isolatedFaces: a face is cut alone only when no other face reaches into its cut", () => {
		expect(cutRegion([100, 100, 200, 200], 250, 250)).toEqual([40, 40, 250, 250]);
		const a: Box = [20, 20, 60, 60],
			b: Box = [70, 20, 110, 60],
			far: Box = [200, 200, 240, 240];
		expect(isolatedFaces([a, b, far], [], 250, 250)).toEqual([far]);
		// Another detection of the same face does not count; a face only the sensitive detector sees does.
		expect(isolatedFaces([far], [[202, 202, 240, 240]], 250, 250)).toEqual([far]);
		expect(isolatedFaces([far], [[170, 170, 190, 190]], 250, 250)).toEqual([]);
	});
	it("scoreFrame: greedy one-to-one matching at IoU, duplicates are false faces, ignored regions count neither way", () => {
		const truth: Box[] = [
			[0, 0, 40, 40],
			[100, 100, 150, 150]
		];
		const dets: Box[] = [
			[2, 2, 42, 42],
			[0, 0, 38, 40],
			[300, 300, 340, 340],
			[500, 500, 540, 540]
		];
		const s = scoreFrame(truth, dets, 0.4, [[490, 490, 560, 560]]);
		expect(s.found).toEqual([true, false]);
		expect(s.falseFaces).toEqual([
			[2, 2, 42, 42],
			[300, 300, 340, 340]
		]);
	});
});
