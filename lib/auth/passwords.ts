/**
 * Password hashing: Argon2id (memory-hard) at OWASP's minimum profile (19 MiB, 2 passes, 1
 * lane), from a maintained native package. The hash string carries its own parameters, so
 * raising them later still verifies old hashes.
 */
import { hash, verify } from "@node-rs/argon2";

const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Passwords the console accepts: 10 to 256 characters, not all the same character. */
export function passwordProblem(pw: string): string | null {
	if (pw.length < 10) return "must be at least 10 characters";
	if (pw.length > 256) return "must be at most 256 characters";
	if (new Set(pw).size < 3) return "is too simple";
	return null;
}

export function hashPassword(pw: string): Promise<string> {
	return hash(pw, OPTIONS);
}

/** A fixed hash verified when the account does not exist, so both answers take as long. */
let dummy: Promise<string> | null = null;

export async function verifyPassword(stored: string | null | undefined, pw: string): Promise<boolean> {
	if (!stored) {
		dummy ??= hashPassword("not-a-password-of-anyone");
		await verify(await dummy, pw).catch(() => false);
		return false;
	}
	try {
		return await verify(stored, pw);
	} catch {
		return false;
	}
}
