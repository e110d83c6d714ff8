/**
 * How a decoded frame travels to `inference.analyze`. To an engine in the same process it goes
 * as raw RGB (no copy, no encoding). Across the transporter it goes as a JPEG: a raw 1080p
 * frame is 6.2 MB, past NATS's default 1 MB message limit, while its JPEG at quality 90 is a
 * few hundred KB and costs ~10 ms to encode; frames wider than MAX_REMOTE_WIDTH are scaled
 * down first, and a JPEG still too large is made again at a lower quality or size.
 */
import sharp from "sharp";

export const MAX_REMOTE_WIDTH = 1920;
/** Stay under NATS's default max_payload (1 MB) with room for the envelope. */
export const MAX_REMOTE_BYTES = 900 * 1024;
/** Tried in turn until the JPEG fits: quality, then a smaller width. */
const STEPS: { quality: number; width?: number }[] = [
	{ quality: 88, width: MAX_REMOTE_WIDTH },
	{ quality: 72, width: MAX_REMOTE_WIDTH },
	{ quality: 72, width: 1280 },
	{ quality: 60, width: 960 }
];

export interface RawFrame {
	data: Buffer;
	width: number;
	height: number;
}

export type AnalyzePayload = { frame: RawFrame } | { image: Buffer };

export async function framePayload(frame: RawFrame, local: boolean): Promise<AnalyzePayload> {
	if (local) return { frame: { data: frame.data, width: frame.width, height: frame.height } };
	return { image: await encodeJpegWithin(frame, MAX_REMOTE_BYTES, STEPS) };
}

/** JPEG of an RGB frame, trying each step (quality, widest size; none: as it is) until it fits maxBytes; the last step's result otherwise. */
export async function encodeJpegWithin(frame: RawFrame, maxBytes: number, steps: readonly { quality: number; width?: number }[]): Promise<Buffer> {
	let jpeg: Buffer | null = null;
	for (const step of steps) {
		const width = Math.min(frame.width, step.width ?? frame.width);
		let img = sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } });
		if (width < frame.width) img = img.resize(width);
		jpeg = await img.jpeg({ quality: step.quality }).toBuffer();
		if (jpeg.length <= maxBytes) break;
	}
	return jpeg!;
}
