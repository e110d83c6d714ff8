/**
 * Every route the gateway serves, walked over real HTTP on a broker with every service:
 * each declares a permission; a Viewer is refused every console mutation; the OpenAPI
 * document lists every route; the developer console invokes as the caller; each kind of
 * mutation leaves an audit document; named API keys carry their role.
 */
import { MUTATING, PUBLIC, AUTHENTICATED, collectEndpoints, type Endpoint, type RegistryService } from "../../lib/api/route-facts";
import { ADMIN, CONSOLE_ENV, accountOf, call, login } from "../support/console";
import { startNode, TEST_API_KEY, type TestNode } from "../support/node";

type Routed = Endpoint & { prefix: string };

describe("console: permissions, OpenAPI, developer console, audit", () => {
	let node: TestNode;
	let admin: string;
	let viewer: { id: string; token: string };
	let operator: { id: string; token: string };
	let routes: Routed[];
	beforeAll(async () => {
		node = await startNode(CONSOLE_ENV);
		admin = (await login(node, ADMIN.email, ADMIN.password)).accessToken;
		viewer = await accountOf(node, admin, "ROLE-VIEWER", "viewer@rollcall.test");
		operator = await accountOf(node, admin, "ROLE-OPERATOR", "operator@rollcall.test");
		routes = (await node.broker.call<{ endpoints: Routed[] }>("api.routes")).endpoints;
	});
	afterAll(() => node?.stop());

	const fill = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, "walk-$1");

	it("serves the routes of every family, each with a declared permission", async () => {
		const families = new Set(routes.map(r => r.family));
		expect([...families].sort()).toEqual(["console", "face", "integration"]);
		for (const r of routes) expect(typeof r.permission === "string" && r.permission.length > 0 ? r.action : `${r.action} has none`).toBe(r.action);
		// No action declares a route without a family or a permission (such a route is not served).
		const announced = node.broker.registry.getServiceList({ withActions: true, skipInternal: true }) as unknown as RegistryService[];
		expect(collectEndpoints(announced).problems).toEqual([]);
		// The integration contract's paths are all there, unchanged.
		const integration = routes.filter(r => r.family === "integration").map(r => `${r.method} ${r.prefix}/${r.path}`);
		for (const p of [
			"POST /api/v1/recognition/process-session",
			"POST /api/v1/recognition/stop-session",
			"POST /api/v1/embeddings/generate",
			"POST /api/v1/embeddings/validate",
			"GET /api/v1/cameras/test-connection",
			"GET /api/v1/cameras/capture-frame",
			"GET /api/v1/health",
			"GET /api/v1/metrics"
		])
			expect(integration).toContain(p);
	});

	it("refuses a Viewer every console mutation with 403 FORBIDDEN", async () => {
		const mutations = routes.filter(r => r.family === "console" && MUTATING.has(r.method));
		expect(mutations.length).toBeGreaterThan(10);
		// The only mutations anyone signed in may call act on their own account (and their own notifications).
		const selfService = mutations.filter(r => r.permission === PUBLIC || r.permission === AUTHENTICATED).map(r => `${r.method} ${r.path}`);
		expect(selfService.sort()).toEqual(["DELETE notifications", "PATCH users/:id/password", "POST auth/login", "POST auth/logout", "POST auth/refresh", "POST notifications/:id/acknowledge", "PUT settings/preferences"]);
		const checked: string[] = [];
		for (const r of mutations) {
			if (r.permission === PUBLIC || r.permission === AUTHENTICATED) continue;
			const res = await call(node, `/${fill(r.path)}`, { method: r.method, token: viewer.token, body: r.method === "DELETE" ? undefined : {} });
			expect({ route: `${r.method} ${r.path}`, status: res.status, code: res.body?.error?.code }).toEqual({ route: `${r.method} ${r.path}`, status: 403, code: "FORBIDDEN" });
			checked.push(r.action);
		}
		expect(checked.length).toBe(mutations.length - selfService.length);
		// And the self-service password route, on somebody else's account.
		const other = await call(node, `/users/${operator.id}/password`, { method: "PATCH", token: viewer.token, body: { newPassword: "viewer-took-it-over" } });
		expect(other.status).toBe(403);
		// Reads a Viewer lacks are refused too; those it holds are served.
		expect((await call(node, "/users", { token: viewer.token })).status).toBe(403);
		expect((await call(node, "/audit", { token: viewer.token })).status).toBe(403);
		expect((await call(node, "/developer/endpoints", { token: viewer.token })).status).toBe(200);
	});

	it("documents every route it serves in the OpenAPI 3.1 document", async () => {
		const r = await call(node, "/openapi.json");
		expect(r.status).toBe(200);
		const doc = r.body;
		expect(doc.openapi).toBe("3.1.0");
		const aliases = (node.broker.getLocalService("api") as unknown as { aliases: { method: string; fullPath: string }[] }).aliases;
		expect(aliases.length).toBe(routes.length);
		for (const a of aliases) {
			const path = a.fullPath.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
			const op = doc.paths[path]?.[a.method.toLowerCase()];
			expect(op ? `${a.method} ${path}` : `${a.method} ${path} missing`).toBe(`${a.method} ${path}`);
			expect(op["x-permission"]).toEqual(expect.any(String));
			expect(op.responses).toBeDefined();
		}
		const createUser = doc.paths["/api/v1/users"].post;
		expect(createUser.requestBody.content["application/json"].schema).toEqual(expect.objectContaining({ required: ["name", "email", "roleId"], additionalProperties: false }));
		expect(createUser.responses["403"]).toBeDefined();
		expect(createUser.security).toEqual([{ bearer: [] }]);
		expect(doc.paths["/api/v1/recognition/process-session"].post.security).toEqual([{ apiKey: [] }]);
		expect(doc.paths["/api/v1/users"].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(["page", "pageSize", "role", "status", "search"]));
	});

	it("serves the API reference page and its files from the installed package, nothing else", async () => {
		const root = node.baseUrl.replace(/\/api\/v1$/, "");
		const page = await fetch(`${root}/api/docs`);
		expect(page.status).toBe(200);
		expect(page.headers.get("content-type")).toMatch(/text\/html/);
		const html = await page.text();
		expect(html).not.toMatch(/https?:\/\//);
		const bundle = await fetch(`${root}/api/docs/swagger-ui-bundle.js`);
		expect(bundle.status).toBe(200);
		expect(bundle.headers.get("cache-control")).toMatch(/max-age/);
		expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
		for (const p of ["/api/docs/package.json", "/api/docs/..%2Fpackage.json", "/api/docs/../../package.json"]) expect((await fetch(root + p)).status).toBe(404);
	});

	it("invokes an endpoint as the caller: with the caller's permissions, never the gateway's", async () => {
		const list = await call(node, "/developer/endpoints", { token: admin });
		expect(list.body.data).toEqual(expect.arrayContaining([expect.objectContaining({ id: "users.list", method: "GET", path: "/api/v1/users" })]));
		expect(list.body.data.find((e: { id: string }) => e.id === "developer.invoke")).toBeUndefined();

		const asAdmin = await call(node, "/developer/endpoints/users.list/invoke", { token: admin, body: { query: { pageSize: 1 } } });
		expect(asAdmin.status).toBe(200);
		expect(asAdmin.body.data.status).toBe(200);
		expect(asAdmin.body.data.body.meta).toEqual(expect.objectContaining({ pageSize: 1 }));

		// An operator may invoke, but the invoked endpoint sees the operator.
		const asOperator = await call(node, "/developer/endpoints/users.create/invoke", { token: operator.token, body: { payload: { name: "Sneaky", email: "sneaky@rollcall.test", roleId: "ROLE-ADMIN" } } });
		expect(asOperator.status).toBe(200);
		expect(asOperator.body.data.status).toBe(403);
		expect(asOperator.body.data.body.error.code).toBe("FORBIDDEN");
		// A Viewer may not invoke at all.
		const asViewer = await call(node, "/developer/endpoints/users.create/invoke", { token: viewer.token, body: { payload: { name: "Sneaky", email: "sneaky@rollcall.test", roleId: "ROLE-ADMIN" } } });
		expect(asViewer.status).toBe(403);
		expect((await call(node, "/users?search=sneaky", { token: admin })).body.data).toEqual([]);

		const withPath = await call(node, "/developer/endpoints/users.get/invoke", { token: admin, body: { pathParams: { id: viewer.id } } });
		expect(withPath.body.data.body.data.email).toBe("viewer@rollcall.test");
		const missing = await call(node, "/developer/endpoints/users.get/invoke", { token: admin, body: {} });
		expect(missing.status).toBe(400);
		expect(missing.body.error.code).toBe("MISSING_PATH_PARAM");
		const unknown = await call(node, "/developer/endpoints/nowhere.else/invoke", { token: admin, body: {} });
		expect(unknown.status).toBe(404);
		expect(unknown.body.error.code).toBe("ENDPOINT_NOT_FOUND");
	});

	it("writes an audit document for each kind of mutation, by one mechanism", async () => {
		const ua = { "User-Agent": "rollcall-audit-test/1.0" };
		const made = await call(node, "/users", { token: admin, headers: ua, body: { name: "Audited", email: "audited@rollcall.test", roleId: "ROLE-VIEWER", password: "audited-password-1" } });
		const id = made.body.data.id;
		await call(node, `/users/${id}`, { method: "PUT", token: admin, headers: ua, body: { name: "Audited Again" } });
		await call(node, `/users/${id}/password`, { method: "PATCH", token: admin, headers: ua, body: { newPassword: "audited-password-2" } });
		const s = await login(node, "audited@rollcall.test", "audited-password-2");
		await call(node, "/auth/login", { headers: ua, body: { username: "audited@rollcall.test", password: "not-the-password" } });
		await call(node, "/auth/logout", { headers: ua, body: { refreshToken: s.refreshToken } });
		await call(node, `/users/${id}`, { method: "DELETE", token: admin, headers: ua });
		await call(node, `/users/${id}`, { method: "DELETE", token: viewer.token, headers: ua });

		const all = await call(node, "/audit?pageSize=100", { token: admin });
		expect(all.status).toBe(200);
		const docs = all.body.data as any[];
		const find = (action: string, outcome = "success") => docs.find(d => d.action === action && d.outcome === outcome && (d.resourceId === id || d.actor === "audited@rollcall.test"));
		const created = find("users.create");
		expect(created).toEqual(
			expect.objectContaining({ actor: ADMIN.email, actorRole: "ROLE-ADMIN", resourceType: "user", resourceId: id, severity: "info", ipAddress: "127.0.0.1", userAgent: "rollcall-audit-test/1.0", timestamp: expect.any(String), requestId: expect.any(String) })
		);
		// No secret reaches the audit log.
		expect(JSON.stringify(docs)).not.toMatch(/audited-password/);
		expect(created.context).toEqual(expect.objectContaining({ name: "Audited", email: "audited@rollcall.test" }));
		expect(find("users.update")).toBeDefined();
		expect(find("users.password")).toEqual(expect.objectContaining({ message: expect.stringMatching(/Reset the password/) }));
		expect(find("auth.login")).toEqual(expect.objectContaining({ actor: "audited@rollcall.test", message: "Signed in" }));
		expect(find("auth.login", "failure")).toEqual(expect.objectContaining({ actor: "audited@rollcall.test", severity: "warning", message: expect.stringMatching(/failed/) }));
		expect(find("auth.logout")).toEqual(expect.objectContaining({ actor: "audited@rollcall.test" }));
		expect(find("users.remove")).toEqual(expect.objectContaining({ severity: "warning", resourceId: id }));
		expect(docs.find(d => d.action === "users.remove" && d.outcome === "failure" && d.actor === "viewer@rollcall.test")).toEqual(expect.objectContaining({ severity: "warning", context: expect.objectContaining({ code: "FORBIDDEN" }) }));

		// Filters and paging.
		const byActor = await call(node, `/audit?actor=${encodeURIComponent("audited@rollcall.test")}`, { token: admin });
		expect(byActor.body.data.length).toBeGreaterThanOrEqual(3);
		expect(byActor.body.data.every((d: any) => d.actor === "audited@rollcall.test")).toBe(true);
		const byResource = await call(node, "/audit?resource=user&action=users.create&pageSize=1", { token: admin });
		expect(byResource.body.meta).toEqual(expect.objectContaining({ pageSize: 1, total: expect.any(Number) }));
		expect(byResource.body.meta.total).toBeGreaterThanOrEqual(3);
		const future = await call(node, `/audit?from=${new Date(Date.now() + 3600_000).toISOString()}`, { token: admin });
		expect(future.body.data).toEqual([]);
	});

	it("serves named API keys with their role; a revoked key stops at once", async () => {
		const made = await call(node, "/api-keys", { token: admin, body: { name: "kiosk", roleId: "ROLE-VIEWER" } });
		expect(made.status).toBe(201);
		const key: string = made.body.data.key;
		expect(key).toMatch(/^rk_/);
		const listed = await call(node, "/api-keys", { token: admin });
		expect(JSON.stringify(listed.body)).not.toContain(key);
		const withKey = (route: string) => fetch(node.baseUrl + route, { headers: { "X-API-Key": key } });
		// A Viewer's key reads metrics (system:read), but cannot start sessions.
		expect((await withKey("/metrics")).status).toBe(200);
		const start = await fetch(node.baseUrl + "/recognition/process-session", { method: "POST", headers: { "X-API-Key": key, "Content-Type": "application/json" }, body: "{}" });
		expect(start.status).toBe(403);
		expect(await start.json()).toEqual({ status: 403, message: "This needs the sessions:write permission", code: "FORBIDDEN" });
		// The integration key keeps working as before.
		expect((await fetch(node.baseUrl + "/recognition/sessions", { headers: { "X-API-Key": TEST_API_KEY } })).status).toBe(200);
		expect((await call(node, `/api-keys/${made.body.data.id}`, { method: "DELETE", token: admin })).status).toBe(204);
		const after = await withKey("/metrics");
		expect(after.status).toBe(401);
		expect(((await after.json()) as { code: string }).code).toBe("INVALID_API_KEY");
	});
});
