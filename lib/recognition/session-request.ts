/**
 * Validation of a process-session request, in the FUACS spec's order of checks and with its
 * codes: SLOT_ID_REQUIRED, STUDENTS_REQUIRED, CAMERAS_REQUIRED, STUDENTS_EMPTY, CAMERAS_EMPTY,
 * INVALID_EMBEDDING_DIMENSION, INVALID_SIMILARITY_THRESHOLD. Beyond the spec, each with its
 * own code and after the spec's checks: malformed ids and fields, an embedding version that
 * is not this embedder's (naming the userIds), a malformed camera URL, a callback URL that is
 * not http(s), duplicates.
 */
import { parseUrl, redactUrl } from "../url";

export const EMBEDDING_DIMENSION = 512;
export const CAMERA_SCHEMES = ["rtsp", "rtsps", "http", "https"] as const;

export interface SessionStudent {
	userId: number;
	fullName: string;
	rollNumber: string;
	embeddingVector: number[];
	embeddingVersion: number;
}

export interface SessionCamera {
	id: number;
	name: string;
	rtspUrl: string;
}

export interface SessionRequest {
	slotId: number;
	roomId: number | null;
	students: SessionStudent[];
	cameras: SessionCamera[];
	config: { similarityThreshold: number; scanInterval: number; callbackUrl: string };
}

export class SessionRequestError extends Error {
	constructor(
		readonly code: string,
		message: string
	) {
		super(message);
	}
}

export interface SessionDefaults {
	similarityThreshold: number;
	scanInterval: number;
	/** Used when the request has no callbackUrl (JAVA_BACKEND_URL + the spec's path). */
	callbackUrl: string | null;
	embeddingVersion: number;
}

const fail = (code: string, message: string): never => {
	throw new SessionRequestError(code, message);
};
const missing = (v: unknown) => v === undefined || v === null || v === "";
const isInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);

export function parseSessionRequest(body: unknown, defaults: SessionDefaults): SessionRequest {
	const b = (body && typeof body === "object" ? body : {}) as Record<string, any>;
	// The spec's checks, in its order.
	if (missing(b.slotId)) fail("SLOT_ID_REQUIRED", "Slot ID is required");
	if (!Array.isArray(b.students)) fail("STUDENTS_REQUIRED", "Students array is required");
	if (!Array.isArray(b.cameras)) fail("CAMERAS_REQUIRED", "Cameras array is required");
	if (b.students.length === 0) fail("STUDENTS_EMPTY", "Students array must not be empty");
	if (b.cameras.length === 0) fail("CAMERAS_EMPTY", "Cameras array must not be empty");
	for (const s of b.students as unknown[]) {
		const v = (s as Record<string, unknown> | null)?.embeddingVector;
		if (!Array.isArray(v) || v.length !== EMBEDDING_DIMENSION) fail("INVALID_EMBEDDING_DIMENSION", "Embedding vector must have exactly 512 dimensions");
	}
	const cfg = (b.config && typeof b.config === "object" ? b.config : {}) as Record<string, unknown>;
	const threshold = cfg.similarityThreshold ?? defaults.similarityThreshold;
	if (typeof threshold !== "number" || !Number.isFinite(threshold) || threshold < 0 || threshold > 1)
		fail("INVALID_SIMILARITY_THRESHOLD", "Similarity threshold must be between 0.0 and 1.0");

	// Beyond the spec.
	if (!isInt(b.slotId) || b.slotId < 0) fail("INVALID_SLOT_ID", "Slot ID must be a non-negative integer");
	if (!missing(b.roomId) && (!isInt(b.roomId) || b.roomId < 0)) fail("INVALID_ROOM_ID", "Room ID must be a non-negative integer");
	const seenUsers = new Set<number>();
	const students: SessionStudent[] = (b.students as Record<string, any>[]).map((s, i) => {
		if (!isInt(s.userId)) fail("INVALID_STUDENT", `students[${i}].userId must be an integer`);
		if (seenUsers.has(s.userId)) fail("DUPLICATE_STUDENT", `Student ${s.userId} is listed more than once`);
		seenUsers.add(s.userId);
		if (typeof s.fullName !== "string" || typeof s.rollNumber !== "string") fail("INVALID_STUDENT", `students[${i}] (userId ${s.userId}) needs fullName and rollNumber strings`);
		if (!(s.embeddingVector as unknown[]).every(x => typeof x === "number" && Number.isFinite(x)))
			fail("INVALID_EMBEDDING", `Embedding vector of student ${s.userId} must contain only finite numbers`);
		if (!(s.embeddingVector as number[]).some(x => x !== 0)) fail("INVALID_EMBEDDING", `Embedding vector of student ${s.userId} is all zeros`);
		if (!isInt(s.embeddingVersion)) fail("INVALID_STUDENT", `students[${i}].embeddingVersion must be an integer`);
		return { userId: s.userId, fullName: s.fullName, rollNumber: s.rollNumber, embeddingVector: s.embeddingVector, embeddingVersion: s.embeddingVersion };
	});
	const wrongVersion = students.filter(s => s.embeddingVersion !== defaults.embeddingVersion);
	if (wrongVersion.length > 0)
		fail(
			"EMBEDDING_VERSION_MISMATCH",
			`Embeddings of users ${wrongVersion.map(s => s.userId).join(", ")} have version ${[...new Set(wrongVersion.map(s => s.embeddingVersion))].join(", ")}, but this service's embedder is version ${defaults.embeddingVersion}; regenerate them with /api/v1/embeddings/generate`
		);
	const seenCameras = new Set<number>();
	const cameras: SessionCamera[] = (b.cameras as Record<string, any>[]).map((c, i) => {
		if (!isInt(c?.id) || c.id < 0) fail("INVALID_CAMERA", `cameras[${i}].id must be a non-negative integer`);
		if (seenCameras.has(c.id)) fail("DUPLICATE_CAMERA", `Camera ${c.id} is listed more than once`);
		seenCameras.add(c.id);
		if (!parseUrl(c.rtspUrl, CAMERA_SCHEMES))
			fail("INVALID_CAMERA_URL", `Camera ${c.id} URL must be an rtsp, rtsps, http or https URL: ${typeof c.rtspUrl === "string" ? redactUrl(c.rtspUrl) : String(c.rtspUrl)}`);
		return { id: c.id, name: typeof c.name === "string" && c.name ? c.name : `Camera ${c.id}`, rtspUrl: c.rtspUrl };
	});
	const scanInterval = cfg.scanInterval ?? defaults.scanInterval;
	if (!isInt(scanInterval) || scanInterval < 1 || scanInterval > 3600) fail("INVALID_SCAN_INTERVAL", "Scan interval must be an integer number of seconds between 1 and 3600");
	const callbackUrl = cfg.callbackUrl ?? defaults.callbackUrl;
	if (missing(callbackUrl)) fail("CALLBACK_URL_REQUIRED", "config.callbackUrl is required (or set JAVA_BACKEND_URL)");
	if (!parseUrl(callbackUrl, ["http", "https"])) fail("INVALID_CALLBACK_URL", "Callback URL must be an http or https URL");
	return {
		slotId: b.slotId,
		roomId: missing(b.roomId) ? null : b.roomId,
		students,
		cameras,
		config: { similarityThreshold: threshold as number, scanInterval: scanInterval as number, callbackUrl: callbackUrl as string }
	};
}
