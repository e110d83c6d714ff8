/** Why a frame source failed, as a small set of codes the services map to API errors. */
export type VideoErrorCode =
	| "INVALID_SOURCE" // refused before opening: bad scheme, bad path
	| "CONNECT_TIMEOUT" // no answer within the connect timeout
	| "CONNECT_FAILED" // refused, not found, unauthorised, unreadable
	| "NO_VIDEO" // opened, but no video stream
	| "READ_TIMEOUT" // no packet within the read timeout
	| "STREAM_ENDED" // a live source stopped sending (a disconnect)
	| "DECODE_FAILED"
	| "URL_NOT_ALLOWED"; // the outbound-URL policy refused it (lib/net/outbound.ts)

export class VideoSourceError extends Error {
	constructor(
		readonly code: VideoErrorCode,
		message: string,
		/** URL_NOT_ALLOWED: the rule, the URL (credentials hidden) and the address refused. */
		readonly refusal?: { rule: string; url: string; address: string | null }
	) {
		super(message);
		this.name = "VideoSourceError";
	}
}

/** Turn an FFmpeg open error into a short, credential-free reason. */
export function describeOpenError(err: unknown): string {
	// node-av's errors may come from another realm (Jest), so no instanceof Error here.
	const raw = (err as { message?: unknown })?.message;
	const msg = typeof raw === "string" ? raw : String(err);
	// node-av prefixes "Failed to open input: "; the rest is FFmpeg's av_err2str.
	const reason = msg.replace(/^(FFmpegError:\s*)?Failed to open input:\s*/i, "").replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, "<url>");
	return reason.length > 200 ? reason.slice(0, 200) : reason;
}
