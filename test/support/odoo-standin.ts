/**
 * An Odoo STAND-IN for tests and the bench (no Odoo can run on this machine): a real HTTP
 * server speaking Odoo's external JSON-RPC at POST /jsonrpc (`common.version`,
 * `common.authenticate` -> uid or false, `object.execute_kw` with search_read, search,
 * search_count, read, create, write, unlink, check_access_rights) on the models the sync
 * uses (res.company, hr.employee, hr.attendance), keeping its records in memory. Faults
 * are answered in Odoo's format (`{"jsonrpc":"2.0","id":..,"error":{"code":200,"message":
 * "Odoo Server Error","data":{"name":"odoo.exceptions.AccessDenied",...}}}`), and
 * hr.attendance keeps Odoo's rules: check_out not before check_in, no two overlapping
 * attendances of one employee (odoo.exceptions.ValidationError).
 *
 * Fault injection: `inject({kind, count, method?, model?})` for the next matching calls:
 * `timeout` (the request is held, never answered), `http500` (an HTML 500 page), `drop`
 * (the call is carried out, then the connection is cut without an answer: a create done
 * whose answer is lost), `fault` (an Odoo fault of the given name). `down()` closes the
 * listening port (connections refused) until `up()` opens the same port again.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

type Value = unknown;
type Rec = Record<string, Value> & { id: number };

export interface Injection {
	kind: "timeout" | "http500" | "drop" | "fault";
	/** How many matching calls it hits (default 1). */
	count?: number;
	/** execute_kw method (create, search_read, ...) or common method (authenticate). */
	method?: string;
	model?: string;
	faultName?: string;
	faultMessage?: string;
}

export interface CallSeen {
	service: string;
	method: string;
	model: string | null;
	op: string | null;
	injected: Injection["kind"] | null;
}

export interface StandinUser {
	login: string;
	apiKey: string;
	uid: number;
}

class Fault extends Error {
	constructor(
		readonly faultName: string,
		message: string
	) {
		super(message);
	}
}

const FIELDS: Record<string, string[]> = {
	"res.company": ["id", "name"],
	"hr.employee": ["id", "name", "barcode", "identification_id", "company_id", "active"],
	"hr.attendance": ["id", "employee_id", "check_in", "check_out", "worked_hours"]
};

export class OdooStandin {
	readonly database: string;
	readonly users: StandinUser[];
	readonly records: Record<string, Rec[]> = { "res.company": [], "hr.employee": [], "hr.attendance": [] };
	readonly calls: CallSeen[] = [];
	private readonly injections: (Injection & { left: number })[] = [];
	private server: http.Server | null = null;
	private readonly sockets = new Set<Socket>();
	private readonly held = new Set<http.ServerResponse>();
	private nextIds: Record<string, number> = { "res.company": 1, "hr.employee": 1, "hr.attendance": 1 };
	port = 0;
	/** Added before every answer, ms (a remote Odoo's round trip; the bench). */
	latencyMs = 0;

	constructor(opts: { database?: string; users?: StandinUser[] } = {}) {
		this.database = opts.database ?? "standin_db";
		this.users = opts.users ?? [{ login: "sync@example.com", apiKey: "standin-api-key-0001", uid: 7 }];
	}

	get url(): string {
		return `http://127.0.0.1:${this.port}`;
	}

	async start(port = 0): Promise<this> {
		const server = http.createServer((req, res) => void this.handle(req, res));
		server.keepAliveTimeout = 1000;
		server.on("connection", s => {
			this.sockets.add(s);
			s.on("close", () => this.sockets.delete(s));
		});
		await new Promise<void>((resolve, reject) => {
			server.once("error", reject);
			server.listen(port, "127.0.0.1", () => resolve());
		});
		this.server = server;
		this.port = (server.address() as AddressInfo).port;
		return this;
	}

	/** Odoo goes away: the port refuses connections, open ones are cut. */
	async down(): Promise<void> {
		const s = this.server;
		this.server = null;
		if (!s) return;
		for (const r of this.held) r.destroy();
		this.held.clear();
		for (const sock of this.sockets) sock.destroy();
		await new Promise<void>(resolve => s.close(() => resolve()));
	}

