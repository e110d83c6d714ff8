/**
 * Whether a key packet is an instantaneous decoder refresh: after an IDR no frame refers to
 * anything decoded before it, so packets before it that no sampled frame needs can be left
 * undecoded. A key flag alone does not say so (an open-GOP I frame or an HEVC CRA keeps
 * references across it), so the packet's NAL units are read. Only H.264 and HEVC are known;
 * for anything else `idrReader` gives null and nothing is ever skipped.
 */
export type IdrReader = (data: Buffer) => boolean;

/**
 * A reader for one stream, from its codec and extradata: length-prefixed NAL units (MP4's
 * avcC / hvcC, extradata starting with 1, prefix length in it) or Annex B start codes.
 */
export function idrReader(codec: "h264" | "hevc" | null, extradata: Buffer | null): IdrReader | null {
	if (!codec) return null;
	const isIdr = codec === "h264" ? (b: number) => (b & 0x1f) === 5 : (b: number) => ((b >> 1) & 0x3f) === 19 || ((b >> 1) & 0x3f) === 20;
	const isSlice = codec === "h264" ? (b: number) => (b & 0x1f) >= 1 && (b & 0x1f) <= 5 : (b: number) => ((b >> 1) & 0x3f) <= 31;
	let lengthSize = 0;
	if (extradata && extradata.length > 0 && extradata[0] === 1) {
		const at = codec === "h264" ? 4 : 21;
		if (extradata.length <= at) return null;
		lengthSize = (extradata[at] & 3) + 1;
	}
	/** The first slice NAL decides: every slice of one picture has the same type. */
	return (data: Buffer) => {
		for (const header of nalHeaders(data, lengthSize)) if (isSlice(header)) return isIdr(header);
		return false;
	};
}

/** First byte of each NAL unit: length-prefixed when lengthSize > 0, else Annex B. */
function* nalHeaders(data: Buffer, lengthSize: number): Generator<number> {
	if (lengthSize > 0) {
		for (let i = 0; i + lengthSize < data.length; ) {
			let n = 0;
			for (let k = 0; k < lengthSize; k++) n = n * 256 + data[i + k];
			if (n <= 0) return;
			yield data[i + lengthSize];
			i += lengthSize + n;
		}
		return;
	}
	for (let i = 0; i + 3 < data.length; i++)
		if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
			yield data[i + 3];
			i += 3;
		}
}
