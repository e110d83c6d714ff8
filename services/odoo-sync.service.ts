/**
 * The Odoo sync (actors role; seed 002 `sync_attendance_to_odoo`, `scheduled_odoo_sync`):
 * attendance logs into Odoo's hr.attendance through lib/odoo (JSON-RPC client, batch sync).
 *
 * - `odoo.sync` jobs (POST /odoo/sync) through mixins/job-worker.mixin.ts, progress on
 *   `odoo.sync.progress` (the live `odoo` channel).
 * - The auto-sync every ODOO_SYNC_INTERVAL_MS while the settings' autoSync is on, run by one
 *   node of the cluster (mixins/schedule.mixin.ts, task `odoo.auto-sync`).
 *
 * A run takes the logs (the pending ones oldest first, or those given), in batches of at most
 * ODOO_BATCH_SIZE (100): each batch is claimed on the logs (attendanceLogs.odooClaim: a log is
 * sent by one run at a time, whichever node), sent (lib/odoo/sync.ts: looked up before
 * anything is created, retried with backoff while the failure may pass), and each log's
 * outcome recorded by compare-and-set on its version (attendanceLogs.odooResults) and in the
 * sync logs. When Odoo cannot be reached the run stops there, the rest stays pending, and
 * the run counts as failed (odoo.recordRun: failures in a row, the odoo:sync alert). Every
 * run is audited with its counts.
 */
