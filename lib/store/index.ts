import path from "node:path";
import type { Config } from "../../config";
import { EmbeddedVectorStore } from "./embedded-vectors";
import { QdrantVectorStore } from "./qdrant-vectors";
import { EMBEDDING_DIMENSION, type VectorStore } from "./vectors";

/** Qdrant when QDRANT_URL is set, else the embedded exact index under DATA_DIR. */
export function createVectorStore(cfg: Pick<Config, "qdrantUrl" | "dataDir">, collection = "embeddings"): VectorStore {
	if (cfg.qdrantUrl) return new QdrantVectorStore({ url: cfg.qdrantUrl, collection: `rollcall_${collection}`, dimension: EMBEDDING_DIMENSION });
	return new EmbeddedVectorStore({ file: path.join(cfg.dataDir, `${collection}.vectors`), dimension: EMBEDDING_DIMENSION });
}

export * from "./vectors";
