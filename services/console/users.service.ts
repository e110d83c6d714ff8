/**
 * Console accounts (storage role; seed 002 "Authentication & Users"): CRUD for admins,
 * password changes, and the first administrator on a fresh install. Passwords are Argon2id
 * hashes, never returned nor logged. Suspending or deleting an account revokes its logins
 * at once (auth.revokeUser).
 */
import crypto from "node:crypto";
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { DbMixin } from "../../mixins/db.mixin";
import { AUTHENTICATED } from "../../lib/api/route-facts";
import { pageParams, pageQuery, paged, type PageParams } from "../../lib/api/paging";
import { hashPassword, passwordProblem, verifyPassword } from "../../lib/auth/passwords";
import { ROLE_IDS, hasAdminRights } from "../../lib/auth/roles";
import { hasPermission } from "../../lib/api/route-facts";
import { ApiError, badRequest } from "../../lib/errors";
import type { DbVars, GatewayMeta, Implements } from "../schema";

export interface UserDoc {
	_id: string;
	email: string;
	name: string;
	passwordHash: string;
	roleId: string;
	status: "active" | "suspended";
	lastActive: Date | null;
	createdAt: Date;
	updatedAt: Date;
	version: number;
}

/** An account as the console sees it (seed 002 UserAccount). */
export function userView(d: UserDoc) {
	return {
		id: d._id,
		name: d.name,
		email: d.email,
		roleId: d.roleId,
		status: d.status,
		lastActive: d.lastActive ? new Date(d.lastActive).toISOString() : null,
		createdAt: new Date(d.createdAt).toISOString(),
		updatedAt: new Date(d.updatedAt).toISOString(),
		version: d.version
	};
}

const USER_RESPONSE = {
	type: "object",
	properties: {
		id: { type: "string" },
		name: { type: "string" },
		email: { type: "string", format: "email" },
		roleId: { type: "string", enum: ROLE_IDS },
		status: { type: "string", enum: ["active", "suspended"] },
		lastActive: { type: ["string", "null"], format: "date-time" },
		createdAt: { type: "string", format: "date-time" },
		updatedAt: { type: "string", format: "date-time" },
		version: { type: "integer" }
	}
};

const email = { type: "email", max: 254, normalize: true } as const;
const name = { type: "string", min: 1, max: 200, trim: true } as const;
const roleId = { type: "enum", values: ROLE_IDS } as const;
const password = { type: "string", min: 1, max: 256 } as const;
const id = { type: "string", min: 1, max: 64, pattern: "^[A-Za-z0-9-]+$" } as const;

const notFound = (id: string) => new ApiError(404, "USER_NOT_FOUND", `User not found: ${id}`);
const weak = (problem: string) => new ApiError(400, "VALIDATION_ERROR", `Password ${problem}`, { details: [{ field: "password", issue: `Password ${problem}` }] });

interface Settings {
	family: string;
	resource: string;
	fields: string[];
}

interface Methods {
	byId(id: string): Promise<UserDoc>;
	activeAdmins(): Promise<number>;
	ensureFirstAdmin(): Promise<void>;
}
type Vars = DbVars;

