/**
 * Access tokens (JWT, HS256 pinned, issuer and audience checked, 15 minutes) and refresh
 * tokens (opaque, 256 random bits, kept only as their SHA-256).
 */
import crypto from "node:crypto";
import { SignJWT, jwtVerify, errors } from "jose";

export const ISSUER = "rollcall";
export const AUDIENCE = "rollcall-console";
export const ACCESS_TTL_S = 15 * 60;
export const REFRESH_TTL_MS = 14 * 24 * 3600_000;

export interface AccessClaims {
	sub: string;
	email: string;
	role: string;
	permissions: string[];
	/** The login (refresh-token family) this token belongs to: logout and reuse revoke it. */
	sid: string;
}

export class TokenError extends Error {
	constructor(readonly code: "TOKEN_EXPIRED" | "INVALID_TOKEN") {
		super(code === "TOKEN_EXPIRED" ? "Access token has expired" : "Access token is invalid");
	}
}

const keyOf = (secret: string) => new TextEncoder().encode(secret);

export async function signAccessToken(claims: AccessClaims, secret: string, nowS = Math.floor(Date.now() / 1000)): Promise<string> {
	return new SignJWT({ email: claims.email, role: claims.role, permissions: claims.permissions, sid: claims.sid })
		.setProtectedHeader({ alg: "HS256", typ: "JWT" })
		.setSubject(claims.sub)
		.setIssuer(ISSUER)
		.setAudience(AUDIENCE)
		.setIssuedAt(nowS)
		.setExpirationTime(nowS + ACCESS_TTL_S)
		.setJti(crypto.randomUUID())
		.sign(keyOf(secret));
}

export async function verifyAccessToken(token: string, secret: string): Promise<AccessClaims & { exp: number }> {
	try {
		const { payload } = await jwtVerify(token, keyOf(secret), { algorithms: ["HS256"], issuer: ISSUER, audience: AUDIENCE });
		if (typeof payload.sub !== "string" || typeof payload.sid !== "string") throw new TokenError("INVALID_TOKEN");
		return {
			sub: payload.sub,
			email: String(payload.email ?? ""),
			role: String(payload.role ?? ""),
			permissions: Array.isArray(payload.permissions) ? payload.permissions.map(String) : [],
			sid: payload.sid,
			exp: Number(payload.exp)
		};
	} catch (err) {
		if (err instanceof TokenError) throw err;
		if (err instanceof errors.JWTExpired) throw new TokenError("TOKEN_EXPIRED");
		throw new TokenError("INVALID_TOKEN");
	}
}

export function newRefreshToken(): string {
	return crypto.randomBytes(32).toString("base64url");
}

export function hashToken(token: string): string {
	return crypto.createHash("sha256").update(token).digest("hex");
}

/** Named API keys: `rk_<8-char id>_<secret>`; the id finds the record, the hash is compared in constant time. */
export function newApiKey(): { key: string; prefix: string; hash: string } {
	const prefix = crypto.randomBytes(6).toString("base64url").replace(/[-_]/g, "x").slice(0, 8);
	const key = `rk_${prefix}_${crypto.randomBytes(24).toString("base64url")}`;
	return { key, prefix, hash: hashToken(key) };
}

export function apiKeyPrefix(key: string): string | null {
	const m = /^rk_([A-Za-z0-9]{8})_[A-Za-z0-9_-]{20,}$/.exec(key);
	return m ? m[1] : null;
}

export function hashEquals(a: string, b: string): boolean {
	const x = Buffer.from(a, "hex");
	const y = Buffer.from(b, "hex");
	return x.length === y.length && crypto.timingSafeEqual(x, y);
}
