import path from "node:path";
import type { Config } from "../../config";
import { badRequest } from "../errors";
import { EmbeddedVectorStore } from "./embedded-vectors";
import { QdrantVectorStore } from "./qdrant-vectors";
import { EMBEDDING_DIMENSION, VectorStoreError, type VectorStore } from "./vectors";

/** Qdrant when QDRANT_URL is set, else the embedded exact index under DATA_DIR. */
export function createVectorStore(cfg: Pick<Config, "qdrantUrl" | "dataDir">, collection = "embeddings"): VectorStore {
	if (cfg.qdrantUrl) return new QdrantVectorStore({ url: cfg.qdrantUrl, collection: `rollcall_${collection}`, dimension: EMBEDDING_DIMENSION });
	return new EmbeddedVectorStore({ file: path.join(cfg.dataDir, `${collection}.vectors`), dimension: EMBEDDING_DIMENSION });
}

export * from "./vectors";

/** A store's refusal of a vector (dimension, values) as the API's 400 INVALID_EMBEDDING. */
export async function embeddingGuard<T>(fn: () => Promise<T>): Promise<T> {
	try {
		return await fn();
	} catch (err) {
		if (err instanceof VectorStoreError) throw badRequest("INVALID_EMBEDDING", err.message);
		throw err;
	}
}
