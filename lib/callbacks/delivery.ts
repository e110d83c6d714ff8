/**
 * Delivery of recognition results to the Java backend: `POST {callbackUrl}` with the shared
 * X-API-Key and a JSON body {slotId, roomId, batchId, results: [...]}, at most 100 results
 * per request, a 30 s timeout, 3 attempts with exponential backoff (the spec); beyond the
 * spec, the outbox keeps failed results pending and retries them with capped backoff.
 */
import crypto from "node:crypto";
import { outboundRequest, UrlNotAllowed, type OutboundPolicy } from "../net/outbound";

export const MAX_BATCH = 100;
export const REQUEST_TIMEOUT_MS = 30_000;
export const ATTEMPTS_PER_DELIVERY = 3;

export interface CallbackResult {
	recognitionId: string;
	userId: number;
	rollNumber: string;
	fullName: string;
	cameraId: number;
	confidence: number;
	recognizedAt: string;
	embeddingVersion: number;
}

export interface CallbackBody {
	slotId: number;
	roomId: number | null;
	batchId: string;
	results: CallbackResult[];
}

/** Exponential backoff, capped: base * 2^attempt, at most max (ms). */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
	return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
}

export interface PostOptions {
	apiKey: string;
	/** The outbound-URL policy: every hop checked, the connection made to the checked address. */
	policy: OutboundPolicy;
	timeoutMs?: number;
	attempts?: number;
	/** Wait before the 2nd, 3rd... attempt: base * 2^(n-1) ms. */
	retryBaseMs?: number;
	signal?: AbortSignal;
}

export interface PostOutcome {
	ok: boolean;
	status: number | null;
	error: string | null;
	attempts: number;
	/** The policy refused the URL (or a redirect): not retried. */
	refusal?: UrlNotAllowed;
}

const sleep = (ms: number, signal?: AbortSignal) =>
	new Promise<void>(resolve => {
		const t = setTimeout(resolve, ms);
		signal?.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
	});

/** POST one batch, with the spec's 3 attempts. Any 2xx is delivered; anything else is retried. */
export async function postBatch(url: string, body: CallbackBody, opts: PostOptions): Promise<PostOutcome> {
	const attempts = opts.attempts ?? ATTEMPTS_PER_DELIVERY;
	let last: PostOutcome = { ok: false, status: null, error: "not attempted", attempts: 0 };
	for (let i = 0; i < attempts; i++) {
		if (i > 0) await sleep((opts.retryBaseMs ?? 1000) * 2 ** (i - 1), opts.signal);
		if (opts.signal?.aborted) break;
		try {
			const res = await outboundRequest(opts.policy, "callback", url, {
				method: "POST",
				headers: { "Content-Type": "application/json", "X-API-Key": opts.apiKey, "Idempotency-Key": body.batchId },
				body: JSON.stringify(body),
				timeoutMs: opts.timeoutMs ?? REQUEST_TIMEOUT_MS,
				signal: opts.signal,
				maxBytes: 1024 * 1024
			});
			if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, error: null, attempts: i + 1 };
			last = { ok: false, status: res.status, error: `HTTP ${res.status}`, attempts: i + 1 };
		} catch (err) {
			const e = err as Error;
			if (err instanceof UrlNotAllowed) return { ok: false, status: null, error: `URL_NOT_ALLOWED: ${err.message}`, attempts: i + 1, refusal: err };
			last = { ok: false, status: null, error: e.name === "TimeoutError" ? "timeout" : (e.cause as Error | undefined)?.message ?? e.message, attempts: i + 1 };
		}
	}
	return last;
}

export const newBatchId = () => crypto.randomUUID();
