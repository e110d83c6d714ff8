/**
 * The Odoo connection's settings (pure): what PUT /odoo/config accepts, checked, and what
 * GET shows of it. The API key is sealed at rest (lib/crypto/secrets.ts, purpose
 * `odoo:apiKey`) and never shown, only masked.
 */

/** hr.employee fields an attendance log's employeeId is looked up by. */
export const MATCH_FIELDS = ["barcode", "identification_id"] as const;
export type MatchField = (typeof MATCH_FIELDS)[number];

export const ODOO_STATUSES = ["connected", "disconnected", "error"] as const;
export type ConnectionStatus = (typeof ODOO_STATUSES)[number];

export const SECRET_PURPOSE = "odoo:apiKey";

/**
 * A base URL Odoo is reached at: http or https, a host, no credentials, query or fragment
 * in it; the path kept (an Odoo behind a prefix), its trailing slashes dropped. Returns the
 * URL to use, or why it is refused.
 */
export function checkBaseUrl(raw: string): { ok: true; url: string } | { ok: false; issue: string } {
	let u: URL;
	try {
		u = new URL(raw.trim());
	} catch {
		return { ok: false, issue: "not a URL" };
	}
	if (u.protocol !== "http:" && u.protocol !== "https:") return { ok: false, issue: `must be http or https, not ${u.protocol.replace(/:$/, "")}` };
	if (!u.hostname) return { ok: false, issue: "has no host" };
	if (u.username || u.password) return { ok: false, issue: "must not carry credentials (give username and apiKey)" };
	if (u.search || u.hash) return { ok: false, issue: "must not have a query or fragment" };
	if (/\/jsonrpc\/?$/.test(u.pathname)) return { ok: false, issue: "is the server's address, without /jsonrpc" };
	const path = u.pathname.replace(/\/+$/, "");
	return { ok: true, url: `${u.protocol}//${u.host}${path}` };
}

export interface RunFacts {
	/** The run reached Odoo and was not cut short. */
	ok: boolean;
	error: string | null;
}

export interface Counters {
	failureCount: number;
	status: ConnectionStatus;
}

/**
 * After a sync run: the failures in a row (reset by a good run), the connection's status,
 * and what becomes of the odoo:sync alert: raised once `threshold` runs in a row failed,
 * resolved by the next good one.
 */
export function afterRun(prev: Counters, run: RunFacts, threshold: number): Counters & { alert: "raise" | "resolve" | null } {
	if (run.ok) return { failureCount: 0, status: "connected", alert: "resolve" };
	const failureCount = prev.failureCount + 1;
	return { failureCount, status: "error", alert: failureCount >= threshold ? "raise" : null };
}
