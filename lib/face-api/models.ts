/**
 * The model names the face API accepts (`model_name`, `recognition_model`): the models
 * Rollcall runs, named from the model manifest (kind and version), plus "auto" and "default"
 * for the one there is. The seed's names (yolov9c, facenet, ...) are models Rollcall does not
 * have: asking for one is a 400 that lists the available ones. Pure.
 */
import { ApiError } from "../errors";

export interface ModelInfo {
	file: string;
	kind: string;
	version: string;
	sha256?: string;
}

export type ModelRole = "detector" | "embedder" | "liveness" | "landmarks" | "eyes";

/** "ultraface-rfb-320", "arcface112-v1": the kind, and the version (a bare number gets a v). */
export function modelName(m: Pick<ModelInfo, "kind" | "version">): string {
	const v = String(m.version);
	return `${m.kind}-${/^\d+$/.test(v) ? `v${v}` : v}`.toLowerCase();
}

export const ALIASES = ["auto", "default"] as const;

/** The model of `role` a request names (undefined, "", an alias or a model name); 400 UNKNOWN_MODEL otherwise. */
export function resolveModel(models: Partial<Record<ModelRole, ModelInfo>>, role: ModelRole, requested: unknown, param = "model_name"): string {
	const m = models[role];
	if (!m) throw new ApiError(503, "MODEL_UNAVAILABLE", `No ${role} model is loaded on the inference nodes`);
	const name = modelName(m);
	if (requested === undefined || requested === null || requested === "") return name;
	const asked = String(requested).trim().toLowerCase();
	if ((ALIASES as readonly string[]).includes(asked) || asked === name) return name;
	throw new ApiError(400, "UNKNOWN_MODEL", `${param} "${String(requested).slice(0, 64)}" is not available; available: ${[...ALIASES, name].join(", ")}`, {
		details: [{ field: param, issue: `available: ${[...ALIASES, name].join(", ")}` }]
	});
}