	/** Back on the same port. */
	async up(): Promise<void> {
		if (!this.server) await this.start(this.port);
	}

	stop(): Promise<void> {
		return this.down();
	}

	inject(i: Injection): void {
		this.injections.push({ ...i, left: i.count ?? 1 });
	}

	clearInjections(): void {
		this.injections.length = 0;
	}

	addCompany(name: string): Rec {
		return this.insert("res.company", { name });
	}

	addEmployee(name: string, fields: { barcode?: string; identification_id?: string; company_id?: number } = {}): Rec {
		const company = fields.company_id ? this.records["res.company"].find(c => c.id === fields.company_id) : null;
		return this.insert("hr.employee", { name, barcode: fields.barcode ?? false, identification_id: fields.identification_id ?? false, company_id: company ? [company.id, company.name] : false, active: true });
	}

	attendancesOf(employeeId: number): Rec[] {
		return this.records["hr.attendance"].filter(a => (a.employee_id as [number, string])[0] === employeeId);
	}

	executeKwCount(method: string, model?: string): number {
		return this.calls.filter(c => c.op === method && (!model || c.model === model) && c.injected !== "timeout" && c.injected !== "http500" && c.injected !== "fault").length;
	}

	private insert(model: string, values: Record<string, Value>): Rec {
		const rec = { ...values, id: this.nextIds[model]++ } as Rec;
		this.records[model].push(rec);
		return rec;
	}

	private takeInjection(method: string, model: string | null): Injection | null {
		for (const i of this.injections) {
			if (i.left <= 0) continue;
			if (i.method && i.method !== method) continue;
			if (i.model && i.model !== model) continue;
			i.left--;
			return i;
		}
		return null;
	}

