/**
 * A client of Odoo's external JSON-RPC API (lib/odoo/wire.ts): one POST to `<base>/jsonrpc`
 * per call, each bounded by `timeoutMs`, with the uid of `common.authenticate` kept for the
 * client's life. A call is made once: what is retried, and how, is the caller's choice (a
 * create is not safe to send again blindly; lib/odoo/sync.ts looks its record up first).
 */
import {
	OdooError,
	authenticateRequest,
	executeKwRequest,
	httpError,
	parseAnswer,
	transportError,
	versionRequest,
	type Domain,
	type RpcRequest
} from "./wire";

export interface OdooConnection {
	/** Checked by lib/odoo/config.ts checkBaseUrl: http(s), no trailing slash. */
	baseUrl: string;
	database: string;
	username: string;
	apiKey: string;
	timeoutMs: number;
}

export type Fetch = typeof fetch;

export interface OdooRecord {
	id: number;
	[field: string]: unknown;
}

export class OdooClient {
	private nextId = 1;
	private uid: number | null = null;
	/** JSON-RPC calls sent (tests and the bench read it). */
	calls = 0;

	constructor(
		readonly conn: OdooConnection,
		private readonly fetchImpl: Fetch = fetch
	) {}

	/** One JSON-RPC request and its result (an OdooError otherwise). */
	async send(req: (id: number) => RpcRequest, signal?: AbortSignal): Promise<unknown> {
		const id = this.nextId++;
		const body = JSON.stringify(req(id));
		const timeout = AbortSignal.timeout(this.conn.timeoutMs);
		this.calls++;
		let text: string;
		let res: Response;
		try {
			res = await this.fetchImpl(`${this.conn.baseUrl}/jsonrpc`, {
				method: "POST",
				headers: { "Content-Type": "application/json", Accept: "application/json", "User-Agent": "Rollcall-Odoo-Sync" },
				body,
				signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
				redirect: "error"
			});
			text = await res.text();
		} catch (err) {
			if (signal?.aborted) throw signal.reason ?? err;
			throw transportError(err, this.conn.timeoutMs);
		}
		if (!res.ok) {
			// Odoo answers faults with 200; some proxies and Odoo's own 500 page carry JSON-RPC faults too.
			if (/^\s*\{/.test(text)) {
				try {
					return parseAnswer(text, id);
				} catch (err) {
					if (err instanceof OdooError && err.faultName) throw err;
				}
			}
			throw httpError(res.status, res.statusText);
		}
		return parseAnswer(text, id);
	}

	/** `common.version`: the server's version facts (no credentials needed). */
	async version(signal?: AbortSignal): Promise<{ server_version?: string; protocol_version?: number }> {
		return (await this.send(versionRequest, signal)) as { server_version?: string };
	}

	/** `common.authenticate`: the user's uid; refused credentials are ODOO_AUTH_FAILED (not retryable). */
	async authenticate(signal?: AbortSignal): Promise<number> {
		if (this.uid !== null) return this.uid;
		const { database, username, apiKey } = this.conn;
		const uid = await this.send(id => authenticateRequest(database, username, apiKey, id), signal);
		if (typeof uid !== "number" || uid <= 0) throw new OdooError("ODOO_AUTH_FAILED", `Odoo refused the credentials of ${username} on database ${database}`, false);
		this.uid = uid;
		return uid;
	}

	/** `object.execute_kw` as the authenticated user. */
	async executeKw(model: string, method: string, args: unknown[], kwargs: Record<string, unknown> = {}, signal?: AbortSignal): Promise<unknown> {
		const uid = await this.authenticate(signal);
		const { database, apiKey } = this.conn;
		return this.send(id => executeKwRequest(database, uid, apiKey, model, method, args, kwargs, id), signal);
	}

	async searchRead(model: string, domain: Domain, fields: string[], opts: { limit?: number; order?: string } = {}, signal?: AbortSignal): Promise<OdooRecord[]> {
		const kwargs: Record<string, unknown> = { fields };
		if (opts.limit !== undefined) kwargs.limit = opts.limit;
		if (opts.order !== undefined) kwargs.order = opts.order;
		const out = await this.executeKw(model, "search_read", [domain], kwargs, signal);
		if (!Array.isArray(out)) throw new OdooError("ODOO_BAD_ANSWER", `${model}.search_read did not answer a list`, false);
		return out as OdooRecord[];
	}

	async search(model: string, domain: Domain, opts: { limit?: number } = {}, signal?: AbortSignal): Promise<number[]> {
		const out = await this.executeKw(model, "search", [domain], opts.limit !== undefined ? { limit: opts.limit } : {}, signal);
		if (!Array.isArray(out)) throw new OdooError("ODOO_BAD_ANSWER", `${model}.search did not answer a list`, false);
		return out as number[];
	}

	async read(model: string, ids: number[], fields: string[], signal?: AbortSignal): Promise<OdooRecord[]> {
		return (await this.executeKw(model, "read", [ids], { fields }, signal)) as OdooRecord[];
	}

	async create(model: string, values: Record<string, unknown>, signal?: AbortSignal): Promise<number> {
		const id = await this.executeKw(model, "create", [values], {}, signal);
		if (typeof id !== "number") throw new OdooError("ODOO_BAD_ANSWER", `${model}.create did not answer an id`, false);
		return id;
	}

	async write(model: string, ids: number[], values: Record<string, unknown>, signal?: AbortSignal): Promise<boolean> {
		return (await this.executeKw(model, "write", [ids, values], {}, signal)) === true;
	}

	async checkAccessRights(model: string, operation: "read" | "create" | "write", signal?: AbortSignal): Promise<boolean> {
		return (await this.executeKw(model, "check_access_rights", [operation], { raise_exception: false }, signal)) === true;
	}
}
