/**
 * Odoo integration, the settings and the state (storage role; seed 002 "Odoo Integration",
 * `odoo_config`): one document with the connection (baseUrl, database, company, username,
 * the API key sealed at rest and only ever shown masked, the hr.employee field matched
 * against employeeId, autoSync), its status, the last sync and the counters.
 *
 * Routes: GET/PUT /odoo/config, POST /odoo/test (the stored settings, or the ones given,
 * tried against Odoo), POST /odoo/sync (202 with an `odoo.sync` job: services/odoo-sync.service.ts
 * runs it), GET /odoo/status; GET /odoo/logs is services/console/odoo-sync-logs.service.ts.
 * `odoo:read` (admins, operators), `odoo:write` (admins).
 *
 * For other services (not routed): `connection` (the settings with the key opened, for the
 * sync workers), `recordRun {ok, error, counts, pending}` (after each sync run: lastSync,
 * failureCount = runs failed in a row, status; raises the `odoo:sync` alert once
 * ODOO_ALERT_FAILURES runs in a row failed and resolves it after a good one).
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { DbMixin } from "../../mixins/db.mixin";
import { SecretBox, maskSecret } from "../../lib/crypto/secrets";
import { ApiError, badRequest } from "../../lib/errors";
import { OdooClient } from "../../lib/odoo/client";
import { MATCH_FIELDS, ODOO_STATUSES, SECRET_PURPOSE, afterRun, checkBaseUrl, type ConnectionStatus, type MatchField } from "../../lib/odoo/config";
import { probe } from "../../lib/odoo/sync";
import { OdooError } from "../../lib/odoo/wire";
import { outboundFetch } from "../../lib/net/outbound";
import { JOB_RESPONSE } from "../jobs.service";
import { guardUrl, outboundPolicy } from "../outbound-guard";
import type { DbVars, GatewayMeta, Implements } from "../schema";

export const CONFIG_ID = "odoo";
export const SYNC_KIND = "odoo.sync";
export const AUTO_SYNC = "odoo.auto-sync";
export const ALERT_CAUSE = "odoo:sync";

export interface OdooConfigDoc {
	_id: string;
	baseUrl: string | null;
	database: string | null;
	company: string | null;
	username: string | null;
	apiKeySealed: string | null;
	matchField: MatchField;
	autoSync: boolean;
	status: ConnectionStatus;
	statusMessage: string | null;
	serverVersion: string | null;
	lastTestAt: Date | null;
	lastSync: Date | null;
	lastSyncResult: Record<string, unknown> | null;
	lastSyncError: string | null;
	pendingCount: number;
	failureCount: number;
	syncRuns: number;
	createdAt: Date;
	updatedAt: Date;
	updatedBy: string | null;
	version: number;
}

/** What the sync workers get (`odoo.connection`). */
export interface OdooSettings {
	configured: boolean;
	baseUrl: string;
	database: string;
	company: string | null;
	username: string;
	apiKey: string;
	matchField: MatchField;
	autoSync: boolean;
}

interface ConfigInput {
	baseUrl?: string;
	database?: string;
	company?: string | null;
	username?: string;
	apiKey?: string | null;
	matchField?: MatchField;
	autoSync?: boolean;
}

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);

const CONFIG_RESPONSE = {
	type: "object",
	properties: {
		baseUrl: { type: ["string", "null"] },
		database: { type: ["string", "null"] },
		company: { type: ["string", "null"] },
		username: { type: ["string", "null"] },
		apiKey: { type: ["string", "null"], description: "masked; never returned in clear" },
		apiKeySet: { type: "boolean" },
		matchField: { type: "string", enum: [...MATCH_FIELDS], description: "hr.employee field matched against the attendance log's employeeId" },
		autoSync: { type: "boolean" },
		autoSyncIntervalMs: { type: "integer", description: "ODOO_SYNC_INTERVAL_MS (0: auto-sync off on this cluster)" },
		configured: { type: "boolean" },
		status: { type: "string", enum: [...ODOO_STATUSES] },
		statusMessage: { type: ["string", "null"] },
		lastSync: { type: ["string", "null"], format: "date-time" },
		pendingCount: { type: "integer", description: "attendance logs waiting for Odoo" },
		failedCount: { type: "integer", description: "attendance logs Odoo refused (not retried until they change or are sent again by id)" },
		failureCount: { type: "integer", description: "sync runs failed in a row" },
		updatedAt: { type: ["string", "null"], format: "date-time" }
	}
};

