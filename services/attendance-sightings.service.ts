/**
 * The confirmed detections attendance has counted (storage role, not routed), kept by
 * detection id: `claim` is the first step of attendanceLogs.recordSighting, and a detection
 * claimed before (a retry, or the same detection sent twice at once) is never counted twice.
 * `applied` is set once its log has taken it in; a claim left unapplied by a crash is taken
 * in by the retry. Entries older than RETENTION_DAYS are dropped (no retry comes that late).
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { DbMixin } from "../mixins/db.mixin";
import type { DbVars, Implements } from "./schema";

export interface SightingDoc {
	_id: string;
	logId: string;
	day: string;
	employeeId: string;
	personId: string | null;
	cameraId: string | null;
	at: Date;
	confidence: number | null;
	applied: boolean;
	createdAt: Date;
}

export const RETENTION_DAYS = 35;

interface Methods {
	prune(): Promise<void>;
}
type Vars = DbVars & { pruneTimer: NodeJS.Timeout };

export default function attendanceSightingsService(cfg: Config): ServiceSchema<object, Methods, Vars> {
	return {
		name: "attendanceSightings",
		mixins: [DbMixin("attendance_sightings", cfg)],
		actions: {
			/** Claim a detection for a log: `created` false when it was claimed before (then `sighting` is that claim). */
			claim: {
				visibility: "public",
				params: {
					detectionId: { type: "string", min: 1, max: 128 },
					logId: "string",
					day: "string",
					employeeId: "string",
					personId: { type: "string", nullable: true, optional: true },
					cameraId: { type: "string", nullable: true, optional: true },
					at: { type: "date", convert: true },
					confidence: { type: "number", nullable: true, optional: true }
				},
				async handler(ctx: Context<Omit<SightingDoc, "_id" | "applied" | "createdAt"> & { detectionId: string }>): Promise<{ created: boolean; sighting: SightingDoc }> {
					const { detectionId, ...rest } = ctx.params;
					const doc: SightingDoc = { _id: detectionId, ...rest, personId: rest.personId ?? null, cameraId: rest.cameraId ?? null, confidence: rest.confidence ?? null, applied: false, createdAt: new Date() };
					try {
						await this.adapter.insert(doc);
						return { created: true, sighting: doc };
					} catch (err) {
						if (!/unique|duplicate/i.test((err as Error).message)) throw err;
						const prior: SightingDoc | null = await this.adapter.findById(detectionId);
						if (!prior) throw err;
						return { created: false, sighting: prior };
					}
				}
			},

			/** Its log has taken the detection in. */
			applied: {
				visibility: "public",
				params: { detectionId: "string" },
				async handler(ctx: Context<{ detectionId: string }>) {
					await this.adapter.updateMany({ _id: ctx.params.detectionId }, { $set: { applied: true } });
					return { ok: true };
				}
			}
		},

		methods: {
			async prune() {
				const n = await this.adapter.removeMany({ createdAt: { $lt: new Date(Date.now() - RETENTION_DAYS * 86_400_000) } });
				if (n) this.logger.info("Old attendance sightings dropped", { count: n });
			}
		} satisfies Implements<Methods, object, Vars>,

		started() {
			this.pruneTimer = setInterval(() => void this.prune().catch(err => this.logger.warn("Sightings not pruned", { error: (err as Error).message })), 3600_000).unref();
		},

		stopped() {
			clearInterval(this.pruneTimer);
		}
	};
}
