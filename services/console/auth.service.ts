/**
 * Sign-in (storage role; seed 002 "Authentication", "Security & Authentication"): login,
 * refresh, logout, me, and the logins themselves (refresh-token families, this service's
 * collection). Access tokens are JWTs of 15 minutes; refresh tokens are opaque, 14 days,
 * rotated on every refresh. A rotated token presented again means it was copied: the whole
 * login is revoked, and the audit says so (critical). Failed logins are throttled per
 * account and per address: slowed down after a few, refused (429) after more.
 */
import crypto from "node:crypto";
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { DbMixin } from "../../mixins/db.mixin";
import { AUTHENTICATED, PUBLIC } from "../../lib/api/route-facts";
import { permissionsOf } from "../../lib/auth/roles";
import { verifyPassword } from "../../lib/auth/passwords";
import { ADDRESS_THROTTLE, LOGIN_THROTTLE, LoginThrottle } from "../../lib/auth/throttle";
import { hashToken, newRefreshToken, REFRESH_TTL_MS, signAccessToken } from "../../lib/auth/tokens";
import { ApiError } from "../../lib/errors";
import type { DbVars, GatewayMeta, Implements } from "../schema";
import { userView, type UserDoc } from "./users.service";

interface LoginDoc {
	_id: string;
	tokenHash: string;
	familyId: string;
	userId: string;
	expiresAt: Date;
	createdAt: Date;
	rotatedAt: Date | null;
	revokedAt: Date | null;
}

type UserView = ReturnType<typeof userView>;

const invalidCredentials = () => new ApiError(401, "INVALID_CREDENTIALS", "Invalid username or password");
const invalidRefresh = () => new ApiError(401, "INVALID_TOKEN", "Refresh token is invalid or expired");
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

const TOKENS_RESPONSE = { type: "object", properties: { accessToken: { type: "string" }, refreshToken: { type: "string" } } };

interface Settings {
	family: string;
	resource: string;
}

interface Methods {
	issue(user: UserView, familyId: string, ctx: Context<unknown, GatewayMeta>): Promise<{ accessToken: string; refreshToken: string }>;
	revokeFamily(familyId: string, reason: string): Promise<number>;
	throttled(keys: string[]): void;
}
type Vars = DbVars & { accounts: LoginThrottle; addresses: LoginThrottle; sweepTimer: NodeJS.Timeout };