const text = (max: number) => ({ type: "string", min: 1, max, trim: true }) as const;
const configParams = {
	baseUrl: { ...text(500), optional: true },
	database: { ...text(200), optional: true },
	company: { type: "string", max: 255, trim: true, optional: true, nullable: true },
	username: { ...text(255), optional: true },
	apiKey: { type: "string", max: 512, optional: true, nullable: true },
	matchField: { type: "enum", values: [...MATCH_FIELDS], optional: true },
	autoSync: { type: "boolean", optional: true }
} as const;

interface Settings {
	family: string;
	resource: string;
}
interface Methods {
	current(): Promise<OdooConfigDoc>;
	change(set: (d: OdooConfigDoc) => Partial<OdooConfigDoc>): Promise<OdooConfigDoc>;
	view(ctx: Context, d: OdooConfigDoc): Promise<Record<string, unknown>>;
	merged(d: OdooConfigDoc, p: ConfigInput): OdooConfigDoc;
	settingsOf(d: OdooConfigDoc): OdooSettings;
}
type Vars = DbVars & { box: SecretBox };

const blank = (): OdooConfigDoc => {
	const now = new Date();
	return {
		_id: CONFIG_ID,
		baseUrl: null,
		database: null,
		company: null,
		username: null,
		apiKeySealed: null,
		matchField: "barcode",
		autoSync: false,
		status: "disconnected",
		statusMessage: null,
		serverVersion: null,
		lastTestAt: null,
		lastSync: null,
		lastSyncResult: null,
		lastSyncError: null,
		pendingCount: 0,
		failureCount: 0,
		syncRuns: 0,
		createdAt: now,
		updatedAt: now,
		updatedBy: null,
		version: 1
	};
};

/** Odoo is reached through the outbound-URL policy (lib/net/outbound.ts, use "odoo"), every hop checked. */
export function odooFetch(cfg: Config): typeof fetch {
	return outboundFetch(outboundPolicy(cfg), "odoo", { maxBytes: 64 * 1024 * 1024 });
}

const field = (name: string, issue: string, code = "VALIDATION_ERROR") => badRequest(code, `${name}: ${issue}`, { details: [{ field: name, issue }] });

