/**
 * A vision engine in a worker thread. onnxruntime-node runs a model synchronously on the
 * thread that calls it, so engines in workers keep the node's event loop free (camera
 * streams, HTTP, the transporter) and let a node use more than one core for inference.
 */
import { parentPort, workerData } from "node:worker_threads";
import { VisionEngine, VisionError, type EngineOptions } from "./engine";

interface Request {
	id: number;
	method: "analyze" | "detect" | "embed";
	input: Record<string, unknown>;
}

async function main() {
	const engine = await VisionEngine.create(workerData as EngineOptions);
	parentPort!.on("message", async (req: Request) => {
		try {
			const result = await (engine[req.method] as (i: unknown) => Promise<unknown>).call(engine, req.input);
			parentPort!.postMessage({ id: req.id, result });
		} catch (err) {
			const e = err as Error & { code?: string };
			parentPort!.postMessage({ id: req.id, error: { message: e.message, code: err instanceof VisionError ? e.code : undefined } });
		}
	});
	parentPort!.postMessage({ ready: true, embeddingVersion: engine.embeddingVersion });
}

main().catch(err => parentPort!.postMessage({ fatal: (err as Error).message }));