import crypto from "node:crypto";
import type { ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { JobWorkerMixin, type JobControl } from "../mixins/job-worker.mixin";
import { ScheduleMixin } from "../mixins/schedule.mixin";
import { ApiError } from "../lib/errors";
import type { JobDoc } from "../lib/jobs/jobs";
import { OdooClient } from "../lib/odoo/client";
import { batches, companyIdOf, syncBatch, type Action, type LogOutcome, type SyncLog } from "../lib/odoo/sync";
import { withRetry } from "../lib/odoo/retry";
import { OdooError } from "../lib/odoo/wire";
import { AUTO_SYNC, SYNC_KIND, odooFetch, type OdooSettings } from "./console/odoo.service";

export interface RunRequest {
	trigger: "manual" | "auto";
	ids?: string[] | null;
	retryFailed?: boolean;
	jobId?: string | null;
	by?: string | null;
	control?: JobControl;
}

export type RunCounts = Record<Action, number> & { logs: number; batches: number };

export interface RunResult extends Record<string, unknown> {
	runId: string;
	trigger: "manual" | "auto";
	ok: boolean;
	error: { code: string; message: string } | null;
	counts: RunCounts;
	pending: number;
	durationMs: number;
}

const emptyCounts = (): RunCounts => ({ logs: 0, batches: 0, created: 0, updated: 0, unchanged: 0, skipped: 0, deferred: 0, failed: 0, pending: 0 });

interface Methods {
	syncRun(req: RunRequest): Promise<RunResult>;
	logIds(req: RunRequest): Promise<string[]>;
}

export default function odooSyncService(cfg: Config): ServiceSchema<object, Methods> {
	// A batch's claim outlasts its slowest honest run: every log's attempts timing out.
	const claimMs = Math.max(60_000, cfg.odooTimeoutMs * cfg.odooRetryAttempts * 4 + cfg.odooRetryMaxMs * cfg.odooRetryAttempts);
	return {
		name: "odooSync",
		mixins: [
			JobWorkerMixin({
				kind: SYNC_KIND,
				leaseMs: 30_000,
				pollMs: 5000,
				progressEvent: "odoo.sync.progress",
				progressExtra: (job: JobDoc, result: Record<string, unknown> | null) => ({ jobId: job._id, trigger: (job.params as { trigger?: string }).trigger ?? "manual", ...(result ? { counts: result.counts, ok: result.ok, error: result.error } : {}) }),
				async run(this: { syncRun: Methods["syncRun"] }, job: JobDoc, control: JobControl) {
					const p = job.params as { trigger?: "manual" | "auto"; ids?: string[] | null; retryFailed?: boolean; by?: string | null };
					const result = await this.syncRun({ trigger: p.trigger ?? "manual", ids: p.ids ?? null, retryFailed: !!p.retryFailed, jobId: job._id, by: p.by ?? null, control });
					// A run Odoo refused as a whole fails its job; one that ran (whatever the logs gave) completes.
					if (!result.ok && result.counts.created + result.counts.updated + result.counts.unchanged === 0 && result.error)
						throw new ApiError(502, result.error.code, result.error.message, { counts: result.counts });
					return result;
				}
			}),
			ScheduleMixin({
				name: AUTO_SYNC,
				// Ticks every third of the lease: a run is at most that late (10 s at the default period).
				leaseMs: Math.max(600, Math.min(30_000, cfg.odooSyncIntervalMs || 30_000)),
				async everyMs(this: { broker: { call<T>(a: string): Promise<T> } }) {
					if (cfg.odooSyncIntervalMs <= 0) return null;
					const s = await this.broker.call<OdooSettings>("odoo.connection");
					return s.autoSync && s.configured ? cfg.odooSyncIntervalMs : null;
				},
				async run(this: { syncRun: Methods["syncRun"] }) {
					return this.syncRun({ trigger: "auto" });
				}
			})
		],

		methods: {
			async logIds(req) {
				if (req.ids?.length) return req.ids.slice(0, cfg.odooSyncMaxLogs);
				const query = { odooStatus: req.retryFailed ? { $in: ["pending", "failed"] } : "pending" };
				const rows = await this.broker.call<{ _id: string }[], object>("attendanceLogs.find", { query, sort: "day timeInAt", fields: ["_id"], limit: cfg.odooSyncMaxLogs });
				return rows.map(r => r._id);
			},

			async syncRun(req) {
				const t0 = Date.now();
				const runId = `${req.trigger}-${crypto.randomUUID()}`;
				const owner = `${this.broker.nodeID}:${runId}`;
				const counts = emptyCounts();
				let error: RunResult["error"] = null;
				const signal = req.control?.signal;
				const settings = await this.broker.call<OdooSettings>("odoo.connection");
				const log = this.logger;
				if (!settings.configured) error = { code: "ODOO_NOT_CONFIGURED", message: "Odoo is not configured" };
				else {
					const client = new OdooClient({ baseUrl: settings.baseUrl, database: settings.database, username: settings.username, apiKey: settings.apiKey, timeoutMs: cfg.odooTimeoutMs }, odooFetch(cfg));
					const retry = {
						attempts: cfg.odooRetryAttempts,
						backoff: { initialMs: cfg.odooRetryBaseMs, maxMs: cfg.odooRetryMaxMs, factor: 2 },
						signal
					};
					const ids = await this.logIds(req);
					const parts = batches(ids, cfg.odooBatchSize);
					let companyId: number | null = null;
					try {
						if (ids.length) companyId = await withRetry(() => companyIdOf(client, settings.company, signal), retry);
					} catch (err) {
						if (!(err instanceof OdooError)) throw err;
						error = { code: err.code, message: err.message };
					}
					for (let b = 0; b < parts.length && !error; b++) {
						if (signal?.aborted) break;
						const claimed = await this.broker.call<SyncLog[], object>("attendanceLogs.odooClaim", { ids: parts[b], owner, ttlMs: claimMs });
						counts.batches++;
						if (!claimed.length) continue;
						let outcomes: LogOutcome[];
						try {
							const res = await syncBatch(client, claimed, {
								matchField: settings.matchField,
								companyId,
								retry,
								concurrency: cfg.odooConcurrency,
								signal,
								onRetry: (what, attempt, err) => log.warn("Odoo call retried", { what, attempt, code: (err as OdooError).code, error: err.message })
							});
							outcomes = res.outcomes;
							if (res.aborted) error = res.aborted;
						} catch (err) {
							// The job's lease was lost (another node took it over): let the logs go and stop.
							await this.broker.call("attendanceLogs.odooRelease", { ids: claimed.map(c => c._id), owner }).catch(() => undefined);
							throw err;
						}
						const now = new Date();
						await this.broker.call("attendanceLogs.odooResults", {
							owner,
							results: outcomes.map(o => ({
								id: o.id,
								version: o.version,
								odooStatus: o.odooStatus,
								odooAttendanceId: o.odooAttendanceId,
								odooError: o.action === "failed" || o.action === "pending" ? `${o.code ?? "ODOO_ERROR"}: ${o.message ?? ""}`.trim() : null,
								...(o.odooStatus === "synced" ? { odooSyncTime: now } : {})
							}))
						});
						await this.broker.call("odooSyncLogs.record", {
							entries: outcomes.map(o => ({
								timestamp: now,
								runId,
								jobId: req.jobId ?? null,
								trigger: req.trigger,
								attendanceLogId: o.id,
								employeeId: o.employeeId,
								result: o.action === "failed" || o.action === "pending" ? "failure" : "success",
								action: o.action,
								odooAttendanceId: o.odooAttendanceId,
								code: o.code,
								message: o.message,
								attempts: o.attempts
							}))
						});
						for (const o of outcomes) counts[o.action]++;
						counts.logs += outcomes.length;
						await req.control?.progress(((b + 1) / parts.length) * 100);
					}
				}
				const pending = await this.broker.call<number, object>("attendanceLogs.count", { query: { odooStatus: "pending" } });
				const ok = error === null;
				await this.broker.call("odoo.recordRun", { ok, error: error ? `${error.code}: ${error.message}` : null, counts, pending, trigger: req.trigger });
				const result: RunResult = { runId, trigger: req.trigger, ok, error, counts, pending, durationMs: Date.now() - t0 };
				(ok ? this.logger.info : this.logger.warn).call(this.logger, "Odoo sync run", { runId, jobId: req.jobId ?? null, trigger: req.trigger, ok, error: error?.code ?? null, ...counts, pending, durationMs: result.durationMs });
				await this.broker
					.call("audit.record", {
						action: "odoo.sync.run",
						actor: req.by ?? (req.trigger === "auto" ? "odoo auto-sync" : undefined),
						severity: ok ? (counts.failed ? "warning" : "info") : "warning",
						details: { runId, jobId: req.jobId ?? null, trigger: req.trigger, node: this.broker.nodeID, ok, error, counts, pending, durationMs: result.durationMs }
					})
					.catch((err: Error) => this.logger.error("Odoo sync audit not written", { runId, error: err.message }));
				return result;
			}
		}
	};
}
