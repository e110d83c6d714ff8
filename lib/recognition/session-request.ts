/**
 * process-session (FUACS section 1) and stop-session (section 2): their params schemas and
 * the session request they make with the configured defaults.
 *
 * The spec's checks answer first, in its order: SLOT_ID_REQUIRED, STUDENTS_REQUIRED,
 * CAMERAS_REQUIRED, STUDENTS_EMPTY, CAMERAS_EMPTY, INVALID_EMBEDDING_DIMENSION,
 * INVALID_SIMILARITY_THRESHOLD. Every other failure has its own code and comes after them, in
 * the order of the fields: a malformed slot or room id, student or camera; a student listed
 * twice; embeddings of another embedder version (naming the userIds); a camera listed twice, a
 * malformed camera URL; the scan interval; a callback URL that is not http(s), or none at all
 * (CALLBACK_URL_REQUIRED, when JAVA_BACKEND_URL gives no default either).
 */
import { badRequest } from "../errors";
import { coded, fails } from "../validation/coded";
import { callbackUrl, cameraId, cameraName, cameraUrl, embeddingVector, roomId, scanInterval, similarityThreshold, slotId, unique, userId, type CustomCheck } from "../validation/rules";

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

export interface SessionDefaults {
	similarityThreshold: number;
	scanInterval: number;
	/** Used when the request has no callbackUrl (JAVA_BACKEND_URL + the spec's path). */
	callbackUrl: string | null;
	embeddingVersion: number;
}

/** process-session's params once its schema passed. */
export interface SessionParams {
	slotId: number;
	roomId?: number | null;
	students: SessionStudent[];
	cameras: { id: number; name?: string | null; rtspUrl: string }[];
	config?: { similarityThreshold?: number | null; scanInterval?: number | null; callbackUrl?: string | null } | null;
}

/** The FUACS spec's order of checks of process-session. */
export const PROCESS_SESSION_ORDER = [
	"SLOT_ID_REQUIRED",
	"STUDENTS_REQUIRED",
	"CAMERAS_REQUIRED",
	"STUDENTS_EMPTY",
	"CAMERAS_EMPTY",
	"INVALID_EMBEDDING_DIMENSION",
	"INVALID_SIMILARITY_THRESHOLD"
];

/** `custom` of the students: embeddings of another embedder version than this service's fail, naming the userIds. */
function sameEmbeddingVersion(version: number): CustomCheck {
	return (value, errors) => {
		if (!Array.isArray(value)) return value;
		const wrong = value.filter(s => s && typeof s === "object" && Number.isInteger(s.embeddingVersion) && s.embeddingVersion !== version) as SessionStudent[];
		if (wrong.length > 0) errors.push({ type: "embeddingVersion", actual: wrong.map(s => s.userId).join(", "), expected: [...new Set(wrong.map(s => s.embeddingVersion))].join(", ") });
		return value;
	};
}

const studentText = (what: string) => fails("INVALID_STUDENT", `{field} must be ${what}`);

/** process-session's params, for an embedder of `embeddingVersion`. */
export function processSessionParams(embeddingVersion: number) {
	return {
		$$order: PROCESS_SESSION_ORDER,
		slotId,
		roomId: { ...roomId, optional: true },
		students: {
			type: "array",
			min: 1,
			items: {
				type: "object",
				strict: "remove",
				props: {
					userId,
					fullName: { type: "string", messages: studentText("a string") },
					rollNumber: { type: "string", messages: studentText("a string") },
					embeddingVector,
					embeddingVersion: { type: "number", integer: true, messages: studentText("an integer") }
				},
				// A student that is no object has no 512-d embedding either: the spec's check.
				messages: embeddingVector.messages
			},
			custom: [unique("userId"), sameEmbeddingVersion(embeddingVersion)],
			messages: fails("STUDENTS_REQUIRED", "Students array is required", {
				arrayMin: coded("STUDENTS_EMPTY", "Students array must not be empty"),
				duplicate: coded("DUPLICATE_STUDENT", "Student {actual} is listed more than once"),
				embeddingVersion: coded(
					"EMBEDDING_VERSION_MISMATCH",
					`Embeddings of users {actual} have version {expected}, but this service's embedder is version ${embeddingVersion}; regenerate them with /api/v1/embeddings/generate`
				)
			})
		},
		cameras: {
			type: "array",
			min: 1,
			items: {
				type: "object",
				strict: "remove",
				props: { id: cameraId, name: { ...cameraName, optional: true }, rtspUrl: cameraUrl },
				messages: fails("INVALID_CAMERA", "Each camera must be an object with id, name and rtspUrl")
			},
			custom: unique("id"),
			messages: fails("CAMERAS_REQUIRED", "Cameras array is required", {
				arrayMin: coded("CAMERAS_EMPTY", "Cameras array must not be empty"),
				duplicate: coded("DUPLICATE_CAMERA", "Camera {actual} is listed more than once")
			})
		},
		config: {
			type: "object",
			optional: true,
			props: {
				similarityThreshold: { ...similarityThreshold, optional: true },
				scanInterval: { ...scanInterval, optional: true },
				callbackUrl: { ...callbackUrl, optional: true }
			},
			messages: fails("INVALID_CONFIG", "config must be an object")
		}
	};
}

export const stopSessionParams = { slotId };

/** The session a valid request starts: the configured defaults where it has none. */
export function sessionRequest(params: SessionParams, defaults: SessionDefaults): SessionRequest {
	const c = params.config ?? {};
	const callback = c.callbackUrl ?? defaults.callbackUrl;
	if (!callback) throw badRequest("CALLBACK_URL_REQUIRED", "config.callbackUrl is required (or set JAVA_BACKEND_URL)");
	return {
		slotId: params.slotId,
		roomId: params.roomId ?? null,
		students: params.students.map(s => ({ userId: s.userId, fullName: s.fullName, rollNumber: s.rollNumber, embeddingVector: s.embeddingVector, embeddingVersion: s.embeddingVersion })),
		cameras: params.cameras.map(cam => ({ id: cam.id, name: cam.name ?? `Camera ${cam.id}`, rtspUrl: cam.rtspUrl })),
		config: { similarityThreshold: c.similarityThreshold ?? defaults.similarityThreshold, scanInterval: c.scanInterval ?? defaults.scanInterval, callbackUrl: callback }
	};
}
