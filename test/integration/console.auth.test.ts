/**
 * Console sign-in over real HTTP on a real broker (gateway + storage, NeDB on disk): login,
 * me, refresh rotation and reuse detection, logout, expired and tampered tokens, lockout,
 * accounts with paging and filters, password changes, suspension, request ids, validation,
 * rate limits, Socket.IO with a token.
 */
import { SignJWT } from "jose";
import { io as ioClient } from "socket.io-client";
import { signAccessToken } from "../../lib/auth/tokens";
import { ADMIN, CONSOLE_ENV, accountOf, call, login } from "../support/console";
import { startNode, type TestNode } from "../support/node";

const ENV = { ...CONSOLE_ENV, SERVICES: "gateway,storage" };

describe("console: accounts and sign-in", () => {
	let node: TestNode;
	let admin: { accessToken: string; refreshToken: string; user: any };
	beforeAll(async () => {
		node = await startNode(ENV);
		admin = await login(node, ADMIN.email, ADMIN.password);
	});
	afterAll(() => node?.stop());

	it("signs the first administrator in and tells who they are", async () => {
		expect(admin.user).toEqual(expect.objectContaining({ email: ADMIN.email, roleId: "ROLE-ADMIN", status: "active", lastActive: expect.any(String) }));
		expect(admin.user.passwordHash).toBeUndefined();
		expect(admin.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
		const me = await call(node, "/auth/me", { token: admin.accessToken });
		expect(me.status).toBe(200);
		expect(me.body).toEqual({ success: true, data: { user: expect.objectContaining({ id: admin.user.id, email: ADMIN.email }), permissions: ["*"] } });
		// The token's claims are the seed's, HS256 pinned.
		const [header, payload] = admin.accessToken.split(".").slice(0, 2).map(p => JSON.parse(Buffer.from(p, "base64url").toString()));
		expect(header.alg).toBe("HS256");
		expect(payload).toEqual(expect.objectContaining({ sub: admin.user.id, email: ADMIN.email, role: "ROLE-ADMIN", permissions: ["*"], iss: "rollcall", aud: "rollcall-console" }));
		expect(payload.exp - payload.iat).toBe(15 * 60);
	});

	it("answers an unknown user and a wrong password alike", async () => {
		const unknown = await call(node, "/auth/login", { body: { username: "nobody@rollcall.test", password: "whatever-123" } });
		const wrong = await call(node, "/auth/login", { body: { username: ADMIN.email, password: "whatever-123" } });
		for (const r of [unknown, wrong]) {
			expect(r.status).toBe(401);
			expect(r.body.error).toEqual({ code: "INVALID_CREDENTIALS", message: "Invalid username or password" });
		}
	});

	it("refuses calls without a token, with a tampered, expired or foreign one", async () => {
		const none = await call(node, "/auth/me");
		expect(none.status).toBe(401);
		expect(none.body.error.code).toBe("UNAUTHORIZED");

		const [h, p, s] = admin.accessToken.split(".");
		const claims = JSON.parse(Buffer.from(p, "base64url").toString());
		const forged = Buffer.from(JSON.stringify({ ...claims, role: "ROLE-ADMIN", permissions: ["*"], sub: "someone-else" })).toString("base64url");
		const tampered = await call(node, "/auth/me", { token: `${h}.${forged}.${s}` });
		expect(tampered.status).toBe(401);
		expect(tampered.body.error.code).toBe("INVALID_TOKEN");

		const expired = await signAccessToken({ sub: admin.user.id, email: ADMIN.email, role: "ROLE-ADMIN", permissions: ["*"], sid: claims.sid }, node.cfg.jwtSecret, Math.floor(Date.now() / 1000) - 16 * 60);
		const late = await call(node, "/auth/me", { token: expired });
		expect(late.status).toBe(401);
		expect(late.body.error.code).toBe("TOKEN_EXPIRED");

		// Right secret, wrong audience; and another algorithm: both refused.
		const key = new TextEncoder().encode(node.cfg.jwtSecret);
		const otherAud = await new SignJWT({ sid: claims.sid }).setProtectedHeader({ alg: "HS256" }).setSubject(admin.user.id).setIssuer("rollcall").setAudience("elsewhere").setExpirationTime("5m").sign(key);
		const hs512 = await new SignJWT({ sid: claims.sid }).setProtectedHeader({ alg: "HS512" }).setSubject(admin.user.id).setIssuer("rollcall").setAudience("rollcall-console").setExpirationTime("5m").sign(key);
		const unsigned = `${Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url")}.${p}.`;
		for (const t of [otherAud, hs512, unsigned]) {
			const r = await call(node, "/auth/me", { token: t });
			expect(r.status).toBe(401);
			expect(r.body.error.code).toBe("INVALID_TOKEN");
		}
	});

	it("rotates the refresh token on every refresh; a reused one revokes the whole login", async () => {
		const first = await login(node, ADMIN.email, ADMIN.password);
		const r1 = await call(node, "/auth/refresh", { body: { refreshToken: first.refreshToken } });
		expect(r1.status).toBe(200);
		expect(r1.body.data).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String) });
		expect(r1.body.data.refreshToken).not.toBe(first.refreshToken);
		const second = r1.body.data;
		expect((await call(node, "/auth/me", { token: second.accessToken })).status).toBe(200);

		// The rotated token again: someone copied it. The login ends, new tokens included.
		const reuse = await call(node, "/auth/refresh", { body: { refreshToken: first.refreshToken } });
		expect(reuse.status).toBe(401);
		expect(reuse.body.error.code).toBe("REFRESH_TOKEN_REUSED");
		const after = await call(node, "/auth/refresh", { body: { refreshToken: second.refreshToken } });
		expect(after.status).toBe(401);
		expect(after.body.error.code).toBe("INVALID_TOKEN");
		const me = await call(node, "/auth/me", { token: second.accessToken });
		expect(me.status).toBe(401);
		expect(me.body.error.code).toBe("INVALID_TOKEN");
		// Another login of the same account is untouched.
		expect((await call(node, "/auth/me", { token: admin.accessToken })).status).toBe(200);

		const audit = await call(node, "/audit?action=auth.refresh&severity=critical", { token: admin.accessToken });
		expect(audit.body.data).toHaveLength(1);
		expect(audit.body.data[0]).toEqual(expect.objectContaining({ actor: ADMIN.email, outcome: "failure", severity: "critical", message: expect.stringMatching(/reused/) }));
	});

	it("two refreshes with one token: one wins, the other is a reuse", async () => {
		const s = await login(node, ADMIN.email, ADMIN.password);
		const [a, b] = await Promise.all([1, 2].map(() => call(node, "/auth/refresh", { body: { refreshToken: s.refreshToken } })));
		expect([a.status, b.status].sort()).toEqual([200, 401]);
		expect([a, b].find(r => r.status === 401)!.body.error.code).toBe("REFRESH_TOKEN_REUSED");
	});

	it("signs out: 204, and neither the refresh nor the access token works afterwards", async () => {
		const s = await login(node, ADMIN.email, ADMIN.password);
		const out = await call(node, "/auth/logout", { body: { refreshToken: s.refreshToken } });
		expect(out.status).toBe(204);
		expect(out.body).toBeNull();
		expect((await call(node, "/auth/refresh", { body: { refreshToken: s.refreshToken } })).status).toBe(401);
		expect((await call(node, "/auth/me", { token: s.accessToken })).status).toBe(401);
	});

	it("slows down, then refuses (429) an account after repeated failures, even with the right password", async () => {
		const victim = await accountOf(node, admin.accessToken, "ROLE-VIEWER", "locked@rollcall.test");
		const t0 = Date.now();
		for (let i = 0; i < 5; i++) expect((await call(node, "/auth/login", { body: { username: "locked@rollcall.test", password: "wrong-password" } })).status).toBe(401);
		// Failures 4 and 5 waited 0.5 s and 1 s before their answer.
		expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
		const locked = await call(node, "/auth/login", { body: { username: "locked@rollcall.test", password: victim.password } });
		expect(locked.status).toBe(429);
		expect(locked.body.error.code).toBe("TOO_MANY_ATTEMPTS");
		expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(60);
		// Other accounts sign in as usual.
		expect((await call(node, "/auth/login", { body: { username: ADMIN.email, password: ADMIN.password } })).status).toBe(200);
	});

	it("keeps accounts: create, list with paging and filters, get, update, delete", async () => {
		const made = [];
		for (const [i, role] of ["ROLE-OPERATOR", "ROLE-OPERATOR", "ROLE-VIEWER"].entries()) {
			const r = await call(node, "/users", { token: admin.accessToken, body: { name: `Paged ${i}`, email: `Paged${i}@Rollcall.test`, roleId: role, password: `paged-password-${i}-x` } });
			expect(r.status).toBe(201);
			expect(r.headers.get("location")).toBe(`/api/v1/users/${r.body.data.id}`);
			expect(r.body.data).toEqual(expect.objectContaining({ email: `paged${i}@rollcall.test`, roleId: role, status: "active", version: 1 }));
			made.push(r.body.data);
		}
		const dup = await call(node, "/users", { token: admin.accessToken, body: { name: "Dup", email: "paged0@rollcall.test", roleId: "ROLE-VIEWER" } });
		expect(dup.status).toBe(409);
		expect(dup.body.error.code).toBe("EMAIL_TAKEN");
		// Without a password, a temporary one is made, shown once, and works.
		const temp = await call(node, "/users", { token: admin.accessToken, body: { name: "Temp", email: "temp@rollcall.test", roleId: "ROLE-VIEWER" } });
		expect(temp.status).toBe(201);
		await login(node, "temp@rollcall.test", temp.body.data.temporaryPassword);

		const page = await call(node, "/users?search=paged&pageSize=2&page=1", { token: admin.accessToken });
		expect(page.body.meta).toEqual({ page: 1, pageSize: 2, total: 3, totalPages: 2 });
		expect(page.body.data.map((u: any) => u.email)).toEqual(["paged0@rollcall.test", "paged1@rollcall.test"]);
		const page2 = await call(node, "/users?search=paged&pageSize=2&page=2", { token: admin.accessToken });
		expect(page2.body.data.map((u: any) => u.email)).toEqual(["paged2@rollcall.test"]);
		const operators = await call(node, "/users?role=ROLE-OPERATOR&search=paged", { token: admin.accessToken });
		expect(operators.body.data.map((u: any) => u.email)).toEqual(["paged0@rollcall.test", "paged1@rollcall.test"]);

		const upd = await call(node, `/users/${made[0].id}`, { method: "PUT", token: admin.accessToken, body: { name: "Renamed", roleId: "ROLE-VIEWER" } });
		expect(upd.status).toBe(200);
		expect(upd.body.data).toEqual(expect.objectContaining({ name: "Renamed", roleId: "ROLE-VIEWER", version: 2 }));
		const stale = await call(node, `/users/${made[0].id}`, { method: "PUT", token: admin.accessToken, body: { name: "Again", version: 1 } });
		expect(stale.status).toBe(409);
		expect(stale.body.error.code).toBe("VERSION_CONFLICT");
		const suspended = await call(node, "/users?status=suspended", { token: admin.accessToken });
		expect(suspended.body.data).toEqual([]);

		const del = await call(node, `/users/${made[2].id}`, { method: "DELETE", token: admin.accessToken });
		expect(del.status).toBe(204);
		const gone = await call(node, `/users/${made[2].id}`, { token: admin.accessToken });
		expect(gone.status).toBe(404);
		expect(gone.body.error.code).toBe("USER_NOT_FOUND");
		// The last administrator stays one.
		const demote = await call(node, `/users/${admin.user.id}`, { method: "PUT", token: admin.accessToken, body: { roleId: "ROLE-VIEWER" } });
		expect(demote.status).toBe(409);
		expect(demote.body.error.code).toBe("LAST_ADMIN");
	});

	it("suspending an account stops its tokens at once", async () => {
		const op = await accountOf(node, admin.accessToken, "ROLE-OPERATOR", "suspend-me@rollcall.test");
		expect((await call(node, "/auth/me", { token: op.token })).status).toBe(200);
		expect((await call(node, `/users/${op.id}`, { method: "PUT", token: admin.accessToken, body: { status: "suspended" } })).status).toBe(200);
		const me = await call(node, "/auth/me", { token: op.token });
		expect(me.status).toBe(401);
		expect(me.body.error.code).toBe("INVALID_TOKEN");
		expect((await call(node, "/auth/refresh", { body: { refreshToken: op.refreshToken } })).status).toBe(401);
		const again = await call(node, "/auth/login", { body: { username: "suspend-me@rollcall.test", password: op.password } });
		expect(again.status).toBe(403);
		expect(again.body.error.code).toBe("ACCOUNT_SUSPENDED");
	});

	it("changes passwords: one's own with the current one, anyone's as an administrator", async () => {
		const op = await accountOf(node, admin.accessToken, "ROLE-OPERATOR", "pw@rollcall.test");
		const noCurrent = await call(node, `/users/${op.id}/password`, { method: "PATCH", token: op.token, body: { newPassword: "brand-new-password-1" } });
		expect(noCurrent.status).toBe(400);
		const wrong = await call(node, `/users/${op.id}/password`, { method: "PATCH", token: op.token, body: { currentPassword: "not-it-at-all", newPassword: "brand-new-password-1" } });
		expect(wrong.status).toBe(401);
		const weak = await call(node, `/users/${op.id}/password`, { method: "PATCH", token: op.token, body: { currentPassword: op.password, newPassword: "short" } });
		expect(weak.status).toBe(400);
		expect(weak.body.error.code).toBe("VALIDATION_ERROR");
		const ok = await call(node, `/users/${op.id}/password`, { method: "PATCH", token: op.token, body: { currentPassword: op.password, newPassword: "brand-new-password-1" } });
		expect(ok.status).toBe(204);
		expect((await call(node, "/auth/login", { body: { username: "pw@rollcall.test", password: op.password } })).status).toBe(401);
		await login(node, "pw@rollcall.test", "brand-new-password-1");
		// Own login stays signed in.
		expect((await call(node, "/auth/me", { token: op.token })).status).toBe(200);
		// Someone else's password: only with users:write.
		const other = await call(node, `/users/${admin.user.id}/password`, { method: "PATCH", token: op.token, body: { newPassword: "taken-over-password" } });
		expect(other.status).toBe(403);
		const reset = await call(node, `/users/${op.id}/password`, { method: "PATCH", token: admin.accessToken, body: { newPassword: "reset-by-admin-123" } });
		expect(reset.status).toBe(204);
		await login(node, "pw@rollcall.test", "reset-by-admin-123");
		// A reset ends the account's logins.
		expect((await call(node, "/auth/me", { token: op.token })).status).toBe(401);
	});

	it("carries a request id on every answer, the caller's when it is sane", async () => {
		const ok = await call(node, "/auth/me", { token: admin.accessToken, headers: { "X-Request-Id": "trace-0123456789" } });
		expect(ok.headers.get("x-request-id")).toBe("trace-0123456789");
		const err = await call(node, "/users/none-such", { token: admin.accessToken, headers: { "X-Request-Id": "trace-abcdefghij" } });
		expect(err.status).toBe(404);
		expect(err.headers.get("x-request-id")).toBe("trace-abcdefghij");
		expect(err.body).toEqual({ success: false, error: { code: "USER_NOT_FOUND", message: "User not found: none-such" }, requestId: "trace-abcdefghij" });
		const insane = await call(node, "/auth/me", { headers: { "X-Request-Id": "<script>" } });
		expect(insane.status).toBe(401);
		expect(insane.body.requestId).toMatch(/^[0-9a-f-]{36}$/);
		expect(insane.headers.get("x-request-id")).toBe(insane.body.requestId);
		const unrouted = await call(node, "/no-such-console-route", { token: admin.accessToken });
		expect(unrouted.status).toBe(404);
		expect(unrouted.body).toEqual({ success: false, error: { code: "NOT_FOUND", message: "Not found" }, requestId: expect.any(String) });
	});

	it("answers VALIDATION_ERROR naming each field, and refuses unknown fields", async () => {
		const r = await call(node, "/users", { token: admin.accessToken, body: { name: "", email: "not-an-email", roleId: "ROLE-KING", shoeSize: 44 } });
		expect(r.status).toBe(400);
		expect(r.body.error.code).toBe("VALIDATION_ERROR");
		const fields = r.body.error.details.map((d: { field: string }) => d.field).sort();
		expect(fields).toEqual(expect.arrayContaining(["email", "name", "roleId", "shoeSize"]));
		const query = await call(node, "/users?pageSize=1000", { token: admin.accessToken });
		expect(query.status).toBe(400);
		expect(query.body.error.details[0].field).toBe("pageSize");
	});

	it("keeps each user's preferences", async () => {
		const empty = await call(node, "/settings/preferences", { token: admin.accessToken });
		expect(empty.body.data).toEqual(expect.objectContaining({ theme: "dark", gridMode: "3x3", language: "en", timezone: "UTC" }));
		const put = await call(node, "/settings/preferences", { method: "PUT", token: admin.accessToken, body: { theme: "light", timezone: "Asia/Ho_Chi_Minh", preferences: { sidebar: "collapsed" } } });
		expect(put.status).toBe(200);
		const got = await call(node, "/settings/preferences", { token: admin.accessToken });
		expect(got.body.data).toEqual(expect.objectContaining({ theme: "light", timezone: "Asia/Ho_Chi_Minh", gridMode: "3x3", preferences: { sidebar: "collapsed" } }));
		const badZone = await call(node, "/settings/preferences", { method: "PUT", token: admin.accessToken, body: { timezone: "Mars/Olympus" } });
		expect(badZone.status).toBe(400);
		const zones = await call(node, "/settings/timezones", { token: admin.accessToken });
		expect(zones.body.data).toEqual(expect.arrayContaining(["UTC", "Europe/Paris", "Asia/Saigon"]));
		const langs = await call(node, "/i18n/languages");
		expect(langs.body.data.map((l: { code: string }) => l.code)).toContain("en");
	});

	it("lets Socket.IO clients in with an access token, not with a bad one", async () => {
		const url = node.baseUrl.replace(/\/api\/v1$/, "");
		const connect = (auth: object) =>
			new Promise<string>(resolve => {
				const s = ioClient(url, { path: "/socket.io", auth, transports: ["websocket"], reconnection: false });
				s.on("connect", () => {
					s.close();
					resolve("connected");
				});
				s.on("connect_error", err => {
					s.close();
					resolve(err.message);
				});
			});
		expect(await connect({ token: admin.accessToken })).toBe("connected");
		expect(await connect({ token: admin.accessToken.slice(0, -3) + "abc" })).toBe("INVALID_TOKEN");
	});
});

describe("console: rate limits", () => {
	let node: TestNode;
	beforeAll(async () => {
		node = await startNode({ ...ENV, RATE_LIMIT_PER_MINUTE: "5" });
	});
	afterAll(() => node?.stop());

	it("answers 429 with Retry-After past RATE_LIMIT_PER_MINUTE requests per address", async () => {
		const codes = [];
		for (let i = 0; i < 7; i++) codes.push((await call(node, "/i18n/languages")).status);
		expect(codes).toEqual([200, 200, 200, 200, 200, 429, 429]);
		const r = await call(node, "/i18n/languages");
		expect(r.body.error.code).toBe("RATE_LIMITED");
		expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
		expect(Number(r.headers.get("retry-after"))).toBeLessThanOrEqual(60);
		// The integration routes are not the console's: the Java backend is not limited.
		const health = await fetch(node.baseUrl + "/health");
		expect(health.status).toBe(200);
	});
});
