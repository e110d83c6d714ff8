/**
 * The console API client: /api/v1 with a Bearer access token, the console envelope
 * {success, data, meta} unwrapped, errors thrown as ApiFailure with the API's own words.
 *
 * Sign-in is kept in localStorage (access and refresh token) so a reload stays signed in.
 * The access token lives 15 minutes: it is refreshed silently shortly before it expires, and
 * once more on a 401 TOKEN_EXPIRED/INVALID_TOKEN. Refresh tokens rotate and presenting a
 * rotated one revokes the whole login, so a refresh runs once at a time across tabs (Web
 * Locks), and a tab that finds the stored token already rotated by another tab takes it.
 */

export const API = "/api/v1";
const STORE_KEY = "rollcall.session";

export interface Tokens {
	accessToken: string;
	refreshToken: string;
}

export interface Paging {
	page: number;
	pageSize: number;
	total: number;
	totalPages: number;
}

export interface Answer<T> {
	data: T;
	meta?: Paging;
}

/** An API error: status, the API's code and message, and the fields it names. */
export class ApiFailure extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string,
		readonly details: { field?: string; issue?: string }[] = [],
		readonly requestId?: string
	) {
		super(message);
	}
}

/** Answers that end the sign-in (a wrong current password, 401 INVALID_CREDENTIALS, does not). */
const SESSION_OVER = new Set(["UNAUTHORIZED", "INVALID_TOKEN", "TOKEN_EXPIRED", "REFRESH_TOKEN_REUSED", "ACCOUNT_SUSPENDED"]);

let tokens: Tokens | null = readStored();
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<(signedIn: boolean) => void>();

function readStored(): Tokens | null {
	try {
		const t = JSON.parse(localStorage.getItem(STORE_KEY) ?? "null") as Tokens | null;
		return t && typeof t.accessToken === "string" && typeof t.refreshToken === "string" ? t : null;
	} catch {
		return null;
	}
}

function store(t: Tokens | null): void {
	const was = tokens !== null;
	tokens = t;
	if (t) localStorage.setItem(STORE_KEY, JSON.stringify(t));
	else localStorage.removeItem(STORE_KEY);
	if (was !== (t !== null)) for (const l of listeners) l(t !== null);
}

/** Called with false when the sign-in ends (logout, refresh refused), true when it starts. */
export function onSessionChange(listener: (signedIn: boolean) => void): () => void {
	listeners.add(listener);
	return () => listeners.delete(listener);
}

export function hasSession(): boolean {
	return tokens !== null;
}

export function accessToken(): string | null {
	return tokens?.accessToken ?? null;
}

/** Seconds since the epoch at which a JWT expires (0 when it cannot be read). */
function expiresAt(jwt: string): number {
	try {
		const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
		return Number(JSON.parse(atob(part)).exp) || 0;
	} catch {
		return 0;
	}
}

async function withRefreshLock<T>(fn: () => Promise<T>): Promise<T> {
	const locks = (navigator as Navigator & { locks?: LockManager }).locks;
	return locks ? (locks.request("rollcall.refresh", fn) as Promise<T>) : fn();
}

/** Rotate the refresh token once; false when the login is over. */
export function refresh(): Promise<boolean> {
	const used = tokens?.refreshToken;
	if (!used) return Promise.resolve(false);
	refreshing ??= withRefreshLock(async () => {
		const stored = readStored();
		if (stored && stored.refreshToken !== used) {
			tokens = stored; // another tab rotated it first
			return true;
		}
		try {
			const res = await fetch(`${API}/auth/refresh`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ refreshToken: used }) });
			if (!res.ok) {
				if (res.status === 401 || res.status === 403) store(null);
				return false;
			}
			const body = (await res.json()) as { data: Tokens };
			store({ accessToken: body.data.accessToken, refreshToken: body.data.refreshToken });
			return true;
		} catch {
			return false; // the network, not the login: keep the tokens and let the caller show the error
		}
	}).finally(() => {
		refreshing = null;
	});
	return refreshing;
}

async function freshToken(): Promise<string | null> {
	if (!tokens) return null;
	if (expiresAt(tokens.accessToken) - Date.now() / 1000 < 30) await refresh();
	return tokens?.accessToken ?? null;
}

export interface RequestInit_ {
	method?: string;
	body?: unknown;
	form?: FormData;
	query?: Record<string, string | number | boolean | null | undefined>;
	/** The raw Response (files). */
	raw?: boolean;
	signal?: AbortSignal;
	/** The browser cache's part (e.g. "no-cache": revalidate a file that changes under the same name). */
	cache?: RequestCache;
}

