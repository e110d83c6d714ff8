/**
 * Preview files of capture-frame: how they are named, which names may be served, and which
 * old ones go. Names only, never paths: a served name must match PREVIEW_NAME exactly, so
 * no separator, dot-dot or other file can slip through.
 */
import crypto from "node:crypto";

export const PREVIEW_NAME = /^camera_preview_\d{10}_[0-9a-f]{8}\.jpg$/;

/** camera_preview_{unix seconds}_{random}.jpg: the spec's name, unique within a second. */
export function previewName(now: Date = new Date(), random: () => string = () => crypto.randomBytes(4).toString("hex")): string {
	return `camera_preview_${Math.floor(now.getTime() / 1000)}_${random()}.jpg`;
}

export function isPreviewName(name: unknown): name is string {
	return typeof name === "string" && PREVIEW_NAME.test(name);
}

export interface PreviewFile {
	name: string;
	mtimeMs: number;
}

/** Previews to delete: older than maxAgeMs, or beyond the maxFiles newest. Other files are never touched. */
export function expiredPreviews(files: readonly PreviewFile[], nowMs: number, limits: { maxAgeMs: number; maxFiles: number }): string[] {
	const previews = files.filter(f => isPreviewName(f.name)).sort((a, b) => b.mtimeMs - a.mtimeMs);
	return previews.filter((f, i) => i >= limits.maxFiles || nowMs - f.mtimeMs > limits.maxAgeMs).map(f => f.name);
}
