/**
 * The image type the pipeline works on (packed RGB24, as node-av's scaler and sharp's raw
 * output give it) and the one sampler every stage uses to cut a tensor out of it: an affine
 * dst->src map sampled bilinearly, with an integer box pre-shrink when the map downscales by
 * 2x or more (plain bilinear sampling of a large photo aliases and costs embedding quality).
 */

export interface RgbImage {
	/** Packed RGB, row-major, width*height*3 bytes. */
	data: Uint8Array;
	width: number;
	height: number;
}

export class ImageError extends Error {
	constructor(
		readonly code: "UNDECODABLE_IMAGE" | "INVALID_FRAME" | "IMAGE_TOO_LARGE",
		message: string
	) {
		super(message);
		this.name = "ImageError";
	}
}

/** Largest image side accepted (frames and decoded files). */
export const MAX_SIDE = 16384;

/** Wrap a raw RGB24 frame, checking its size. */
export function rgbFrame(data: Uint8Array, width: number, height: number): RgbImage {
	if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
		throw new ImageError("INVALID_FRAME", `frame width and height must be positive integers, got ${width}x${height}`);
	if (width > MAX_SIDE || height > MAX_SIDE) throw new ImageError("IMAGE_TOO_LARGE", `frame ${width}x${height} exceeds ${MAX_SIDE} px per side`);
	if (data.length !== width * height * 3)
		throw new ImageError("INVALID_FRAME", `an RGB24 frame of ${width}x${height} needs ${width * height * 3} bytes, got ${data.length}`);
	return { data, width, height };
}

/** dst->src affine map: x = m[0]*u + m[1]*v + m[2], y = m[3]*u + m[4]*v + m[5] (pixel centres at integers). */
export type Affine = [number, number, number, number, number, number];

/** The map that stretches the src rectangle (x, y, w, h) onto a dw x dh output. */
export function rectAffine(x: number, y: number, w: number, h: number, dw: number, dh: number): Affine {
	const sx = w / dw;
	const sy = h / dh;
	return [sx, 0, x + 0.5 * sx - 0.5, 0, sy, y + 0.5 * sy - 0.5];
}

/** Box-average the region [x0, x0+k*ow) x [y0, y0+k*oh) by an integer factor k. */
export function boxShrink(src: RgbImage, x0: number, y0: number, ow: number, oh: number, k: number): RgbImage {
	const out = new Uint8Array(ow * oh * 3);
	const { data, width } = src;
	const acc = new Uint32Array(ow * 3);
	const inv = 1 / (k * k);
	for (let oy = 0; oy < oh; oy++) {
		acc.fill(0);
		for (let dy = 0; dy < k; dy++) {
			let p = ((y0 + oy * k + dy) * width + x0) * 3;
			for (let ox = 0; ox < ow; ox++) {
				let r = 0,
					g = 0,
					b = 0;
				for (let dx = 0; dx < k; dx++) {
					r += data[p];
					g += data[p + 1];
					b += data[p + 2];
					p += 3;
				}
				const o = ox * 3;
				acc[o] += r;
				acc[o + 1] += g;
				acc[o + 2] += b;
			}
		}
		const row = oy * ow * 3;
		for (let i = 0; i < ow * 3; i++) out[row + i] = (acc[i] * inv + 0.5) | 0;
	}
	return { data: out, width: ow, height: oh };
}

export interface SampleOptions {
	/** Channel order of the tensor; grey is 0.299R + 0.587G + 0.114B in one plane. */
	channels: "rgb" | "bgr" | "grey";
	/** Tensor value = (pixel - mean) * scale. */
	mean: number;
	scale: number;
}

/**
 * Sample `src` through the dst->src map `m` into a dw x dh planar (CHW) float tensor at
 * `out[offset...]`. Samples outside the image read as black, like cv2.warpAffine's default.
 */
