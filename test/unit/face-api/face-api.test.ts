/** The face API's pure parts: base64 text, model names, the seed's box shapes, measured stats. */
import { decodeBase64Image } from "../../../lib/face-api/base64";
import { batchSummary, inCallerPixels, seedBox, streamBox } from "../../../lib/face-api/format";
import { modelName, resolveModel } from "../../../lib/face-api/models";
import { LatencyStats } from "../../../lib/face-api/stats";

const code = (fn: () => unknown) => {
	try {
		fn();
		return null;
	} catch (e) {
		return (e as { type?: string }).type;
	}
};

describe("face API: base64 images", () => {
	const bytes = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 250, 251]);
	const b64 = bytes.toString("base64");
	it("reads plain base64, data URLs, missing padding, line breaks and URL-safe text alike", () => {
		for (const text of [b64, `data:image/jpeg;base64,${b64}`, `DATA:image/png;charset=utf-8;base64,${b64}`, b64.replace(/=+$/, ""), b64.replace(/(.{4})/g, "$1\n"), bytes.toString("base64url")])
			expect(decodeBase64Image(text)).toEqual(bytes);
	});
	it("refuses what is not base64, empty, a non-base64 data URL, or too large, each with its code", () => {
		expect(code(() => decodeBase64Image("not base64!"))).toBe("INVALID_BASE64");
		expect(code(() => decodeBase64Image("abcde"))).toBe("INVALID_BASE64");
		expect(code(() => decodeBase64Image("data:image/png,abc"))).toBe("INVALID_BASE64");
		expect(code(() => decodeBase64Image(""))).toBe("IMAGE_REQUIRED");
		expect(code(() => decodeBase64Image(undefined))).toBe("IMAGE_REQUIRED");
		expect(code(() => decodeBase64Image(Buffer.alloc(3000).toString("base64"), "image_base64", 1000))).toBe("IMAGE_TOO_LARGE");
	});
});

describe("face API: model names", () => {
	const models = { detector: { file: "d.onnx", kind: "ultraface", version: "rfb-320" }, embedder: { file: "e.onnx", kind: "arcface112", version: "1" } };
	it("names models by kind and version; aliases and names resolve, others are a 400 listing them", () => {
		expect(modelName(models.embedder)).toBe("arcface112-v1");
		expect(resolveModel(models, "detector", undefined)).toBe("ultraface-rfb-320");
		expect(resolveModel(models, "detector", "AUTO")).toBe("ultraface-rfb-320");
		expect(resolveModel(models, "embedder", "arcface112-v1")).toBe("arcface112-v1");
		try {
			resolveModel(models, "embedder", "facenet", "recognition_model");
			throw new Error("accepted");
		} catch (e) {
			expect((e as { type: string }).type).toBe("UNKNOWN_MODEL");
			expect((e as Error).message).toBe('recognition_model "facenet" is not available; available: auto, default, arcface112-v1');
		}
		expect(code(() => resolveModel(models, "liveness", "auto"))).toBe("MODEL_UNAVAILABLE");
	});
});

describe("face API: shapes", () => {
	it("maps boxes to the caller's pixels, clipped, with centres and the stream's [x, y, w, h]", () => {
		const quality = { overall: 0.5, interocularPx: 10 } as never;
		const found = inCallerPixels({ width: 800, faces: [{ box: [100, 50, 200, 170], score: 0.9, landmarks: [[120, 90]], quality }], timings: {} }, 1600, 1200);
		expect(found.faces[0].box).toEqual([200, 100, 400, 340]);
		expect(found.faces[0].landmarks).toEqual([[240, 180]]);
		expect(found.faces[0].quality.interocularPx).toBe(20);
		expect(seedBox([-3.2, 10.4, 50.6, 1300], 0.87654, 1600, 1200)).toEqual({ x1: 0, y1: 10, x2: 51, y2: 1200, width: 51, height: 1190, center_x: 25.5, center_y: 605, confidence: 0.877 });
		expect(streamBox([10, 20, 110, 140], 640, 360)).toEqual([10, 20, 100, 120]);
	});
	it("summarises a batch", () => {
		expect(batchSummary([{ filename: "a", success: true, result: { face_count: 3 } }, { filename: "b", success: true, result: { face_count: 0 } }, { filename: "c", success: false }])).toEqual({
			total_files: 3,
			successful_detections: 2,
			failed_detections: 1,
			total_faces_detected: 3,
			average_faces_per_image: 1.5
		});
	});
	it("keeps measured times per key: percentiles over the window, errors counted", () => {
		const s = new LatencyStats();
		for (let i = 1; i <= 100; i++) s.record("detect:m", i, { faces: 1 });
		s.failed("detect:m");
		expect(s.summary()["detect:m"]).toEqual({ requests: 101, window: 100, mean_ms: 50.5, p50_ms: 50, p95_ms: 95, p99_ms: 99, max_ms: 100, images: 100, faces: 100, errors: 1 });
	});
});
