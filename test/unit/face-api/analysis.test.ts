/** Face API analysis and anti-spoofing rules: modes, statistics, performance in seconds, liveness verdicts, the seed's region. */
import { livenessVerdict, modeOf, modeRuns, overallLiveness, performanceBlock, spoofRegion, statistics } from "../../../lib/face-api/analysis";

describe("face API analysis rules", () => {
	it("knows its modes; another is a 400 listing them", () => {
		expect(modeOf(undefined)).toBe("full_analysis");
		expect(modeOf(" Detection_Only ")).toBe("detection_only");
		expect(modeRuns("detection_only")).toEqual({ recognition: false, quality: true });
		expect(modeRuns("recognition_only")).toEqual({ recognition: true, quality: false });
		expect(() => modeOf("turbo")).toThrow(expect.objectContaining({ type: "INVALID_MODE", message: expect.stringContaining("full_analysis, detection_only, recognition_only") }));
	});

	it("counts faces, identities and quality; nothing of recognition when it did not run", () => {
		expect(statistics([{ has_identity: true, quality_score: 80 }, { has_identity: false, quality_score: 60 }], true)).toEqual({ total_faces: 2, identified_faces: 1, unidentified_faces: 1, recognition_success_rate: 0.5, average_quality: 70 });
		expect(statistics([{ quality_score: 50 }], false)).toEqual({ total_faces: 1, identified_faces: null, unidentified_faces: null, recognition_success_rate: null, average_quality: 50 });
		expect(statistics([], true)).toEqual(expect.objectContaining({ total_faces: 0, recognition_success_rate: 0, average_quality: null }));
		expect(performanceBlock(500, 250, 2, 1)).toEqual({ total_time: 0.5, inference_time: 0.25, faces_per_second: 4, images_per_second: 2 });
	});

	it("calls a face real at the threshold, and the image real only when every face is", () => {
		expect(livenessVerdict(0.7, 0.5)).toEqual({ is_real: true, spoofing_detected: false, confidence: 0.7, liveness_score: 0.7 });
		expect(livenessVerdict(0.2, 0.5)).toEqual({ is_real: false, spoofing_detected: true, confidence: 0.8, liveness_score: 0.2 });
		expect(overallLiveness([livenessVerdict(0.9, 0.5), livenessVerdict(0.1, 0.5)])).toEqual({ is_real: false, spoofing_detected: true, confidence: 0.9, real_faces: 1, fake_faces: 1 });
		expect(overallLiveness([])).toEqual({ is_real: false, spoofing_detected: false, confidence: 0, real_faces: 0, fake_faces: 0 });
		// The person's left eye is on the image's right.
		expect(spoofRegion([10.4, 20, 110, 140], [[40, 60], [80, 61]], 100, 200)).toEqual({ x: 10, y: 20, w: 90, h: 120, left_eye: [80, 61], right_eye: [40, 60] });
	});
});