export function sampleToTensor(src: RgbImage, m: Affine, dw: number, dh: number, out: Float32Array, offset: number, opts: SampleOptions): void {
	// Source pixels per output pixel; from 2x on, pre-shrink the footprint by box averaging.
	const step = Math.sqrt(Math.abs(m[0] * m[4] - m[1] * m[3]));
	const k = Math.floor(step);
	if (k >= 2) {
		const xs = [m[2], m[0] * (dw - 1) + m[2], m[1] * (dh - 1) + m[2], m[0] * (dw - 1) + m[1] * (dh - 1) + m[2]];
		const ys = [m[5], m[3] * (dw - 1) + m[5], m[4] * (dh - 1) + m[5], m[3] * (dw - 1) + m[4] * (dh - 1) + m[5]];
		const bx0 = Math.max(0, Math.floor(Math.min(...xs)) - k);
		const by0 = Math.max(0, Math.floor(Math.min(...ys)) - k);
		const bx1 = Math.min(src.width, Math.ceil(Math.max(...xs)) + k + 1);
		const by1 = Math.min(src.height, Math.ceil(Math.max(...ys)) + k + 1);
		const ow = Math.floor((bx1 - bx0) / k);
		const oh = Math.floor((by1 - by0) / k);
		if (ow >= 2 && oh >= 2) {
			const small = boxShrink(src, bx0, by0, ow, oh, k);
			// Shrunk pixel j covers source [bx0 + jk, bx0 + jk + k): its centre is bx0 + jk + (k-1)/2.
			const c = (k - 1) / 2;
			const mm: Affine = [m[0] / k, m[1] / k, (m[2] - bx0 - c) / k, m[3] / k, m[4] / k, (m[5] - by0 - c) / k];
			bilinear(small, mm, dw, dh, out, offset, opts);
			return;
		}
	}
	bilinear(src, m, dw, dh, out, offset, opts);
}

function bilinear(src: RgbImage, m: Affine, dw: number, dh: number, out: Float32Array, offset: number, opts: SampleOptions): void {
	if (m[1] === 0 && m[3] === 0) return axisBilinear(src, m, dw, dh, out, offset, opts);
	const { data, width: w, height: h } = src;
	const plane = dw * dh;
	const { mean, scale } = opts;
	const grey = opts.channels === "grey";
	// Output plane of each source channel (R, G, B).
	const oR = offset + (opts.channels === "bgr" ? 2 * plane : 0);
	const oG = offset + (grey ? 0 : plane);
	const oB = offset + (opts.channels === "bgr" ? 0 : 2 * plane);
	const [a, b, c, d, e, f] = m;
	const wMax = w - 1;
	const hMax = h - 1;
	let i = 0;
	for (let v = 0; v < dh; v++) {
		let x = b * v + c;
		let y = e * v + f;
		for (let u = 0; u < dw; u++, i++, x += a, y += d) {
			let R: number, G: number, B: number;
			if (x > -1 && y > -1 && x < w && y < h) {
				const xc = x < 0 ? 0 : x > wMax ? wMax : x;
				const yc = y < 0 ? 0 : y > hMax ? hMax : y;
				const x0 = xc | 0;
				const y0 = yc | 0;
				const fx = xc - x0;
				const fy = yc - y0;
				const x1 = x0 < wMax ? 3 : 0;
				const y1 = y0 < hMax ? w * 3 : 0;
				const p = (y0 * w + x0) * 3;
				const w00 = (1 - fx) * (1 - fy);
				const w01 = fx * (1 - fy);
				const w10 = (1 - fx) * fy;
				const w11 = fx * fy;
				R = data[p] * w00 + data[p + x1] * w01 + data[p + y1] * w10 + data[p + y1 + x1] * w11;
				G = data[p + 1] * w00 + data[p + x1 + 1] * w01 + data[p + y1 + 1] * w10 + data[p + y1 + x1 + 1] * w11;
				B = data[p + 2] * w00 + data[p + x1 + 2] * w01 + data[p + y1 + 2] * w10 + data[p + y1 + x1 + 2] * w11;
			} else {
				R = G = B = 0;
			}
			if (grey) out[oG + i] = (0.299 * R + 0.587 * G + 0.114 * B - mean) * scale;
			else {
				out[oR + i] = (R - mean) * scale;
				out[oG + i] = (G - mean) * scale;
				out[oB + i] = (B - mean) * scale;
			}
		}
	}
}

