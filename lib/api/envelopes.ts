/**
 * The answer shapes of the gateway's API families, success and error, from one error model:
 * - integration (FUACS spec): `{status, message, data}` / `{status, message, code}`
 * - console (seed 002): `{success: true, data, meta?}` / `{success: false, error: {code, message, details?}, requestId}`
 * - face (seed 001): the data itself / `{detail, code}` (FastAPI's shape, which seed 001 shows)
 */
import { ApiError } from "../errors";
import type { Family } from "./route-facts";

export interface ErrorLike {
	code?: unknown;
	type?: unknown;
	message?: string;
	data?: unknown;
	status?: number;
	statusCode?: number;
}

/** One error, whatever its origin, as status + code + message (+ field details). */
export interface Problem {
	status: number;
	code: string;
	message: string;
	details?: { field: string; issue: string }[];
	retryAfter?: number;
}

/** Map any error (ours, Moleculer's, moleculer-web's, the body parser's) to a Problem. */
export function toProblem(err: ErrorLike): Problem {
	if (err instanceof ApiError || (err as { name?: string }).name === "ApiError") {
		const data = (err.data ?? {}) as { details?: Problem["details"]; retryAfter?: number };
		return { status: Number(err.code), code: String(err.type), message: err.message ?? "", details: data.details, retryAfter: data.retryAfter };
	}
	const httpStatus = err.status ?? err.statusCode;
	if (httpStatus === 413 || err.type === "entity.too.large") return { status: 413, message: "Request body is too large", code: "PAYLOAD_TOO_LARGE" };
	if (err.type === "entity.parse.failed") return { status: 400, message: "Request body is not valid JSON", code: "INVALID_JSON" };
	if (err.type === "VALIDATION_ERROR") {
		const items = Array.isArray(err.data) ? (err.data as { field?: string; message?: string; type?: string; actual?: unknown }[]) : [];
		// An unknown field is reported on its object ("objectStrict"): name the field itself.
		const details = items.flatMap(d =>
			d.type === "objectStrict" && typeof d.actual === "string"
				? d.actual.split(/,\s*/).map(k => ({ field: d.field ? `${d.field}.${k}` : k, issue: `unknown field ${d.field ? `${d.field}.${k}` : k}` }))
				: [{ field: String(d.field ?? ""), issue: d.message ?? String(d.type ?? "invalid") }]
		);
		return { status: 400, message: details.length ? details.map(d => d.issue).join("; ") : "Parameters validation error", code: "VALIDATION_ERROR", details };
	}
	const code = typeof err.code === "number" ? err.code : 500;
	if (code === 404 && err.type === "NOT_FOUND") return { status: 404, message: "Not found", code: "NOT_FOUND" };
	if (err.type === "SERVICE_NOT_FOUND" || err.type === "SERVICE_NOT_AVAILABLE")
		return { status: 503, message: "No node can serve this request right now", code: "SERVICE_UNAVAILABLE" };
	if (err.type === "REQUEST_TIMEOUT") return { status: 504, message: "The request timed out", code: "REQUEST_TIMEOUT" };
	if (code >= 400 && code < 500 && typeof err.type === "string") return { status: code, message: err.message ?? "Bad request", code: err.type };
	return { status: 500, message: "Internal server error", code: "INTERNAL_ERROR" };
}

/** The FUACS error envelope (kept under this name: the spec's tests pin it). */
export function errorEnvelope(err: ErrorLike): { status: number; message: string; code: string } {
	const p = toProblem(err);
	return { status: p.status, message: p.message, code: p.code };
}

export interface Paged {
	rows: unknown[];
	page: number;
	pageSize: number;
	total: number;
	totalPages: number;
}

export function successBody(family: Family, status: number, message: string, data: unknown, paged: boolean): unknown {
	switch (family) {
		case "integration":
			return { status, message, data };
		case "console": {
			if (paged && data && typeof data === "object" && Array.isArray((data as Paged).rows)) {
				const p = data as Paged;
				return { success: true, data: p.rows, meta: { page: p.page, pageSize: p.pageSize, total: p.total, totalPages: p.totalPages } };
			}
			return { success: true, data };
		}
		case "face":
			return data;
	}
}

export function errorBody(family: Family, p: Problem, requestId: string): unknown {
	switch (family) {
		case "integration":
			return { status: p.status, message: p.message, code: p.code };
		case "console":
			return { success: false, error: { code: p.code, message: p.message, ...(p.details?.length ? { details: p.details } : {}) }, requestId };
		case "face":
			return { detail: p.message, code: p.code, requestId };
	}
}

/** A caller's X-Request-Id is kept when it is a sane token; otherwise the gateway makes one. */
export function saneRequestId(v: unknown): string | null {
	return typeof v === "string" && /^[A-Za-z0-9._:-]{8,128}$/.test(v) ? v : null;
}
