/**
 * Which inputs a frame source may open, and with which FFmpeg protocols. Remote sources are
 * rtsp, rtsps, http and https URLs only; FFmpeg's own pseudo-protocols (file:, concat:,
 * subfile:, pipe:, data: ...) are refused from a caller, and `protocol_whitelist` keeps an
 * allowed URL from redirecting into one of them. Local files are opened only by absolute
 * path (the caller confines paths to its roots).
 */
import path from "node:path";
import { parseUrl, redactUrl } from "../url";
import { VideoSourceError } from "./errors";

export const REMOTE_SCHEMES = ["rtsp", "rtsps", "http", "https"] as const;
export type RemoteScheme = (typeof REMOTE_SCHEMES)[number];

/** A file by path, or a camera/stream by URL. */
export type SourceSpec = { file: string } | { url: string };

export interface ResolvedSource {
	kind: "file" | "rtsp" | "http";
	/** What FFmpeg opens. */
	input: string;
	/** Safe to log and return: credentials hidden. */
	display: string;
	/** FFmpeg's protocol_whitelist for this input. */
	protocols: string;
	/** Container formats FFmpeg may pick (files only; null = any). */
	formats: string | null;
}

/** FFmpeg protocols each kind of source may use (transport layers included). */
const PROTOCOLS = {
	file: "file",
	rtsp: "rtsp,rtsps,rtp,srtp,tcp,udp,tls",
	http: "http,https,tcp,tls"
} as const;

/** MP4/MOV, AVI, MKV/WebM: the containers enrollment videos come in. */
const FILE_FORMATS = "mov,mp4,m4a,3gp,3g2,mj2,avi,matroska,webm";

/** Validate a stream URL; throws INVALID_SOURCE with the reason (never the credentials). */
export function resolveUrl(raw: unknown): ResolvedSource {
	const u = parseUrl(raw, REMOTE_SCHEMES);
	if (!u) {
		const shown = typeof raw === "string" ? redactUrl(raw).slice(0, 200) : String(raw);
		throw new VideoSourceError("INVALID_SOURCE", `Unsupported stream URL (rtsp, rtsps, http or https only): ${shown}`);
	}
	const scheme = u.protocol.replace(/:$/, "").toLowerCase() as RemoteScheme;
	const kind = scheme.startsWith("rtsp") ? "rtsp" : "http";
	const input = String(raw);
	return { kind, input, display: redactUrl(input), protocols: PROTOCOLS[kind], formats: null };
}

/** A local file by absolute path: FFmpeg sees no protocol prefix and may only use `file`. */
export function resolveFile(file: unknown): ResolvedSource {
	if (typeof file !== "string" || file.length === 0 || file.length > 4096 || file.includes("\0"))
		throw new VideoSourceError("INVALID_SOURCE", "A video file path is required");
	if (!path.isAbsolute(file)) throw new VideoSourceError("INVALID_SOURCE", "A video file must be given by absolute path");
	const input = path.normalize(file);
	return { kind: "file", input, display: path.basename(input), protocols: PROTOCOLS.file, formats: FILE_FORMATS };
}

export function resolveSource(spec: SourceSpec): ResolvedSource {
	return "file" in spec ? resolveFile(spec.file) : resolveUrl(spec.url);
}
