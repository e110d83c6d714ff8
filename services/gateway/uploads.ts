/**
 * Streamed multipart uploads: the declared field is piped to the action (on whichever node
 * runs it) as it arrives, never buffered here; past the size limit the stream is cut and the
 * answer is the action's declared `tooLarge` error. The other form fields go along as params.
 */
import type { IncomingMessage } from "node:http";
import { PassThrough } from "node:stream";
import Busboy from "@fastify/busboy";
import type { Context } from "moleculer";
import { ApiError } from "../../lib/errors";
import type { UploadFacts } from "../../lib/api/route-facts";

/** Resolves with the action's result; rejects with the error to answer. */
export function streamUpload(ctx: Context, req: IncomingMessage, action: string, facts: UploadFacts): Promise<unknown> {
	const missing = () => new ApiError(400, facts.missing.code, facts.missing.message);
	const tooLarge = () => new ApiError(400, facts.tooLarge.code, facts.tooLarge.message);
	return new Promise((resolve, reject) => {
		const fail = (err: unknown) => {
			req.unpipe();
			req.resume(); // read the rest so the client sees the answer, not a reset
			reject(err);
		};
		if (!/^multipart\/form-data/i.test(req.headers["content-type"] ?? "")) return fail(missing());
		// Multipart framing adds a little; a declared length well past the limit is refused unread.
		if (Number(req.headers["content-length"]) > facts.maxBytes + 1024 * 1024) return fail(tooLarge());

		let busboy: ReturnType<typeof Busboy>;
		try {
			busboy = Busboy({ headers: req.headers as never, limits: { files: 1, fileSize: facts.maxBytes, fields: 20, fieldSize: 4096, parts: 40 } });
		} catch {
			return fail(missing());
		}
		const fields: Record<string, string> = {};
		let call: Promise<unknown> | null = null;
		let truncated = false;
		busboy.on("field", (name: string, value: string) => {
			if (!call && /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name)) fields[name] = value;
		});
		busboy.on("file", (field: string, file: NodeJS.ReadableStream & { resume(): void; unpipe(): void }, filename: string, _enc: string, mimetype: string) => {
			if (field !== facts.field || call) return file.resume();
			const pass = new PassThrough();
			file.on("limit", () => {
				truncated = true;
				file.unpipe();
				pass.destroy(tooLarge());
				file.resume();
			});
			file.pipe(pass);
			call = ctx.call(action, { ...fields, filename, mimetype }, { stream: pass } as never);
			// An early refusal must not leave the upload stalled behind a full pipe.
			call.catch(() => {
				file.unpipe();
				file.resume();
			});
		});
		busboy.on("error", () => fail(missing()));
		busboy.on("finish", async () => {
			if (!call) return fail(missing());
			try {
				const data = await call;
				if (truncated) return fail(tooLarge());
				resolve(data);
			} catch (err) {
				fail(truncated ? tooLarge() : err);
			}
		});
		req.pipe(busboy);
	});
}