export default function odooService(cfg: Config): ServiceSchema<Settings, Methods, Vars> {
	return {
		name: "odoo",
		mixins: [DbMixin("odoo_config", cfg)],
		settings: { family: "console", resource: "odoo" },
		actions: {
			config: {
				rest: "GET /odoo/config",
				permission: "odoo:read",
				openapi: { summary: "The Odoo connection: server, database, company, user, API key (masked), matched employee field, auto-sync, status and counters", tags: ["odoo"], response: CONFIG_RESPONSE },
				params: { $$strict: true },
				async handler(ctx: Context) {
					return this.view(ctx, await this.current());
				}
			},

			saveConfig: {
				rest: "PUT /odoo/config",
				permission: "odoo:write",
				openapi: {
					summary: "Change the Odoo connection (fields left out are kept; apiKey left out or given masked keeps the stored key, null removes it); a changed connection is untested (disconnected) until tested or synced",
					tags: ["odoo"],
					response: CONFIG_RESPONSE,
					errors: ["VALIDATION_ERROR", "INVALID_ODOO_URL", "URL_NOT_ALLOWED"]
				},
				params: { ...configParams, $$strict: true },
				async handler(ctx: Context<ConfigInput, GatewayMeta>) {
					const by = ctx.meta.user?.email ?? ctx.meta.user?.name ?? null;
					if (ctx.params.baseUrl !== undefined) {
						const u = checkBaseUrl(ctx.params.baseUrl);
						if (!u.ok) throw field("baseUrl", u.issue, "INVALID_ODOO_URL");
						await guardUrl(ctx, cfg, u.url, "odoo", "baseUrl");
					}
					const saved = await this.change(d => {
						const next = this.merged(d, ctx.params);
						const connection = (["baseUrl", "database", "username", "apiKeySealed", "company"] as const).some(k => next[k] !== d[k]);
						return { ...next, ...(connection ? { status: "disconnected" as const, statusMessage: "changed, not tested yet", failureCount: 0 } : {}), updatedBy: by };
					});
					ctx.meta.$audit = { resourceId: CONFIG_ID, message: `Odoo connection changed (${Object.keys(ctx.params).filter(k => k !== "apiKey").join(", ")}${"apiKey" in ctx.params ? ", API key" : ""})` };
					this.broker.broadcast("odoo.config.changed", { autoSync: saved.autoSync, status: saved.status });
					return this.view(ctx, saved);
				}
			},

			test: {
				rest: "POST /odoo/test",
				permission: "odoo:write",
				openapi: {
					summary: "Try the Odoo connection (the stored settings, or these settings over them, not saved): the server's version, the credentials, the company, the right to create attendance. Records the status when the stored settings were tried",
					tags: ["odoo"],
					response: {
						type: "object",
						properties: {
							ok: { type: "boolean" },
							status: { type: "string", enum: [...ODOO_STATUSES] },
							serverVersion: { type: ["string", "null"] },
							uid: { type: ["integer", "null"] },
							companyId: { type: ["integer", "null"] },
							canCreateAttendance: { type: ["boolean", "null"] },
							latencyMs: { type: "integer" },
							error: { type: ["object", "null"], properties: { code: { type: "string", description: "ODOO_AUTH_FAILED, ODOO_UNREACHABLE, ODOO_TIMEOUT, ODOO_NOT_FOUND, COMPANY_NOT_FOUND, ..." }, message: { type: "string" } } }
						}
					},
					errors: ["VALIDATION_ERROR", "INVALID_ODOO_URL", "URL_NOT_ALLOWED", "ODOO_NOT_CONFIGURED"]
				},
				params: { ...configParams, $$strict: true },
				async handler(ctx: Context<ConfigInput, GatewayMeta>) {
					const stored = await this.current();
					const given = Object.keys(ctx.params).length > 0;
					const s = this.settingsOf(given ? this.merged(stored, ctx.params) : stored);
					if (!s.configured) throw new ApiError(400, "ODOO_NOT_CONFIGURED", "Give baseUrl, database, username and apiKey first", { details: [{ field: "baseUrl", issue: "Odoo is not configured" }] });
					if (ctx.params.baseUrl !== undefined) await guardUrl(ctx, cfg, s.baseUrl, "odoo", "baseUrl");
					const client = new OdooClient({ baseUrl: s.baseUrl, database: s.database, username: s.username, apiKey: s.apiKey, timeoutMs: cfg.odooTimeoutMs }, odooFetch(cfg));
					const t0 = performance.now();
					let answer: Record<string, unknown>;
					try {
						const p = await probe(client, s.company);
						const ok = p.canCreateAttendance;
						answer = { ok, status: ok ? "connected" : "error", ...p, error: ok ? null : { code: "ODOO_ACCESS_ERROR", message: `${s.username} may not create hr.attendance records` } };
					} catch (err) {
						const e = err as OdooError;
						if (!(err instanceof OdooError)) throw err;
						answer = { ok: false, status: "error", serverVersion: null, uid: null, companyId: null, canCreateAttendance: null, latencyMs: Math.round(performance.now() - t0), error: { code: e.code, message: e.message } };
					}
					this.logger.info("Odoo connection tested", { ok: answer.ok, baseUrl: s.baseUrl, code: (answer.error as { code?: string } | null)?.code ?? null });
					if (!given) {
						await this.change(() => ({
							status: answer.status as ConnectionStatus,
							statusMessage: answer.ok ? null : (answer.error as { message: string }).message,
							serverVersion: (answer.serverVersion as string | null) ?? stored.serverVersion,
							lastTestAt: new Date()
						}));
					}
					ctx.meta.$audit = { resourceId: CONFIG_ID, message: `Odoo connection tested: ${answer.ok ? "ok" : (answer.error as { code: string }).code}`, context: { ok: answer.ok } };
					return answer;
				}
			},

			sync: {
				rest: "POST /odoo/sync",
				permission: "odoo:write",
				status: 202,
				openapi: {
					summary: "Send attendance to Odoo now: every pending log (with retryFailed, the failed ones too), or the logs given by id whatever their state; answers the background job (GET /jobs/{id}; progress on the odoo live channel)",
					tags: ["odoo"],
					response: JOB_RESPONSE,
					errors: ["VALIDATION_ERROR", "ODOO_NOT_CONFIGURED"]
				},
				params: {
					ids: { type: "array", items: { type: "string", min: 1, max: 64, pattern: "^[A-Za-z0-9_-]+$" }, min: 1, max: 10_000, unique: true, optional: true },
					retryFailed: { type: "boolean", optional: true },
					$$strict: true
				},
				async handler(ctx: Context<{ ids?: string[]; retryFailed?: boolean }, GatewayMeta>) {
					if (!this.settingsOf(await this.current()).configured) throw new ApiError(400, "ODOO_NOT_CONFIGURED", "Configure Odoo first (PUT /odoo/config)");
					const job = await ctx.call<{ id: string }, object>("jobs.create", {
						kind: SYNC_KIND,
						userId: ctx.meta.user?.id ?? null,
						params: { trigger: "manual", ids: ctx.params.ids ?? null, retryFailed: !!ctx.params.retryFailed, by: ctx.meta.user?.email ?? ctx.meta.user?.name ?? null }
					});
					ctx.meta.$audit = { resourceId: job.id, message: `Odoo sync requested (${ctx.params.ids ? `${ctx.params.ids.length} logs` : ctx.params.retryFailed ? "pending and failed logs" : "pending logs"})` };
					return job;
				}
			},

			status: {
				rest: "GET /odoo/status",
				permission: "odoo:read",
				openapi: {
					summary: "The Odoo sync's state: connection status, last sync and its counts, logs pending and failed, runs failed in a row, the next auto-sync",
					tags: ["odoo"],
					response: {
						type: "object",
						properties: {
							configured: { type: "boolean" },
							status: { type: "string", enum: [...ODOO_STATUSES] },
							statusMessage: { type: ["string", "null"] },
							serverVersion: { type: ["string", "null"] },
							autoSync: { type: "boolean" },
							lastSync: { type: ["string", "null"], format: "date-time" },
							lastSyncResult: { type: ["object", "null"] },
							lastSyncError: { type: ["string", "null"] },
							lastTestAt: { type: ["string", "null"], format: "date-time" },
							pendingCount: { type: "integer" },
							failedCount: { type: "integer" },
							failureCount: { type: "integer" },
							syncRuns: { type: "integer" },
							nextAutoSyncAt: { type: ["string", "null"], format: "date-time" },
							alertThreshold: { type: "integer" }
						}
					}
				},
				params: { $$strict: true },
				async handler(ctx: Context) {
					const d = await this.current();
					const base = await this.view(ctx, d);
					let next: string | null = null;
					if (d.autoSync && cfg.odooSyncIntervalMs > 0) {
						const s = await ctx.call<{ nextRunAt?: number } | null, object>("schedules.read", { name: AUTO_SYNC }).catch(() => null);
						next = s?.nextRunAt ? new Date(s.nextRunAt).toISOString() : null;
					}
					return {
						configured: base.configured,
						status: d.status,
						statusMessage: d.statusMessage,
						serverVersion: d.serverVersion,
						autoSync: d.autoSync,
						lastSync: iso(d.lastSync),
						lastSyncResult: d.lastSyncResult,
						lastSyncError: d.lastSyncError,
						lastTestAt: iso(d.lastTestAt),
						pendingCount: base.pendingCount,
						failedCount: base.failedCount,
						failureCount: d.failureCount,
						syncRuns: d.syncRuns,
						nextAutoSyncAt: next,
						alertThreshold: cfg.odooAlertFailures
					};
				}
			},

			// ---- for other services (not routed) ----

			/** The settings with the key opened (the sync workers). */
			connection: {
				visibility: "public",
				async handler(): Promise<OdooSettings> {
					return this.settingsOf(await this.current());
				}
			},

			/** A sync run is over: counters, status, the alert. */
			recordRun: {
				visibility: "public",
				params: {
					ok: "boolean",
					error: { type: "string", nullable: true, optional: true },
					counts: { type: "object" },
					pending: { type: "number", integer: true, min: 0 },
					trigger: { type: "enum", values: ["manual", "auto"] }
				},
				async handler(ctx: Context<{ ok: boolean; error?: string | null; counts: Record<string, unknown>; pending: number; trigger: string }>) {
					const p = ctx.params;
					let alert: "raise" | "resolve" | null = null;
					const saved = await this.change(d => {
						const next = afterRun({ failureCount: d.failureCount, status: d.status }, { ok: p.ok, error: p.error ?? null }, cfg.odooAlertFailures);
						alert = next.alert;
						return {
							failureCount: next.failureCount,
							status: next.status,
							statusMessage: p.ok ? null : (p.error ?? "sync failed"),
							lastSync: new Date(),
							lastSyncResult: { ...p.counts, trigger: p.trigger },
							lastSyncError: p.error ?? null,
							pendingCount: p.pending,
							syncRuns: d.syncRuns + 1
						};
					});
					if (alert === "raise") {
						await ctx.call("alerts.raise", {
							cause: ALERT_CAUSE,
							type: "odoo_sync_failed",
							level: "high",
							title: "Odoo sync failing",
							description: `${saved.failureCount} Odoo sync runs in a row failed (last: ${p.error ?? "unknown"}); ${p.pending} attendance logs wait`,
							tags: ["odoo"],
							details: { failureCount: saved.failureCount, pending: p.pending, error: p.error ?? null }
						});
					} else if (alert === "resolve") await ctx.call("alerts.resolve", { cause: ALERT_CAUSE });
					return { failureCount: saved.failureCount, status: saved.status, alert };
				}
			}
		},

		methods: {
			async current() {
				const d: OdooConfigDoc | null = await this.adapter.findById(CONFIG_ID);
				if (d) return d;
				try {
					return await this.adapter.insert(blank());
				} catch (err) {
					if (!/unique|duplicate/i.test((err as Error).message)) throw err;
					return this.adapter.findById(CONFIG_ID);
				}
			},

			/** Change the one document by compare-and-set on its version. */
			async change(set) {
				for (let attempt = 0; attempt < 20; attempt++) {
					const d = await this.current();
					const fields = set(d);
					const next = { ...fields, updatedAt: new Date(), version: d.version + 1 };
					delete (next as { _id?: string })._id;
					const n = await this.adapter.updateMany({ _id: CONFIG_ID, version: d.version }, { $set: next });
					if (n === 1) return { ...d, ...next } as OdooConfigDoc;
				}
				throw new ApiError(503, "ODOO_CONFIG_BUSY", "The Odoo settings kept changing; try again");
			},

			merged(d, p) {
				const next = { ...d };
				if (p.baseUrl !== undefined) {
					const u = checkBaseUrl(p.baseUrl);
					if (!u.ok) throw field("baseUrl", u.issue, "INVALID_ODOO_URL");
					next.baseUrl = u.url;
				}
				if (p.database !== undefined) next.database = p.database;
				if (p.company !== undefined) next.company = p.company || null;
				if (p.username !== undefined) next.username = p.username;
				if (p.matchField !== undefined) next.matchField = p.matchField;
				if (p.autoSync !== undefined) next.autoSync = p.autoSync;
				if (p.apiKey === null || p.apiKey === "") next.apiKeySealed = null;
				else if (p.apiKey !== undefined) {
					// The masked value shown by GET, sent back unchanged, keeps the stored key.
					const stored = d.apiKeySealed ? this.box.open(d.apiKeySealed, SECRET_PURPOSE) : null;
					if (!(stored && p.apiKey === maskSecret(stored)) && !/^[•*]+$/.test(p.apiKey)) {
						if (p.apiKey.length < 8) throw field("apiKey", "must be at least 8 characters");
						next.apiKeySealed = this.box.seal(p.apiKey, SECRET_PURPOSE);
					}
				}
				return next;
			},

			settingsOf(d) {
				let apiKey = "";
				if (d.apiKeySealed) {
					try {
						apiKey = this.box.open(d.apiKeySealed, SECRET_PURPOSE);
					} catch (err) {
						this.logger.error("Odoo API key not opened (SECRETS_KEY changed?)", { error: (err as Error).message });
					}
				}
				const configured = !!(d.baseUrl && d.database && d.username && apiKey);
				return { configured, baseUrl: d.baseUrl ?? "", database: d.database ?? "", company: d.company ?? null, username: d.username ?? "", apiKey, matchField: d.matchField ?? "barcode", autoSync: !!d.autoSync };
			},

			async view(ctx, d) {
				const [pendingCount, failedCount] = await Promise.all([
					ctx.call<number, object>("attendanceLogs.count", { query: { odooStatus: "pending" } }),
					ctx.call<number, object>("attendanceLogs.count", { query: { odooStatus: "failed" } })
				]);
				const s = this.settingsOf(d);
				return {
					baseUrl: d.baseUrl,
					database: d.database,
					company: d.company,
					username: d.username,
					apiKey: maskSecret(s.apiKey),
					apiKeySet: !!d.apiKeySealed,
					matchField: d.matchField ?? "barcode",
					autoSync: !!d.autoSync,
					autoSyncIntervalMs: cfg.odooSyncIntervalMs,
					configured: s.configured,
					status: d.status,
					statusMessage: d.statusMessage ?? null,
					lastSync: iso(d.lastSync),
					pendingCount,
					failedCount,
					failureCount: d.failureCount ?? 0,
					updatedAt: iso(d.updatedAt)
				};
			}
		} satisfies Implements<Methods, Settings, Vars>,

		created() {
			this.box = new SecretBox(cfg.secretsKey);
		}
	};
}
