/**
 * The site's settings (storage role): the IANA time zone attendance days, shifts and
 * statistics are reckoned in, how long someone unseen still counts as on site, and the
 * default grace before an arrival is late. One document; changing it broadcasts
 * `site.changed`. Changing the zone does not move existing logs: each keeps the zone its day
 * was reckoned in.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { DbMixin } from "../../mixins/db.mixin";
import { AUTHENTICATED } from "../../lib/api/route-facts";
import { isTimeZone } from "../../lib/attendance/time";
import { ApiError } from "../../lib/errors";
import type { RecognitionSettings } from "../../lib/detections/provider";
import type { DbVars, GatewayMeta, Implements } from "../schema";

export interface SiteSettings {
	timezone: string;
	onSiteAbsenceMinutes: number;
	lateAfterMinutes: number;
}

interface SiteDoc extends SiteSettings {
	_id: string;
	/** The recognition settings (GET/PUT /detections/provider/config); unset: the configuration's defaults. */
	recognition?: Partial<RecognitionSettings>;
	updatedAt: Date | null;
	updatedBy: string | null;
	version: number;
}

/** Recognition settings never changed: the configuration's (SIMILARITY_THRESHOLD, MONITOR_SAMPLE_INTERVAL). */
export function recognitionDefaults(cfg: Pick<Config, "similarityThreshold" | "monitorSampleInterval">): RecognitionSettings {
	return { similarityThreshold: cfg.similarityThreshold, minFaceSize: 20, sampleInterval: cfg.monitorSampleInterval };
}

export const SITE_DEFAULTS: SiteSettings = { timezone: "UTC", onSiteAbsenceMinutes: 30, lateAfterMinutes: 5 };
const ID = "site";

const SITE_RESPONSE = {
	type: "object",
	properties: {
		timezone: { type: "string", description: "IANA zone of the site" },
		onSiteAbsenceMinutes: { type: "integer", description: "unseen this long: off-site" },
		lateAfterMinutes: { type: "integer", description: "default grace after a shift's start" },
		updatedAt: { type: ["string", "null"], format: "date-time" },
		updatedBy: { type: ["string", "null"] },
		version: { type: "integer" }
	}
};

interface Settings {
	family: string;
	resource: string;
}
interface Methods {
	load(): Promise<SiteDoc>;
	view(d: SiteDoc): Record<string, unknown>;
}
type Vars = DbVars;

