/**
 * Recognise a video container by its first bytes, not its name: MP4 and MOV (ISO base media:
 * an `ftyp` box, or a QuickTime file opening with `moov`/`mdat`/`wide`/`free`/`skip`), and
 * AVI (`RIFF....AVI `).
 */
export type VideoContainer = "mp4" | "mov" | "avi";

const QT_ATOMS = new Set(["moov", "mdat", "wide", "free", "skip", "pnot"]);

export function sniffContainer(head: Uint8Array): VideoContainer | null {
	if (head.length < 12) return null;
	const ascii = (from: number, to: number) => String.fromCharCode(...head.subarray(from, to));
	if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "AVI ") return "avi";
	const box = ascii(4, 8);
	if (box === "ftyp") return ascii(8, 12) === "qt  " ? "mov" : "mp4";
	if (QT_ATOMS.has(box)) return "mov";
	return null;
}
