/**
 * The OpenAPI 3.1 document, generated from the endpoints the actions declare: path and
 * method from `rest`, parameters and body from the fastest-validator `params`, the
 * permission (`x-permission` and the security scheme of the family), the success shape in
 * the family's envelope, and the errors. Pure: it reads plain data.
 */
import { MUTATING, PUBLIC, AUTHENTICATED, type Endpoint, type Family } from "./route-facts";

type Json = Record<string, unknown>;

/** fastest-validator rule -> JSON Schema (the subset the services use). */
export function ruleToSchema(rule: unknown): Json {
	if (typeof rule === "string") {
		const [type, ...flags] = rule.split("|");
		return ruleToSchema({ type, optional: flags.includes("optional") });
	}
	if (Array.isArray(rule)) return { anyOf: rule.map(ruleToSchema) };
	if (!rule || typeof rule !== "object") return {};
	const r = rule as Json & { type?: string };
	const out: Json = {};
	switch (r.type) {
		case "string":
			out.type = "string";
			if (typeof r.min === "number") out.minLength = r.min;
			if (typeof r.max === "number") out.maxLength = r.max;
			if (typeof r.length === "number") out.minLength = out.maxLength = r.length;
			if (r.pattern) out.pattern = r.pattern instanceof RegExp ? r.pattern.source : String(r.pattern);
			if (Array.isArray(r.enum)) out.enum = r.enum;
			break;
		case "email":
			Object.assign(out, { type: "string", format: "email" });
			break;
		case "url":
			Object.assign(out, { type: "string", format: "uri" });
			break;
		case "uuid":
			Object.assign(out, { type: "string", format: "uuid" });
			break;
		case "date":
			Object.assign(out, { type: "string", format: "date-time" });
			break;
		case "number":
			out.type = r.integer ? "integer" : "number";
			if (typeof r.min === "number") out.minimum = r.min;
			if (typeof r.max === "number") out.maximum = r.max;
			if (r.positive) out.exclusiveMinimum = 0;
			break;
		case "boolean":
			out.type = "boolean";
			break;
		case "enum":
			out.enum = r.values;
			break;
		case "equal":
			out.const = r.value;
			break;
		case "array":
			out.type = "array";
			if (r.items) out.items = ruleToSchema(r.items);
			if (typeof r.min === "number") out.minItems = r.min;
			if (typeof r.max === "number") out.maxItems = r.max;
			break;
		case "object":
		case undefined: {
			const props = (r.props ?? r.properties ?? (r.type === undefined ? stripMeta(r) : undefined)) as Json | undefined;
			Object.assign(out, objectSchema(props ?? {}, r.$$strict === true || r.strict === true));
			break;
		}
		case "multi":
			out.anyOf = ((r.rules as unknown[]) ?? []).map(ruleToSchema);
			break;
		default:
			break; // any, custom, forbidden: no constraint to say
	}
	if (r.default !== undefined && typeof r.default !== "function") out.default = r.default;
	if (typeof r.description === "string") out.description = r.description;
	return out;
}

function stripMeta(r: Json): Json {
	const o: Json = {};
	for (const [k, v] of Object.entries(r)) if (!k.startsWith("$$") && !["optional", "default", "description"].includes(k)) o[k] = v;
	return o;
}

const isOptional = (rule: unknown) =>
	(typeof rule === "string" && rule.split("|").includes("optional")) || (!!rule && typeof rule === "object" && ((rule as Json).optional === true || (rule as Json).default !== undefined));

/** A params schema (top-level `$$strict` and rules) -> object schema. */
export function objectSchema(params: Json, strict: boolean): Json {
	const properties: Json = {};
	const required: string[] = [];
	for (const [k, rule] of Object.entries(params)) {
		if (k.startsWith("$$")) continue;
		if (rule && typeof rule === "object" && (rule as Json).type === "forbidden") continue;
		properties[k] = ruleToSchema(rule);
		if (!isOptional(rule)) required.push(k);
	}
	return { type: "object", properties, ...(required.length ? { required } : {}), ...(strict || params.$$strict === true ? { additionalProperties: false } : {}) };
}

const SECURITY: Record<Family, Json[]> = {
	integration: [{ apiKey: [] }],
	console: [{ bearer: [] }],
	face: [{ apiKey: [] }, { bearer: [] }]
};

function envelope(family: Family, data: Json, paged: boolean): Json {
	switch (family) {
		case "integration":
			return { type: "object", required: ["status", "message", "data"], properties: { status: { type: "integer" }, message: { type: "string" }, data } };
		case "console":
			return {
				type: "object",
				required: ["success", "data"],
				properties: { success: { const: true }, data: paged ? { type: "array", items: data } : data, ...(paged ? { meta: { $ref: "#/components/schemas/PageMeta" } } : {}) }
			};
		case "face":
			return data;
	}
}

const ERROR_REF: Record<Family, string> = { integration: "#/components/schemas/IntegrationError", console: "#/components/schemas/ConsoleError", face: "#/components/schemas/FaceError" };

export interface OpenApiOptions {
	title: string;
	version: string;
	prefixes: Record<Family, string>;
}

