/**
 * Test videos of real faces: H.264 in MP4, MOV or AVI, made from photos (e.g. @vladmandic/
 * face-api's demo/sample*.jpg) with sharp for the frames and node-av (libx264 in its static
 * FFmpeg) for encoding and muxing. A slow pan or zoom keeps consecutive frames different, as
 * in a real recording; segments switch between people; darken/blur make bad recordings.
 *
 *   await makeFaceVideo(file, { segments: [{ photo: SAMPLES[1], seconds: 2 }, { photo: SAMPLES[2], seconds: 2 }] });
 *   await makeFaceVideo(file, { photo: SAMPLES[1], width: 1920, height: 1080, seconds: 10, motion: "zoom" });
 *   await makeFaceVideo(file, { pattern: true, seconds: 3 });        // no face at all
 *
 * MP4 output (the default) is what test/support/rtsp.ts's file mounts serve.
 */
import fs from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { av } from "../../lib/video/av";

const { AV_PIX_FMT_YUV420P, Encoder, FF_ENCODER_LIBX264, Frame, Muxer } = av;

const DEMO = path.join(__dirname, "../../node_modules/@vladmandic/face-api/demo");
/** The face-api demo photos, sample1.jpg .. sample6.jpg (index 0 = sample1). */
export const SAMPLES = [1, 2, 3, 4, 5, 6].map(i => path.join(DEMO, `sample${i}.jpg`));

export type Motion = "pan" | "zoom" | "still";

/** A face in a photo: x1, y1, x2, y2 in the photo's pixels. */
export type FaceBox = [number, number, number, number];

/**
 * A face's photo cut to the face with half its width of margin, as a square JPEG (a profile
 * photo); `mirrored` flips it and dims it a little (a second, different photo of the person).
 */
export async function faceCrop(f: { photo: string; focus: FaceBox }, opts: { size?: number; mirrored?: boolean } = {}): Promise<Buffer> {
	const [x1, y1, x2, y2] = f.focus;
	const m = Math.round((x2 - x1) * 0.5);
	const meta = await sharp(f.photo).metadata();
	const left = Math.max(0, x1 - m);
	const top = Math.max(0, y1 - m);
	let img = sharp(f.photo).extract({ left, top, width: Math.min(meta.width! - left, x2 - x1 + 2 * m), height: Math.min(meta.height! - top, y2 - y1 + 2 * m) });
	if (opts.mirrored) img = img.flop().modulate({ brightness: 0.85 });
	const size = opts.size ?? 360;
	return img.resize(size, size, { fit: "cover" }).jpeg().toBuffer();
}

export interface Segment {
	photo: string;
	seconds: number;
	/** Frame this face (default: the whole photo). */
	focus?: FaceBox;
}

/**
 * Faces of the demo photos as the vision engine finds them (main faces of group photos).
 * `anna` appears in sample1 and sample3 (cosine 0.71 between the two photos); `anna`,
 * `bea` and `cleo` are three different women: anna is far from both (cosine under 0.05), but
 * this embedder puts bea and cleo at cosine ~0.40 (calibrated ~0.86, over the default 0.85
 * threshold), a look-alike pair (measured with flip TTA off).
 */
export const FACES = {
	anna: { photo: SAMPLES[0], focus: [1458, 217, 1681, 430] as FaceBox },
	annaAgain: { photo: SAMPLES[2], focus: [1078, 193, 1301, 503] as FaceBox },
	bea: { photo: SAMPLES[5], focus: [1171, 310, 1358, 581] as FaceBox },
	cleo: { photo: SAMPLES[3], focus: [663, 67, 850, 315] as FaceBox }
};

