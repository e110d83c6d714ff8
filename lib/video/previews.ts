/**
 * Preview files of capture-frame: how they are named, which names may be served, and which
 * old ones go. Names only, never paths: a served name must match PREVIEW_NAME exactly, so
 * no separator, dot-dot or other file can slip through.
 *
 * A preview is kept in the blob store (services/blobs.service.ts); its name carries the tag
 * of the node that captured it (a hash of its node ID), which keeps names unique across nodes.
 */
import crypto from "node:crypto";

export const PREVIEW_NAME = /^camera_preview_\d{10}_[0-9a-f]{8}_[0-9a-f]{8}\.jpg$/;

/** 8 hex digits naming a node in preview file names. */
export function nodeTag(nodeID: string): string {
	return crypto.createHash("sha256").update(nodeID).digest("hex").slice(0, 8);
}

/** camera_preview_{unix seconds}_{node tag}_{random}.jpg: the spec's name, unique within a second. */
export function previewName(tag: string, now: Date = new Date(), random: () => string = () => crypto.randomBytes(4).toString("hex")): string {
	return `camera_preview_${Math.floor(now.getTime() / 1000)}_${tag}_${random()}.jpg`;
}

export function isPreviewName(name: unknown): name is string {
	return typeof name === "string" && PREVIEW_NAME.test(name);
}
