/** URL helpers shared by the gateway, cameras and callbacks: validation and redaction. */

/** Hide user:password in a URL before it is logged or returned. */
export function redactUrl(raw: string): string {
	try {
		const u = new URL(raw);
		if (!u.username && !u.password) return raw;
		u.username = u.username ? "***" : "";
		u.password = u.password ? "***" : "";
		return u.toString();
	} catch {
		return raw.replace(/\/\/[^/@\s]*@/, "//***:***@");
	}
}

/** Parse a URL and check its scheme against an allow-list; returns null when invalid. */
export function parseUrl(raw: unknown, schemes: readonly string[]): URL | null {
	if (typeof raw !== "string" || raw.length === 0 || raw.length > 2048) return null;
	let u: URL;
	try {
		u = new URL(raw);
	} catch {
		return null;
	}
	if (!schemes.includes(u.protocol.replace(/:$/, "").toLowerCase())) return null;
	if (!u.hostname) return null;
	return u;
}