export function withQuery(path: string, query?: RequestInit_["query"]): string {
	if (!query) return path;
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
	const s = q.toString();
	return s ? `${path}?${s}` : path;
}

async function send(path: string, init: RequestInit_, token: string | null): Promise<Response> {
	const headers: Record<string, string> = {};
	if (token) headers.Authorization = `Bearer ${token}`;
	let body: BodyInit | undefined;
	if (init.form) body = init.form;
	else if (init.body !== undefined) {
		headers["Content-Type"] = "application/json";
		body = JSON.stringify(init.body);
	}
	try {
		return await fetch(withQuery(path.startsWith("/api/") ? path : API + path, init.query), { method: init.method ?? (body ? "POST" : "GET"), headers, body, signal: init.signal, cache: init.cache });
	} catch (err) {
		if ((err as Error).name === "AbortError") throw err;
		throw new ApiFailure(0, "NETWORK_ERROR", "The server could not be reached: check the connection and try again.");
	}
}

async function failure(res: Response): Promise<ApiFailure> {
	const text = await res.text().catch(() => "");
	try {
		const b = JSON.parse(text) as { error?: { code?: string; message?: string; details?: unknown }; requestId?: string; message?: string; code?: string };
		if (b.error) return new ApiFailure(res.status, b.error.code ?? `HTTP_${res.status}`, b.error.message ?? res.statusText, Array.isArray(b.error.details) ? b.error.details : [], b.requestId);
		if (b.message) return new ApiFailure(res.status, b.code ?? `HTTP_${res.status}`, b.message);
	} catch {
		/* not JSON */
	}
	return new ApiFailure(res.status, `HTTP_${res.status}`, res.status === 404 ? "Not found." : `The server answered ${res.status} ${res.statusText}.`);
}

/** One console call: the envelope's data and meta, or an ApiFailure. */
export async function request<T = unknown>(path: string, init: RequestInit_ = {}): Promise<Answer<T>> {
	const res = await raw(path, init);
	if (res.status === 204) return { data: null as T };
	const body = (await res.json()) as { data: T; meta?: Paging };
	return { data: body.data, meta: body.meta };
}

/** A call answered with its Response (a file), after the same credentials and errors handling. */
export async function raw(path: string, init: RequestInit_ = {}): Promise<Response> {
	let res = await send(path, init, await freshToken());
	if (res.status === 401 && tokens) {
		const f = await failure(res.clone());
		if ((f.code === "TOKEN_EXPIRED" || f.code === "INVALID_TOKEN") && (await refresh())) res = await send(path, init, tokens?.accessToken ?? null);
	}
	if (!res.ok) {
		const f = await failure(res);
		if (tokens && SESSION_OVER.has(f.code)) store(null);
		throw f;
	}
	return res;
}

export const get = <T>(path: string, query?: RequestInit_["query"], signal?: AbortSignal) => request<T>(path, { query, signal }).then(a => a);
export const post = <T>(path: string, body?: unknown) => request<T>(path, { method: "POST", body: body ?? {} });
export const put = <T>(path: string, body: unknown) => request<T>(path, { method: "PUT", body });
export const patch = <T>(path: string, body: unknown) => request<T>(path, { method: "PATCH", body });
export const del = <T>(path: string) => request<T>(path, { method: "DELETE" });

export async function signIn(username: string, password: string): Promise<void> {
	const res = await send("/auth/login", { method: "POST", body: { username, password } }, null);
	if (!res.ok) throw await failure(res);
	const body = (await res.json()) as { data: Tokens };
	store({ accessToken: body.data.accessToken, refreshToken: body.data.refreshToken });
}

export async function signOut(): Promise<void> {
	const t = tokens;
	store(null);
	if (t) await send("/auth/logout", { method: "POST", body: { refreshToken: t.refreshToken } }, t.accessToken).catch(() => undefined);
}

/** An image or file the API serves behind credentials, as an object URL for <img>/<a>. */
export async function objectUrl(path: string, init: RequestInit_ = {}): Promise<string> {
	const res = await raw(path, init);
	return URL.createObjectURL(await res.blob());
}

/** A sentence for any error: the API's message, else the error's own. */
export function describe(err: unknown): string {
	if (err instanceof ApiFailure) return err.message;
	if (err instanceof Error) return err.message;
	return String(err);
}
