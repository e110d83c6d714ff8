/**
 * Where the detector looks for small faces (SMALL_FACES). The frame-wide pass sees a 1080p
 * frame at 320x240, where a face narrower than ~60 px is under the detector's smallest
 * anchors; the small-face pass looks at the frame again at a finer `scale` (detector pixels
 * per source pixel), as tiles of at most tileW x tileH detector pixels that overlap by
 * `overlap` detector pixels, so that every face up to that size lies whole in some tile.
 * A face cut by a tile's inner edge is dropped there (the neighbouring tile holds it whole),
 * the tiles' finds go through one NMS, and those that overlap no face of the frame-wide pass
 * are added to its faces (which keep their boxes: the pass only adds faces).
 * Pure geometry, no models.
 */
import type { Box, Rect } from "./detect";

export interface TilePlan {
	/** Detector pixels per source pixel. */
	scale: number;
	/** Largest tile, detector pixels (Infinity: one view of the whole frame at `scale`). */
	tileW: number;
	tileH: number;
	/** Overlap of neighbouring tiles, detector pixels. */
	overlap: number;
}

export interface View {
	/** The part of the image (x, y, w, h), stretched to inW x inH. */
	rect: Rect;
	inW: number;
	inH: number;
	/** Which of the rect's edges lie inside the image (left, top, right, bottom). */
	inner: [boolean, boolean, boolean, boolean];
}

/** Start offsets of n tiles of length t evenly covering length L (first at 0, last at L - t). */
export function tileStarts(L: number, t: number, overlap: number): number[] {
	if (!(t > overlap)) throw new RangeError(`tile size ${t} must exceed the overlap ${overlap}`);
	if (L <= t) return [0];
	const n = Math.ceil((L - overlap) / (t - overlap));
	return Array.from({ length: n }, (_, i) => (i * (L - t)) / (n - 1));
}

/** The views of a width x height image for `plan`. */
export function tileViews(width: number, height: number, plan: TilePlan): View[] {
	const { scale, overlap } = plan;
	if (!(scale > 0)) throw new RangeError("scale must be positive");
	const SW = width * scale,
		SH = height * scale;
	const tw = Math.min(plan.tileW, SW),
		th = Math.min(plan.tileH, SH);
	const xs = tileStarts(SW, tw, Math.min(overlap, tw - 1));
	const ys = tileStarts(SH, th, Math.min(overlap, th - 1));
	const views: View[] = [];
	const eps = 1e-6;
	for (const y of ys)
		for (const x of xs)
			views.push({
				rect: [x / scale, y / scale, tw / scale, th / scale],
				inW: Math.max(1, Math.round(tw)),
				inH: Math.max(1, Math.round(th)),
				inner: [x > eps, y > eps, x + tw < SW - eps, y + th < SH - eps]
			});
	return views;
}

/**
 * Whether the fine pass sees anything the frame-wide one does not: its scale is at least
 * `gain` times the frame-wide pass's (the smaller of its two stretch factors).
 */
export function fineScaleHelps(width: number, height: number, baseW: number, baseH: number, scale: number, gain = 1.25): boolean {
	return scale >= gain * Math.min(baseW / width, baseH / height);
}

/** A box (image pixels) within `margin` image pixels of one of the view's inner edges: a face the tile cuts. */
export function cutByInnerEdge(box: Box, view: View, margin: number): boolean {
	const [x, y, w, h] = view.rect;
	const [l, t, r, b] = view.inner;
	return (l && box[0] <= x + margin) || (t && box[1] <= y + margin) || (r && box[2] >= x + w - margin) || (b && box[3] >= y + h - margin);
}

/** Detector runs of a plan on a width x height frame, and their input pixels (a cost measure). */
export function planCost(width: number, height: number, plan: TilePlan): { views: number; pixels: number } {
	const v = tileViews(width, height, plan);
	return { views: v.length, pixels: v.reduce((n, x) => n + x.inW * x.inH, 0) };
}
