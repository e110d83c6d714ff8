/**
 * The services' side of the outbound-URL policy (lib/net/outbound.ts): a node's policy from
 * its configuration, and a refusal turned into the API's 400 `URL_NOT_ALLOWED` (naming the
 * rule) with its audit entry `outbound.refused`. Every place that opens a caller's URL uses
 * these: streams (test-connection, capture-frame), recognition (process-session), enrollment
 * (videoUrl), cameras (stream URLs), callbacks (delivery), monitors and camera actors.
 */
import type { Context, ServiceBroker } from "moleculer";
import type { Config } from "../config";
import { ApiError } from "../lib/errors";
import { OutboundPolicy, OutboundResolveError, UrlNotAllowed, type CheckedUrl, type OutboundUse } from "../lib/net/outbound";
import { VideoSourceError } from "../lib/video/errors";
import type { GatewayMeta } from "./schema";

const policies = new WeakMap<Config, OutboundPolicy>();

/** The policy of this node's configuration (one per Config). */
export function outboundPolicy(cfg: Config): OutboundPolicy {
	let p = policies.get(cfg);
	if (!p) policies.set(cfg, (p = OutboundPolicy.fromConfig(cfg)));
	return p;
}

export interface RefusalFacts {
	rule: string;
	url: string;
	address: string | null;
	message: string;
}

/** The refusal in an error, if it is one: from the policy itself or from a frame source. */
export function refusalOf(err: unknown): RefusalFacts | null {
	if (err instanceof UrlNotAllowed) return { rule: err.rule, url: err.url, address: err.address, message: err.message };
	if (err instanceof VideoSourceError && err.code === "URL_NOT_ALLOWED" && err.refusal) return { ...err.refusal, message: err.message };
	return null;
}

/** Write the audit entry of a refusal (never fails the caller). */
export async function auditRefusal(broker: ServiceBroker, ctx: Context<unknown, GatewayMeta> | null, r: RefusalFacts, use: OutboundUse, field: string, extra: Record<string, unknown> = {}): Promise<void> {
	const user = ctx?.meta.user;
	try {
		await broker.call(
			"audit.record",
			{
				action: "outbound.refused",
				actor: user?.email ?? user?.name ?? (ctx?.meta.request ? "api-key" : broker.nodeID),
				actorRole: user?.roleId,
				resourceType: "outbound-url",
				resourceId: r.url.slice(0, 200),
				message: r.message,
				severity: "warning",
				outcome: "failure",
				context: { use, field, rule: r.rule, address: r.address, url: r.url, ...extra },
				ip: ctx?.meta.request?.ip,
				requestId: ctx?.meta.request?.requestId ?? ctx?.requestID
			},
			{ meta: { $audit: undefined } }
		);
	} catch (e) {
		broker.logger.error("Audit document not written", { action: "outbound.refused", error: (e as Error).message });
	}
}

/** The API's answer to a refusal: 400 URL_NOT_ALLOWED naming the rule. */
export function notAllowed(r: RefusalFacts, field: string): ApiError {
	return new ApiError(400, "URL_NOT_ALLOWED", `${field}: ${r.message}`, { details: [{ field, issue: r.rule }], rule: r.rule });
}

/**
 * Check a caller's URL at the door: a refusal is audited and thrown as 400 URL_NOT_ALLOWED.
 * A name that does not resolve passes here (the open that follows reports it as a connection
 * failure, and checks again).
 */
export async function guardUrl(ctx: Context<unknown, GatewayMeta>, cfg: Config, raw: string, use: OutboundUse, field: string): Promise<CheckedUrl | null> {
	try {
		return await outboundPolicy(cfg).check(raw, use, { unresolved: "pass" });
	} catch (err) {
		if (err instanceof OutboundResolveError) return null;
		const r = refusalOf(err);
		if (!r) throw err;
		await auditRefusal(ctx.broker, ctx, r, use, field);
		throw notAllowed(r, field);
	}
}

/** A frame source's refusal (a redirect, a name now resolving elsewhere) at the door: audited, 400. */
export async function rethrowRefusal(ctx: Context<unknown, GatewayMeta>, err: unknown, use: OutboundUse, field: string): Promise<void> {
	const r = refusalOf(err);
	if (!r) return;
	await auditRefusal(ctx.broker, ctx, r, use, field);
	throw notAllowed(r, field);
}