export default function siteService(cfg: Config): ServiceSchema<Settings, Methods, Vars> {
	return {
		name: "site",
		mixins: [DbMixin("site", cfg)],
		settings: { family: "console", resource: "site" },
		// (not get/update: moleculer-db's actions of those names would merge their `id` param in)
		actions: {
			read: {
				rest: "GET /settings/site",
				permission: AUTHENTICATED,
				openapi: { summary: "The site's time zone and attendance rules", tags: ["settings"], response: SITE_RESPONSE },
				params: { $$strict: true },
				async handler() {
					return this.view(await this.load());
				}
			},

			save: {
				rest: "PUT /settings/site",
				permission: "settings:write",
				openapi: { summary: "Change the site's time zone or attendance rules (fields left out keep their value)", tags: ["settings"], response: SITE_RESPONSE, errors: ["VERSION_CONFLICT"] },
				params: {
					timezone: { type: "string", min: 1, max: 64, optional: true },
					onSiteAbsenceMinutes: { type: "number", integer: true, min: 1, max: 1440, optional: true },
					lateAfterMinutes: { type: "number", integer: true, min: 0, max: 720, optional: true },
					version: { type: "number", integer: true, min: 1, optional: true },
					$$strict: true
				},
				async handler(ctx: Context<Partial<SiteSettings> & { version?: number }, GatewayMeta>) {
					const { version, ...changes } = ctx.params;
					if (changes.timezone !== undefined && !isTimeZone(changes.timezone))
						throw new ApiError(400, "VALIDATION_ERROR", `Unknown time zone: ${changes.timezone}`, { details: [{ field: "timezone", issue: "not an IANA time zone" }] });
					const doc = await this.load();
					if (version !== undefined && version !== doc.version) throw new ApiError(409, "VERSION_CONFLICT", `The site settings changed meanwhile (version ${doc.version})`);
					const set = { ...changes, updatedAt: new Date(), updatedBy: ctx.meta.user?.email ?? ctx.meta.user?.name ?? null, version: doc.version + 1 };
					const n = await this.adapter.updateMany({ _id: ID, version: doc.version }, { $set: set });
					if (n !== 1) throw new ApiError(409, "VERSION_CONFLICT", "The site settings changed meanwhile");
					const saved = await this.load();
					ctx.meta.$audit = { resourceId: ID, message: `Site settings: ${Object.keys(changes).join(", ") || "nothing"} changed` };
					this.broker.broadcast("site.changed", { timezone: saved.timezone, version: saved.version });
					return this.view(saved);
				}
			},

			/** The recognition settings with their version (for detectionProvider; not routed). */
			recognition: {
				visibility: "public",
				async handler() {
					const d = await this.load();
					return { ...recognitionDefaults(cfg), ...(d.recognition ?? {}), version: d.version, updatedAt: d.updatedAt ? new Date(d.updatedAt).toISOString() : null, updatedBy: d.updatedBy ?? null };
				}
			},

			/** Change recognition settings (fields left out keep their value); `version` guards against a concurrent change. */
			saveRecognition: {
				visibility: "public",
				params: {
					changes: { type: "object" },
					version: { type: "number", integer: true, min: 1, optional: true },
					by: { type: "string", optional: true, nullable: true }
				},
				async handler(ctx: Context<{ changes: Partial<RecognitionSettings>; version?: number; by?: string | null }>) {
					const doc = await this.load();
					const { version, changes } = ctx.params;
					if (version !== undefined && version !== doc.version) throw new ApiError(409, "VERSION_CONFLICT", `The settings changed meanwhile (version ${doc.version})`);
					const set = { recognition: { ...(doc.recognition ?? {}), ...changes }, updatedAt: new Date(), updatedBy: ctx.params.by ?? null, version: doc.version + 1 };
					const n = await this.adapter.updateMany({ _id: ID, version: doc.version }, { $set: set });
					if (n !== 1) throw new ApiError(409, "VERSION_CONFLICT", "The settings changed meanwhile");
					const saved = await this.load();
					const recognition = { ...recognitionDefaults(cfg), ...(saved.recognition ?? {}) };
					this.broker.broadcast("site.changed", { timezone: saved.timezone, version: saved.version, recognition });
					return { ...recognition, version: saved.version, updatedAt: new Date(set.updatedAt).toISOString(), updatedBy: set.updatedBy };
				}
			},

			/** The settings, for the services that reckon with them (not routed). */
			current: {
				visibility: "public",
				async handler(): Promise<SiteSettings> {
					const d = await this.load();
					return { timezone: d.timezone, onSiteAbsenceMinutes: d.onSiteAbsenceMinutes, lateAfterMinutes: d.lateAfterMinutes };
				}
			}
		},

		methods: {
			async load() {
				const doc: SiteDoc | null = await this.adapter.findById(ID);
				if (doc) return { ...SITE_DEFAULTS, ...doc };
				const fresh: SiteDoc = { _id: ID, ...SITE_DEFAULTS, updatedAt: null, updatedBy: null, version: 1 };
				try {
					await this.adapter.insert(fresh);
				} catch (err) {
					// Another node made it first (MongoDB): read theirs.
					if (!/unique|duplicate/i.test((err as Error).message)) throw err;
					return { ...SITE_DEFAULTS, ...(await this.adapter.findById(ID)) };
				}
				return fresh;
			},

			view(d: SiteDoc) {
				return {
					timezone: d.timezone,
					onSiteAbsenceMinutes: d.onSiteAbsenceMinutes,
					lateAfterMinutes: d.lateAfterMinutes,
					updatedAt: d.updatedAt ? new Date(d.updatedAt).toISOString() : null,
					updatedBy: d.updatedBy ?? null,
					version: d.version
				};
			}
		} satisfies Implements<Methods, Settings, Vars>
	};
}