	private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
		const chunks: Buffer[] = [];
		for await (const c of req) chunks.push(c as Buffer);
		if (req.method !== "POST" || req.url !== "/jsonrpc") {
			res.writeHead(404, { "Content-Type": "text/html" }).end("<h1>Not Found</h1>");
			return;
		}
		let body: { jsonrpc?: string; method?: string; params?: { service?: string; method?: string; args?: unknown[] }; id?: unknown };
		try {
			body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
		} catch {
			res.writeHead(400, { "Content-Type": "text/html" }).end("<h1>Bad Request</h1>");
			return;
		}
		const id = body.id ?? null;
		const service = body.params?.service ?? "";
		const method = body.params?.method ?? "";
		const args = body.params?.args ?? [];
		const model = service === "object" && method === "execute_kw" ? String(args[3]) : null;
		const op = service === "object" && method === "execute_kw" ? String(args[4]) : null;
		if (this.latencyMs) await new Promise(r => setTimeout(r, this.latencyMs));
		const injection = this.takeInjection(op ?? method, model);
		this.calls.push({ service, method, model, op, injected: injection?.kind ?? null });
		if (injection?.kind === "timeout") {
			this.held.add(res);
			res.on("close", () => this.held.delete(res));
			return; // never answered
		}
		if (injection?.kind === "http500") {
			res.writeHead(500, { "Content-Type": "text/html" }).end("<html><body><h1>500 Internal Server Error</h1></body></html>");
			return;
		}
		const answer = (payload: Record<string, unknown>) => {
			if (injection?.kind === "drop") {
				// Carried out, but the answer never arrives.
				res.socket?.destroy();
				return;
			}
			const text = JSON.stringify({ jsonrpc: "2.0", id, ...payload });
			res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) }).end(text);
		};
		const fault = (name: string, message: string) =>
			answer({ error: { code: 200, message: "Odoo Server Error", data: { name, debug: `Traceback (most recent call last):\n  ...\n${name}: ${message}`, message, arguments: [message], context: {} } } });
		try {
			if (body.jsonrpc !== "2.0" || body.method !== "call") throw new Fault("werkzeug.exceptions.BadRequest", "Invalid JSON-RPC request");
			if (injection?.kind === "fault") throw new Fault(injection.faultName ?? "odoo.exceptions.UserError", injection.faultMessage ?? "injected fault");
			answer({ result: this.dispatch(service, method, args) });
		} catch (err) {
			if (err instanceof Fault) fault(err.faultName, err.message);
			else fault("builtins.Exception", (err as Error).message);
		}
	}

	private dispatch(service: string, method: string, args: unknown[]): unknown {
		if (service === "common") {
			if (method === "version") return { server_version: "17.0-standin", server_version_info: [17, 0, 0, "final", 0, ""], server_serie: "17.0", protocol_version: 1 };
			if (method === "authenticate" || method === "login") {
				const [db, login, key] = args as string[];
				if (db !== this.database) throw new Fault("psycopg2.OperationalError", `connection to server failed: FATAL:  database "${db}" does not exist`);
				return this.users.find(u => u.login === login && u.apiKey === key)?.uid ?? false;
			}
			throw new Fault("builtins.NameError", `method ${method} is not available on service common`);
		}
		if (service !== "object" || method !== "execute_kw") throw new Fault("builtins.NameError", `${service}.${method} is not available`);
		const [db, uid, key, model, op, margs = [], kwargs = {}] = args as [string, number, string, string, string, unknown[], Record<string, unknown>];
		if (db !== this.database || !this.users.some(u => u.uid === uid && u.apiKey === key)) throw new Fault("odoo.exceptions.AccessDenied", "Access Denied");
		if (!this.records[model]) throw new Fault("builtins.KeyError", `'${model}'`);
		return this.execute(model, op, margs, kwargs);
	}

	private execute(model: string, op: string, args: unknown[], kwargs: Record<string, unknown>): unknown {
		const table = this.records[model];
		const fieldsOf = (fields: unknown) => (Array.isArray(fields) && fields.length ? (fields as string[]) : FIELDS[model]);
		const project = (r: Rec, fields: string[]) => Object.fromEntries([["id", r.id], ...fields.filter(f => f !== "id").map(f => [f, r[f] ?? false])]);
		switch (op) {
			case "check_access_rights":
				return true;
			case "search_read": {
				const rows = this.window(this.filter(table, args[0] ?? kwargs.domain ?? []), kwargs);
				return rows.map(r => project(r, fieldsOf(kwargs.fields ?? args[1])));
			}
			case "search":
				return this.window(this.filter(table, args[0] ?? []), kwargs).map(r => r.id);
			case "search_count":
				return this.filter(table, args[0] ?? []).length;
			case "read": {
				const ids = args[0] as number[];
				const missing = ids.filter(i => !table.some(r => r.id === i));
				if (missing.length) throw new Fault("odoo.exceptions.MissingError", `Record does not exist or has been deleted.\n(Record: ${model}(${missing.join(", ")},), User: 7)`);
				return ids.map(i => project(table.find(r => r.id === i)!, fieldsOf(kwargs.fields ?? args[1])));
			}
			case "create": {
				const many = Array.isArray(args[0]);
				const list = (many ? args[0] : [args[0]]) as Record<string, Value>[];
				const made = list.map(v => this.createOne(model, v));
				return many ? made.map(r => r.id) : made[0].id;
			}
			case "write": {
				const [ids, values] = args as [number[], Record<string, Value>];
				const recs = ids.map(i => table.find(r => r.id === i));
				if (recs.some(r => !r)) throw new Fault("odoo.exceptions.MissingError", "Record does not exist or has been deleted.");
				for (const r of recs as Rec[]) {
					const next = { ...r, ...this.normalize(model, values) };
					this.validate(model, next);
					Object.assign(r, next);
				}
				return true;
			}
			case "unlink": {
				const ids = new Set(args[0] as number[]);
				this.records[model] = table.filter(r => !ids.has(r.id));
				return true;
			}
			default:
				throw new Fault("builtins.AttributeError", `The method '${op}' does not exist on the model '${model}'`);
		}
	}

	private createOne(model: string, values: Record<string, Value>): Rec {
		const rec = { ...this.defaults(model), ...this.normalize(model, values), id: this.nextIds[model] } as Rec;
		this.validate(model, rec);
		this.nextIds[model]++;
		this.records[model].push(rec);
		return rec;
	}

	private defaults(model: string): Record<string, Value> {
		if (model === "hr.attendance") return { check_out: false, worked_hours: 0 };
		return {};
	}

	/** many2one ids stored as [id, name], as Odoo reads them back; datetimes checked. */
	private normalize(model: string, values: Record<string, Value>): Record<string, Value> {
		const out: Record<string, Value> = { ...values };
		if (model === "hr.attendance") {
			if ("employee_id" in out) {
				const e = this.records["hr.employee"].find(r => r.id === out.employee_id);
				if (!e) throw new Fault("odoo.exceptions.ValidationError", `The employee ${String(out.employee_id)} does not exist`);
				out.employee_id = [e.id, e.name];
			}
			for (const f of ["check_in", "check_out"])
				if (f in out && out[f] !== false && !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(String(out[f])))
					throw new Fault("builtins.ValueError", `time data '${String(out[f])}' does not match format '%Y-%m-%d %H:%M:%S'`);
		}
		return out;
	}

	private validate(model: string, rec: Rec): void {
		if (model !== "hr.attendance") return;
		if (!rec.employee_id || !rec.check_in) throw new Fault("odoo.exceptions.ValidationError", "Employee and Check In are required");
		const inAt = String(rec.check_in);
		const outAt = rec.check_out === false ? null : String(rec.check_out);
		if (outAt !== null && outAt < inAt) throw new Fault("odoo.exceptions.ValidationError", '"Check Out" time cannot be earlier than "Check In" time.');
		const emp = (rec.employee_id as [number, string])[0];
		for (const o of this.records["hr.attendance"]) {
			if (o.id === rec.id || (o.employee_id as [number, string])[0] !== emp) continue;
			const oIn = String(o.check_in);
			const oOut = o.check_out === false ? null : String(o.check_out);
			const overlaps = (outAt === null || oIn < outAt) && (oOut === null || inAt < oOut);
			if (overlaps) throw new Fault("odoo.exceptions.ValidationError", `Cannot create new attendance record for ${(rec.employee_id as [number, string])[1]}, the employee was already checked in on ${oIn}`);
		}
		if (outAt) {
			const [a, b] = [Date.parse(inAt.replace(" ", "T") + "Z"), Date.parse(outAt.replace(" ", "T") + "Z")];
			rec.worked_hours = (b - a) / 3_600_000;
		}
	}

	private window(rows: Rec[], kwargs: Record<string, unknown>): Rec[] {
		const offset = Number(kwargs.offset ?? 0);
		const limit = kwargs.limit === undefined || kwargs.limit === false ? undefined : Number(kwargs.limit);
		return rows.slice(offset, limit === undefined ? undefined : offset + limit);
	}

	/** Odoo domains: a list of [field, op, value] terms, all to hold ('&' and '|' prefix operators too). */
	private filter(rows: Rec[], domain: unknown): Rec[] {
		if (!Array.isArray(domain)) throw new Fault("builtins.ValueError", "Invalid domain");
		return rows.filter(r => this.holds(r, [...domain]));
	}

	private holds(r: Rec, domain: unknown[]): boolean {
		const next = (): boolean => {
			const t = domain.shift();
			if (t === "&") return next() && next();
			if (t === "|") {
				const a = next();
				const b = next();
				return a || b;
			}
			if (t === "!") return !next();
			if (!Array.isArray(t) || t.length !== 3) throw new Fault("builtins.ValueError", `Invalid leaf ${JSON.stringify(t)}`);
			return this.term(r, t as [string, string, unknown]);
		};
		let ok = true;
		while (domain.length) ok = next() && ok;
		return ok;
	}

	private term(r: Rec, [field, op, value]: [string, string, unknown]): boolean {
		let v = r[field];
		if (Array.isArray(v)) v = v[0]; // many2one compares by id
		if (v === undefined) throw new Fault("builtins.ValueError", `Invalid field '${field}' in leaf ('${field}', '${op}', ${JSON.stringify(value)})`);
		switch (op) {
			case "=":
				return v === value || (value === false && (v === false || v === null));
			case "!=":
				return v !== value;
			case "in":
				return (value as unknown[]).includes(v);
			case "not in":
				return !(value as unknown[]).includes(v);
			case "<":
				return (v as never) < (value as never);
			case "<=":
				return (v as never) <= (value as never);
			case ">":
				return (v as never) > (value as never);
			case ">=":
				return (v as never) >= (value as never);
			default:
				throw new Fault("builtins.ValueError", `Invalid operator '${op}'`);
		}
	}
}
