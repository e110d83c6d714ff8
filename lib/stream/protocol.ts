/**
 * Seed 003's streaming protocol (ws://host/ws/recognize), the messages and their checks. Pure.
 *
 * Client -> server, JSON text messages:
 *   {type: "frame", data: base64 | data URL, frame_id: integer | string, timestamp?}
 *   {type: "ping"}   -> {type: "pong", timestamp}
 *   {type: "stats"}  -> {type: "stats", ...counts}
 * Server -> client:
 *   {type: "connected", session_id, max_frame_rate, max_frame_bytes, ...}   once, first
 *   {type: "recognition_result", frame_id, faces: [StreamFace], timestamp, processing_ms, dropped_frames}
 *   {type: "frame_dropped", frame_id, reason: "rate" | "busy", dropped_frames}
 *   {type: "error", code, message, frame_id}   (the connection stays open)
 * Every frame the server accepts is answered, in the order received, by its result or by an
 * error; every other frame by a frame_dropped.
 */
import { decodeBase64Image } from "../face-api/base64";
import type { Box } from "../recognition/tracker";
import { streamBox } from "../face-api/format";

/** Seed 001/003: an image is at most 10 MB once decoded. */
export const MAX_FRAME_BYTES = 10 * 1024 * 1024;
/** Largest message the socket reads: a 10 MB image as base64 (4/3 larger) and its fields. Larger closes the socket (1009). */
export const MAX_MESSAGE_BYTES = Math.ceil((MAX_FRAME_BYTES * 4) / 3) + 64 * 1024;

/** The codes of `{type: "error"}` messages (the README lists them). */
export const STREAM_ERRORS = {
	INVALID_MESSAGE: "not a JSON object (binary messages are not read)",
	UNKNOWN_TYPE: "type is not frame, ping or stats",
	INVALID_FRAME_ID: "frame_id missing, or not an integer or a string of at most 64 characters",
	INVALID_TIMESTAMP: "timestamp not a number or a string of at most 64 characters",
	IMAGE_REQUIRED: "data missing or empty",
	INVALID_BASE64: "data is not base64 (plain or a data URL)",
	IMAGE_TOO_LARGE: "the image is larger than 10 MB, or has more pixels than allowed",
	UNSUPPORTED_IMAGE_FORMAT: "not a JPEG, PNG, WebP, TIFF or BMP image",
	INVALID_IMAGE: "the image cannot be decoded",
	INFERENCE_BUSY: "every inference node is busy: the frame was not analysed",
	RECOGNITION_FAILED: "the frame could not be analysed or its result not stored"
} as const;
export type StreamErrorCode = keyof typeof STREAM_ERRORS;

export type FrameId = number | string;

export type ClientMessage =
	| { kind: "frame"; frameId: FrameId; timestamp: number | string | null; image: Buffer }
	| { kind: "ping" }
	| { kind: "stats" }
	| { kind: "error"; code: StreamErrorCode; message: string; frameId: FrameId | null };

const saneFrameId = (v: unknown): FrameId | null =>
	(typeof v === "number" && Number.isSafeInteger(v)) || (typeof v === "string" && v.length > 0 && v.length <= 64) ? (v as FrameId) : null;

/** One message of a client, checked; a frame's image decoded from its base64 (not yet as an image). */
export function parseClientMessage(data: Buffer | string, isBinary: boolean, maxFrameBytes = MAX_FRAME_BYTES): ClientMessage {
	let msg: Record<string, unknown>;
	try {
		if (isBinary) throw new Error("binary");
		msg = JSON.parse(typeof data === "string" ? data : data.toString("utf8"));
		if (!msg || typeof msg !== "object" || Array.isArray(msg)) throw new Error("not an object");
	} catch {
		return { kind: "error", code: "INVALID_MESSAGE", message: 'Messages are JSON objects: {type: "frame", data, frame_id, timestamp}, {type: "ping"} or {type: "stats"}', frameId: null };
	}
	if (msg.type === "ping") return { kind: "ping" };
	if (msg.type === "stats") return { kind: "stats" };
	const loose = saneFrameId(msg.frame_id);
	if (msg.type !== "frame") return { kind: "error", code: "UNKNOWN_TYPE", message: `type: frame, ping or stats (got ${JSON.stringify(msg.type ?? null).slice(0, 40)})`, frameId: loose };
	if (loose === null) return { kind: "error", code: "INVALID_FRAME_ID", message: "frame_id: an integer or a string of 1-64 characters", frameId: null };
	const ts = msg.timestamp;
	if (ts !== undefined && ts !== null && !(typeof ts === "number" && Number.isFinite(ts)) && !(typeof ts === "string" && ts.length <= 64))
		return { kind: "error", code: "INVALID_TIMESTAMP", message: "timestamp: a number or a string of at most 64 characters", frameId: loose };
	try {
		const image = decodeBase64Image(msg.data, "data", maxFrameBytes);
		return { kind: "frame", frameId: loose, timestamp: (ts as number | string | undefined) ?? null, image };
	} catch (err) {
		const code = ((err as { type?: string }).type ?? "INVALID_BASE64") as StreamErrorCode;
		return { kind: "error", code: code in STREAM_ERRORS ? code : "INVALID_BASE64", message: (err as Error).message, frameId: loose };
	}
}

/** What the server knows of one face of a frame: its track as the tracker sees it now, and who that is. */
export interface FaceFacts {
	trackId: string;
	status: "tentative" | "unknown" | "authorized";
	/** The person's employee id and name (authorized tracks; null otherwise or when the profile is gone). */
	userId: string | null;
	userName: string | null;
	/** Calibrated similarity: to the person (authorized), else to the best gallery candidate (0: none). */
	similarity: number;
	/** Box in the caller's pixels, x1 y1 x2 y2. */
	box: Box;
	detectionScore: number;
}

export interface StreamFace {
	track_id: string;
	user_id: string | null;
	user_name: string | null;
	confidence: number;
	bbox: [number, number, number, number];
	is_unknown: boolean;
	/** recognized, unknown, or tentative (first sightings, not yet decided). */
	status: "recognized" | "unknown" | "tentative";
	detection_score: number;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

export function streamFace(f: FaceFacts, width: number, height: number): StreamFace {
	const recognized = f.status === "authorized";
	return {
		track_id: f.trackId,
		user_id: recognized ? f.userId : null,
		user_name: recognized ? f.userName : null,
		confidence: r3(Math.max(0, Math.min(1, f.similarity))),
		bbox: streamBox(f.box, width, height),
		is_unknown: f.status === "unknown",
		status: f.status === "authorized" ? "recognized" : f.status,
		detection_score: r3(f.detectionScore)
	};
}

/**
 * Which faces of a result are written as recognition logs: a track's first face, a face whose
 * track changed status (or person), and otherwise at most one per track every `intervalMs`
 * (0: every face of every result). `last` is what was logged of the track before.
 */
export function shouldLog(face: FaceFacts, last: { at: number; status: string; userId: string | null } | undefined, now: number, intervalMs: number): boolean {
	if (intervalMs <= 0 || !last) return true;
	if (last.status !== face.status || last.userId !== face.userId) return true;
	return now - last.at >= intervalMs;
}
