import crypto from "node:crypto";

/**
 * Constant-time comparison of a presented secret with the expected one. Both sides are
 * hashed first so neither the length nor a common prefix leaks through timing.
 */
export function secretEquals(presented: unknown, expected: string): boolean {
	if (typeof presented !== "string" || presented.length === 0 || presented.length > 1024) return false;
	const a = crypto.createHash("sha256").update(presented).digest();
	const b = crypto.createHash("sha256").update(expected).digest();
	return crypto.timingSafeEqual(a, b);
}
