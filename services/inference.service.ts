/**
 * Inference (role `inference`): the vision engine on this node. ONNX sessions are created
 * once at start (a missing or corrupt model fails the start, naming the file); requests run
 * one at a time behind a bounded queue, and past it the answer is 503 INFERENCE_BUSY so
 * callers can try another inference node.
 *
 * Actions (images cross the transporter as Buffers through the CBOR serializer):
 *   analyze({ image?: Buffer, frame?: {data: Buffer (RGB24), width, height}, maxFaces?, minFaceSize?, liveness? })
 *     -> { width, height, faces: [{ box, score, landmarks, embedding, embeddingVersion, quality, liveness? }], timings }
 *   detect(same params) -> the same without embeddings
 *   embed({ image? | frame?, box?: [x1,y1,x2,y2] }) -> the main face's { embedding, embeddingVersion, box, score, landmarks, quality }
 *   info() -> the model set, its embedding version, queue state
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { ApiError, badRequest } from "../lib/errors";
import { VisionEngine, VisionError, type AnalyzeInput } from "../lib/vision/engine";
import { EnginePool } from "../lib/vision/engine-pool";
import { loadManifest } from "../lib/vision/manifest";
import { BoundedQueue, QueueFullError } from "../lib/vision/queue";
import { ewma } from "../lib/cluster/inference-load";

/** How often an inference node tells callers its queue and latency, ms. */
const LOAD_REPORT_MS = 500;
/** Callers pick the node with the least expected wait (lib/cluster/inference-strategy.ts). */
const strategy = "InferenceLoad";

/** Largest encoded image or frame accepted, bytes. */
export const MAX_IMAGE_BYTES = 64 * 1024 * 1024;

const imageParams = {
	image: { type: "any", optional: true },
	frame: { type: "object", optional: true, props: { data: { type: "any" }, width: { type: "number", integer: true, positive: true }, height: { type: "number", integer: true, positive: true } } },
	maxFaces: { type: "number", integer: true, min: 1, max: 100, optional: true },
	minFaceSize: { type: "number", min: 0, max: 10000, optional: true },
	liveness: { type: "boolean", optional: true }
} as const;

function bytes(v: unknown, what: string): Uint8Array {
	if (v instanceof Uint8Array) return v;
	// JSON transports turn Buffers into {type: "Buffer", data: [...]}.
	if (v && typeof v === "object" && (v as { type?: string }).type === "Buffer" && Array.isArray((v as { data?: unknown }).data)) return Buffer.from((v as { data: number[] }).data);
	throw badRequest("INVALID_IMAGE", `${what} must be binary (a Buffer)`);
}

/** Validated engine input from action params. */
function engineInput(p: Record<string, any>): AnalyzeInput {
	if (!p.image && !p.frame) throw badRequest("IMAGE_REQUIRED", "an image (encoded file) or a frame (raw RGB24) is required");
	const input: AnalyzeInput = { maxFaces: p.maxFaces, minFaceSize: p.minFaceSize, liveness: p.liveness };
	if (p.image) input.image = bytes(p.image, "image");
	if (p.frame) input.frame = { data: bytes(p.frame.data, "frame.data"), width: p.frame.width, height: p.frame.height };
	const size = (input.image ?? input.frame!.data).length;
	if (size > MAX_IMAGE_BYTES) throw new ApiError(413, "IMAGE_TOO_LARGE", `the image is ${size} bytes, the limit is ${MAX_IMAGE_BYTES}`);
	return input;
}

interface Settings {
	workers: number;
	threads: number;
	queue: number;
}

interface Vars {
	loadTimer: NodeJS.Timeout;
}

