import { LoginThrottle } from "../../../lib/auth/throttle";
import { hashPassword, passwordProblem, verifyPassword } from "../../../lib/auth/passwords";
import { apiKeyPrefix, hashEquals, hashToken, newApiKey, signAccessToken, TokenError, verifyAccessToken } from "../../../lib/auth/tokens";
import { hasAdminRights, permissionsOf, ROLES } from "../../../lib/auth/roles";
import { maskSecret, SecretBox } from "../../../lib/crypto/secrets";

describe("login throttle", () => {
	it("slows a key down after slowAfter failures, locks it after lockAfter, forgets after the window", () => {
		let now = 0;
		const t = new LoginThrottle({ slowAfter: 2, lockAfter: 4, windowMs: 1000, delayStepMs: 100, maxDelayMs: 250 }, () => now);
		expect(t.delayMs("k")).toBe(0);
		t.fail("k");
		t.fail("k");
		expect(t.delayMs("k")).toBe(100);
		t.fail("k");
		expect(t.delayMs("k")).toBe(200);
		expect(t.lockedFor("k")).toBe(0);
		t.fail("k");
		expect(t.delayMs("k")).toBe(250);
		expect(t.lockedFor("k")).toBe(1);
		now = 1000;
		expect(t.lockedFor("k")).toBe(0);
		t.fail("j");
		t.succeed("j");
		expect(t.delayMs("j")).toBe(0);
	});
});

describe("passwords", () => {
	it("hashes with Argon2id and verifies; an unknown account verifies false", async () => {
		const h = await hashPassword("correct horse battery");
		expect(h).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
		expect(await verifyPassword(h, "correct horse battery")).toBe(true);
		expect(await verifyPassword(h, "correct horse batterz")).toBe(false);
		expect(await verifyPassword(null, "anything")).toBe(false);
		expect(passwordProblem("short")).toMatch(/10/);
		expect(passwordProblem("aaaaaaaaaaaa")).toMatch(/simple/);
		expect(passwordProblem("a-good-passphrase")).toBeNull();
	});
});

describe("tokens", () => {
	const secret = "s".repeat(40);
	const claims = { sub: "u1", email: "a@b.c", role: "ROLE-VIEWER", permissions: ["cameras:read"], sid: "f1" };
	it("signs and verifies access tokens; expired and foreign ones are told apart", async () => {
		const t = await signAccessToken(claims, secret);
		expect(await verifyAccessToken(t, secret)).toEqual(expect.objectContaining(claims));
		await expect(verifyAccessToken(t, "x".repeat(40))).rejects.toEqual(new TokenError("INVALID_TOKEN"));
		const old = await signAccessToken(claims, secret, Math.floor(Date.now() / 1000) - 3600);
		await expect(verifyAccessToken(old, secret)).rejects.toMatchObject({ code: "TOKEN_EXPIRED" });
		await expect(verifyAccessToken("not.a.jwt", secret)).rejects.toMatchObject({ code: "INVALID_TOKEN" });
	});
	it("makes API keys found by prefix and compared by hash", () => {
		const k = newApiKey();
		expect(apiKeyPrefix(k.key)).toBe(k.prefix);
		expect(hashEquals(k.hash, hashToken(k.key))).toBe(true);
		expect(hashEquals(k.hash, hashToken(k.key + "x"))).toBe(false);
		expect(apiKeyPrefix("rk_short")).toBeNull();
	});
});

describe("roles", () => {
	it("are the seed's three, the admin's everything", () => {
		expect(ROLES.map(r => r.id)).toEqual(["ROLE-ADMIN", "ROLE-OPERATOR", "ROLE-VIEWER"]);
		expect(hasAdminRights("ROLE-ADMIN")).toBe(true);
		expect(hasAdminRights("ROLE-OPERATOR")).toBe(false);
		expect(permissionsOf("ROLE-VIEWER").every(p => p.endsWith(":read"))).toBe(true);
		expect(permissionsOf("ROLE-NOBODY")).toEqual([]);
	});
});

describe("secrets at rest", () => {
	const box = new SecretBox(Buffer.alloc(32, 7));
	it("seals and opens a value for its purpose only", () => {
		const sealed = box.seal("hunter2", "camera:CAM-01");
		expect(sealed).not.toContain("hunter2");
		expect(box.seal("hunter2", "camera:CAM-01")).not.toBe(sealed);
		expect(box.open(sealed, "camera:CAM-01")).toBe("hunter2");
		expect(() => box.open(sealed, "odoo:apiKey")).toThrow();
		expect(() => new SecretBox(Buffer.alloc(32, 8)).open(sealed, "camera:CAM-01")).toThrow();
		expect(() => box.open(sealed.slice(0, -2) + "AA", "camera:CAM-01")).toThrow();
	});
	it("masks what users see", () => {
		expect(maskSecret("hunter2-long")).toBe("••••••ng");
		expect(maskSecret("abc")).toBe("••••••");
		expect(maskSecret("")).toBeNull();
	});
});
