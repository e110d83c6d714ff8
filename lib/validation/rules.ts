/**
 * One definition per shared concept, as fastest-validator rules with coded messages
 * (lib/validation/coded.ts): every action that takes a slotId, a camera id, a user id, an
 * embedding, a threshold or a URL of a kind declares it with these, so the concept has one
 * rule and one code everywhere. Spread to adapt a use: `{ ...cameraId, convert: true }` for a
 * query or path value, `{ ...roomId, optional: true }`.
 */
import { REMOTE_SCHEMES } from "../video/source";
import { EMBEDDING_DIMENSION } from "../store/vectors";
import { parseUrl, redactUrl } from "../url";
import { coded, fails } from "./coded";

type Rule = Record<string, unknown> & { type: string };
export type CustomCheck = (value: unknown, errors: { type: string; actual?: unknown; expected?: unknown }[], schema: unknown, path: string, parent: unknown, context: { data: Record<string, unknown> }) => unknown;

/** FUACS slotId: an integer >= 0. */
export const slotId: Rule = {
	type: "number",
	integer: true,
	min: 0,
	blankIsMissing: true,
	messages: fails("INVALID_SLOT_ID", "Slot ID must be a non-negative integer", { required: coded("SLOT_ID_REQUIRED", "Slot ID is required") })
};

/** A room (FUACS roomId): an integer >= 0. */
export const roomId: Rule = { type: "number", integer: true, min: 0, blankIsMissing: true, messages: fails("INVALID_ROOM_ID", "Room ID must be a non-negative integer") };

/** A camera id: the spec's `short`, positive (1..32767), wherever a camera is named by id. */
export const cameraId: Rule = {
	type: "number",
	integer: true,
	min: 1,
	max: 32767,
	blankIsMissing: true,
	messages: fails("INVALID_CAMERA_ID", "Camera ID must be an integer between 1 and 32767", { required: coded("CAMERA_ID_REQUIRED", "Camera ID is required") })
};

export const cameraName: Rule = { type: "string", max: 200, blankIsMissing: true, messages: fails("INVALID_CAMERA_NAME", "Camera name must be a string of at most 200 characters") };

/** A student or user id: an integer. */
export const userId: Rule = { type: "number", integer: true, messages: fails("INVALID_USER_ID", "{field} must be an integer") };

/** A face embedding: exactly 512 finite numbers, not all zero. */
export const embeddingVector: Rule = {
	type: "array",
	length: EMBEDDING_DIMENSION,
	items: { type: "number", messages: fails("INVALID_EMBEDDING", "{field} must be a finite number") },
	custom: ((value, errors) => {
		if (Array.isArray(value) && value.length > 0 && value.every(x => x === 0)) errors.push({ type: "zeros" });
		return value;
	}) satisfies CustomCheck,
	messages: fails("INVALID_EMBEDDING_DIMENSION", `Embedding vector must have exactly ${EMBEDDING_DIMENSION} dimensions`, { zeros: coded("INVALID_EMBEDDING", "{field} is all zeros") })
};

/** A similarity threshold: 0.0 to 1.0. */
export const similarityThreshold: Rule = { type: "number", min: 0, max: 1, messages: fails("INVALID_SIMILARITY_THRESHOLD", "Similarity threshold must be between 0.0 and 1.0") };

/** Seconds between two scans of a camera. */
export const scanInterval: Rule = { type: "number", integer: true, min: 1, max: 3600, messages: fails("INVALID_SCAN_INTERVAL", "Scan interval must be an integer number of seconds between 1 and 3600") };

/**
 * The failure types of the checks below, with their plain messages (the validator knows them
 * as it knows fastest-validator's own, so a rule's `"*"` covers them too).
 */
export const CHECK_MESSAGES: Record<string, string> = {
	zeros: "The '{field}' field must not be all zeros.",
	urlScheme: "The '{field}' field must be a URL of an allowed scheme.",
	duplicate: "The '{field}' field lists '{actual}' more than once.",
	requiredUnless: "The '{field}' field is required.",
	invalid: "The '{field}' field is not valid."
};

/** Whether a value is a URL a camera may stream from (the rule of `cameraUrl`). */
export const isCameraUrl = (value: unknown) => parseUrl(value, REMOTE_SCHEMES) !== null;

/** A URL check for `custom`: one of `schemes`, with a host; reports the URL with its credentials hidden. */
function urlOf(schemes: readonly string[]): CustomCheck {
	return (value, errors) => {
		if (typeof value === "string" && value !== "" && !parseUrl(value, schemes)) errors.push({ type: "urlScheme", actual: redactUrl(value).slice(0, 200) });
		return value;
	};
}

/** Where a camera streams from: rtsp, rtsps, http or https (what lib/video opens). */
export const cameraUrl: Rule = {
	type: "string",
	trim: true,
	blankIsMissing: true,
	custom: urlOf(REMOTE_SCHEMES),
	messages: fails("INVALID_CAMERA_URL", "Camera URL must be an rtsp, rtsps, http or https URL: {actual}", { required: coded("RTSP_URL_REQUIRED", "RTSP URL is required") })
};

/** Where results are posted: http or https. */
export const callbackUrl: Rule = { type: "string", trim: true, blankIsMissing: true, custom: urlOf(["http", "https"]), messages: fails("INVALID_CALLBACK_URL", "Callback URL must be an http or https URL") };

/** An enrollment video: a path under /uploads or an http(s) URL (which of them, and whether it is there, the enrollment service resolves). */
export const videoUrl: Rule = { type: "string", trim: true, blankIsMissing: true, messages: fails("VIDEO_URL_REQUIRED", "Video URL is required") };

export const submissionId: Rule = {
	type: "number",
	integer: true,
	min: -Number.MAX_SAFE_INTEGER,
	max: Number.MAX_SAFE_INTEGER,
	blankIsMissing: true,
	messages: fails("INVALID_SUBMISSION_ID", "Submission ID must be an integer", { required: coded("SUBMISSION_ID_REQUIRED", "Submission ID is required") })
};

/**
 * `custom` of an array of objects: the first value of `prop` listed twice fails as `duplicate`
 * ({actual} is that value).
 */
export function unique(prop: string): CustomCheck {
	return (value, errors) => {
		if (!Array.isArray(value)) return value;
		const seen = new Set<unknown>();
		for (const item of value) {
			const v = item && typeof item === "object" ? (item as Record<string, unknown>)[prop] : undefined;
			if (v === undefined) continue;
			if (seen.has(v)) {
				errors.push({ type: "duplicate", actual: v });
				break;
			}
			seen.add(v);
		}
		return value;
	};
}

/** `custom` of a top-level param: required unless the param `other` is given (fails as `requiredUnless`). */
export function requiredUnless(other: string): CustomCheck {
	return (value, errors, _schema, _path, _parent, context) => {
		if (value === undefined && context.data?.[other] === undefined) errors.push({ type: "requiredUnless" });
		return value;
	};
}

/** `custom`: a given value for which `ok` is false fails as `invalid`. */
export function mustBe(ok: (value: unknown) => boolean): CustomCheck {
	return (value, errors) => {
		if (value !== undefined && value !== null && !ok(value)) errors.push({ type: "invalid" });
		return value;
	};
}
