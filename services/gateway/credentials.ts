/**
 * The one credentials check of the gateway, for REST and Socket.IO alike: an API key (the
 * integration key, or a named key with a role) or a console access token (JWT). A token is
 * good only while its login is: its user active and its refresh family not revoked, asked
 * of the auth service and cached for a few seconds; `auth.revoked` events drop the cache at
 * once, so a suspension or a logout takes effect on every gateway within a request.
 */
import type { ServiceBroker } from "moleculer";
import type { Config } from "../../config";
import { secretEquals } from "../../lib/auth";
import { ApiError } from "../../lib/errors";
import { apiKeyPrefix, hashEquals, hashToken, TokenError, verifyAccessToken } from "../../lib/auth/tokens";
import type { Family } from "../../lib/api/route-facts";
import type { Principal } from "../schema";

const CACHE_MS = 5000;
/** A verified access token's claims are kept this long (never past its expiry): the same token verifies the same. */
const VERIFIED_MS = 60_000;
const VERIFIED_MAX = 10_000;

export interface LoginState {
	active: boolean;
	user?: { id: string; email: string; name: string; roleId: string; status: string };
	permissions?: string[];
}

interface KeyRecord {
	id: string;
	name: string;
	hash: string;
	roleId: string;
	permissions: string[];
	revoked: boolean;
}

export const unauthorized = (code: string, message: string) => new ApiError(401, code, message);

export class Credentials {
	private logins = new Map<string, { at: number; state: Promise<LoginState> }>();
	private keys = new Map<string, { at: number; rec: Promise<KeyRecord | null> }>();
	/** Access tokens whose signature and claims were verified: a console polls many times a second with the same one. */
	private verified = new Map<string, { until: number; claims: Awaited<ReturnType<typeof verifyAccessToken>> }>();

	constructor(
		private readonly broker: ServiceBroker,
		private readonly cfg: Config
	) {}

	/** The integration key's caller: the school's backend, trusted with everything. */
	private integration(): Principal {
		return { kind: "api-key", id: "integration", name: "integration key", roleId: "ROLE-ADMIN", permissions: ["*"] };
	}

	async apiKey(presented: unknown): Promise<Principal> {
		if (secretEquals(presented, this.cfg.apiKey)) return this.integration();
		const prefix = typeof presented === "string" ? apiKeyPrefix(presented) : null;
		if (prefix) {
			const rec = await this.keyRecord(prefix);
			if (rec && !rec.revoked && hashEquals(rec.hash, hashToken(presented as string)))
				return { kind: "api-key", id: rec.id, name: rec.name, roleId: rec.roleId, permissions: rec.permissions };
		}
		throw new ApiError(401, "INVALID_API_KEY", "Invalid or missing API key");
	}

	async bearer(token: unknown): Promise<Principal> {
		if (typeof token !== "string" || token.length === 0) throw unauthorized("UNAUTHORIZED", "Authentication required: send Authorization: Bearer <access token>");
		const claims = await this.verify(token);
		const state = await this.loginState(claims.sid, claims.sub);
		if (!state.active || !state.user) throw unauthorized("INVALID_TOKEN", "Access token is no longer valid (signed out, or the account is suspended)");
		// Permissions come from the user's role now, not from when the token was issued.
		return { kind: "user", id: state.user.id, name: state.user.name, email: state.user.email, roleId: state.user.roleId, permissions: state.permissions ?? [], sid: claims.sid, expiresAt: claims.exp * 1000 };
	}

	private async verify(token: string): Promise<Awaited<ReturnType<typeof verifyAccessToken>>> {
		const now = Date.now();
		const hit = this.verified.get(token);
		if (hit && now < hit.until) return hit.claims;
		let claims;
		try {
			claims = await verifyAccessToken(token, this.cfg.jwtSecret);
		} catch (err) {
			if (err instanceof TokenError) throw unauthorized(err.code, err.message);
			throw err;
		}
		if (this.verified.size >= VERIFIED_MAX) this.verified.delete(this.verified.keys().next().value as string);
		this.verified.set(token, { until: Math.min(now + VERIFIED_MS, claims.exp * 1000), claims });
		return claims;
	}

	/** The caller of a request of this family, from its headers. */
	async fromHeaders(family: Family, headers: Record<string, string | string[] | undefined>): Promise<Principal> {
		const auth = typeof headers.authorization === "string" ? headers.authorization : "";
		const bearer = /^Bearer\s+(.+)$/i.exec(auth)?.[1]?.trim();
		if (family === "console") return this.bearer(bearer);
		if (family === "face" && bearer) return this.bearer(bearer);
		return this.apiKey(headers["x-api-key"]);
	}

	/** A login was revoked or an account changed somewhere: ask again (events are rare, the cache is small). */
	forgetLogins(): void {
		this.logins.clear();
		this.verified.clear();
	}

	forgetKeys(): void {
		this.keys.clear();
	}

	private loginState(sid: string, sub: string): Promise<LoginState> {
		const hit = this.logins.get(sid);
		if (hit && Date.now() - hit.at < CACHE_MS) return hit.state;
		const state = this.broker.call<LoginState, object>("auth.loginState", { sid, userId: sub });
		this.logins.set(sid, { at: Date.now(), state });
		state.catch(() => this.logins.delete(sid));
		if (this.logins.size > 50_000) this.logins.delete(this.logins.keys().next().value as string);
		return state;
	}

	private keyRecord(prefix: string): Promise<KeyRecord | null> {
		const hit = this.keys.get(prefix);
		if (hit && Date.now() - hit.at < CACHE_MS) return hit.rec;
		const rec = this.broker.call<KeyRecord | null, object>("apikeys.resolve", { prefix });
		this.keys.set(prefix, { at: Date.now(), rec });
		rec.catch(() => this.keys.delete(prefix));
		return rec;
	}
}