export default function inferenceService(cfg: Config): ServiceSchema<Settings, object, Vars> {
	let engine: VisionEngine | EnginePool;
	// One request per engine at a time (each uses its own inference threads); the rest wait or bounce.
	const queue = new BoundedQueue(Math.max(1, cfg.inferenceWorkers), cfg.inferenceQueue);

	let latencyMs: number | null = null;
	let served = 0;
	const guarded = async <T>(fn: () => Promise<T>): Promise<T> => {
		try {
			return await queue.run(async () => {
				const t = performance.now();
				const out = await fn();
				latencyMs = ewma(latencyMs, performance.now() - t);
				served++;
				return out;
			});
		} catch (err) {
			if (err instanceof QueueFullError) throw new ApiError(503, "INFERENCE_BUSY", `Inference node ${cfg.nodeId} is busy (${err.running} running, ${err.waiting} queued); retry on another node`);
			if (err instanceof VisionError) throw new ApiError(err.code === "IMAGE_TOO_LARGE" ? 413 : 400, err.code, err.message);
			throw err;
		}
	};

	return {
		name: "inference",
		settings: { workers: cfg.inferenceWorkers, threads: cfg.inferenceThreads, queue: cfg.inferenceQueue },
		actions: {
			analyze: {
				strategy,
				params: imageParams,
				handler(ctx: Context<Record<string, any>>) {
					const input = engineInput(ctx.params);
					return guarded(() => engine.analyze(input));
				}
			},
			detect: {
				strategy,
				params: imageParams,
				handler(ctx: Context<Record<string, any>>) {
					const input = engineInput(ctx.params);
					return guarded(() => engine.detect(input));
				}
			},
			embed: {
				strategy,
				params: { ...imageParams, box: { type: "array", items: "number", length: 4, optional: true } },
				handler(ctx: Context<Record<string, any>>) {
					const input = engineInput(ctx.params);
					const box = ctx.params.box as [number, number, number, number] | undefined;
					return guarded(() => engine.embed({ ...input, box }));
				}
			},
			info() {
				return {
					set: engine.manifest.set,
					embeddingVersion: engine.embeddingVersion,
					models: Object.fromEntries(Object.entries(engine.manifest.models).map(([role, m]) => [role, { file: m!.file, sha256: m!.sha256, kind: m!.kind, version: m!.version }])),
					threads: cfg.inferenceThreads,
					nice: cfg.inferenceWorkers > 0 ? cfg.inferenceNice : 0,
					flip: cfg.inferenceFlip,
					smallFaces: cfg.smallFaces,
					queue: queue.stats,
					served,
					latencyMs: latencyMs === null ? null : Math.round(latencyMs * 10) / 10
				};
			}
		},
		async started() {
			const manifest = loadManifest(cfg.modelsManifest);
			const opts = { modelsDir: cfg.modelsDir, manifest, threads: cfg.inferenceThreads, flip: cfg.inferenceFlip, liveness: cfg.livenessDefault, smallFaces: cfg.smallFaces };
			// Engines in worker threads keep this node's event loop free; 0 runs one in this thread.
			engine = cfg.inferenceWorkers > 0 ? await EnginePool.create({ ...opts, workers: cfg.inferenceWorkers, nice: cfg.inferenceNice }) : await VisionEngine.create(opts);
			let last = "";
			let lastAt = 0;
			this.loadTimer = setInterval(() => {
				const q = queue.stats;
				const report = { nodeID: this.broker.nodeID, running: q.running, waiting: q.waiting, concurrency: q.concurrency, queueCapacity: cfg.inferenceQueue, latencyMs: latencyMs ?? 0 };
				const key = `${q.running}/${q.waiting}/${Math.round(report.latencyMs)}`;
				// Changes at once, and a heartbeat every few reports so callers know it is fresh.
				if (key === last && Date.now() - lastAt < 4 * LOAD_REPORT_MS) return;
				last = key;
				lastAt = Date.now();
				this.broker.broadcast("inference.load", report);
			}, LOAD_REPORT_MS);
			this.logger.info("Vision engine ready", { set: manifest.set, embeddingVersion: manifest.embeddingVersion, workers: cfg.inferenceWorkers, threads: cfg.inferenceThreads, queue: cfg.inferenceQueue, smallFaces: cfg.smallFaces });
		},
		async stopped() {
			clearInterval(this.loadTimer);
			await engine?.close();
		}
	};
}