export default function authService(cfg: Config): ServiceSchema<Settings, Methods, Vars> {
	return {
		name: "auth",
		mixins: [DbMixin("logins", cfg)],
		settings: { family: "console", resource: "session" },
		actions: {
			login: {
				rest: "POST /auth/login",
				permission: PUBLIC,
				openapi: {
					summary: "Sign in with email and password",
					tags: ["auth"],
					response: { type: "object", properties: { ...TOKENS_RESPONSE.properties, user: { type: "object" } } },
					errors: ["INVALID_CREDENTIALS", "ACCOUNT_SUSPENDED", "TOO_MANY_ATTEMPTS"]
				},
				params: { username: { type: "string", min: 1, max: 320, trim: true }, password: { type: "string", min: 1, max: 1024 }, $$strict: true },
				async handler(ctx: Context<{ username: string; password: string }, GatewayMeta>) {
					const email = ctx.params.username.toLowerCase();
					const keys = [`account:${email}`, `ip:${ctx.meta.request?.ip ?? "internal"}`];
					ctx.meta.$audit = { actor: email, message: "Sign-in refused" };
					this.throttled(keys);
					const delay = Math.max(this.accounts.delayMs(keys[0]), this.addresses.delayMs(keys[1]));
					if (delay) await sleep(delay);

					const doc: UserDoc | null = await ctx.call("users.credentials", { email });
					const ok = await verifyPassword(doc?.passwordHash, ctx.params.password);
					if (!doc || !ok) {
						this.accounts.fail(keys[0]);
						this.addresses.fail(keys[1]);
						ctx.meta.$audit = { actor: email, message: "Sign-in failed: wrong username or password" };
						throw invalidCredentials();
					}
					if (doc.status !== "active") {
						ctx.meta.$audit = { actor: email, actorRole: doc.roleId, resourceId: doc._id, message: "Sign-in refused: account suspended" };
						throw new ApiError(403, "ACCOUNT_SUSPENDED", "This account is suspended");
					}
					this.accounts.succeed(keys[0]);
					this.addresses.succeed(keys[1]);
					await ctx.call("users.touch", { id: doc._id });
					const user = userView({ ...doc, lastActive: new Date() });
					const tokens = await this.issue(user, crypto.randomUUID(), ctx);
					ctx.meta.$audit = { actor: email, actorRole: doc.roleId, resourceId: doc._id, message: "Signed in" };
					return { ...tokens, user };
				}
			},

			refresh: {
				rest: "POST /auth/refresh",
				permission: PUBLIC,
				openapi: { summary: "New access and refresh tokens for a refresh token (which stops working)", tags: ["auth"], response: TOKENS_RESPONSE, errors: ["INVALID_TOKEN", "REFRESH_TOKEN_REUSED"] },
				params: { refreshToken: { type: "string", min: 1, max: 200 }, $$strict: true },
				async handler(ctx: Context<{ refreshToken: string }, GatewayMeta>) {
					const [doc]: LoginDoc[] = await this.adapter.find({ query: { tokenHash: hashToken(ctx.params.refreshToken) }, limit: 1 });
					if (!doc) throw invalidRefresh();
					const state: UserView | null = await ctx.call("users.state", { id: doc.userId });
					ctx.meta.$audit = { actor: state?.email ?? doc.userId, actorRole: state?.roleId, resourceId: doc.familyId, message: "Refresh refused" };
					if (doc.revokedAt || new Date(doc.expiresAt).getTime() <= Date.now()) throw invalidRefresh();
					// Rotate atomically: of two refreshes with one token, one wins, the other is a reuse.
					const won = doc.rotatedAt ? 0 : await this.adapter.updateMany({ _id: doc._id, rotatedAt: null }, { $set: { rotatedAt: new Date() } });
					if (!won) {
						const revoked = await this.revokeFamily(doc.familyId, "refresh token reused");
						ctx.meta.$audit = { actor: state?.email ?? doc.userId, actorRole: state?.roleId, resourceId: doc.familyId, severity: "critical", message: `Refresh token reused: the whole login was revoked (${revoked} tokens)` };
						this.logger.warn("Refresh token reused: login revoked", { userId: doc.userId, familyId: doc.familyId });
						throw new ApiError(401, "REFRESH_TOKEN_REUSED", "This refresh token was already used; the login has been revoked for safety");
					}
					if (!state || state.status !== "active") {
						await this.revokeFamily(doc.familyId, "account not active");
						throw invalidRefresh();
					}
					ctx.meta.$audit = { actor: state.email, actorRole: state.roleId, resourceId: doc.familyId, message: "Refreshed tokens" };
					return this.issue(state, doc.familyId, ctx);
				}
			},

			logout: {
				rest: "POST /auth/logout",
				permission: PUBLIC,
				status: 204,
				openapi: { summary: "Sign out: the login of this refresh token ends (its access tokens too)", tags: ["auth"] },
				params: { refreshToken: { type: "string", min: 1, max: 200 }, $$strict: true },
				async handler(ctx: Context<{ refreshToken: string }, GatewayMeta>) {
					const [doc]: LoginDoc[] = await this.adapter.find({ query: { tokenHash: hashToken(ctx.params.refreshToken) }, limit: 1 });
					if (doc) {
						await this.revokeFamily(doc.familyId, "logout");
						const state: UserView | null = await ctx.call("users.state", { id: doc.userId });
						ctx.meta.$audit = { actor: state?.email ?? doc.userId, actorRole: state?.roleId, resourceId: doc.familyId, message: "Signed out" };
					} else ctx.meta.$audit = { message: "Sign-out with an unknown token" };
					return null;
				}
			},

			me: {
				rest: "GET /auth/me",
				permission: AUTHENTICATED,
				openapi: { summary: "The signed-in user and their permissions", tags: ["auth"], response: { type: "object", properties: { user: { type: "object" }, permissions: { type: "array", items: { type: "string" } } } } },
				params: { $$strict: true },
				async handler(ctx: Context<unknown, GatewayMeta>) {
					const caller = ctx.meta.user;
					if (!caller) throw new ApiError(401, "UNAUTHORIZED", "Authentication required");
					if (caller.kind !== "user") return { user: { id: caller.id, name: caller.name, roleId: caller.roleId, kind: "api-key" }, permissions: caller.permissions };
					const user: UserView | null = await ctx.call("users.state", { id: caller.id });
					if (!user) throw new ApiError(401, "INVALID_TOKEN", "The account no longer exists");
					return { user, permissions: permissionsOf(user.roleId) };
				}
			},

			/** Is this login still good? Asked by gateways (cached a few seconds) for every access token. */
			loginState: {
				visibility: "public",
				params: { sid: "string", userId: "string" },
				async handler(ctx: Context<{ sid: string; userId: string }>) {
					const live = await this.adapter.count({ query: { familyId: ctx.params.sid, userId: ctx.params.userId, revokedAt: null, rotatedAt: null, expiresAt: { $gt: new Date() } } });
					if (!live) return { active: false };
					const user: UserView | null = await ctx.call("users.state", { id: ctx.params.userId });
					if (!user || user.status !== "active") return { active: false };
					return { active: true, user, permissions: permissionsOf(user.roleId) };
				}
			},

			/** End every login of an account (suspended, deleted, role or password changed), but `keepFamily`. */
			revokeUser: {
				visibility: "public",
				params: { userId: "string", reason: "string", keepFamily: { type: "string", optional: true } },
				async handler(ctx: Context<{ userId: string; reason: string; keepFamily?: string }>) {
					const query: Record<string, unknown> = { userId: ctx.params.userId, revokedAt: null };
					if (ctx.params.keepFamily) query.familyId = { $ne: ctx.params.keepFamily };
					const n = await this.adapter.updateMany(query, { $set: { revokedAt: new Date() } });
					this.broker.broadcast("auth.revoked", { userId: ctx.params.userId, reason: ctx.params.reason, keepFamily: ctx.params.keepFamily ?? null });
					return { revoked: n };
				}
			}
		},

		methods: {
			async issue(user: UserView, familyId: string, ctx: Context<unknown, GatewayMeta>) {
				const refreshToken = newRefreshToken();
				const now = new Date();
				await this.adapter.insert({
					_id: crypto.randomUUID(),
					tokenHash: hashToken(refreshToken),
					familyId,
					userId: user.id,
					expiresAt: new Date(now.getTime() + REFRESH_TTL_MS),
					createdAt: now,
					rotatedAt: null,
					revokedAt: null,
					ip: ctx.meta.request?.ip,
					userAgent: ctx.meta.request?.userAgent
				});
				const accessToken = await signAccessToken({ sub: user.id, email: user.email, role: user.roleId, permissions: permissionsOf(user.roleId), sid: familyId }, cfg.jwtSecret);
				return { accessToken, refreshToken };
			},

			async revokeFamily(familyId: string, reason: string) {
				const n: number = await this.adapter.updateMany({ familyId, revokedAt: null }, { $set: { revokedAt: new Date() } });
				this.broker.broadcast("auth.revoked", { familyId, reason });
				return n;
			},

			/** Refused outright while an account or address is locked out. */
			throttled(keys: string[]) {
				const wait = Math.max(this.accounts.lockedFor(keys[0]), this.addresses.lockedFor(keys[1]));
				if (wait) throw new ApiError(429, "TOO_MANY_ATTEMPTS", `Too many failed sign-ins: try again in ${Math.ceil(wait / 60)} min`, { retryAfter: wait });
			}
		} satisfies Implements<Methods, Settings, Vars>,

		created() {
			this.accounts = new LoginThrottle(LOGIN_THROTTLE);
			this.addresses = new LoginThrottle(ADDRESS_THROTTLE);
		},

		started() {
			// Logins that ended long ago are of no use; expired ones are removed hourly.
			const sweep = () => this.adapter.removeMany({ expiresAt: { $lt: new Date(Date.now() - 24 * 3600_000) } }).catch(() => undefined);
			this.sweepTimer = setInterval(sweep, 3600_000).unref();
		},

		stopped() {
			clearInterval(this.sweepTimer);
		}
	};
}
