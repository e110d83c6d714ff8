/**
 * Odoo's external JSON-RPC API, the wire format (pure): `POST <base>/jsonrpc` with
 * `{"jsonrpc":"2.0","method":"call","params":{"service","method","args"},"id"}`, answered
 * `{"jsonrpc":"2.0","id","result"}` or `{"jsonrpc":"2.0","id","error":{"code":200,"message":
 * "Odoo Server Error","data":{"name":"odoo.exceptions.AccessDenied","message",...}}}`.
 * Services: `common` (`version`, `authenticate [db, login, key, {}]` -> uid or false) and
 * `object` (`execute_kw [db, uid, key, model, method, args, kwargs]`). Datetimes are UTC
 * strings "YYYY-MM-DD HH:MM:SS"; an empty field is `false`; a many2one is `[id, "name"]`.
 * Which failures may pass (a retry can help) and which cannot is decided here too.
 */

export interface RpcRequest {
	jsonrpc: "2.0";
	method: "call";
	params: { service: "common" | "object"; method: string; args: unknown[] };
	id: number;
}

export interface RpcFault {
	code: number;
	message: string;
	data?: { name?: string; message?: string; debug?: string; arguments?: unknown[]; context?: Record<string, unknown> };
}

export type Domain = (string | [string, string, unknown])[];

export function rpcRequest(service: RpcRequest["params"]["service"], method: string, args: unknown[], id: number): RpcRequest {
	return { jsonrpc: "2.0", method: "call", params: { service, method, args }, id };
}

export const authenticateRequest = (db: string, login: string, key: string, id: number) => rpcRequest("common", "authenticate", [db, login, key, {}], id);

export const versionRequest = (id: number) => rpcRequest("common", "version", [], id);

export function executeKwRequest(db: string, uid: number, key: string, model: string, method: string, args: unknown[], kwargs: Record<string, unknown>, id: number): RpcRequest {
	return rpcRequest("object", "execute_kw", [db, uid, key, model, method, args, kwargs], id);
}

/** Why a call did not give a result. `retryable`: a later attempt may succeed. */
export class OdooError extends Error {
	constructor(
		readonly code: string,
		message: string,
		readonly retryable: boolean,
		/** The Odoo exception's name (odoo.exceptions.ValidationError), for faults. */
		readonly faultName: string | null = null
	) {
		super(message);
		this.name = "OdooError";
	}
}

/**
 * Faults that pass: the database was busy (a serialization failure, a lock, a concurrent
 * update) or the server is restarting. Everything else (access, validation, a missing
 * record, a wrong argument) gives the same answer again.
 */
const PASSING_FAULTS = [/SerializationFailure/i, /TransactionRollbackError/i, /LockNotAvailable/i, /OperationalError/i, /ConcurrencyError|concurrent update/i, /ServiceUnavailable/i, /TooManyRequests/i, /PoolError/i];

export function faultError(fault: RpcFault): OdooError {
	const name = fault.data?.name ?? null;
	const message = fault.data?.message || fault.message || "Odoo fault";
	if (name && /AccessDenied$/.test(name)) return new OdooError("ODOO_AUTH_FAILED", `Odoo refused the credentials: ${message}`, false, name);
	if (name && /AccessError$/.test(name)) return new OdooError("ODOO_ACCESS_ERROR", `Odoo refused access: ${message}`, false, name);
	if (name && /MissingError$/.test(name)) return new OdooError("ODOO_MISSING_RECORD", message, false, name);
	if (name && /(ValidationError|UserError)$/.test(name)) return new OdooError("ODOO_VALIDATION_ERROR", message, false, name);
	const passing = PASSING_FAULTS.some(re => re.test(name ?? "") || re.test(message));
	return new OdooError(passing ? "ODOO_BUSY" : "ODOO_FAULT", `${name ?? "Odoo"}: ${message}`, passing, name);
}

/** An HTTP answer that is not a JSON-RPC answer: 5xx, 429 and 408 may pass; 4xx do not. */
export function httpError(status: number, statusText: string): OdooError {
	const passing = status >= 500 || status === 429 || status === 408;
	const code = status === 404 ? "ODOO_NOT_FOUND" : passing ? "ODOO_UNAVAILABLE" : "ODOO_HTTP_ERROR";
	const hint = status === 404 ? " (is the base URL an Odoo server's, without /jsonrpc?)" : "";
	return new OdooError(code, `Odoo answered HTTP ${status} ${statusText}${hint}`.trim(), passing);
}

/** A network failure (refused, reset, timed out, unreadable answer): always may pass. */
export function transportError(err: unknown, timeoutMs: number): OdooError {
	const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
	// The outbound-URL policy (lib/net/outbound.ts) refused the address: the same every time.
	if (e?.code === "URL_NOT_ALLOWED") return new OdooError("URL_NOT_ALLOWED", e.message, false);
	if (e?.name === "TimeoutError" || e?.name === "AbortError") return new OdooError("ODOO_TIMEOUT", `Odoo did not answer within ${timeoutMs} ms`, true);
	const cause = e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
	return new OdooError("ODOO_UNREACHABLE", `Odoo not reachable: ${cause}`, true);
}

/** The result of a JSON-RPC answer's body, or the OdooError it stands for. */
export function parseAnswer(text: string, id: number): unknown {
	let body: { jsonrpc?: string; id?: unknown; result?: unknown; error?: RpcFault };
	try {
		body = JSON.parse(text);
	} catch {
		// A cut-off answer (a proxy, a restart): the request may or may not have been done.
		throw new OdooError("ODOO_BAD_ANSWER", `Odoo's answer is not JSON (${text.length} bytes)`, true);
	}
	if (!body || typeof body !== "object" || body.jsonrpc !== "2.0") throw new OdooError("ODOO_BAD_ANSWER", "Odoo's answer is not JSON-RPC 2.0", false);
	if (body.error) throw faultError(body.error);
	if (body.id !== id) throw new OdooError("ODOO_BAD_ANSWER", `Odoo answered request ${String(body.id)}, not ${id}`, true);
	if (!("result" in body)) throw new OdooError("ODOO_BAD_ANSWER", "Odoo's answer has neither result nor error", false);
	return body.result;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** An instant as Odoo writes datetimes: UTC, "YYYY-MM-DD HH:MM:SS" (seconds kept, ms dropped). */
export function odooDatetime(d: Date | string): string {
	const t = new Date(d);
	if (Number.isNaN(t.getTime())) throw new Error(`not a date: ${String(d)}`);
	return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())} ${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}`;
}

/** An Odoo datetime (UTC) as a Date; false/null (empty) as null. */
export function parseOdooDatetime(v: unknown): Date | null {
	if (v === false || v === null || v === undefined) return null;
	const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(String(v));
	if (!m) throw new Error(`not an Odoo datetime: ${String(v)}`);
	return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

/** A many2one's id ([id, "name"], an id, or false). */
export function many2oneId(v: unknown): number | null {
	if (Array.isArray(v)) return typeof v[0] === "number" ? v[0] : null;
	return typeof v === "number" ? v : null;
}
