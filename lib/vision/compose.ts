/**
 * Composed frames for measuring small-face detection (bench/small-faces.ts and its test):
 * real face photos, each cut around its face and scaled so that its face box is a chosen
 * width, pasted with feathered edges on a 1080p background at places that do not overlap,
 * then passed through a JPEG encoder as a camera's stream would be. The truth is the pasted
 * face boxes. No photos are kept: the faces are read from a folder at run time.
 *
 * The pure parts (random numbers, layout, the textured background, pasting, scoring) are
 * here with the sharp-based cutting and encoding.
 */
import sharp from "sharp";
import { iou, type Box } from "./detect";
import type { RgbImage } from "./image";

/** mulberry32: a small seeded generator, so a frame set is the same on every run. */
export function rng(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/**
 * A face-free 8-bit RGB background of width x height: a lit wall (gradient), value noise at
 * several scales, furniture-like rectangles with grain and hard edges, stripes, and sensor
 * noise. Deterministic for a seed.
 */
export function texturedBackground(width: number, height: number, seed: number): RgbImage {
	const r = rng(seed);
	const data = new Uint8Array(width * height * 3);
	const base = [90 + r() * 120, 80 + r() * 120, 70 + r() * 120];
	// Value noise: a coarse random grid, bilinearly interpolated, at three cell sizes.
	const octaves = [240, 60, 12].map(cell => {
		const gw = Math.ceil(width / cell) + 2,
			gh = Math.ceil(height / cell) + 2;
		return { cell, gw, grid: Float32Array.from({ length: gw * gh }, () => r() - 0.5) };
	});
	const amp = [60, 25, 10];
	const gx = r() * 0.6 - 0.3,
		gy = r() * 0.6 - 0.3;
	for (let y = 0; y < height; y++)
		for (let x = 0; x < width; x++) {
			let v = 60 * (gx * (x / width - 0.5) + gy * (y / height - 0.5));
			octaves.forEach((o, k) => {
				const fx = x / o.cell,
					fy = y / o.cell;
				const ix = Math.floor(fx),
					iy = Math.floor(fy);
				const tx = fx - ix,
					ty = fy - iy;
				const g = o.grid,
					w = o.gw;
				const a = g[iy * w + ix] * (1 - tx) + g[iy * w + ix + 1] * tx;
				const b = g[(iy + 1) * w + ix] * (1 - tx) + g[(iy + 1) * w + ix + 1] * tx;
				v += amp[k] * (a * (1 - ty) + b * ty);
			});
			const p = (y * width + x) * 3;
			data[p] = clamp(base[0] + v);
			data[p + 1] = clamp(base[1] + v * 0.95);
			data[p + 2] = clamp(base[2] + v * 0.9);
		}
	// Furniture: desks, boards, windows, chairs; some striped.
	const n = 25 + Math.floor(r() * 20);
	for (let i = 0; i < n; i++) {
		const w = 40 + r() * width * 0.35,
			h = 20 + r() * height * 0.25;
		const x0 = Math.floor(r() * (width - w)),
			y0 = Math.floor(r() * (height - h));
		const col = [r() * 255, r() * 255, r() * 255];
		const stripe = r() < 0.4 ? 4 + r() * 30 : 0;
		const vertical = r() < 0.5;
		for (let y = y0; y < y0 + h; y++)
			for (let x = x0; x < x0 + w; x++) {
				const grain = 12 * Math.sin((vertical ? x : y) * 0.7 + Math.sin((vertical ? y : x) * 0.05) * 3);
				const band = stripe && Math.floor((vertical ? x : y) / stripe) % 2 ? -35 : 0;
				const p = (y * width + x) * 3;
				for (let c = 0; c < 3; c++) data[p + c] = clamp(col[c] + grain + band);
			}
	}
	for (let i = 0; i < data.length; i++) data[i] = clamp(data[i] + (r() - 0.5) * 12);
	return { data, width, height };
}

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v | 0);

/** A face photo cut for pasting: RGB patch and its face box in patch pixels. */
export interface FacePatch {
	image: RgbImage;
	box: Box;
}

/** Paste `patch` at (x, y) into `dst` with a linear feather of `feather` px at its edges. */
export function pastePatch(dst: RgbImage, patch: RgbImage, x: number, y: number, feather: number): void {
	const { width: pw, height: ph } = patch;
	for (let j = 0; j < ph; j++) {
		const dy = y + j;
		if (dy < 0 || dy >= dst.height) continue;
		for (let i = 0; i < pw; i++) {
			const dx = x + i;
			if (dx < 0 || dx >= dst.width) continue;
			const edge = Math.min(i + 1, j + 1, pw - i, ph - j);
			const a = feather > 0 ? Math.min(1, edge / feather) : 1;
			const s = (j * pw + i) * 3,
				d = (dy * dst.width + dx) * 3;
			for (let c = 0; c < 3; c++) dst.data[d + c] = Math.round(a * patch.data[s + c] + (1 - a) * dst.data[d + c]);
		}
	}
}

/**
 * Places for `count` patches of the given sizes in a width x height frame: rows like a
 * classroom's, a random slot per patch, no two overlapping (a patch that fits nowhere is
 * left out). Returns top-left corners, in the order of `sizes`, or null for left-out ones.
 */
