/**
 * Secrets at rest (camera stream credentials, Odoo and provider keys): AES-256-GCM with a key
 * from SECRETS_KEY (32 bytes, base64 or hex), a random 96-bit nonce per value, and the value's
 * purpose bound as associated data, so a camera password cannot be pasted in as an Odoo key.
 * Stored as `v1:<nonce>:<ciphertext+tag>` (base64url).
 */
import crypto from "node:crypto";

export class SecretBox {
	private readonly key: Buffer;

	constructor(key: Buffer) {
		if (key.length !== 32) throw new Error("SECRETS_KEY must be 32 bytes");
		this.key = key;
	}

	static fromString(raw: string): SecretBox {
		const key = /^[0-9a-f]{64}$/i.test(raw) ? Buffer.from(raw, "hex") : Buffer.from(raw, "base64");
		return new SecretBox(key);
	}

	seal(plain: string, purpose: string): string {
		const nonce = crypto.randomBytes(12);
		const c = crypto.createCipheriv("aes-256-gcm", this.key, nonce);
		c.setAAD(Buffer.from(purpose));
		const body = Buffer.concat([c.update(plain, "utf8"), c.final(), c.getAuthTag()]);
		return `v1:${nonce.toString("base64url")}:${body.toString("base64url")}`;
	}

	open(sealed: string, purpose: string): string {
		const [v, n, b] = sealed.split(":");
		if (v !== "v1" || !n || !b) throw new Error("not a sealed secret");
		const body = Buffer.from(b, "base64url");
		const d = crypto.createDecipheriv("aes-256-gcm", this.key, Buffer.from(n, "base64url"));
		d.setAAD(Buffer.from(purpose));
		d.setAuthTag(body.subarray(body.length - 16));
		return Buffer.concat([d.update(body.subarray(0, body.length - 16)), d.final()]).toString("utf8");
	}
}

/** What users see of a secret: its length hidden, its last two characters at most. */
export function maskSecret(s: string | null | undefined): string | null {
	if (!s) return null;
	return s.length <= 6 ? "••••••" : `••••••${s.slice(-2)}`;
}
