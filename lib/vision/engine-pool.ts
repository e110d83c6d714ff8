/**
 * N vision engines in worker threads behind the VisionEngine interface: each request goes
 * to an idle worker (the caller bounds how many run at once). A worker that dies is
 * replaced; its request fails with a clear error rather than hanging.
 */
import path from "node:path";
import { Worker } from "node:worker_threads";
import { VisionError, type AnalyzeInput, type AnalyzeResult, type EngineOptions, type Face } from "./engine";
import type { Box } from "./detect";
import { verifyModels, type ModelManifest } from "./manifest";

interface Pending {
	resolve(v: unknown): void;
	reject(e: Error): void;
}

interface Slot {
	worker: Worker;
	busy: number;
	pending: Map<number, Pending>;
}

const WORKER = path.join(__dirname, "engine-worker.ts");

export class EnginePool {
	readonly embeddingVersion: number;
	private slots: Slot[] = [];
	private seq = 0;
	private closing = false;
	private nice = 0;
	/** Each worker thread's niceness once it started (what the OS says), for status and tests. */
	readonly niceness = new Map<number, number>();

	private constructor(
		readonly manifest: ModelManifest,
		private readonly opts: EngineOptions
	) {
		this.embeddingVersion = manifest.embeddingVersion;
	}

	/** `nice`: what each worker thread adds to its niceness (lower CPU priority than the event loop). */
	static async create(opts: EngineOptions & { workers: number; nice?: number }): Promise<EnginePool> {
		// Checked here too, so a missing or altered model fails start-up with its own error.
		verifyModels(opts.manifest, opts.modelsDir);
		const pool = new EnginePool(opts.manifest, opts);
		const { workers, nice, ...engineOpts } = opts;
		pool.nice = nice ?? 0;
		pool.slots = await Promise.all(Array.from({ length: workers }, () => pool.spawn(engineOpts)));
		return pool;
	}

	get size(): number {
		return this.slots.length;
	}

	private spawn(opts: EngineOptions): Promise<Slot> {
		return new Promise((resolve, reject) => {
			// Workers run this TypeScript source through tsx, like the node itself.
			const worker = new Worker(WORKER, { workerData: { ...opts, nice: this.nice }, execArgv: ["--import", "tsx"] });
			const slot: Slot = { worker, busy: 0, pending: new Map() };
			let ready = false;
			worker.on("message", (msg: { id?: number; result?: unknown; error?: { message: string; code?: string }; ready?: boolean; niceness?: number; fatal?: string }) => {
				if (msg.ready) {
					ready = true;
					if (typeof msg.niceness === "number") this.niceness.set(worker.threadId, msg.niceness);
					return resolve(slot);
				}
				if (msg.fatal) return reject(new VisionError("ENGINE_FAILED", msg.fatal));
				if (msg.id === undefined) return;
				const p = slot.pending.get(msg.id);
				if (!p) return;
				slot.pending.delete(msg.id);
				slot.busy--;
				if (msg.error) p.reject(msg.error.code ? new VisionError(msg.error.code, msg.error.message) : new Error(msg.error.message));
				else p.resolve(msg.result);
			});
			worker.on("error", err => {
				if (!ready) reject(err);
			});
			worker.on("exit", code => {
				for (const p of slot.pending.values()) p.reject(new VisionError("ENGINE_FAILED", `inference worker exited (${code})`));
				slot.pending.clear();
				if (ready && !this.closing) {
					// Replace a worker that died, so the pool keeps its size.
					const i = this.slots.indexOf(slot);
					this.spawn(opts).then(
						s => (i >= 0 ? (this.slots[i] = s) : this.slots.push(s)),
						() => undefined
					);
				}
			});
		});
	}

	private call<T>(method: "analyze" | "detect" | "embed", input: unknown): Promise<T> {
		const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
		const id = ++this.seq;
		slot.busy++;
		return new Promise<T>((resolve, reject) => {
			slot.pending.set(id, { resolve: v => resolve(v as T), reject });
			slot.worker.postMessage({ id, method, input });
		});
	}

	analyze(input: AnalyzeInput): Promise<AnalyzeResult> {
		return this.call("analyze", input);
	}

	detect(input: AnalyzeInput): Promise<AnalyzeResult> {
		return this.call("detect", input);
	}

	embed(input: AnalyzeInput & { box?: Box }): Promise<Face & { embedding: number[]; embeddingVersion: number }> {
		return this.call("embed", input);
	}

	async close(): Promise<void> {
		this.closing = true;
		// Let runs in flight finish: terminating a thread inside onnxruntime aborts the process.
		const deadline = Date.now() + 10_000;
		while (this.slots.some(s => s.pending.size > 0) && Date.now() < deadline) await new Promise(r => setTimeout(r, 20));
		await Promise.all(this.slots.map(s => s.worker.terminate()));
	}
}
