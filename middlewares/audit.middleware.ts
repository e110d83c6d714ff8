/**
 * The one audit mechanism of the console and face API: every mutation (an action routed as
 * POST, PUT, PATCH or DELETE) reached from outside writes an audit document when it
 * succeeds, and when it is refused for who the caller is (401, 403, 429: failed logins,
 * refresh-token reuse, forbidden attempts). The action may add what only it knows through
 * `ctx.meta.$audit` (actor of a login, resource id, severity). Validation failures are not
 * audited: nothing happened. The integration routes keep their domain events (session.started, ...).
 */
import type { ActionSchema, Context, Middleware } from "moleculer";
import { MUTATING } from "../lib/api/route-facts";
import type { GatewayMeta } from "../services/schema";
import { fromEdge } from "./permissions.middleware";

const SECRET_KEY = /pass(word)?|token|secret|apikey|api_key|^key$|authorization/i;

/** The params worth keeping, without secrets, bounded in size. */
export function auditContext(params: unknown, omit: string[] = []): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	if (!params || typeof params !== "object") return out;
	for (const [k, v] of Object.entries(params as Record<string, unknown>)) {
		if (SECRET_KEY.test(k) || omit.includes(k) || k.startsWith("$")) continue;
		if (Buffer.isBuffer(v)) out[k] = `<${v.length} bytes>`;
		else out[k] = v;
	}
	const text = JSON.stringify(out);
	return text.length > 4000 ? { truncated: text.slice(0, 4000) } : out;
}

function restMethod(action: ActionSchema): string | null {
	const rest = Array.isArray(action.rest) ? action.rest[0] : action.rest;
	return typeof rest === "string" ? (rest.trim().split(/\s+/)[0] ?? "").toUpperCase() : null;
}

const idOf = (v: unknown): string | undefined => {
	if (!v || typeof v !== "object") return undefined;
	const o = v as Record<string, unknown>;
	const id = o.id ?? o._id;
	return id === undefined || id === null ? undefined : String(id);
};

export const AuditMiddleware: Middleware = {
	name: "Audit",
	localAction(next: (ctx: Context) => Promise<unknown>, action: ActionSchema) {
		const method = restMethod(action);
		const family = action.family ?? (action.service?.settings as { family?: string } | undefined)?.family;
		if (!method || !MUTATING.has(method) || action.audit === false || (family !== "console" && family !== "face")) return next;
		const facts = action.audit || {};
		const resource = facts.resource ?? (action.service?.settings as { resource?: string } | undefined)?.resource ?? action.service?.name ?? "";
		const summary = action.openapi?.summary ?? String(action.name);

		async function record(ctx: Context<Record<string, unknown>, GatewayMeta>, outcome: "success" | "failure", result: unknown, err?: { code?: unknown; type?: unknown; message?: string }) {
			const note = ctx.meta.$audit ?? {};
			const user = ctx.meta.user;
			const doc = {
				action: note.action ?? String(action.name),
				actor: note.actor ?? user?.email ?? user?.name ?? "anonymous",
				actorRole: note.actorRole ?? user?.roleId,
				resourceType: resource,
				resourceId: note.resourceId ?? (ctx.params?.id !== undefined ? String(ctx.params.id) : idOf(result)),
				message: note.message ?? (outcome === "success" ? summary : `${summary}: refused (${String(err?.type ?? err?.code)})`),
				severity: note.severity ?? (outcome === "failure" ? "warning" : method === "DELETE" ? "warning" : (facts.severity ?? "info")),
				outcome,
				context: { ...auditContext(ctx.params, facts.omit), ...(note.context ?? {}), ...(err ? { code: err.type, status: err.code } : {}) },
				ip: ctx.meta.request?.ip,
				userAgent: ctx.meta.request?.userAgent,
				requestId: ctx.meta.request?.requestId ?? ctx.requestID
			};
			try {
				await ctx.call("audit.record", doc, { meta: { $audit: undefined } });
			} catch (e) {
				ctx.service?.logger.error("Audit document not written", { action: doc.action, error: (e as Error).message });
			}
		}

		return async function audited(ctx: Context<Record<string, unknown>, GatewayMeta>) {
			if (!fromEdge(ctx)) return next(ctx);
			try {
				const result = await next(ctx);
				await record(ctx, "success", result);
				return result;
			} catch (err) {
				const status = Number((err as { code?: unknown }).code);
				if (status === 401 || status === 403 || status === 429 || ctx.meta.$audit) await record(ctx, "failure", null, err as object);
				throw err;
			}
		};
	}
} as Middleware;
