/**
 * Images sent as text: plain base64 and data URLs (`data:image/jpeg;base64,...`) alike,
 * the seed's most common support issue. Whitespace and line breaks are ignored, missing
 * padding is tolerated, URL-safe base64 (-_) is read too; anything else is a clear
 * INVALID_BASE64, never a decoder's "Incorrect padding". Pure.
 */
import { ApiError } from "../errors";

const DATA_URL = /^data:([a-z0-9.+-]+\/[a-z0-9.+-]+)?((?:;[a-z0-9-]+=[^;,]*)*)(;base64)?,/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function decodeBase64Image(input: unknown, field = "image_base64", maxBytes = Infinity): Buffer {
	if (typeof input !== "string" || input.trim() === "") throw new ApiError(400, "IMAGE_REQUIRED", `Field required: ${field} (the image as base64 or a data URL)`);
	let text = input.trim();
	const m = DATA_URL.exec(text);
	if (m) {
		if (!m[3]) throw new ApiError(400, "INVALID_BASE64", `${field}: a data URL must be base64-encoded (data:image/...;base64,...)`);
		text = text.slice(m[0].length);
	}
	text = text.replace(/\s+/g, "").replace(/-/g, "+").replace(/_/g, "/");
	if (text.length % 4 === 1 || !BASE64.test(text)) throw new ApiError(400, "INVALID_BASE64", `${field} is not valid base64`);
	// An encoded length says the decoded size before any decoding.
	if (Math.floor((text.length * 3) / 4) > maxBytes + 2) throw new ApiError(413, "IMAGE_TOO_LARGE", `${field}: the image is larger than ${maxBytes} bytes`);
	const data = Buffer.from(text, "base64");
	if (data.length === 0) throw new ApiError(400, "INVALID_BASE64", `${field} decodes to nothing`);
	if (data.length > maxBytes) throw new ApiError(413, "IMAGE_TOO_LARGE", `${field}: the image is ${data.length} bytes, at most ${maxBytes}`);
	return data;
}
