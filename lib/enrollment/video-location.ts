/**
 * Where an enrollment video comes from. `videoUrl` is either an http(s) URL or a path that
 * resolves under UPLOADS_DIR: the spec's `/uploads/identity/201/x.mp4` means
 * UPLOADS_DIR/identity/201/x.mp4. Nothing outside UPLOADS_DIR can be read, symlinks included.
 */
import fs from "node:fs";
import path from "node:path";
import { parseUrl } from "../url";

export type VideoLocation = { kind: "file"; path: string } | { kind: "url"; url: string };

export class VideoLocationError extends Error {
	constructor(
		readonly code: "INVALID_VIDEO_URL" | "VIDEO_FILE_NOT_FOUND",
		message: string
	) {
		super(message);
	}
}

function inside(root: string, p: string): boolean {
	const rel = path.relative(root, p);
	return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

export function resolveVideoLocation(videoUrl: string, uploadsDir: string): VideoLocation {
	if (/^[a-z][a-z0-9+.-]*:/i.test(videoUrl)) {
		const u = parseUrl(videoUrl, ["http", "https"]);
		if (!u) throw new VideoLocationError("INVALID_VIDEO_URL", "Video URL must be a path under the uploads folder or an http(s) URL");
		return { kind: "url", url: u.toString() };
	}
	if (videoUrl.includes("\0")) throw new VideoLocationError("INVALID_VIDEO_URL", "Video path is invalid");
	const relative = videoUrl.replace(/\\/g, "/").replace(/^\/+/, "").replace(/^uploads\//, "");
	const root = path.resolve(uploadsDir);
	const candidate = path.resolve(root, relative);
	if (!inside(root, candidate)) throw new VideoLocationError("INVALID_VIDEO_URL", `Video path must stay inside the uploads folder: ${videoUrl}`);
	let real: string;
	try {
		real = fs.realpathSync(candidate);
	} catch {
		throw new VideoLocationError("VIDEO_FILE_NOT_FOUND", `Video file not found: ${videoUrl}`);
	}
	// A symlink inside the root may point outside it.
	if (!inside(fs.realpathSync(root), real)) throw new VideoLocationError("INVALID_VIDEO_URL", `Video path must stay inside the uploads folder: ${videoUrl}`);
	if (!fs.statSync(real).isFile()) throw new VideoLocationError("VIDEO_FILE_NOT_FOUND", `Video file not found: ${videoUrl}`);
	return { kind: "file", path: real };
}
