/**
 * The model manifest: which ONNX files make up a model set, their pinned SHA-256s, their
 * input/output contracts and where they come from. The engine reads everything it needs to
 * know about a model from here, so a better set (e.g. SCRFD + ArcFace) can be dropped in
 * as a new manifest without code changes, as long as its `kind`s are ones the engine knows.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export type ModelRole = "detector" | "landmarks" | "embedder" | "eyes" | "liveness";
export const REQUIRED_ROLES: readonly ModelRole[] = ["detector", "landmarks", "embedder"];

export interface ModelSource {
	package: string;
	version: string;
	/** Path of the file inside the package tarball. */
	path: string;
	license: string;
}

export interface ModelEntry {
	file: string;
	sha256: string;
	kind: string;
	version: string;
	input: { name: string; shape: number[]; [k: string]: unknown };
	output: Record<string, unknown>;
	provenance: string;
	source: ModelSource;
}

export interface ModelManifest {
	set: string;
	/** Stamped on every embedding; embeddings of different versions are never compared. */
	embeddingVersion: number;
	notes?: string;
	models: Partial<Record<ModelRole, ModelEntry>>;
}

export class ModelError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "ModelError";
	}
}

export function parseManifest(json: unknown, where = "manifest"): ModelManifest {
	const m = json as ModelManifest;
	if (!m || typeof m !== "object") throw new ModelError(`${where}: not an object`);
	if (typeof m.set !== "string" || !m.set) throw new ModelError(`${where}: "set" must be a non-empty string`);
	if (!Number.isInteger(m.embeddingVersion) || m.embeddingVersion < 1)
		throw new ModelError(`${where}: "embeddingVersion" must be a positive integer`);
	if (!m.models || typeof m.models !== "object") throw new ModelError(`${where}: "models" missing`);
	for (const role of REQUIRED_ROLES) if (!m.models[role]) throw new ModelError(`${where}: no "${role}" model`);
	for (const [role, e] of Object.entries(m.models) as [string, ModelEntry][]) {
		if (!e || typeof e.file !== "string" || !/^[\w.-]+$/.test(e.file))
			throw new ModelError(`${where}: model "${role}" needs a plain file name`);
		if (typeof e.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(e.sha256))
			throw new ModelError(`${where}: model "${role}" (${e.file}) needs a 64-hex sha256`);
		if (!e.source || !e.source.package || !e.source.version || !e.source.path)
			throw new ModelError(`${where}: model "${role}" (${e.file}) needs source package, version and path`);
		if (!e.input || !Array.isArray(e.input.shape) || typeof e.input.name !== "string")
			throw new ModelError(`${where}: model "${role}" (${e.file}) needs an input name and shape`);
	}
	return m;
}

export function loadManifest(file: string): ModelManifest {
	let text: string;
	try {
		text = fs.readFileSync(file, "utf8");
	} catch (err) {
		throw new ModelError(`Model manifest ${file} cannot be read: ${(err as Error).message}`);
	}
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch (err) {
		throw new ModelError(`Model manifest ${file} is not valid JSON: ${(err as Error).message}`);
	}
	return parseManifest(json, `Model manifest ${file}`);
}

export function sha256File(file: string): string {
	return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

export type ModelFileState = "ok" | "missing" | "corrupt";

export function modelFileState(dir: string, entry: ModelEntry): ModelFileState {
	const file = path.join(dir, entry.file);
	if (!fs.existsSync(file)) return "missing";
	return sha256File(file) === entry.sha256 ? "ok" : "corrupt";
}

/**
 * Every model of the set must be present with its pinned hash: a missing or altered model
 * is a start-up error naming the file, never a silent fallback.
 */
export function verifyModels(manifest: ModelManifest, dir: string): void {
	const problems: string[] = [];
	for (const entry of Object.values(manifest.models)) {
		if (!entry) continue;
		const state = modelFileState(dir, entry);
		if (state === "missing") problems.push(`${path.join(dir, entry.file)} is missing`);
		else if (state === "corrupt") problems.push(`${path.join(dir, entry.file)} does not match its pinned sha256 ${entry.sha256}`);
	}
	if (problems.length)
		throw new ModelError(`Model set "${manifest.set}": ${problems.join("; ")}. Run \`npm run models\` to fetch the models.`);
}
