/**
 * embeddings/generate and embeddings/validate over real HTTP, on videos the test makes from
 * real face photos (test/support/face-video.ts): the real decoder, the real vision engine,
 * every error code of FUACS sections 3 and 4, and the files left behind (none).
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import sharp from "sharp";
import { FACES, makeFaceVideo, SAMPLES } from "../support/face-video";
import { api, startNode, tempDir, TEST_API_KEY, type TestNode } from "../support/node";

const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
/** Raw cosine at the calibrated false-match rate of 1e-3 (config/calibration.json). */
const SAME_PERSON_COSINE = 0.37;

async function upload(baseUrl: string, file: Buffer | null, opts: { name?: string; field?: string; key?: string | null; type?: string } = {}) {
	const form = new FormData();
	if (file) form.append(opts.field ?? "video", new Blob([file], { type: opts.type ?? "video/mp4" }), opts.name ?? "face.mp4");
	else form.append("note", "no file here");
	const headers: Record<string, string> = {};
	if (opts.key !== null) headers["X-API-Key"] = opts.key ?? TEST_API_KEY;
	const res = await fetch(`${baseUrl}/embeddings/validate`, { method: "POST", body: form, headers });
	return { status: res.status, body: (await res.json()) as any };
}

describe("enrollment from video", () => {
	let node: TestNode;
	let uploads: string;
	let tmpUploads: string;
	let work: string;
	const photoEmbedding: Record<string, number[]> = {};
	const clip = (name: string) => path.join(uploads, "identity", "201", name);
	const generate = (videoUrl: unknown, submissionId: unknown = 1, key?: string | null) =>
		api(node.baseUrl, "/embeddings/generate", { method: "POST", body: { videoUrl, submissionId }, key });

	beforeAll(async () => {
		work = tempDir("rollcall-enroll-");
		uploads = path.join(work, "uploads");
		tmpUploads = path.join(work, "spool");
		const common = { fps: 10, seconds: 3 };
		await makeFaceVideo(clip("anna.mp4"), { ...common, ...FACES.anna, motion: "zoom" });
		await makeFaceVideo(clip("anna.mov"), { ...common, ...FACES.anna });
		await makeFaceVideo(clip("anna.avi"), { ...common, ...FACES.anna });
		await makeFaceVideo(clip("bea.mp4"), { ...common, ...FACES.bea });
		await makeFaceVideo(clip("pattern.mp4"), { ...common, pattern: true });
		await makeFaceVideo(clip("dark.mp4"), { ...common, ...FACES.anna, darken: 0.3 });
		await makeFaceVideo(clip("blurred.mp4"), { ...common, ...FACES.anna, blur: 9 });
		await makeFaceVideo(clip("two-people.mp4"), { fps: 10, segments: [{ ...FACES.anna, seconds: 2 }, { ...FACES.bea, seconds: 2 }] });
		const whole = fs.readFileSync(clip("anna.mp4"));
		fs.writeFileSync(clip("truncated.mp4"), whole.subarray(0, Math.floor(whole.length / 2)));
		fs.writeFileSync(clip("photo-renamed.mp4"), await sharp(SAMPLES[0]).png().toBuffer());
		// Outside the uploads root, and a symlink inside it pointing there.
		fs.copyFileSync(clip("anna.mp4"), path.join(work, "outside.mp4"));
		fs.symlinkSync(path.join(work, "outside.mp4"), clip("link.mp4"));

		node = await startNode({ UPLOADS_DIR: uploads, UPLOADS_TMP_DIR: tmpUploads, MAX_UPLOAD_SIZE: "50mb" });
		for (const [name, face] of Object.entries({ annaAgain: FACES.annaAgain, bea: FACES.bea, cleo: FACES.cleo })) {
			const r = await node.broker.call<{ embedding: number[] }, object>("inference.embed", { image: fs.readFileSync(face.photo), box: face.focus });
			photoEmbedding[name] = r.embedding;
		}
	}, 240_000);
	afterAll(async () => {
		await node?.stop();
		fs.rmSync(work, { recursive: true, force: true });
	});

	describe("POST /embeddings/generate", () => {
		it("turns a video into a 512-d embedding of that person: it matches another photo of her and not other people", async () => {
			const { status, body } = await generate("/uploads/identity/201/anna.mp4", 17);
			expect(status).toBe(200);
			expect(body.message).toBe("Face embedding generated successfully");
			const d = body.data;
			expect(d.submissionId).toBe(17);
			expect(d.embeddingVector).toHaveLength(512);
			expect(Math.abs(cosine(d.embeddingVector, d.embeddingVector) - 1)).toBeLessThan(1e-4);
			expect(d.faceDetected).toBe(true);
			expect(d.totalFrames).toBe(6); // 3 s every 0.5 s
			expect(d.framesWithFace).toBeGreaterThanOrEqual(5);
			expect(d.quality).toBeGreaterThanOrEqual(0.7);
			expect(d.quality).toBeLessThanOrEqual(1);
			expect(d.processingTime).toBeGreaterThan(0);
			expect(typeof d.embeddingVersion).toBe("number");

			const same = cosine(d.embeddingVector, photoEmbedding.annaAgain);
			expect(same).toBeGreaterThan(SAME_PERSON_COSINE);
			expect(cosine(d.embeddingVector, photoEmbedding.bea)).toBeLessThan(SAME_PERSON_COSINE);
			expect(cosine(d.embeddingVector, photoEmbedding.cleo)).toBeLessThan(SAME_PERSON_COSINE);
		});

		it("reads MOV and AVI, and videos given by http URL", async () => {
			for (const name of ["anna.mov", "anna.avi"]) {
				const { status, body } = await generate(`/uploads/identity/201/${name}`);
				expect(status).toBe(200);
				expect(cosine(body.data.embeddingVector, photoEmbedding.annaAgain)).toBeGreaterThan(SAME_PERSON_COSINE);
			}
			const server = http.createServer((req, res) => {
				const file = req.url === "/v/bea.mp4" ? clip("bea.mp4") : null;
				if (!file) return res.writeHead(404).end("not found");
				// A static file server as the backend would have one: byte ranges (FFmpeg seeks to the index).
				const data = fs.readFileSync(file);
				const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
				if (!range) return res.writeHead(200, { "Content-Type": "video/mp4", "Content-Length": data.length, "Accept-Ranges": "bytes" }).end(data);
				const start = Number(range[1]);
				const end = range[2] ? Math.min(Number(range[2]), data.length - 1) : data.length - 1;
				res.writeHead(206, { "Content-Type": "video/mp4", "Content-Length": end - start + 1, "Content-Range": `bytes ${start}-${end}/${data.length}`, "Accept-Ranges": "bytes" }).end(data.subarray(start, end + 1));
			});
			await new Promise<void>(r => server.listen(0, "127.0.0.1", () => r()));
			const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
			try {
				const ok = await generate(`${base}/v/bea.mp4`);
				expect(ok.status).toBe(200);
				expect(cosine(ok.body.data.embeddingVector, photoEmbedding.bea)).toBeGreaterThan(SAME_PERSON_COSINE);
				const missing = await generate(`${base}/v/nobody.mp4`);
				expect(missing.status).toBe(404);
				expect(missing.body.code).toBe("VIDEO_FILE_NOT_FOUND");
			} finally {
				await new Promise<void>(r => server.close(() => r()));
			}
		});

		it.each([
			["no videoUrl", { submissionId: 1 }, "VIDEO_URL_REQUIRED", "Video URL is required"],
			["an empty videoUrl", { videoUrl: " ", submissionId: 1 }, "VIDEO_URL_REQUIRED", "Video URL is required"],
			["no submissionId", { videoUrl: "/uploads/identity/201/anna.mp4" }, "SUBMISSION_ID_REQUIRED", "Submission ID is required"]
		])("answers 400 for %s", async (_name, body, code, message) => {
			const res = await api(node.baseUrl, "/embeddings/generate", { method: "POST", body });
			expect(res.status).toBe(400);
			expect(res.body).toEqual({ status: 400, message, code });
		});

		it("answers 401 without the API key, before reading anything", async () => {
			const res = await generate("/uploads/identity/201/anna.mp4", 1, null);
			expect(res.status).toBe(401);
			expect(res.body.code).toBe("INVALID_API_KEY");
		});

		it("answers 404 VIDEO_FILE_NOT_FOUND with the path for a missing file", async () => {
			const res = await generate("/uploads/identity/201/1729339200_face_video.mp4");
			expect(res.status).toBe(404);
			expect(res.body).toEqual({ status: 404, message: "Video file not found: /uploads/identity/201/1729339200_face_video.mp4", code: "VIDEO_FILE_NOT_FOUND" });
		});

		it("never reads outside UPLOADS_DIR: ../ and a symlink pointing out are refused", async () => {
			for (const url of ["../outside.mp4", "/uploads/../outside.mp4", "/uploads/identity/201/../../../outside.mp4", "/uploads/identity/201/link.mp4"]) {
				const res = await generate(url);
				expect(res.status).toBe(400);
				expect(res.body.code).toBe("INVALID_VIDEO_URL");
			}
			for (const url of ["file:///etc/passwd", "concat:/etc/passwd", "rtsp://127.0.0.1:9/x"]) {
				const res = await generate(url);
				expect(res.status).toBe(400);
				expect(res.body.code).toBe("INVALID_VIDEO_URL");
			}
		});

		it("answers NO_FACE_DETECTED for a video of a test pattern", async () => {
			const res = await generate("/uploads/identity/201/pattern.mp4");
			expect(res.status).toBe(400);
			expect(res.body).toEqual({ status: 400, message: "No face detected in video. Please record video with clear face visibility.", code: "NO_FACE_DETECTED" });
		});

		it.each([["dark.mp4"], ["blurred.mp4"]])("answers LOW_QUALITY_FACE with the score for %s", async name => {
			const res = await generate(`/uploads/identity/201/${name}`);
			expect(res.status).toBe(400);
			expect(res.body.code).toBe("LOW_QUALITY_FACE");
			const score = Number(/score: ([0-9.]+)\)/.exec(res.body.message)?.[1]);
			expect(score).toBeGreaterThanOrEqual(0);
			expect(score).toBeLessThan(0.7);
			expect(res.body.message).toContain("Please record in better lighting");
		});

		it("answers VIDEO_PROCESSING_FAILED for a truncated file and for a PNG photo renamed .mp4", async () => {
			for (const name of ["truncated.mp4", "photo-renamed.mp4"]) {
				const res = await generate(`/uploads/identity/201/${name}`);
				expect(res.status).toBe(500);
				expect(res.body.code).toBe("VIDEO_PROCESSING_FAILED");
				expect(res.body.message).toMatch(/^Failed to process video: /);
			}
		});

		it("refuses a video whose main face is two different people", async () => {
			const res = await generate("/uploads/identity/201/two-people.mp4");
			expect(res.status).toBe(400);
			expect(res.body.code).toBe("MULTIPLE_IDENTITIES");
		});
	});

	describe("POST /embeddings/validate", () => {
		const spoolEmpty = () => !fs.existsSync(tmpUploads) || fs.readdirSync(tmpUploads).length === 0;

		it("scores a good video: acceptable, the four metrics and the spec's feedback", async () => {
			const { status, body } = await upload(node.baseUrl, fs.readFileSync(clip("anna.mp4")));
			expect(status).toBe(200);
			expect(body.message).toBe("Video quality is good");
			const d = body.data;
			expect(d.faceDetected).toBe(true);
			expect(d.isAcceptable).toBe(true);
			expect(d.quality).toBeGreaterThanOrEqual(0.7);
			for (const k of ["faceSize", "clarity", "lighting", "faceAngle"]) {
				expect(d.metrics[k]).toBeGreaterThanOrEqual(0);
				expect(d.metrics[k]).toBeLessThanOrEqual(1);
			}
			expect(d.metrics.faceSize).toBeGreaterThanOrEqual(0.7);
			expect(d.feedback).toEqual(expect.arrayContaining(["Good lighting conditions", "Face is properly centered"]));
			expect(d.totalFrames).toBe(3); // 3 s every second
			expect(spoolEmpty()).toBe(true);
		});

		it("recognises MOV and AVI by content, whatever the name", async () => {
			for (const name of ["anna.mov", "anna.avi"]) {
				const res = await upload(node.baseUrl, fs.readFileSync(clip(name)), { name: "video.bin", type: "application/octet-stream" });
				expect(res.status).toBe(200);
				expect(res.body.data.faceDetected).toBe(true);
			}
		});

		it("says what is wrong with a dark and with a blurred video", async () => {
			const dark = await upload(node.baseUrl, fs.readFileSync(clip("dark.mp4")));
			expect(dark.status).toBe(200);
			expect(dark.body.message).toBe("Video quality needs improvement");
			expect(dark.body.data.isAcceptable).toBe(false);
			expect(dark.body.data.metrics.lighting).toBeLessThan(0.7);
			expect(dark.body.data.feedback).toContain("Lighting is too dark. Record in brighter environment");

			const blurred = await upload(node.baseUrl, fs.readFileSync(clip("blurred.mp4")));
			expect(blurred.status).toBe(200);
			expect(blurred.body.data.isAcceptable).toBe(false);
			expect(blurred.body.data.metrics.clarity).toBeLessThan(0.4);
			expect(blurred.body.data.feedback).toContain("Video is blurry. Hold camera steady and clean the lens");
		});

		it("answers NO_FACE_DETECTED for a test pattern", async () => {
			const res = await upload(node.baseUrl, fs.readFileSync(clip("pattern.mp4")));
			expect(res.status).toBe(400);
			expect(res.body).toEqual({ status: 400, message: "No face detected in video", code: "NO_FACE_DETECTED" });
		});

		it("answers INVALID_FILE_FORMAT for a PNG named .mp4", async () => {
			const png = await sharp(SAMPLES[0]).png().toBuffer();
			const res = await upload(node.baseUrl, png, { name: "face.mp4", type: "video/mp4" });
			expect(res.status).toBe(400);
			expect(res.body).toEqual({ status: 400, message: "Invalid video format. Allowed: MP4, MOV, AVI", code: "INVALID_FILE_FORMAT" });
			expect(spoolEmpty()).toBe(true);
		});

		it("answers FILE_TOO_LARGE for 51 MB and keeps nothing", async () => {
			const big = Buffer.alloc(51 * 1024 * 1024, 7);
			fs.readFileSync(clip("anna.mp4")).copy(big, 0, 0, 4096);
			const res = await upload(node.baseUrl, big);
			expect(res.status).toBe(400);
			expect(res.body).toEqual({ status: 400, message: "Video file exceeds maximum size of 50MB", code: "FILE_TOO_LARGE" });
			expect(spoolEmpty()).toBe(true);
		});

		it("answers FILE_TOO_LARGE when the body is streamed without a length", async () => {
			// Chunked upload: the limit is enforced on the bytes, not on a header.
			const boundary = "----rollcall-test";
			const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="video"; filename="x.mp4"\r\nContent-Type: video/mp4\r\n\r\n`);
			const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
			const chunk = Buffer.alloc(1024 * 1024, 1);
			const url = new URL(`${node.baseUrl}/embeddings/validate`);
			const result = await new Promise<{ status: number; body: any }>((resolve, reject) => {
				const req = http.request(
					{ host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers: { "X-API-Key": TEST_API_KEY, "Content-Type": `multipart/form-data; boundary=${boundary}`, "Transfer-Encoding": "chunked" } },
					res => {
						const parts: Buffer[] = [];
						res.on("data", c => parts.push(c));
						res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString()) }));
					}
				);
				req.on("error", reject);
				req.write(head);
				let sent = 0;
				const pump = () => {
					while (sent < 52) {
						sent++;
						if (!req.write(chunk)) return req.once("drain", pump);
					}
					req.end(tail);
				};
				pump();
			});
			expect(result.status).toBe(400);
			expect(result.body.code).toBe("FILE_TOO_LARGE");
			expect(spoolEmpty()).toBe(true);
		});

		it("answers VIDEO_FILE_REQUIRED without the video field, for another field, and for a JSON body", async () => {
			const none = await upload(node.baseUrl, null);
			expect(none.status).toBe(400);
			expect(none.body).toEqual({ status: 400, message: "Video file is required", code: "VIDEO_FILE_REQUIRED" });
			const other = await upload(node.baseUrl, fs.readFileSync(clip("anna.mp4")), { field: "file" });
			expect(other.body.code).toBe("VIDEO_FILE_REQUIRED");
			const json = await api(node.baseUrl, "/embeddings/validate", { method: "POST", body: { video: "x" } });
			expect(json.status).toBe(400);
			expect(json.body.code).toBe("VIDEO_FILE_REQUIRED");
		});

		it("answers 401 without the API key", async () => {
			const res = await upload(node.baseUrl, fs.readFileSync(clip("anna.mp4")), { key: "wrong-key-wrong-key" });
			expect(res.status).toBe(401);
			expect(res.body.code).toBe("INVALID_API_KEY");
		});
	});

	it("counts enrollments in /metrics", async () => {
		const res = await api(node.baseUrl, "/metrics");
		expect(res.status).toBe(200);
		const e = res.body.data.embedding;
		expect(e.totalGenerated).toBeGreaterThanOrEqual(4);
		expect(e.successRate).toBeGreaterThan(0);
		expect(e.successRate).toBeLessThan(1);
		expect(e.averageQuality).toBeGreaterThanOrEqual(0.7);
		expect(e.averageProcessingTime).toBeGreaterThan(0);
	});
});