/** `users/:id` -> `/api/v1/users/{id}` */
export function openApiPath(prefix: string, path: string): string {
	return `${prefix}/${path}`.replace(/\/+/g, "/").replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

export function operationId(e: Endpoint): string {
	return `${e.action}${Array.isArray(e.facts.rest) && e.facts.rest.length > 1 ? `.${e.method.toLowerCase()}` : ""}`;
}

export function buildOpenApi(endpoints: Endpoint[], opts: OpenApiOptions): Json {
	const paths: Record<string, Json> = {};
	for (const e of [...endpoints].sort((a, b) => openApiPath(opts.prefixes[a.family], a.path).localeCompare(openApiPath(opts.prefixes[b.family], b.path)) || a.method.localeCompare(b.method))) {
		const path = openApiPath(opts.prefixes[e.family], e.path);
		const pathParams = [...e.path.matchAll(/:([A-Za-z0-9_]+)/g)].map(m => m[1]);
		const params = (e.params ?? {}) as Json;
		const parameters: Json[] = pathParams.map(name => ({ name, in: "path", required: true, schema: params[name] ? ruleToSchema(params[name]) : { type: "string" } }));
		const rest: Json = {};
		for (const [k, v] of Object.entries(params)) if (!pathParams.includes(k)) rest[k] = v;
		const op: Json = {
			operationId: operationId(e),
			summary: e.facts.openapi?.summary ?? e.action,
			...(e.facts.openapi?.description ? { description: e.facts.openapi.description } : {}),
			tags: e.facts.openapi?.tags ?? [e.family === "console" ? e.resource : e.family],
			"x-family": e.family,
			"x-permission": e.permission,
			"x-action": e.action
		};
		if (e.permission !== PUBLIC) op.security = SECURITY[e.family];
		else op.security = [];
		if (e.facts.upload) {
			op.requestBody = {
				required: true,
				content: { "multipart/form-data": { schema: { type: "object", required: [e.facts.upload.field], properties: { [e.facts.upload.field]: { type: "string", format: "binary" } } } } }
			};
		} else if (MUTATING.has(e.method) && e.method !== "DELETE") {
			if (Object.keys(rest).some(k => !k.startsWith("$$"))) op.requestBody = { required: true, content: { "application/json": { schema: objectSchema(rest, false) } } };
		} else {
			for (const [name, rule] of Object.entries(rest)) {
				if (name.startsWith("$$")) continue;
				parameters.push({ name, in: "query", required: !isOptional(rule), schema: ruleToSchema(rule) });
			}
		}
		if (parameters.length) op.parameters = parameters;
		const status = String(e.facts.status ?? 200);
		const data = (e.facts.openapi?.response as Json | undefined) ?? {};
		const responses: Json =
			status === "204" ? { "204": { description: "No content" } } : { [status]: { description: "Success", content: { "application/json": { schema: envelope(e.family, data, !!e.facts.paged) } } } };
		const errors = [...new Set(["400", ...(e.permission !== PUBLIC ? ["401"] : []), ...(e.permission && e.permission !== PUBLIC && e.permission !== AUTHENTICATED ? ["403"] : []), ...(e.family === "console" ? ["429"] : []), "500"])];
		for (const code of errors) responses[code] = { description: errorText(code, e.facts.openapi?.errors), content: { "application/json": { schema: { $ref: ERROR_REF[e.family] } } } };
		op.responses = responses;
		paths[path] ??= {};
		paths[path][e.method.toLowerCase()] = op;
	}
	return {
		openapi: "3.1.0",
		info: { title: opts.title, version: opts.version, description: "Generated from the action schemas of the services this gateway routes to." },
		paths,
		components: {
			securitySchemes: {
				apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
				bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" }
			},
			schemas: {
				PageMeta: { type: "object", properties: { page: { type: "integer" }, pageSize: { type: "integer" }, total: { type: "integer" }, totalPages: { type: "integer" } } },
				IntegrationError: { type: "object", required: ["status", "message", "code"], properties: { status: { type: "integer" }, message: { type: "string" }, code: { type: "string" } } },
				ConsoleError: {
					type: "object",
					required: ["success", "error", "requestId"],
					properties: {
						success: { const: false },
						error: { type: "object", required: ["code", "message"], properties: { code: { type: "string" }, message: { type: "string" }, details: { type: "array", items: { type: "object", properties: { field: { type: "string" }, issue: { type: "string" } } } } } },
						requestId: { type: "string" }
					}
				},
				FaceError: { type: "object", properties: { detail: { type: "string" }, code: { type: "string" }, requestId: { type: "string" } } }
			}
		}
	};
}

function errorText(status: string, codes: string[] | undefined): string {
	const base: Record<string, string> = {
		"400": "Invalid request (VALIDATION_ERROR or the endpoint's own codes)",
		"401": "Missing or invalid credentials (UNAUTHORIZED, INVALID_TOKEN, TOKEN_EXPIRED, INVALID_API_KEY)",
		"403": "The caller lacks the permission (FORBIDDEN)",
		"429": "Rate limited (RATE_LIMITED; see Retry-After)",
		"500": "Internal error"
	};
	return status === "400" && codes?.length ? `${base[status]}: ${codes.join(", ")}` : base[status];
}
