/**
 * Retention (storage role; seed 002 `cleanup_old_data`): a cluster-wide scheduled task with
 * one owner (mixins/schedule.mixin.ts, every RETENTION_EVERY_MS) that deletes what is old:
 * detections, their thumbnails and event logs (recognitions no longer waiting for delivery)
 * older than RETENTION_DETECTIONS_DAYS, audit older than RETENTION_AUDIT_DAYS, expired jobs
 * and export files, system metric samples older than RETENTION_METRICS_DAYS. What goes is
 * decided in lib/retention/policy.ts; each store deletes its own documents
 * (mixins/purge.mixin.ts). Every run is audited with its counts.
 *
 * `POST /system/retention/run {dryRun?}` (administrators): a run now; with `dryRun` nothing
 * is deleted and the counts say what would be.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { ScheduleMixin } from "../mixins/schedule.mixin";
import { AGED_STORES, RETENTION_KINDS, cutoffs, expiredExports, thumbnailsToDelete, totalOf, zeroCounts, type BlobFacts, type Cutoffs, type RetentionCounts, type RetentionKind } from "../lib/retention/policy";
import type { JobView } from "../lib/jobs/jobs";
import type { GatewayMeta, Implements } from "./schema";

export interface RetentionReport {
	dryRun: boolean;
	at: string;
	cutoffs: Record<keyof Cutoffs, string>;
	counts: RetentionCounts;
	total: number;
	/** Kinds that could not be handled this run (their store unreachable), with why. */
	errors: Partial<Record<RetentionKind, string>>;
}

interface Settings {
	family: string;
	resource: string;
}
interface Methods {
	runRetention(ctx: Context | null, dryRun: boolean): Promise<RetentionReport>;
}

const counts = { type: "object", properties: Object.fromEntries(RETENTION_KINDS.map(k => [k, { type: "integer" }])) };

export default function retentionService(cfg: Config): ServiceSchema<Settings, Methods, object> {
	return {
		name: "retention",
		settings: { family: "console", resource: "retention" },
		mixins: [
			ScheduleMixin({
				name: "retention",
				everyMs: () => (cfg.retentionEveryMs > 0 ? cfg.retentionEveryMs : null),
				leaseMs: 30_000,
				async run(this: Methods & { broker: { call: Context["call"] } }) {
					const report = await this.runRetention(null, false);
					await this.broker.call("audit.record", {
						action: "retention.run",
						actor: "system",
						resourceType: "retention",
						resourceId: "retention",
						message: `Retention run: ${report.total} deleted`,
						severity: "info",
						outcome: Object.keys(report.errors).length ? "failure" : "success",
						context: { dryRun: false, counts: report.counts, errors: report.errors, cutoffs: report.cutoffs }
					});
					return { counts: report.counts, total: report.total, errors: report.errors };
				}
			})
		],
		actions: {
			run: {
				rest: "POST /system/retention/run",
				permission: "system:admin",
				openapi: {
					summary: "Run retention now: delete old detections, thumbnails, event logs, audit, expired jobs and exports, old system metrics (dryRun: only count)",
					tags: ["system"],
					response: { type: "object", properties: { dryRun: { type: "boolean" }, at: { type: "string", format: "date-time" }, cutoffs: { type: "object" }, counts, total: { type: "integer" }, errors: { type: "object" } } }
				},
				params: { dryRun: { type: "boolean", convert: true, optional: true, default: false }, $$strict: true },
				async handler(ctx: Context<{ dryRun: boolean }, GatewayMeta>) {
					const report = await this.runRetention(ctx, ctx.params.dryRun);
					ctx.meta.$audit = {
						resourceId: "retention",
						message: report.dryRun ? `Retention dry run: ${report.total} would be deleted` : `Retention run: ${report.total} deleted`,
						severity: report.dryRun ? "info" : "warning",
						context: { dryRun: report.dryRun, counts: report.counts, errors: report.errors }
					};
					return report;
				}
			}
		},

		methods: {
			async runRetention(ctx, dryRun) {
				const call = <T>(action: string, params: object): Promise<T> => (ctx ? ctx.call<T, object>(action, params) : this.broker.call<T, object>(action, params));
				const now = new Date();
				const c = cutoffs(now, { detectionsDays: cfg.retentionDetectionsDays, auditDays: cfg.retentionAuditDays, metricsDays: cfg.retentionMetricsDays });
				const n = zeroCounts();
				const errors: Partial<Record<RetentionKind, string>> = {};
				const attempt = async (kind: RetentionKind, work: () => Promise<number>) => {
					try {
						n[kind] = await work();
					} catch (err) {
						errors[kind] = (err as Error).message;
						this.logger.warn("Retention: a kind was not handled", { kind, error: (err as Error).message });
					}
				};

				let deletedThumbnails: string[] = [];
				for (const s of AGED_STORES) {
					await attempt(s.kind, async () => {
						const r = await call<{ count: number; collected: Record<string, string[]> }>(`${s.service}.purgeOlder`, { field: s.field, before: c[s.cutoff], where: s.where, collect: s.collect, dryRun });
						if (s.kind === "detections") deletedThumbnails = r.collected.thumbnail ?? [];
						return r.count;
					});
					if (s.kind !== "detections") continue;
					// A deleted detection's thumbnail goes with it (and any old one no camera shows).
					await attempt("thumbnails", async () => {
						const [blobs, cameras] = await Promise.all([call<BlobFacts[]>("blobs.list", { kind: "thumbnail" }), call<{ thumbnail?: string | null }[]>("cameras.find", { fields: ["thumbnail"] })]);
						const names = thumbnailsToDelete(blobs, { deletedDetections: deletedThumbnails, cameraThumbnails: cameras.map(x => x.thumbnail), before: c.detections });
						if (!dryRun) for (const name of names) await call("blobs.remove", { name });
						return names.length;
					});
				}

				let expiredJobs: JobView[] = [];
				await attempt("jobs", async () => {
					expiredJobs = await call<JobView[]>("jobs.expired", { before: c.expiry });
					if (!dryRun && expiredJobs.length) return (await call<{ removed: number }>("jobs.purge", { ids: expiredJobs.map(j => j.id) })).removed;
					return expiredJobs.length;
				});
				await attempt("exports", async () => {
					const names = expiredExports(await call<BlobFacts[]>("blobs.list", { kind: "export" }), c.expiry, expiredJobs.map(j => j.result));
					if (!dryRun) for (const name of names) await call("blobs.remove", { name });
					return names.length;
				});

				const report: RetentionReport = {
					dryRun,
					at: now.toISOString(),
					cutoffs: { detections: c.detections.toISOString(), audit: c.audit.toISOString(), systemMetrics: c.systemMetrics.toISOString(), expiry: c.expiry.toISOString() },
					counts: n,
					total: totalOf(n),
					errors
				};
				this.logger.info(dryRun ? "Retention dry run" : "Retention run", { counts: n, total: report.total, errors });
				return report;
			}
		} satisfies Implements<Methods, Settings>
	};
}
