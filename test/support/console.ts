/** Console API helpers for tests: JSON calls with a bearer token, sign-in, accounts of each role. */
import type { TestNode } from "./node";

/** Anything with a gateway's base URL: an in-process TestNode or a spawned node process. */
type Gateway = Pick<TestNode, "baseUrl">;

export const ADMIN = { email: "admin@rollcall.test", password: "admin-password-0123" };
export const CONSOLE_ENV = { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password };

export interface Answer {
	status: number;
	body: any;
	headers: Headers;
}

export async function call(
	node: Gateway,
	route: string,
	init: { method?: string; body?: unknown; token?: string | null; headers?: Record<string, string> } = {}
): Promise<Answer> {
	const headers: Record<string, string> = { ...init.headers };
	if (init.token) headers.Authorization = `Bearer ${init.token}`;
	let body: string | undefined;
	if (init.body !== undefined) {
		headers["Content-Type"] = "application/json";
		body = typeof init.body === "string" ? init.body : JSON.stringify(init.body);
	}
	const res = await fetch(node.baseUrl + route, { method: init.method ?? (body !== undefined ? "POST" : "GET"), headers, body });
	const text = await res.text();
	let parsed: unknown = text;
	try {
		parsed = text ? JSON.parse(text) : null;
	} catch {
		/* not JSON */
	}
	return { status: res.status, body: parsed, headers: res.headers };
}

export async function login(node: Gateway, username: string, password: string): Promise<{ accessToken: string; refreshToken: string; user: any }> {
	const r = await call(node, "/auth/login", { body: { username, password } });
	if (r.status !== 200) throw new Error(`login of ${username} answered ${r.status}: ${JSON.stringify(r.body)}`);
	return r.body.data;
}

/** An account of the role, created by the admin, signed in. */
export async function accountOf(node: Gateway, adminToken: string, roleId: string, email: string): Promise<{ id: string; token: string; refreshToken: string; password: string }> {
	const password = `pw-${email}-0123456789`;
	const r = await call(node, "/users", { token: adminToken, body: { name: email.split("@")[0], email, roleId, password } });
	if (r.status !== 201) throw new Error(`create ${email} answered ${r.status}: ${JSON.stringify(r.body)}`);
	const s = await login(node, email, password);
	return { id: r.body.data.id, token: s.accessToken, refreshToken: s.refreshToken, password };
}
