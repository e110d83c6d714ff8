/**
 * Is a registration photo usable? Exactly one face that matters (others much smaller, in the
 * background, are ignored), seen large and sharp enough and not turned away, with an
 * embedding. Pure: it reads the engine's analysis.
 */
import type { AnalyzeResult, Face } from "../vision/engine";

export type PhotoVerdict =
	| { ok: true; face: Face & { embedding: number[] }; quality: number }
	| { ok: false; code: "NO_FACE_DETECTED" | "MULTIPLE_FACES" | "LOW_QUALITY_FACE"; message: string };

export interface PhotoRules {
	/** Least eye distance, source pixels. */
	minInterocularPx: number;
	/** Least Laplacian variance of the aligned face (blur). */
	minSharpness: number;
	/** Largest yaw or pitch, degrees. */
	maxPose: number;
	/** A second face at least this share of the main face's size makes the photo ambiguous. */
	secondFaceShare?: number;
}

const side = (f: Face) => Math.min(f.box[2] - f.box[0], f.box[3] - f.box[1]);

export function judgePhoto(a: AnalyzeResult, rules: PhotoRules): PhotoVerdict {
	const faces = [...a.faces].sort((x, y) => side(y) - side(x));
	if (faces.length === 0) return { ok: false, code: "NO_FACE_DETECTED", message: "no face found in the photo" };
	const main = faces[0];
	const others = faces.slice(1).filter(f => side(f) >= (rules.secondFaceShare ?? 0.5) * side(main));
	if (others.length) return { ok: false, code: "MULTIPLE_FACES", message: `${others.length + 1} faces in the photo; one person per photo` };
	const q = main.quality;
	if (q.interocularPx < rules.minInterocularPx) return { ok: false, code: "LOW_QUALITY_FACE", message: `the face is too small (${Math.round(q.interocularPx)} px between the eyes, at least ${rules.minInterocularPx})` };
	if (q.sharpness < rules.minSharpness) return { ok: false, code: "LOW_QUALITY_FACE", message: `the face is blurred (sharpness ${Math.round(q.sharpness)}, at least ${rules.minSharpness})` };
	if (Math.abs(q.yaw) > rules.maxPose || Math.abs(q.pitch) > rules.maxPose) return { ok: false, code: "LOW_QUALITY_FACE", message: `the face is turned away (yaw ${Math.round(q.yaw)}°, pitch ${Math.round(q.pitch)}°)` };
	if (!main.embedding) return { ok: false, code: "LOW_QUALITY_FACE", message: "no embedding for the face" };
	return { ok: true, face: main as Face & { embedding: number[] }, quality: Math.round(q.overall * 1000) / 1000 };
}
