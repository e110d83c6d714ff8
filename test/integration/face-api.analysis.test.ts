/**
 * Face API analysis and anti-spoofing (seed 001) on a real node with the real models, over
 * real HTTP, on the face-api demo photos: analysis by mode with a registered person named,
 * statistics and performance in the seed's shape, the enhanced breakdown, a batch with a
 * broken file failing alone; anti-spoofing's sane shapes and its experimental model info.
 */
import { CONSOLE_ENV } from "../support/console";
import { faceCrop, faceForm, faceJson, sample } from "../support/face-api";
import { startNode, type TestNode } from "../support/node";

describe("face API: analysis and anti-spoofing", () => {
	let node: TestNode;
	beforeAll(async () => {
		node = await startNode({ ...CONSOLE_ENV, RATE_LIMIT_PER_MINUTE: "0" });
		const added = await faceForm(node, "/api/face-recognition/add-face", { person_id: "emp-anna", person_name: "Anna" }, [["file", "anna.jpg", await faceCrop("anna")]]);
		expect(added.status).toBe(200);
	});
	afterAll(() => node?.stop());

	it("analyses a group photo: faces, Anna named, statistics and performance as the seed has them", async () => {
		const r = await faceForm(node, "/api/face-analysis/analyze", { mode: "full_analysis", recognition_model: "arcface112-v1" }, [["file", "group.jpg", sample(3)]]);
		expect(r.status).toBe(200);
		expect(r.body.success).toBe(true);
		expect(r.body.face_count).toBeGreaterThanOrEqual(2);
		for (const f of r.body.faces) {
			expect(f.bbox.x2).toBeLessThanOrEqual(r.body.image.width);
			expect(f.bbox.confidence).toBeGreaterThanOrEqual(0.5);
			expect(f.quality_score).toBeGreaterThan(0);
			expect(typeof f.has_identity).toBe("boolean");
			expect(Array.isArray(f.matches)).toBe(true);
		}
		const anna = r.body.faces.filter((f: any) => f.has_identity);
		expect(anna).toEqual([expect.objectContaining({ person_id: "emp-anna", identity_name: "Anna" })]);
		expect(anna[0].matches[0]).toEqual(expect.objectContaining({ person_id: "emp-anna", person_name: "Anna", match_type: "database" }));
		expect(r.body.statistics).toEqual(expect.objectContaining({ total_faces: r.body.face_count, identified_faces: 1, recognition_success_rate: Math.round((1 / r.body.face_count) * 1000) / 1000 }));
		expect(r.body.performance.total_time).toBeGreaterThan(0);
		expect(r.body.performance.total_time).toBeLessThan(30);
		expect(r.body.performance.faces_per_second).toBeGreaterThan(0);
		expect(r.body.models_used).toEqual({ detection: "ultraface-rfb-320", recognition: "arcface112-v1" });

		const det = await faceForm(node, "/api/face-analysis/analyze", { mode: "detection_only" }, [["file", "group.jpg", sample(3)]]);
		expect(det.body.face_count).toBe(r.body.face_count);
		expect(det.body.faces[0].has_identity).toBeUndefined();
		expect(det.body.statistics.identified_faces).toBeNull();
		expect(det.body.models_used.recognition).toBeNull();
		const bad = await faceForm(node, "/api/face-analysis/analyze", { mode: "turbo" }, [["file", "group.jpg", sample(3)]]);
		expect([bad.status, bad.body.code]).toEqual([400, "INVALID_MODE"]);
		const model = await faceForm(node, "/api/face-analysis/analyze", { recognition_model: "facenet" }, [["file", "group.jpg", sample(3)]]);
		expect([model.status, model.body.code]).toEqual([400, "UNKNOWN_MODEL"]);
		expect(model.body.detail).toContain("recognition_model");
		expect(model.body.detail).toContain("arcface112-v1");
	});

	it("takes base64 and data URLs; the enhanced routes add the quality breakdown; bad base64 is a 400", async () => {
		const b64 = (await faceCrop("annaAgain")).toString("base64");
		const plain = await faceJson(node, "/api/face-analysis/analyze-json", { image_base64: b64 });
		expect(plain.status).toBe(200);
		expect(plain.body.faces[0]).toEqual(expect.objectContaining({ has_identity: true, person_id: "emp-anna" }));
		const enhanced = await faceJson(node, "/api/face-analysis/face-analysis/analyze-base64", { image_base64: `data:image/jpeg;base64,${b64}` });
		expect(enhanced.status).toBe(200);
		const q = enhanced.body.faces[0].quality;
		expect(q).toEqual(expect.objectContaining({ overall: enhanced.body.faces[0].quality_score, pose: expect.objectContaining({ yaw: expect.any(Number) }) }));
		expect(q.sharpness).toBeGreaterThan(0);
		expect(enhanced.body.faces[0].landmarks).toHaveLength(5);
		expect(enhanced.body.performance.stages_ms.detectMs).toBeGreaterThan(0);
		const file = await faceForm(node, "/api/face-analysis/face-analysis/analyze", { mode: "recognition_only" }, [["file", "a.jpg", Buffer.from(b64, "base64")]]);
		expect(file.body.faces[0].quality_score).toBeUndefined();
		expect(file.body.faces[0].person_id).toBe("emp-anna");
		for (const route of ["/api/face-analysis/analyze-json", "/api/face-analysis/face-analysis/analyze-base64", "/api/anti-spoofing/detect-base64"]) {
			const broken = await faceJson(node, route, { image_base64: "@@not base64@@" });
			expect([route, broken.status, broken.body.code]).toEqual([route, 400, "INVALID_BASE64"]);
		}
	});

	it("analyses a batch: every file reported, a broken one failing alone", async () => {
		const files: [string, string, Buffer][] = [1, 2, 3, 4].map(i => ["files", `s${i}.jpg`, sample(i)]);
		files.push(["files", "broken.jpg", Buffer.from("definitely not an image")]);
		const r = await faceForm(node, "/api/face-analysis/face-analysis/batch", { mode: "full_analysis" }, files);
		expect(r.status).toBe(200);
		expect(r.body.batch_summary).toEqual(expect.objectContaining({ total_files: 5, successful_analyses: 4, failed_analyses: 1, identified_faces: 2 }));
		expect(r.body.individual_results.map((x: any) => [x.filename, x.success])).toEqual([["s1.jpg", true], ["s2.jpg", true], ["s3.jpg", true], ["s4.jpg", true], ["broken.jpg", false]]);
		expect(r.body.individual_results[4].error.code).toBe("UNSUPPORTED_IMAGE_FORMAT");
		expect(r.body.individual_results[0].result.statistics.total_faces).toBeGreaterThan(0);
		expect(r.body.performance.images_per_second).toBeGreaterThan(0);
		const health = await faceJson(node, "/api/face-analysis/health", undefined, {});
		expect(health.body).toEqual(expect.objectContaining({ status: "healthy", recognition_model: "arcface112-v1" }));
	});

	it("answers anti-spoofing in the seed's shape, marked experimental, with no accuracy claimed", async () => {
		const r = await faceForm(node, "/api/anti-spoofing/detect-upload", { confidence_threshold: "0.5" }, [["image", "anna.jpg", await faceCrop("anna")]]);
		expect(r.status).toBe(200);
		expect(r.body).toEqual(expect.objectContaining({ success: true, faces_detected: 1, experimental: true, model: "minifasnet-v1", confidence_threshold: 0.5 }));
		const f = r.body.faces_analysis[0];
		expect(f.face_id).toBe(1);
		expect(f.is_real).toBe(!f.spoofing_detected);
		expect(f.is_real).toBe(f.liveness_score >= 0.5);
		expect(f.probabilities).toHaveLength(3);
		expect(f.probabilities.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 2);
		expect(f.confidence).toBeGreaterThanOrEqual(0.5);
		expect(f.region.w).toBeGreaterThan(50);
		expect(f.region.left_eye[0]).toBeGreaterThan(f.region.right_eye[0]);
		expect(r.body.overall_result).toEqual(expect.objectContaining({ real_faces: f.is_real ? 1 : 0, fake_faces: f.is_real ? 0 : 1, is_real: f.is_real }));
		expect(r.body.processing_time).toBeGreaterThan(0);
		// A group photo: one verdict per face; base64 alike.
		const group = await faceJson(node, "/api/anti-spoofing/detect-base64", { image_base64: sample(5).toString("base64") });
		expect(group.body.faces_detected).toBeGreaterThanOrEqual(3);
		expect(group.body.overall_result.real_faces + group.body.overall_result.fake_faces).toBe(group.body.faces_detected);
		const missing = await faceForm(node, "/api/anti-spoofing/detect-upload", {}, [["file", "wrong-field.jpg", sample(1)]]);
		expect([missing.status, missing.body.code]).toEqual([400, "FILE_REQUIRED"]);
		const info = await faceJson(node, "/api/anti-spoofing/model-info");
		expect(info.body).toEqual(expect.objectContaining({ model: "minifasnet-v1", status: "experimental", experimental: true, accuracy: null }));
		expect(JSON.stringify(info.body)).not.toContain("99.49");
		expect((await faceJson(node, "/api/anti-spoofing/health", undefined, {})).body).toEqual(expect.objectContaining({ status: "healthy", experimental: true }));
	});
});