/**
 * The same bilinear sampling for maps without rotation (resizes and crops, the detector's
 * and landmark model's inputs): source columns and rows and their weights are computed once
 * per output column and row instead of once per pixel.
 */
function axisBilinear(src: RgbImage, m: Affine, dw: number, dh: number, out: Float32Array, offset: number, opts: SampleOptions): void {
	const { data, width: w, height: h } = src;
	const plane = dw * dh;
	const { mean, scale } = opts;
	const grey = opts.channels === "grey";
	const oR = offset + (opts.channels === "bgr" ? 2 * plane : 0);
	const oG = offset + (grey ? 0 : plane);
	const oB = offset + (opts.channels === "bgr" ? 0 : 2 * plane);
	// Per column: byte offsets of the two samples and their weights; a column outside the
	// image gets zero weights (it reads a valid pixel times 0), so the inner loop has no branch.
	const ca = new Int32Array(dw),
		cb = new Int32Array(dw),
		wa = new Float32Array(dw),
		wb = new Float32Array(dw);
	for (let u = 0; u < dw; u++) {
		const x = m[0] * u + m[2];
		if (x <= -1 || x >= w) continue;
		const xc = x < 0 ? 0 : x > w - 1 ? w - 1 : x;
		const x0 = xc | 0;
		ca[u] = x0 * 3;
		cb[u] = (x0 < w - 1 ? x0 + 1 : x0) * 3;
		wb[u] = xc - x0;
		wa[u] = 1 - wb[u];
	}
	// Channel weights folded with the normalisation: grey = sum(k_c * channel) * scale - mean * scale.
	const kR = grey ? 0.299 * scale : scale,
		kG = grey ? 0.587 * scale : scale,
		kB = grey ? 0.114 * scale : scale;
	const bias = (0 - mean) * scale;
	let i = 0;
	for (let v = 0; v < dh; v++) {
		const y = m[4] * v + m[5];
		let r0 = 0,
			r1 = 0,
			fy0 = 0,
			fy1 = 0;
		if (y > -1 && y < h) {
			const yc = y < 0 ? 0 : y > h - 1 ? h - 1 : y;
			const y0 = yc | 0;
			fy1 = yc - y0;
			fy0 = 1 - fy1;
			r0 = y0 * w * 3;
			r1 = (y0 < h - 1 ? y0 + 1 : y0) * w * 3;
		}
		for (let u = 0; u < dw; u++, i++) {
			const a0 = r0 + ca[u],
				b0 = r0 + cb[u],
				a1 = r1 + ca[u],
				b1 = r1 + cb[u];
			const xa = wa[u],
				xb = wb[u];
			const R = (data[a0] * xa + data[b0] * xb) * fy0 + (data[a1] * xa + data[b1] * xb) * fy1;
			const G = (data[a0 + 1] * xa + data[b0 + 1] * xb) * fy0 + (data[a1 + 1] * xa + data[b1 + 1] * xb) * fy1;
			const B = (data[a0 + 2] * xa + data[b0 + 2] * xb) * fy0 + (data[a1 + 2] * xa + data[b1 + 2] * xb) * fy1;
			if (grey) out[oG + i] = R * kR + G * kG + B * kB + bias;
			else {
				out[oR + i] = R * kR + bias;
				out[oG + i] = G * kG + bias;
				out[oB + i] = B * kB + bias;
			}
		}
	}
}

/** Mirror each row of a CHW tensor of `channels` planes of dw x dh (for flip test-time augmentation). */
export function flipTensor(src: Float32Array, srcOffset: number, dst: Float32Array, dstOffset: number, channels: number, dw: number, dh: number): void {
	for (let c = 0; c < channels; c++)
		for (let v = 0; v < dh; v++) {
			const row = (c * dh + v) * dw;
			for (let u = 0; u < dw; u++) dst[dstOffset + row + u] = src[srcOffset + row + dw - 1 - u];
		}
}
