/**
 * Face API detection (seed 001) on a real node with the real models, over real HTTP: the
 * face-api sample photos (1920 px wide) detected with boxes in their own pixels, base64
 * plain and as a data URL, every image format by its bytes, refusals with codes, batches of
 * 20 (21 refused, a broken file failing alone), the credentials the face family takes.
 */
import sharp from "sharp";
import { encodeBmp } from "../../lib/vision/bmp";
import { ADMIN, CONSOLE_ENV, accountOf, call, login } from "../support/console";
import { FACES } from "../support/face-video";
import { faceForm, faceJson, iou, sample } from "../support/face-api";
import { startNode, type TestNode } from "../support/node";

describe("face API: detection", () => {
	let node: TestNode;
	let admin: string;
	beforeAll(async () => {
		node = await startNode({ ...CONSOLE_ENV, RATE_LIMIT_PER_MINUTE: "0" });
		admin = (await login(node, ADMIN.email, ADMIN.password)).accessToken;
	});
	afterAll(() => node?.stop());

	it("answers /health in the seed's shape, without credentials", async () => {
		const r = await faceJson(node, "/health", undefined, {});
		expect(r.status).toBe(200);
		expect(r.body).toEqual({ status: "healthy", services: { face_detection: true, face_recognition: true, face_analysis: true, anti_spoofing: true }, device: "cpu" });
		expect((await faceJson(node, "/api/face-detection/health", undefined, {})).body).toEqual(expect.objectContaining({ status: "healthy", model: "ultraface-rfb-320" }));
	});

	it("detects the faces of a photo with boxes in its own pixels", async () => {
		const r = await faceForm(node, "/api/face-detection/detect", { model_name: "auto", conf_threshold: "0.5", max_faces: "10" }, [["file", "sample1.jpg", sample(1)]]);
		expect(r.status).toBe(200);
		expect(r.body.success).toBe(true);
		expect(r.body.image).toEqual({ width: 1920, height: 1280 });
		expect(r.body.face_count).toBe(r.body.faces.length);
		expect(r.body.face_count).toBeGreaterThanOrEqual(1);
		for (const f of r.body.faces) {
			const b = f.bbox;
			expect(b.x1).toBeGreaterThanOrEqual(0);
			expect(b.x2).toBeLessThanOrEqual(1920);
			expect(b.y2).toBeLessThanOrEqual(1280);
			expect(b.width).toBe(b.x2 - b.x1);
			expect(b.center_x).toBe((b.x1 + b.x2) / 2);
			expect(b.width).toBeGreaterThan(40);
			expect(b.height / b.width).toBeGreaterThan(0.8);
			expect(b.height / b.width).toBeLessThan(2);
			expect(b.confidence).toBeGreaterThanOrEqual(0.5);
			expect(f.quality_score).toBeGreaterThan(0);
			expect(f.quality_score).toBeLessThanOrEqual(100);
			expect(f.model_used).toBe("ultraface-rfb-320");
		}
		// Anna's face, where the engine finds it on the full photo.
		const best = Math.max(...r.body.faces.map((f: any) => iou([f.bbox.x1, f.bbox.y1, f.bbox.x2, f.bbox.y2], FACES.anna.focus)));
		expect(best).toBeGreaterThan(0.5);
		expect(r.body.total_processing_time).toBeGreaterThan(0);
		// max_faces keeps the largest.
		const one = await faceForm(node, "/api/face-detection/detect", { max_faces: "1" }, [["file", "sample1.jpg", sample(1)]]);
		expect(one.body.face_count).toBe(1);
	});

	it("takes base64 plain and as a data URL alike; broken base64 is a 400", async () => {
		const b64 = sample(6).toString("base64");
		const plain = await faceJson(node, "/api/face-detection/detect-base64", { image_base64: b64 });
		const dataUrl = await faceJson(node, "/api/face-detection/detect-base64", { image_base64: `data:image/jpeg;base64,${b64}` });
		expect(plain.status).toBe(200);
		expect(dataUrl.status).toBe(200);
		expect(plain.body.face_count).toBeGreaterThanOrEqual(1);
		expect(dataUrl.body.faces.map((f: any) => f.bbox)).toEqual(plain.body.faces.map((f: any) => f.bbox));
		// Missing padding is tolerated (the seed's "Incorrect padding").
		expect((await faceJson(node, "/api/face-detection/detect-base64", { image_base64: b64.replace(/=+$/, "") })).status).toBe(200);
		const broken = await faceJson(node, "/api/face-detection/detect-base64", { image_base64: "this is not base64!!" });
		expect(broken.status).toBe(400);
		expect(broken.body).toEqual(expect.objectContaining({ code: "INVALID_BASE64", detail: expect.stringContaining("not valid base64") }));
		const notImage = await faceJson(node, "/api/face-detection/detect-base64", { image_base64: Buffer.from("hello, world").toString("base64") });
		expect([notImage.status, notImage.body.code]).toEqual([400, "UNSUPPORTED_IMAGE_FORMAT"]);
		const missing = await faceJson(node, "/api/face-detection/detect-base64", {});
		expect([missing.status, missing.body.code]).toEqual([400, "IMAGE_REQUIRED"]);
	});

	it("reads JPEG, PNG, BMP, TIFF and WebP by their bytes; refuses anything else with a code", async () => {
		const photo = await sharp(sample(2)).resize(960).toBuffer();
		const raw = await sharp(photo).removeAlpha().raw().toBuffer({ resolveWithObject: true });
		const formats: Record<string, Buffer> = {
			png: await sharp(photo).png().toBuffer(),
			webp: await sharp(photo).webp().toBuffer(),
			tiff: await sharp(photo).tiff().toBuffer(),
			bmp: encodeBmp({ data: new Uint8Array(raw.data), width: raw.info.width, height: raw.info.height })
		};
		const jpeg = await faceForm(node, "/api/face-detection/detect", {}, [["file", "x.jpg", photo]]);
		expect(jpeg.body.face_count).toBeGreaterThanOrEqual(1);
		for (const [fmt, data] of Object.entries(formats)) {
			// The name lies: the bytes decide.
			const r = await faceForm(node, "/api/face-detection/detect", {}, [["file", "photo.jpg", data]]);
			expect([fmt, r.status]).toEqual([fmt, 200]);
			expect([fmt, r.body.face_count]).toEqual([fmt, jpeg.body.face_count]);
		}
		const gif = await faceForm(node, "/api/face-detection/detect", {}, [["file", "a.gif", Buffer.from("GIF89a....")]]);
		expect([gif.status, gif.body.code]).toEqual([400, "UNSUPPORTED_IMAGE_FORMAT"]);
		const missing = await faceForm(node, "/api/face-detection/detect", { model_name: "auto" }, []);
		expect(missing.status).toBe(400);
		expect(missing.body).toEqual(expect.objectContaining({ code: "FILE_REQUIRED", detail: "Field required: file" }));
		const notForm = await faceJson(node, "/api/face-detection/detect", { file: "x" });
		expect([notForm.status, notForm.body.code]).toEqual([400, "FILE_REQUIRED"]);
		const tooBig = await faceForm(node, "/api/face-detection/detect", {}, [["file", "big.jpg", Buffer.concat([sample(1), Buffer.alloc(10 * 1024 * 1024)])]]);
		expect([tooBig.status, tooBig.body.code]).toEqual([413, "IMAGE_TOO_LARGE"]);
	});

	it("accepts the model names Rollcall has; another name is a 400 listing them", async () => {
		const r = await faceForm(node, "/api/face-detection/detect", { model_name: "yolov9c" }, [["file", "s.jpg", sample(1)]]);
		expect(r.status).toBe(400);
		expect(r.body.code).toBe("UNKNOWN_MODEL");
		expect(r.body.detail).toContain("available: auto, default, ultraface-rfb-320");
		expect((await faceForm(node, "/api/face-detection/detect", { model_name: "ultraface-rfb-320" }, [["file", "s.jpg", sample(1)]])).status).toBe(200);
		const models = await faceJson(node, "/api/face-detection/models/available");
		expect(models.body.models.map((m: any) => m.name)).toEqual(["ultraface-rfb-320"]);
		const status = await faceJson(node, "/api/face-detection/models/status");
		expect(status.body).toEqual(expect.objectContaining({ loaded: true, inference_nodes: [node.broker.nodeID] }));
	});

	it("runs batches of up to 20: a broken file fails alone, 21 files are refused", async () => {
		const photos = [1, 2, 3, 4, 5, 6].map(sample);
		const files: [string, string, Buffer][] = Array.from({ length: 20 }, (_, i) => ["files", `p${i}.jpg`, photos[i % 6]]);
		files[7] = ["files", "broken.jpg", Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(300, 1)])];
		const r = await faceForm(node, "/api/face-detection/detect-batch", { model_name: "auto" }, files);
		expect(r.status).toBe(200);
		expect(r.body.individual_results).toHaveLength(20);
		expect(r.body.batch_summary).toEqual(expect.objectContaining({ total_files: 20, successful_detections: 19, failed_detections: 1 }));
		const failed = r.body.individual_results.filter((x: any) => !x.success);
		expect(failed).toEqual([{ filename: "broken.jpg", success: false, error: { code: "INVALID_IMAGE", message: expect.stringContaining("broken.jpg") } }]);
		expect(r.body.individual_results.map((x: any) => x.filename)).toEqual(files.map(f => f[1]));
		const ok = r.body.individual_results.filter((x: any) => x.success);
		expect(ok.every((x: any) => x.result.face_count >= 1)).toBe(true);
		expect(r.body.batch_summary.total_faces_detected).toBe(ok.reduce((n: number, x: any) => n + x.result.face_count, 0));
		const small = await sharp(sample(1)).resize(200).jpeg().toBuffer();
		const over = await faceForm(node, "/api/face-detection/detect-batch", {}, Array.from({ length: 21 }, (_, i) => ["files", `s${i}.jpg`, small] as [string, string, Buffer]));
		expect(over.status).toBe(400);
		expect(over.body).toEqual(expect.objectContaining({ code: "TOO_MANY_IMAGES", detail: "At most 20 images per request" }));
	});

	it("runs the synthetic test image, and reports measured times per model", async () => {
		const t = await faceJson(node, "/api/face-detection/test-detection", {});
		expect(t.status).toBe(200);
		expect(t.body).toEqual(expect.objectContaining({ success: true, face_count: 0, expected_faces: 0 }));
		const s = await faceJson(node, "/api/face-detection/performance/stats");
		const d = s.body.stats["detect:ultraface-rfb-320"];
		expect(d.requests).toBeGreaterThan(5);
		expect(d.p50_ms).toBeGreaterThan(0);
		expect(d.p95_ms).toBeGreaterThanOrEqual(d.p50_ms);
		expect(s.body.stats["detect-batch:ultraface-rfb-320"].images).toBe(20);
	});

	it("takes the integration key, a console key whose role allows it, or a token; refuses others", async () => {
		const route = "/api/face-detection/models/available";
		const none = await faceJson(node, route, undefined, {});
		expect([none.status, none.body.code]).toEqual([401, "INVALID_API_KEY"]);
		expect(none.body.detail).toBeDefined();
		expect((await faceJson(node, route, undefined, { key: "rk_wrong" })).status).toBe(401);
		expect((await faceJson(node, route, undefined, { token: admin })).status).toBe(200);
		const operatorKey = (await call(node, "/api-keys", { token: admin, body: { name: "face-app", roleId: "ROLE-OPERATOR" } })).body.data.key;
		const viewerKey = (await call(node, "/api-keys", { token: admin, body: { name: "kiosk", roleId: "ROLE-VIEWER" } })).body.data.key;
		expect((await faceJson(node, route, undefined, { key: operatorKey })).status).toBe(200);
		const viewer = await faceJson(node, route, undefined, { key: viewerKey });
		expect([viewer.status, viewer.body.code]).toEqual([403, "FORBIDDEN"]);
		// An upload is refused before it is read.
		const up = await faceForm(node, "/api/face-detection/detect", {}, [["file", "s.jpg", sample(1)]], { key: viewerKey });
		expect([up.status, up.body.code]).toEqual([403, "FORBIDDEN"]);
		const viewerUser = await accountOf(node, admin, "ROLE-VIEWER", "viewer@face.test");
		expect((await faceJson(node, route, undefined, { token: viewerUser.token })).status).toBe(403);
		// Detection is no mutation: nothing audited.
		const audit = await call(node, "/audit?resource=face-api", { token: admin });
		expect(audit.body.data).toEqual([]);
	});
});
