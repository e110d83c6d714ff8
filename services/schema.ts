/**
 * Route facts on action schemas (lib/api/route-facts.ts), known to TypeScript, and the
 * meta every call from the gateway carries.
 */
import "moleculer";
import type { RouteFacts } from "../lib/api/route-facts";

declare module "moleculer" {
	// The route facts of lib/api/route-facts.ts on every action schema (`rest` comes from moleculer-web).
	interface ActionSchema extends Omit<RouteFacts, "rest"> {}
}

/** Who is calling, as the gateway established it (REST and Socket.IO alike). */
export interface Principal {
	kind: "user" | "api-key";
	id: string;
	name: string;
	email?: string;
	roleId: string;
	permissions: string[];
	/** The login this access token belongs to (users only). */
	sid?: string;
	/** When the access token expires, ms since the epoch (users only). */
	expiresAt?: number;
}

/** Where a call came from, for audit and logs. */
export interface RequestInfo {
	requestId: string;
	ip: string;
	userAgent: string;
	method: string;
	path: string;
}

/** What an action may tell the audit middleware about the call it just handled. */
export interface AuditNote {
	actor?: string;
	actorRole?: string;
	resourceId?: string;
	message?: string;
	severity?: "info" | "warning" | "critical";
	context?: Record<string, unknown>;
	/** Audit a failure that is not a refusal (e.g. a failed login is one anyway). */
	action?: string;
}

export interface GatewayMeta {
	user?: Principal | null;
	request?: RequestInfo;
	$statusCode?: number;
	$message?: string;
	$responseType?: string;
	$responseHeaders?: Record<string, string>;
	$location?: string;
	$audit?: AuditNote;
	/** Only for actions that declare `forwardCredentials`. */
	$credentials?: { authorization?: string; apiKey?: string };
}

/** The moleculer-db adapter as the services use it (NeDB and mongoose adapters alike). */
export interface DbAdapter {
	find(params: { query?: object; sort?: string[]; offset?: number; limit?: number }): Promise<any[]>;
	findOne(query: object): Promise<any>;
	findById(id: unknown): Promise<any>;
	count(params?: { query?: object }): Promise<number>;
	insert(doc: object): Promise<any>;
	insertMany(docs: object[]): Promise<any[]>;
	updateById(id: unknown, update: object): Promise<any>;
	updateMany(query: object, update: object): Promise<number>;
	removeById(id: unknown): Promise<any>;
	removeMany(query: object): Promise<number>;
}

/** What the db mixin adds to a service. */
export interface DbVars {
	adapter: DbAdapter;
}

/** moleculer-db's own methods, for services whose actions return documents through its field filter. */
export interface DbServiceVars extends DbVars {
	transformDocuments(ctx: import("moleculer").Context | null, params: object, docs: object | object[]): Promise<any>;
}

/** The `this` of a typed service's handlers: what `ServiceSchema<TSettings, TMethods, TVars>` gives them. */
export type ServiceThis<TSettings, TMethods, TVars> = import("moleculer").Service<TSettings> & TVars & TMethods;

/**
 * A `methods` block checked against its interface, its `this` still the service's:
 * `methods: { ... } satisfies Implements<Methods, Settings, Vars>`. A missing, extra or
 * mistyped method is a compile error (ServiceSchema alone checks only the calls).
 */
export type Implements<TMethods, TSettings, TVars = object> = TMethods & ThisType<ServiceThis<TSettings, TMethods, TVars>>;
