/**
 * What an action declares about its HTTP route, in its own schema (kantab style): the
 * gateway assembles its routes from these facts as the registry announces them, so adding an
 * endpoint touches only the service that serves it. Pure: no Moleculer import.
 */

/** The gateway's API families: each has its own prefix, credentials and envelope. */
export const FAMILIES = ["integration", "console", "face"] as const;
export type Family = (typeof FAMILIES)[number];

/** No credentials at all (health, login). */
export const PUBLIC = "public";
/** Any valid caller; the action itself limits what it touches to the caller's own (own password, preferences). */
export const AUTHENTICATED = "authenticated";

export type Permission = string;

export interface UploadFacts {
	/**
	 * `stream` (default): the one file of `field` is streamed to the action (a video).
	 * `images`: up to `maxFiles` photos of `field` (or `field[]`) are decoded safely at the
	 * gateway (lib/images/safe-image.ts), kept as `upload` blobs, and the action gets
	 * `uploads: [{filename, blob} | {filename, error: {code, message}}]` with the other fields.
	 */
	mode?: "stream" | "images";
	field: string;
	/** Per file. */
	maxBytes: number;
	maxFiles?: number;
	/**
	 * `images` only: where the re-encoded photos go. `blob` (default): kept as `upload` blobs
	 * (photos that will be stored). `buffer`: given to the action as `data` (photos only
	 * looked at, such as the face API's detection; the action runs on the gateway's node).
	 */
	keep?: "blob" | "buffer";
	/** `images` only: largest request, all files together (default maxFiles * maxBytes). */
	maxTotalBytes?: number;
	/** Answer when the field is missing or the body is not multipart. */
	missing: { code: string; message: string };
	/** Answer when the field passes maxBytes. */
	tooLarge: { code: string; message: string };
}

export interface OpenApiFacts {
	summary?: string;
	description?: string;
	tags?: string[];
	/** JSON Schema of `data` in a successful answer. */
	response?: Record<string, unknown>;
	/** Error codes the endpoint answers with, besides the family's common ones. */
	errors?: string[];
}

export interface AuditFacts {
	/** Resource type written to the audit document (default: the service's `resource`). */
	resource?: string;
	severity?: "info" | "warning" | "critical";
	/** Params never copied into the audit context (passwords and tokens always are left out). */
	omit?: string[];
}

/** The route facts of one action (besides Moleculer's own `params`). */
export interface RouteFacts {
	/** "METHOD /path" relative to the family's prefix, e.g. "GET /users/:id". */
	rest?: string | string[];
	/** Default: the service's `settings.family`. */
	family?: Family;
	/** `resource:verb`, PUBLIC or AUTHENTICATED. Every routed action declares one. */
	permission?: Permission;
	/** Integration envelope's success message. */
	message?: string;
	/** Largest JSON body, bytes (default: the family's). */
	bodyLimit?: number;
	/** HTTP status of a success (default 200). */
	status?: number;
	/** The result is `{rows, page, pageSize, total, totalPages}`: the console answers `data: rows, meta`. */
	paged?: boolean;
	upload?: UploadFacts;
	openapi?: OpenApiFacts;
	/** Mutations are audited unless `audit: false`. */
	audit?: AuditFacts | false;
	/** The caller's own credentials go along in `meta.$credentials` (the developer console's invoke, which calls as the caller). */
	forwardCredentials?: boolean;
}

/** An action as the registry lists it (`getServiceList({withActions: true})`). */
export interface RegistryAction extends RouteFacts {
	name: string;
	rawName?: string;
	visibility?: string;
	params?: Record<string, unknown>;
}

export interface RegistryService {
	name: string;
	settings?: { family?: Family; resource?: string; [k: string]: unknown };
	actions?: Record<string, RegistryAction>;
}

/** One HTTP endpoint of the gateway. */
export interface Endpoint {
	family: Family;
	method: string;
	/** Relative to the family's prefix, no leading slash: "users/:id". */
	path: string;
	action: string;
	service: string;
	resource: string;
	permission: Permission | undefined;
	facts: RouteFacts;
	params: Record<string, unknown> | undefined;
}

export const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

const REST_RE = /^(GET|POST|PUT|PATCH|DELETE)\s+\/?([A-Za-z0-9_\-/:.{}]*)$/;

/**
 * The endpoints the published actions declare, one per (method, path); the first service
 * to declare a path keeps it (several instances of a service announce the same actions).
 */
export function collectEndpoints(services: RegistryService[]): { endpoints: Endpoint[]; problems: string[] } {
	const endpoints: Endpoint[] = [];
	const problems: string[] = [];
	const seen = new Map<string, string>();
	for (const svc of services) {
		for (const action of Object.values(svc.actions ?? {})) {
			if (!action.rest || (action.visibility && action.visibility !== "published")) continue;
			const family = action.family ?? svc.settings?.family;
			if (!family || !(FAMILIES as readonly string[]).includes(family)) {
				problems.push(`${action.name}: no API family`);
				continue;
			}
			for (const rest of Array.isArray(action.rest) ? action.rest : [action.rest]) {
				const m = REST_RE.exec(rest.trim());
				if (!m) {
					problems.push(`${action.name}: malformed rest "${rest}"`);
					continue;
				}
				const [, method, path] = m;
				const key = `${family} ${method} ${path}`;
				const owner = seen.get(key);
				if (owner && owner !== action.name) problems.push(`${method} ${path}: declared by ${owner} and ${action.name}`);
				if (owner) continue;
				seen.set(key, action.name);
				if (!action.permission) problems.push(`${action.name}: no permission declared`);
				endpoints.push({
					family,
					method,
					path: path.replace(/\/+$/, ""),
					action: action.name,
					service: svc.name,
					resource: (action.audit && action.audit.resource) || svc.settings?.resource || svc.name,
					permission: action.permission,
					facts: pickFacts(action),
					params: action.params
				});
			}
		}
	}
	return { endpoints, problems };
}

function pickFacts(a: RegistryAction): RouteFacts {
	const { rest, family, permission, message, bodyLimit, status, paged, upload, openapi, audit, forwardCredentials } = a;
	return { rest, family, permission, message, bodyLimit, status, paged, upload, openapi, audit, forwardCredentials };
}

/** Does a caller with these permissions hold `needed`? `*` is everything, `cameras:*` a whole resource. */
export function hasPermission(granted: readonly string[], needed: Permission): boolean {
	if (needed === PUBLIC || needed === AUTHENTICATED) return true;
	const [resource] = needed.split(":");
	return granted.includes("*") || granted.includes(needed) || granted.includes(`${resource}:*`);
}