export function layout(width: number, height: number, sizes: { w: number; h: number }[], random: () => number, margin = 8): ({ x: number; y: number } | null)[] {
	const placed: [number, number, number, number][] = [];
	return sizes.map(({ w, h }) => {
		for (let attempt = 0; attempt < 200; attempt++) {
			const x = Math.floor(random() * (width - w - 2 * margin)) + margin;
			const y = Math.floor(random() * (height - h - 2 * margin)) + margin;
			if (placed.every(([a, b, c, d]) => x + w + margin <= a || x >= c + margin || y + h + margin <= b || y >= d + margin)) {
				placed.push([x, y, x + w, y + h]);
				return { x, y };
			}
		}
		return null;
	});
}

export const SIZE_BUCKETS: [number, number][] = [
	[32, 39],
	[40, 47],
	[48, 55],
	[56, 64]
];

export const bucketLabel = ([a, b]: [number, number]) => `${a}-${b}`;

export interface FrameScore {
	/** Per truth box, whether a detection matched it. */
	found: boolean[];
	/** Detections that match no truth box (or a box already matched). */
	falseFaces: Box[];
}

/**
 * Match detections to truth boxes greedily by IoU (best pairs first, each used once); a pair
 * counts at IoU >= minIou. Detections inside an `ignore` box (a face of the background
 * itself) count neither way.
 */
export function scoreFrame(truth: Box[], detections: Box[], minIou = 0.4, ignore: Box[] = []): FrameScore {
	const pairs: [number, number, number][] = [];
	truth.forEach((t, i) => detections.forEach((d, j) => {
		const v = iou(t, d);
		if (v >= minIou) pairs.push([v, i, j]);
	}));
	pairs.sort((a, b) => b[0] - a[0]);
	const found = truth.map(() => false);
	const used = detections.map(() => false);
	for (const [, i, j] of pairs) if (!found[i] && !used[j]) (found[i] = true), (used[j] = true);
	const falseFaces = detections.filter((d, j) => !used[j] && !ignore.some(g => iou(g, d) >= 0.2 || inside(d, g)));
	return { found, falseFaces };
}

const inside = (d: Box, g: Box) => {
	const cx = (d[0] + d[2]) / 2,
		cy = (d[1] + d[3]) / 2;
	return cx >= g[0] && cx <= g[2] && cy >= g[1] && cy <= g[3];
};

/** The part of a width x height photo that cutFace keeps around a face box: x1, y1, x2, y2 (integers). */
export function cutRegion(box: Box, width: number, height: number, grow = 0.6): Box {
	const bw = box[2] - box[0],
		bh = box[3] - box[1];
	return [Math.max(0, Math.floor(box[0] - grow * bw)), Math.max(0, Math.floor(box[1] - grow * bh)), Math.min(width, Math.ceil(box[2] + grow * bw)), Math.min(height, Math.ceil(box[3] + 1.2 * grow * bh))];
}

/**
 * The faces of a width x height photo that can be cut out alone: no other face (of `faces`,
 * or of `others`, e.g. found by a more sensitive detector) reaches into its cut region.
 */
export function isolatedFaces(faces: Box[], others: Box[], width: number, height: number): Box[] {
	const all = [...faces, ...others];
	return faces.filter(f => {
		const c = cutRegion(f, width, height);
		return all.every(o => o === f || iou(o, f) >= 0.3 || !(o[0] < c[2] && o[2] > c[0] && o[1] < c[3] && o[3] > c[1]));
	});
}

/**
 * A face photo cut around its face box (`box` in the photo's pixels): the box grown to
 * `grow` times its width each side and 1.2x that downwards (head and shoulders), clipped to
 * the photo, scaled (area-averaging, as a camera's optics would) so that the face box is
 * `faceWidth` px wide.
 */
export async function cutFace(photo: Uint8Array, photoSize: { width: number; height: number }, box: Box, faceWidth: number, grow = 0.6): Promise<FacePatch> {
	const [left, top, right, bottom] = cutRegion(box, photoSize.width, photoSize.height, grow);
	const k = faceWidth / (box[2] - box[0]);
	const w = Math.max(1, Math.round((right - left) * k)),
		h = Math.max(1, Math.round((bottom - top) * k));
	const { data, info } = await sharp(photo)
		.extract({ left, top, width: right - left, height: bottom - top })
		.removeAlpha()
		.toColourspace("srgb")
		.resize(w, h, { kernel: "mitchell" })
		.raw()
		.toBuffer({ resolveWithObject: true });
	const sx = info.width / (right - left),
		sy = info.height / (bottom - top);
	return {
		image: { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height },
		box: [(box[0] - left) * sx, (box[1] - top) * sy, (box[2] - left) * sx, (box[3] - top) * sy]
	};
}

/** A composed frame: the background with the patches pasted, and their face boxes in frame pixels. */
export function composeFrame(background: RgbImage, patches: FacePatch[], random: () => number): { frame: RgbImage; truth: Box[] } {
	const frame: RgbImage = { data: Uint8Array.from(background.data), width: background.width, height: background.height };
	const spots = layout(frame.width, frame.height, patches.map(p => ({ w: p.image.width, h: p.image.height })), random);
	const truth: Box[] = [];
	patches.forEach((p, i) => {
		const s = spots[i];
		if (!s) return;
		pastePatch(frame, p.image, s.x, s.y, 3);
		truth.push([p.box[0] + s.x, p.box[1] + s.y, p.box[2] + s.x, p.box[3] + s.y]);
	});
	return { frame, truth };
}

/** The frame through a JPEG encoder and back (a camera stream's compression), at `quality`. */
export async function jpegRoundTrip(frame: RgbImage, quality = 85): Promise<RgbImage> {
	const jpeg = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } }).jpeg({ quality }).toBuffer();
	const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
	return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}