export interface FaceVideoOptions {
	/** One photo for the whole clip (or use `segments`). */
	photo?: string;
	/** The face to frame in `photo` (default: the whole photo). */
	focus?: FaceBox;
	/** Photos shown one after the other, each for its seconds (several people). */
	segments?: Segment[];
	/** A moving colour-bar test pattern with no face (ignores photos). */
	pattern?: boolean;
	/** Output size (even numbers; default 640x480). */
	width?: number;
	height?: number;
	fps?: number;
	/** Length when a single photo or the pattern is shown (default 4). */
	seconds?: number;
	/** Frames between key frames (default: one per second). */
	keyint?: number;
	/** Most consecutive B-frames (default 2; 0 = none: every frame a reference, as phones record). */
	bframes?: number;
	motion?: Motion;
	/** Brightness multiplier (0.15 = a very dark room); 1 leaves it. */
	darken?: number;
	/** Gaussian blur sigma in output pixels (an out-of-focus camera). */
	blur?: number;
	/**
	 * Sensor noise: each pixel of each frame moves by up to +-grain levels (a fixed-seed
	 * random sequence, so a clip is the same every time). A phone's grain is what makes its
	 * recordings 5-10 Mbit/s at 1080p; 0 (default) leaves the frames clean.
	 */
	grain?: number;
	/**
	 * Height of the focus (the face box, or the whole photo) as a share of the frame height:
	 * default 0.55 for a face (its box then covers ~20% of a 4:3 frame) and 1 for a whole
	 * photo; small values show it far away, on a grey background past the photo's edges.
	 */
	faceScale?: number;
	/** x264 constant rate factor (default 23; lower = larger file). */
	crf?: number;
	/** x264 preset (default "veryfast"). */
	preset?: string;
	/** Container; by default taken from the file extension (.mp4, .mov, .avi). */
	container?: "mp4" | "mov" | "avi";
}

export interface FaceVideo {
	file: string;
	frames: number;
	width: number;
	height: number;
	fps: number;
	seconds: number;
	bytes: number;
}

interface Plate {
	/** The photo as raw RGB, padded on every side by `pad` grey pixels (for zoom-outs). */
	data: Buffer;
	width: number;
	height: number;
	photoWidth: number;
	photoHeight: number;
	pad: number;
}

const BACKGROUND = { r: 96, g: 96, b: 96 };

async function loadPlate(photo: string): Promise<Plate> {
	const img = sharp(photo).rotate();
	const { data, info } = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
	const pad = Math.max(info.width, info.height) * 2;
	const padded = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
		.extend({ top: pad, bottom: pad, left: pad, right: pad, background: BACKGROUND })
		.raw()
		.toBuffer({ resolveWithObject: true });
	return { data: padded.data, width: padded.info.width, height: padded.info.height, photoWidth: info.width, photoHeight: info.height, pad };
}

/** One output frame of a photo at progress `t` (0..1) through its segment. */
async function renderPhoto(p: Plate, focus: FaceBox | undefined, t: number, o: Required<Pick<FaceVideoOptions, "width" | "height" | "motion">> & FaceVideoOptions): Promise<Buffer> {
	const aspect = o.width / o.height;
	const [fx1, fy1, fx2, fy2] = focus ?? [0, 0, p.photoWidth, p.photoHeight];
	// The window of the output's aspect in which the focus covers faceScale of the height
	// (a whole photo wider than the frame is fitted by its width instead).
	let scale = o.faceScale ?? (focus ? 0.55 : 1);
	let dx = 0;
	let dy = 0;
	if (o.motion === "zoom") scale *= 1 + 0.15 * t;
	if (o.motion === "pan") {
		dx = 0.06 * Math.sin(2 * Math.PI * t);
		dy = 0.03 * Math.sin(4 * Math.PI * t);
	}
	let ch = (fy2 - fy1) / scale;
	if (!focus) ch = Math.min(ch, (fx2 - fx1) / aspect / scale);
	const cw = ch * aspect;
	const cx = p.pad + (fx1 + fx2) / 2 + dx * cw;
	const cy = p.pad + (fy1 + fy2) / 2 + dy * ch;
	const left = Math.max(0, Math.min(p.width - 1, Math.round(cx - cw / 2)));
	const top = Math.max(0, Math.min(p.height - 1, Math.round(cy - ch / 2)));
	const region = { left, top, width: Math.max(1, Math.min(p.width - left, Math.round(cw))), height: Math.max(1, Math.min(p.height - top, Math.round(ch))) };
	let img = sharp(p.data, { raw: { width: p.width, height: p.height, channels: 3 } })
		.extract(region)
		.resize(o.width, o.height, { fit: "fill", kernel: "lanczos3" });
	if (o.darken !== undefined && o.darken !== 1) img = img.linear(o.darken, 0);
	if (o.blur !== undefined && o.blur >= 0.3) img = img.blur(o.blur);
	return img.raw().toBuffer();
}

