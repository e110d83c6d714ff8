/**
 * Moleculer logger formatter that writes one JSON object per line:
 * {timestamp, level, message, nodeID, service, ...fields}. An object passed as the last
 * argument contributes its fields (slotId, cameraId, userId, ...), so call sites write
 * `this.logger.info("Session started", { slotId })`.
 */
import { redactUrl } from "../url";

type Bindings = { nodeID?: string; ns?: string; mod?: string; svc?: string; ver?: string | number };

function describe(value: unknown): string {
	if (value instanceof Error) return value.message;
	if (typeof value === "string") return value;
	try {
		return JSON.stringify(value);
	} catch {
		return String(value);
	}
}

/** user:password of a percent-encoded URL inside a query string (`?rtspUrl=rtsp%3A%2F%2Fadmin%3Apw%40host`). */
const ENCODED_CREDENTIALS = /(%3A%2F%2F)((?:(?!%2F|%40)[^\s"'&/?#])+)%40/gi;

/** Credentials inside URLs, plain or percent-encoded, never reach a log line. */
export function scrub(value: unknown): unknown {
	if (typeof value === "string") {
		let out = value.includes("://") ? value.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s"']+/gi, m => redactUrl(m)) : value;
		if (/%3A%2F%2F/i.test(out)) out = out.replace(ENCODED_CREDENTIALS, "$1***%3A***%40");
		return out;
	}
	if (Array.isArray(value)) return value.map(scrub);
	if (value && typeof value === "object" && !(value instanceof Error)) {
		const out: Record<string, unknown> = {};
		for (const [k, v] of Object.entries(value)) out[k] = /^(apikey|api_key|x-api-key|password|secret|token)$/i.test(k) ? "[redacted]" : scrub(v);
		return out;
	}
	return value;
}

export function formatLogLine(level: string, args: unknown[], bindings: Bindings = {}, now = new Date()): string {
	const rest = [...args];
	let fields: Record<string, unknown> = {};
	let error: Error | undefined;
	const last = rest[rest.length - 1];
	if (rest.length > 1 && last && typeof last === "object" && !Array.isArray(last) && !(last instanceof Error)) {
		fields = scrub(rest.pop()) as Record<string, unknown>;
	}
	for (const a of rest) if (a instanceof Error) error = a;
	const line: Record<string, unknown> = {
		timestamp: now.toISOString(),
		level,
		message: scrub(rest.map(describe).join(" ")),
		nodeID: bindings.nodeID,
		service: bindings.svc ?? bindings.mod,
		...fields
	};
	if (error) {
		line.error = error.message;
		const code = (error as { type?: unknown; code?: unknown }).type ?? (error as { code?: unknown }).code;
		if (code !== undefined) line.errorCode = code;
	}
	return JSON.stringify(line);
}

export function jsonFormatter(type: string, args: unknown[], bindings: Bindings): string[] {
	return [formatLogLine(type, args, bindings)];
}

/** Development logs (LOG_FORMAT=pretty): one readable line, scrubbed like the JSON ones. */
export function prettyFormatter(type: string, args: unknown[], bindings: Bindings): string[] {
	const parts = args.map(a => (typeof a === "string" ? (scrub(a) as string) : a instanceof Error ? a.message : describe(scrub(a))));
	return [`[${new Date().toISOString()}] ${type.toUpperCase().padEnd(5)} ${bindings.nodeID ?? ""}/${bindings.svc ?? bindings.mod ?? ""}: ${parts.join(" ")}`];
}
