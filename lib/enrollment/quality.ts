/**
 * Enrollment video quality, from per-frame measurements of the main face to the spec's
 * metrics (faceSize, clarity, lighting, faceAngle, each 0..1), an overall weighted score
 * and feedback messages. The mappings are documented constants, not learned.
 */

/** What the vision engine measures for the main face of one frame. */
export interface FaceMeasurement {
	/** Face box area / frame area. */
	areaFraction: number;
	/** Face box centre, as fractions of frame width and height. */
	centerX: number;
	centerY: number;
	/** Variance of the Laplacian of the grey, size-normalised face crop. */
	sharpness: number;
	/** Mean and standard deviation of the face crop's grey levels, 0..255. */
	brightness: number;
	contrast: number;
	/** Head pose in degrees (0 = frontal). */
	yaw: number;
	pitch: number;
}

export interface QualityMetrics {
	faceSize: number;
	clarity: number;
	lighting: number;
	faceAngle: number;
}

/** A face covering this share of the frame scores full marks (spec: >= 20%). */
export const FULL_FACE_AREA = 0.2;
/** Laplacian variance at and above which the face counts as sharp. */
export const SHARP_LAPLACIAN_VARIANCE = 150;
/** Grey levels of a well-lit face, and how far outside them the score reaches zero. */
export const GOOD_BRIGHTNESS: [number, number] = [80, 180];
export const BRIGHTNESS_FALLOFF = 70;
/** Grey-level standard deviation at and above which contrast scores full marks. */
export const GOOD_CONTRAST = 40;
/** Head turn (yaw, pitch combined, degrees) at which faceAngle reaches zero. */
export const MAX_ANGLE = 50;
export const WEIGHTS: QualityMetrics = { faceSize: 0.25, clarity: 0.3, lighting: 0.25, faceAngle: 0.2 };
/** The spec's acceptance line. */
export const ACCEPTABLE_QUALITY = 0.7;

const clamp01 = (x: number) => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);

export function brightnessScore(b: number): number {
	const [lo, hi] = GOOD_BRIGHTNESS;
	if (b < lo) return clamp01(1 - (lo - b) / BRIGHTNESS_FALLOFF);
	if (b > hi) return clamp01(1 - (b - hi) / BRIGHTNESS_FALLOFF);
	return 1;
}

export function frameMetrics(m: FaceMeasurement): QualityMetrics {
	return {
		faceSize: clamp01(m.areaFraction / FULL_FACE_AREA),
		// sqrt: perceived blur grows slower than the variance falls.
		clarity: clamp01(Math.sqrt(Math.max(0, m.sharpness) / SHARP_LAPLACIAN_VARIANCE)),
		lighting: clamp01(0.6 * brightnessScore(m.brightness) + 0.4 * clamp01(m.contrast / GOOD_CONTRAST)),
		faceAngle: clamp01(1 - Math.hypot(m.yaw, m.pitch) / MAX_ANGLE)
	};
}

export function overallQuality(q: QualityMetrics): number {
	return clamp01(q.faceSize * WEIGHTS.faceSize + q.clarity * WEIGHTS.clarity + q.lighting * WEIGHTS.lighting + q.faceAngle * WEIGHTS.faceAngle);
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export interface VideoQualityReport {
	quality: number;
	isAcceptable: boolean;
	metrics: QualityMetrics;
	feedback: string[];
}

/** Average the metrics over the frames that showed a face, and say what to improve. */
export function videoQualityReport(frames: FaceMeasurement[]): VideoQualityReport {
	if (frames.length === 0) throw new Error("no frame with a face");
	const per = frames.map(frameMetrics);
	const mean = (k: keyof QualityMetrics) => per.reduce((s, m) => s + m[k], 0) / per.length;
	const metrics = { faceSize: round2(mean("faceSize")), clarity: round2(mean("clarity")), lighting: round2(mean("lighting")), faceAngle: round2(mean("faceAngle")) };
	const quality = round2(overallQuality(metrics));
	const avgBrightness = frames.reduce((s, f) => s + f.brightness, 0) / frames.length;
	const offCentre = frames.reduce((s, f) => s + Math.hypot(f.centerX - 0.5, f.centerY - 0.5), 0) / frames.length;

	const feedback: string[] = [];
	if (metrics.faceSize < 0.7) feedback.push("Face is too small. Move closer to camera");
	else if (metrics.clarity >= 0.7) feedback.push("Face is clearly visible");
	if (metrics.lighting < 0.7) {
		if (avgBrightness < GOOD_BRIGHTNESS[0]) feedback.push("Lighting is too dark. Record in brighter environment");
		else if (avgBrightness > GOOD_BRIGHTNESS[1]) feedback.push("Lighting is too bright. Avoid strong light directly on the face");
		else feedback.push("Lighting is too flat. Record with even light on the face");
	} else feedback.push("Good lighting conditions");
	if (metrics.clarity < 0.4) feedback.push("Video is blurry. Hold camera steady and clean the lens");
	else if (metrics.clarity < 0.7) feedback.push("Video is slightly blurry. Hold camera steady");
	if (metrics.faceAngle < 0.7) feedback.push("Face is turned away. Look straight at the camera");
	if (offCentre > 0.2) feedback.push("Face is not centered. Keep your face in the middle of the frame");
	else if (metrics.faceAngle >= 0.7) feedback.push("Face is properly centered");
	return { quality, isAcceptable: quality >= ACCEPTABLE_QUALITY, metrics, feedback };
}
