/**
 * The camera registry's rules, pure: one registry for the console (ids like `CAM-07`) and the
 * FUACS sessions (numeric camera ids). Every camera has both: `cameraId`, an integer (the
 * Java backend's id, or the next free one for a camera made in the console) and `id`, its
 * console name, `CAM-<cameraId, two digits at least>` unless the console gave one. A path
 * `:id` that is all digits is a cameraId; anything else is an id.
 *
 * Credentials never live in `streamUrl`: user:password in a URL given to us are taken out
 * and kept apart (sealed at rest, lib/crypto/secrets.ts), and put back only to connect.
 */
export const STREAM_TYPES = ["RTSP", "HTTP", "USB", "Socket", "Local File"] as const;
export type StreamType = (typeof STREAM_TYPES)[number];
export const CAMERA_STATUSES = ["online", "offline", "maintenance"] as const;
export type CameraStatus = (typeof CAMERA_STATUSES)[number];

/** Which URL schemes each stream type may use (only network streams are opened here). */
export const STREAM_SCHEMES: Record<string, readonly string[]> = { RTSP: ["rtsp", "rtsps"], HTTP: ["http", "https"] };

export const CAMERA_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$/;

export const consoleId = (cameraId: number) => `CAM-${String(cameraId).padStart(2, "0")}`;

/** `CAM-07` -> 7 when the id is of that form, else null. */
export function numberOfId(id: string): number | null {
	const m = /^CAM-(\d{1,9})$/.exec(id);
	return m ? Number(m[1]) : null;
}

/** How a path id finds its camera. */
export function lookupOf(id: string | number): { cameraId: number } | { _id: string } {
	const s = String(id);
	return /^\d{1,9}$/.test(s) ? { cameraId: Number(s) } : { _id: s };
}

export interface Credentials {
	username: string;
	password: string;
}

/** Split user:password out of a stream URL. Throws on a URL that does not parse or has a disallowed scheme. */
export function splitStreamUrl(raw: string, schemes: readonly string[]): { url: string; credentials: Credentials | null; host: string } {
	let u: URL;
	try {
		u = new URL(raw);
	} catch {
		throw new Error("not a URL");
	}
	const scheme = u.protocol.replace(/:$/, "").toLowerCase();
	if (!schemes.includes(scheme)) throw new Error(`scheme must be ${schemes.join(" or ")}`);
	if (!u.hostname) throw new Error("no host");
	const credentials = u.username || u.password ? { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) } : null;
	u.username = "";
	u.password = "";
	return { url: u.toString(), credentials, host: u.hostname };
}

/** The URL to connect with: the stored URL with its credentials put back. */
export function joinStreamUrl(url: string, credentials: Credentials | null): string {
	if (!credentials || (!credentials.username && !credentials.password)) return url;
	const u = new URL(url);
	u.username = encodeURIComponent(credentials.username);
	u.password = encodeURIComponent(credentials.password);
	return u.toString();
}

/** The smallest cameraId not taken (from 1). */
export function nextCameraId(taken: Iterable<number>): number {
	const set = new Set(taken);
	let n = 1;
	while (set.has(n)) n++;
	return n;
}

/** A dotted IPv4 or bracket-free IPv6 host, when the host is an address. */
export function ipOf(host: string): string | null {
	if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return host;
	if (/^\[?[0-9a-f:]+\]?$/i.test(host) && host.includes(":")) return host.replace(/^\[|\]$/g, "");
	return null;
}