/**
 * Sensor-like noise: a fixed table of +-amp values (xorshift32, fixed seed) read from a
 * different random offset for each frame, so the noise changes every frame (as a sensor's
 * does, which is what costs bits) while a clip stays the same from run to run.
 */
class Grain {
	private table: Int8Array;
	private seed = 0x2545f491;
	constructor(
		private readonly amp: number,
		frameBytes: number
	) {
		this.table = new Int8Array(frameBytes * 2);
		const span = 2 * amp + 1;
		for (let i = 0; i < this.table.length; i++) this.table[i] = (this.next() % span) - amp;
	}
	private next(): number {
		let x = this.seed;
		x ^= x << 13;
		x ^= x >>> 17;
		x ^= x << 5;
		this.seed = x;
		return x >>> 0;
	}
	apply(rgb: Buffer): void {
		const t = this.table;
		const off = this.next() % (t.length - rgb.length);
		for (let i = 0; i < rgb.length; i++) {
			const v = rgb[i] + t[off + i];
			rgb[i] = v < 0 ? 0 : v > 255 ? 255 : v;
		}
	}
}

/** Colour bars with a moving gradient: structure and motion, but no face. */
function renderPattern(width: number, height: number, i: number): Buffer {
	const bars = [
		[235, 235, 235],
		[235, 235, 16],
		[16, 235, 235],
		[16, 235, 16],
		[235, 16, 235],
		[235, 16, 16],
		[16, 16, 235]
	];
	const out = Buffer.alloc(width * height * 3);
	for (let y = 0; y < height; y++)
		for (let x = 0; x < width; x++) {
			const o = (y * width + x) * 3;
			if (y < height * 0.7) {
				const b = bars[Math.floor(((x + i * 4) % width) / (width / bars.length)) % bars.length];
				out[o] = b[0];
				out[o + 1] = b[1];
				out[o + 2] = b[2];
			} else {
				const v = ((x + i * 8) % 256) & 0xff;
				out[o] = out[o + 1] = out[o + 2] = v;
			}
		}
	return out;
}

/** Packed RGB24 to planar YUV 4:2:0 (BT.601, limited range: what H.264 players expect). */
export function rgbToI420(rgb: Buffer, width: number, height: number): Buffer {
	const ySize = width * height;
	const cw = width >> 1;
	const chh = height >> 1;
	const out = Buffer.alloc(ySize + 2 * cw * chh);
	for (let i = 0, p = 0; i < ySize; i++, p += 3) out[i] = (16 + (65.738 * rgb[p] + 129.057 * rgb[p + 1] + 25.064 * rgb[p + 2]) / 256 + 0.5) | 0;
	const uOff = ySize;
	const vOff = ySize + cw * chh;
	for (let y = 0; y < chh; y++)
		for (let x = 0; x < cw; x++) {
			let r = 0,
				g = 0,
				b = 0;
			for (const [ox, oy] of [
				[0, 0],
				[1, 0],
				[0, 1],
				[1, 1]
			]) {
				const p = ((2 * y + oy) * width + 2 * x + ox) * 3;
				r += rgb[p];
				g += rgb[p + 1];
				b += rgb[p + 2];
			}
			r /= 4;
			g /= 4;
			b /= 4;
			out[uOff + y * cw + x] = Math.max(0, Math.min(255, Math.round(128 + (-37.945 * r - 74.494 * g + 112.439 * b) / 256)));
			out[vOff + y * cw + x] = Math.max(0, Math.min(255, Math.round(128 + (112.439 * r - 94.154 * g - 18.285 * b) / 256)));
		}
	return out;
}

