/**
 * Spool an uploaded stream to a temporary file under a configured folder, counting bytes
 * on the way: past `maxBytes` the write stops and the file is removed, so a large upload
 * never sits in memory and never stays on disk. The caller removes the file when done.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

export class UploadTooLargeError extends Error {
	constructor(readonly maxBytes: number) {
		super(`upload exceeds ${maxBytes} bytes`);
	}
}

export interface Spooled {
	path: string;
	bytes: number;
	/** The first bytes, for recognising the format by content. */
	head: Buffer;
}

const HEAD_BYTES = 64;

export async function spoolUpload(source: Readable, dir: string, maxBytes: number): Promise<Spooled> {
	fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
	const file = path.join(dir, `upload-${Date.now()}-${crypto.randomBytes(6).toString("hex")}.tmp`);
	let bytes = 0;
	const heads: Buffer[] = [];
	let headBytes = 0;
	const counter = new Transform({
		transform(chunk: Buffer, _enc, done) {
			bytes += chunk.length;
			if (bytes > maxBytes) return done(new UploadTooLargeError(maxBytes));
			if (headBytes < HEAD_BYTES) {
				heads.push(chunk.subarray(0, HEAD_BYTES - headBytes));
				headBytes += Math.min(chunk.length, HEAD_BYTES - headBytes);
			}
			done(null, chunk);
		}
	});
	try {
		await pipeline(source, counter, fs.createWriteStream(file, { mode: 0o600 }));
	} catch (err) {
		fs.rmSync(file, { force: true });
		// Drain what is left so the sender is not left hanging.
		if (!source.destroyed) source.resume();
		throw err;
	}
	return { path: file, bytes, head: Buffer.concat(heads) };
}