export default function usersService(cfg: Config): ServiceSchema<Settings, Methods, Vars> {
	return {
		name: "users",
		mixins: [DbMixin("users", cfg)],
		settings: { family: "console", resource: "user", fields: ["_id", "email", "name", "roleId", "status", "lastActive", "createdAt", "updatedAt", "version"] },
		actions: {
			list: {
				rest: "GET /users",
				permission: "users:read",
				paged: true,
				openapi: { summary: "List accounts", tags: ["users"], response: USER_RESPONSE },
				params: {
					...pageParams,
					role: { ...roleId, optional: true },
					status: { type: "enum", values: ["active", "suspended"], optional: true },
					search: { type: "string", max: 100, optional: true, trim: true },
					$$strict: true
				},
				async handler(ctx: Context<PageParams & { role?: string; status?: string; search?: string }>) {
					const p = ctx.params;
					const query: Record<string, unknown> = {};
					if (p.role) query.roleId = p.role;
					if (p.status) query.status = p.status;
					const search = p.search?.toLowerCase();
					if (search) {
						// Small collection: filter by name or email here, the same on NeDB and MongoDB.
						const all: UserDoc[] = await this.adapter.find({ query, sort: ["email"] });
						const hits = all.filter(u => u.email.includes(search) || u.name.toLowerCase().includes(search));
						const { offset, limit } = pageQuery(p);
						return paged(hits.slice(offset, offset + limit).map(userView), hits.length, p);
					}
					const { offset, limit } = pageQuery(p);
					const [rows, total] = await Promise.all([this.adapter.find({ query, sort: ["email"], offset, limit }), this.adapter.count({ query })]);
					return paged((rows as UserDoc[]).map(userView), total, p);
				}
			},

			get: {
				rest: "GET /users/:id",
				permission: "users:read",
				openapi: { summary: "One account", tags: ["users"], response: USER_RESPONSE, errors: ["USER_NOT_FOUND"] },
				params: { id, $$strict: true },
				async handler(ctx: Context<{ id: string }>) {
					return userView(await this.byId(ctx.params.id));
				}
			},

			create: {
				rest: "POST /users",
				permission: "users:write",
				status: 201,
				openapi: {
					summary: "Create an account (without a password, a temporary one is generated and returned once)",
					tags: ["users"],
					response: { ...USER_RESPONSE, properties: { ...USER_RESPONSE.properties, temporaryPassword: { type: "string" } } },
					errors: ["EMAIL_TAKEN"]
				},
				params: { name, email, roleId, password: { ...password, optional: true }, $$strict: true },
				async handler(ctx: Context<{ name: string; email: string; roleId: string; password?: string }>) {
					const { name, email, roleId } = ctx.params;
					const temporary = ctx.params.password === undefined ? crypto.randomBytes(12).toString("base64url") : null;
					const pw = ctx.params.password ?? temporary!;
					const problem = passwordProblem(pw);
					if (problem) throw weak(problem);
					if ((await this.adapter.count({ query: { email } })) > 0) throw new ApiError(409, "EMAIL_TAKEN", `An account with this email exists: ${email}`);
					const now = new Date();
					const doc: UserDoc = { _id: crypto.randomUUID(), email, name, passwordHash: await hashPassword(pw), roleId, status: "active", lastActive: null, createdAt: now, updatedAt: now, version: 1 };
					try {
						await this.adapter.insert(doc);
					} catch (err) {
						// The unique index on email: a concurrent create of the same address.
						if (/unique|duplicate/i.test((err as Error).message)) throw new ApiError(409, "EMAIL_TAKEN", `An account with this email exists: ${email}`);
						throw err;
					}
					return { ...userView(doc), ...(temporary ? { temporaryPassword: temporary } : {}) };
				}
			},

			update: {
				rest: "PUT /users/:id",
				permission: "users:write",
				openapi: { summary: "Change an account's name, email, role or status (suspending revokes its logins at once)", tags: ["users"], response: USER_RESPONSE, errors: ["USER_NOT_FOUND", "EMAIL_TAKEN", "LAST_ADMIN"] },
				params: {
					id,
					name: { ...name, optional: true },
					email: { ...email, optional: true },
					roleId: { ...roleId, optional: true },
					status: { type: "enum", values: ["active", "suspended"], optional: true },
					version: { type: "number", integer: true, min: 1, optional: true },
					$$strict: true
				},
				async handler(ctx: Context<{ id: string; name?: string; email?: string; roleId?: string; status?: "active" | "suspended"; version?: number }>) {
					const { id, version, ...changes } = ctx.params;
					const user = await this.byId(id);
					if (version !== undefined && version !== user.version) throw new ApiError(409, "VERSION_CONFLICT", `The account changed meanwhile (version ${user.version})`);
					if (changes.email && changes.email !== user.email && (await this.adapter.count({ query: { email: changes.email } })) > 0)
						throw new ApiError(409, "EMAIL_TAKEN", `An account with this email exists: ${changes.email}`);
					const losesAdmin = hasAdminRights(user.roleId) && user.status === "active" && ((changes.roleId && !hasAdminRights(changes.roleId)) || changes.status === "suspended");
					if (losesAdmin && (await this.activeAdmins()) <= 1) throw new ApiError(409, "LAST_ADMIN", "The last active administrator cannot be demoted or suspended");
					const saved: UserDoc = await this.adapter.updateById(id, { $set: { ...changes, updatedAt: new Date(), version: user.version + 1 } });
					if (changes.status === "suspended" || (changes.roleId && changes.roleId !== user.roleId) || (changes.email && changes.email !== user.email))
						await ctx.call("auth.revokeUser", { userId: id, reason: changes.status === "suspended" ? "suspended" : "changed" });
					return userView(saved);
				}
			},

			remove: {
				rest: "DELETE /users/:id",
				permission: "users:write",
				status: 204,
				openapi: { summary: "Delete an account and revoke its logins", tags: ["users"], errors: ["USER_NOT_FOUND", "LAST_ADMIN"] },
				params: { id, $$strict: true },
				async handler(ctx: Context<{ id: string }, GatewayMeta>) {
					const user = await this.byId(ctx.params.id);
					if (ctx.meta.user?.id === user._id) throw new ApiError(409, "CANNOT_DELETE_SELF", "An account cannot delete itself");
					if (hasAdminRights(user.roleId) && user.status === "active" && (await this.activeAdmins()) <= 1) throw new ApiError(409, "LAST_ADMIN", "The last active administrator cannot be deleted");
					await this.adapter.removeById(user._id);
					await ctx.call("auth.revokeUser", { userId: user._id, reason: "deleted" });
					await ctx.call("settings.forgetUser", { userId: user._id });
					ctx.meta.$audit = { resourceId: user._id, message: `Deleted account ${user.email}` };
					return null;
				}
			},

			/** Own password (needs the current one) or, with users:write, anyone's (a reset). */
			password: {
				rest: "PATCH /users/:id/password",
				permission: AUTHENTICATED,
				status: 204,
				openapi: { summary: "Change a password: one's own with the current password, anyone's as an administrator", tags: ["users"], errors: ["USER_NOT_FOUND", "INVALID_CREDENTIALS", "FORBIDDEN"] },
				params: { id, currentPassword: { ...password, optional: true }, newPassword: password, $$strict: true },
				async handler(ctx: Context<{ id: string; currentPassword?: string; newPassword: string }, GatewayMeta>) {
					const caller = ctx.meta.user;
					const own = caller?.kind === "user" && caller.id === ctx.params.id;
					if (caller && !own && !hasPermission(caller.permissions, "users:write")) throw new ApiError(403, "FORBIDDEN", "This needs the users:write permission");
					const user = await this.byId(ctx.params.id);
					if (own) {
						if (!ctx.params.currentPassword) throw badRequest("VALIDATION_ERROR", "currentPassword is required to change one's own password", { details: [{ field: "currentPassword", issue: "required" }] });
						if (!(await verifyPassword(user.passwordHash, ctx.params.currentPassword))) throw new ApiError(401, "INVALID_CREDENTIALS", "The current password is wrong");
					}
					const problem = passwordProblem(ctx.params.newPassword);
					if (problem) throw weak(problem);
					await this.adapter.updateById(user._id, { $set: { passwordHash: await hashPassword(ctx.params.newPassword), updatedAt: new Date(), version: user.version + 1 } });
					// Every other login of the account ends; one's own stays signed in.
					await ctx.call("auth.revokeUser", { userId: user._id, reason: "password", keepFamily: own ? caller?.sid : undefined });
					ctx.meta.$audit = { resourceId: user._id, message: own ? "Changed own password" : `Reset the password of ${user.email}` };
					return null;
				}
			},

			/** The account behind a login name, with its hash (auth only). */
			credentials: {
				visibility: "public",
				params: { email: "string" },
				async handler(ctx: Context<{ email: string }>) {
					const [doc] = await this.adapter.find({ query: { email: ctx.params.email.trim().toLowerCase() }, limit: 1 });
					return doc ?? null;
				}
			},

			/** An account as auth needs it to keep a login going (no hash). */
			state: {
				visibility: "public",
				params: { id: "string" },
				async handler(ctx: Context<{ id: string }>) {
					const doc: UserDoc | null = await this.adapter.findById(ctx.params.id);
					return doc ? userView(doc) : null;
				}
			},

			touch: {
				visibility: "public",
				params: { id: "string" },
				async handler(ctx: Context<{ id: string }>) {
					await this.adapter.updateById(ctx.params.id, { $set: { lastActive: new Date() } }).catch(() => undefined);
				}
			}
		},

		methods: {
			async byId(id: string): Promise<UserDoc> {
				const doc: UserDoc | null = await this.adapter.findById(id);
				if (!doc) throw notFound(id);
				return doc;
			},

			async activeAdmins(): Promise<number> {
				return this.adapter.count({ query: { roleId: "ROLE-ADMIN", status: "active" } });
			},

			/** A fresh install gets its first administrator: ADMIN_EMAIL / ADMIN_PASSWORD, or a generated password printed once. */
			async ensureFirstAdmin() {
				if ((await this.adapter.count({})) > 0) return;
				const generated = cfg.adminPassword === null;
				const pw = cfg.adminPassword ?? crypto.randomBytes(15).toString("base64url");
				const now = new Date();
				await this.adapter.insert({ _id: crypto.randomUUID(), email: cfg.adminEmail, name: "Administrator", passwordHash: await hashPassword(pw), roleId: "ROLE-ADMIN", status: "active", lastActive: null, createdAt: now, updatedAt: now, version: 1 });
				if (generated) this.logger.warn(`First administrator created: ${cfg.adminEmail} with the generated password ${pw} (shown once; change it after signing in, or set ADMIN_PASSWORD)`);
				else this.logger.info("First administrator created", { email: cfg.adminEmail });
			}
		} satisfies Implements<Methods, Settings, Vars>,

		async started() {
			await this.ensureFirstAdmin();
		}
	};
}