/** Render and encode a test video; returns what was written. */
export async function makeFaceVideo(file: string, opts: FaceVideoOptions): Promise<FaceVideo> {
	const width = (opts.width ?? 640) & ~1;
	const height = (opts.height ?? 480) & ~1;
	const fps = opts.fps ?? 25;
	const keyint = opts.keyint ?? fps;
	const o = { ...opts, width, height, motion: opts.motion ?? "pan" };
	const segments: Segment[] = opts.pattern ? [] : (opts.segments ?? (opts.photo ? [{ photo: opts.photo, focus: opts.focus, seconds: opts.seconds ?? 4 }] : []));
	if (!opts.pattern && segments.length === 0) throw new Error("makeFaceVideo: give a photo, segments or pattern");
	const seconds = opts.pattern ? (opts.seconds ?? 4) : segments.reduce((s, g) => s + g.seconds, 0);
	const container = opts.container ?? ((path.extname(file).slice(1).toLowerCase() || "mp4") as "mp4" | "mov" | "avi");
	const format = { mp4: "mp4", mov: "mov", avi: "avi" }[container];
	if (!format) throw new Error(`makeFaceVideo: unsupported container ${container}`);

	fs.mkdirSync(path.dirname(file), { recursive: true });
	const plates = new Map<string, Plate>();
	for (const s of segments) if (!plates.has(s.photo)) plates.set(s.photo, await loadPlate(s.photo));

	const timeBase = { num: 1, den: fps };
	const encoder = await Encoder.create(FF_ENCODER_LIBX264, {
		// Time base and size come from the frames.
		context: { framerate: new av.Rational(fps, 1) },
		gopSize: keyint,
		maxBFrames: opts.bframes ?? 2,
		options: { preset: opts.preset ?? "veryfast", crf: opts.crf ?? 23, "x264-params": `keyint=${keyint}:min-keyint=${keyint}:scenecut=0:bframes=${opts.bframes ?? 2}` }
	});
	const muxer = await Muxer.open(file, { format });
	const index = muxer.addStream(encoder);
	const write = async (packets: InstanceType<typeof av.Packet>[]) => {
		for (const pk of packets) {
			await muxer.writePacket(pk, index);
			pk.free();
		}
	};
	let frames = 0;
	try {
		const grain = opts.grain && opts.grain > 0 ? new Grain(Math.round(opts.grain), width * height * 3) : null;
		const emit = async (rgb: Buffer) => {
			grain?.apply(rgb);
			const frame = Frame.fromVideoBuffer(rgbToI420(rgb, width, height), { width, height, format: AV_PIX_FMT_YUV420P, timeBase });
			frame.pts = BigInt(frames++);
			try {
				await write(await encoder.encodeAll(frame));
			} finally {
				frame.free();
			}
		};
		if (opts.pattern) {
			const n = Math.round(seconds * fps);
			for (let i = 0; i < n; i++) await emit(renderPattern(width, height, i));
		} else
			for (const s of segments) {
				const n = Math.round(s.seconds * fps);
				const plate = plates.get(s.photo)!;
				for (let i = 0; i < n; i++) await emit(await renderPhoto(plate, s.focus, n > 1 ? i / (n - 1) : 0, o));
			}
		await write(await encoder.encodeAll(null));
	} finally {
		encoder.close();
		await muxer.close();
	}
	return { file, frames, width, height, fps, seconds, bytes: fs.statSync(file).size };
}
