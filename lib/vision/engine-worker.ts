/**
 * A vision engine in a worker thread. onnxruntime-node runs a model synchronously on the
 * thread that calls it, so engines in workers keep the node's event loop free (camera
 * streams, HTTP, the transporter) and let a node use more than one core for inference.
 */
import os from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { VisionEngine, VisionError, type EngineOptions } from "./engine";

interface Request {
	id: number;
	method: "analyze" | "detect" | "embed";
	input: Record<string, unknown>;
}

/**
 * Lower this thread's CPU priority by `nice`. On Linux a nice value belongs to a thread, and
 * setpriority(PRIO_PROCESS, 0) sets the calling thread's: the event loop keeps its own.
 */
function lowerPriority(nice: number): number {
	const own = os.getPriority(0);
	if (nice > 0)
		try {
			os.setPriority(0, Math.min(19, own + nice));
		} catch {
			/* not permitted here: the thread keeps its priority */
		}
	return os.getPriority(0);
}

async function main() {
	const { nice, ...opts } = workerData as EngineOptions & { nice?: number };
	const niceness = lowerPriority(nice ?? 0);
	const engine = await VisionEngine.create(opts);
	parentPort!.on("message", async (req: Request) => {
		try {
			const result = await (engine[req.method] as (i: unknown) => Promise<unknown>).call(engine, req.input);
			parentPort!.postMessage({ id: req.id, result });
		} catch (err) {
			const e = err as Error & { code?: string };
			parentPort!.postMessage({ id: req.id, error: { message: e.message, code: err instanceof VisionError ? e.code : undefined } });
		}
	});
	parentPort!.postMessage({ ready: true, embeddingVersion: engine.embeddingVersion, niceness });
}

main().catch(err => parentPort!.postMessage({ fatal: (err as Error).message }));
