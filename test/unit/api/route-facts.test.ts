import { collectEndpoints, hasPermission, type RegistryService } from "../../../lib/api/route-facts";
import { buildOpenApi, objectSchema, openApiPath, ruleToSchema } from "../../../lib/api/openapi";
import { RateLimiter } from "../../../lib/api/rate-limit";

describe("route facts", () => {
	const services: RegistryService[] = [
		{
			name: "users",
			settings: { family: "console" as const, resource: "user" },
			actions: {
				"users.list": { name: "users.list", rest: "GET /users", permission: "users:read", paged: true, params: { page: { type: "number", optional: true } } },
				"users.create": { name: "users.create", rest: "POST /users", permission: "users:write", params: { name: { type: "string", min: 1 }, email: "email", $$strict: true } },
				"users.hidden": { name: "users.hidden", rest: "GET /hidden", permission: "users:read", visibility: "public" },
				"users.nopermission": { name: "users.nopermission", rest: "DELETE /users/:id" },
				"users.internal": { name: "users.internal" }
			}
		},
		{ name: "other", settings: {}, actions: { "other.x": { name: "other.x", rest: "GET /x", permission: "public" }, "other.users": { name: "other.users", rest: "GET /users", family: "console" as const, permission: "public" } } }
	];

	it("collects published actions with rest, and says what is wrong with the others", () => {
		const { endpoints, problems } = collectEndpoints(services);
		expect(endpoints.map(e => `${e.family} ${e.method} ${e.path} ${e.action}`)).toEqual(["console GET users users.list", "console POST users users.create", "console DELETE users/:id users.nopermission"]);
		expect(problems).toEqual(["users.nopermission: no permission declared", "other.x: no API family", "GET users: declared by users.list and other.users"]);
	});

	it("checks permissions: exact, resource wildcard, everything", () => {
		expect(hasPermission(["users:read"], "users:read")).toBe(true);
		expect(hasPermission(["users:read"], "users:write")).toBe(false);
		expect(hasPermission(["users:*"], "users:write")).toBe(true);
		expect(hasPermission(["*"], "anything:at-all")).toBe(true);
		expect(hasPermission([], "public")).toBe(true);
	});

	it("turns fastest-validator params into JSON Schema", () => {
		expect(ruleToSchema({ type: "string", min: 1, max: 5, pattern: "^a" })).toEqual({ type: "string", minLength: 1, maxLength: 5, pattern: "^a" });
		expect(ruleToSchema({ type: "number", integer: true, min: 1, default: 20 })).toEqual({ type: "integer", minimum: 1, default: 20 });
		expect(ruleToSchema({ type: "enum", values: ["a", "b"] })).toEqual({ enum: ["a", "b"] });
		expect(ruleToSchema({ type: "array", items: "string", max: 3 })).toEqual({ type: "array", items: { type: "string" }, maxItems: 3 });
		expect(ruleToSchema("email|optional")).toEqual({ type: "string", format: "email" });
		expect(objectSchema({ a: "string", b: { type: "number", optional: true }, $$strict: true }, false)).toEqual({ type: "object", properties: { a: { type: "string" }, b: { type: "number" } }, required: ["a"], additionalProperties: false });
		expect(openApiPath("/api/v1", "users/:id/password")).toBe("/api/v1/users/{id}/password");
	});

	it("documents each endpoint with its permission, parameters, body and envelope", () => {
		const { endpoints } = collectEndpoints(services);
		const doc = buildOpenApi(endpoints, { title: "t", version: "1", prefixes: { integration: "/api/v1", console: "/api/v1", face: "" } }) as any;
		expect(doc.openapi).toBe("3.1.0");
		const list = doc.paths["/api/v1/users"].get;
		expect(list["x-permission"]).toBe("users:read");
		expect(list.parameters).toEqual([{ name: "page", in: "query", required: false, schema: { type: "number" } }]);
		expect(list.responses["200"].content["application/json"].schema.properties.meta).toEqual({ $ref: "#/components/schemas/PageMeta" });
		const create = doc.paths["/api/v1/users"].post;
		expect(create.requestBody.content["application/json"].schema.required).toEqual(["name", "email"]);
		expect(Object.keys(create.responses).sort()).toEqual(["200", "400", "401", "403", "429", "500"]);
		expect(doc.paths["/api/v1/users/{id}"].delete.parameters).toEqual([{ name: "id", in: "path", required: true, schema: { type: "string" } }]);
	});
});

describe("rate limiter", () => {
	it("allows `limit` requests per window per key, then says how long to wait", () => {
		let now = 0;
		const rl = new RateLimiter(3, 60_000, () => now);
		expect([rl.hit("a"), rl.hit("a"), rl.hit("a")]).toEqual([null, null, null]);
		expect(rl.hit("a")).toBe(60);
		expect(rl.hit("b")).toBeNull();
		now = 30_000;
		expect(rl.hit("a")).toBe(30);
		now = 60_000;
		expect(rl.hit("a")).toBeNull();
	});
});
