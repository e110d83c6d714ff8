/**
 * Face API analysis and anti-spoofing (seed 001), the pure part: the analysis modes, the
 * statistics and performance blocks, a face's quality breakdown, and the liveness verdicts.
 * The liveness model is experimental (config/models.json: its class meanings are
 * undocumented upstream); its verdicts say so. Pure.
 */
import { ApiError } from "../errors";
import type { Box } from "../vision/detect";
import type { FaceQuality } from "../vision/quality";
import { round } from "./format";

export const MODES = ["full_analysis", "detection_only", "recognition_only"] as const;
export type Mode = (typeof MODES)[number];

export function modeOf(v: unknown): Mode {
	if (v === undefined || v === null || v === "") return "full_analysis";
	const m = String(v).trim().toLowerCase();
	if ((MODES as readonly string[]).includes(m)) return m as Mode;
	throw new ApiError(400, "INVALID_MODE", `mode "${String(v).slice(0, 40)}" is not known; available: ${MODES.join(", ")}`, { details: [{ field: "mode", issue: `one of ${MODES.join(", ")}` }] });
}

/** What a mode runs: recognition needs embeddings; quality is reported unless recognition only. */
export const modeRuns = (m: Mode) => ({ recognition: m !== "detection_only", quality: m !== "recognition_only" });

/** The quality breakdown of the enhanced analysis (docs/vision.md), rounded. */
export function qualityDetails(q: FaceQuality) {
	return {
		overall: round(q.overall * 100, 2),
		sharpness: round(q.sharpness, 1),
		brightness: round(q.brightness, 3),
		contrast: round(q.contrast, 3),
		face_size: round(q.faceSize, 3),
		interocular_px: round(q.interocularPx, 1),
		pose: { yaw: round(q.yaw, 1), pitch: round(q.pitch, 1), roll: round(q.roll, 1) },
		eyes_open: q.eyesOpen === null ? null : round(q.eyesOpen, 3),
		scores: Object.fromEntries(Object.entries(q.scores).map(([k, v]) => [k.replace(/[A-Z]/g, c => `_${c.toLowerCase()}`), round(v, 3)]))
	};
}

export function statistics(faces: { has_identity?: boolean; quality_score?: number }[], recognition: boolean) {
	const identified = faces.filter(f => f.has_identity).length;
	const q = faces.map(f => f.quality_score).filter((x): x is number => typeof x === "number");
	return {
		total_faces: faces.length,
		identified_faces: recognition ? identified : null,
		unidentified_faces: recognition ? faces.length - identified : null,
		recognition_success_rate: recognition ? (faces.length ? round(identified / faces.length, 3) : 0) : null,
		average_quality: q.length ? round(q.reduce((a, b) => a + b, 0) / q.length, 2) : null
	};
}

/** Seconds, as the seed's performance block has them. */
export function performanceBlock(totalMs: number, inferenceMs: number, faces: number, images = 1) {
	const s = totalMs / 1000;
	return { total_time: round(s, 3), inference_time: round(inferenceMs / 1000, 3), faces_per_second: s > 0 ? round(faces / s, 2) : 0, images_per_second: s > 0 ? round(images / s, 2) : 0 };
}

/** One face's liveness verdict: real when the model's class-1 probability reaches the threshold. */
export function livenessVerdict(score: number, threshold: number) {
	const real = score >= threshold;
	return { is_real: real, spoofing_detected: !real, confidence: round(real ? score : 1 - score, 4), liveness_score: round(score, 4) };
}

/** The seed's region: x, y, w, h and the eyes (the person's left eye is on the image's right). */
export function spoofRegion(box: Box, landmarks: [number, number][], width: number, height: number) {
	const x = Math.max(0, Math.round(box[0])),
		y = Math.max(0, Math.round(box[1]));
	const w = Math.min(width, Math.round(box[2])) - x,
		h = Math.min(height, Math.round(box[3])) - y;
	const eye = (p?: [number, number]) => (p ? [Math.round(p[0]), Math.round(p[1])] : null);
	return { x, y, w, h, left_eye: eye(landmarks[1]), right_eye: eye(landmarks[0]) };
}

export function overallLiveness(verdicts: { is_real: boolean; confidence: number }[]) {
	const real = verdicts.filter(v => v.is_real).length;
	const allReal = verdicts.length > 0 && real === verdicts.length;
	return {
		is_real: allReal,
		spoofing_detected: verdicts.length > 0 && !allReal,
		confidence: verdicts.length ? round(Math.min(...verdicts.map(v => v.confidence)), 4) : 0,
		real_faces: real,
		fake_faces: verdicts.length - real
	};
}
