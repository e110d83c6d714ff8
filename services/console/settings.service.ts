/**
 * Console settings (storage role; seed 002 "Settings"): languages, time zones, and each
 * user's own preferences.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { DbMixin } from "../../mixins/db.mixin";
import { AUTHENTICATED, PUBLIC } from "../../lib/api/route-facts";
import { ApiError } from "../../lib/errors";
import type { DbVars, GatewayMeta } from "../schema";

export const LANGUAGES = [
	{ code: "en", name: "English", nativeName: "English" },
	{ code: "vi", name: "Vietnamese", nativeName: "Tiếng Việt" },
	{ code: "fr", name: "French", nativeName: "Français" },
	{ code: "es", name: "Spanish", nativeName: "Español" },
	{ code: "de", name: "German", nativeName: "Deutsch" }
];

/** The IANA zones this runtime knows, UTC first. */
export const TIMEZONES: string[] = ["UTC", ...Intl.supportedValuesOf("timeZone").filter(z => z !== "UTC")];
/** Canonical names and their aliases (Asia/Ho_Chi_Minh is Asia/Saigon to ICU). */
export function isTimeZone(tz: string): boolean {
	try {
		new Intl.DateTimeFormat("en", { timeZone: tz });
		return /^[A-Za-z0-9_+\-/]{1,64}$/.test(tz);
	} catch {
		return false;
	}
}

const DEFAULTS = { theme: "dark", gridMode: "3x3", autoRotate: true, language: "en", timezone: "UTC", preferences: {} };
const PREFS_RESPONSE = {
	type: "object",
	properties: { theme: { type: "string" }, gridMode: { type: "string" }, autoRotate: { type: "boolean" }, language: { type: "string" }, timezone: { type: "string" }, preferences: { type: "object" }, updatedAt: { type: ["string", "null"] } }
};

type Vars = DbVars;
const caller = (ctx: Context<unknown, GatewayMeta>) => {
	const u = ctx.meta.user;
	if (!u || u.kind !== "user") throw new ApiError(403, "FORBIDDEN", "Preferences belong to a signed-in user");
	return u.id;
};

export default function settingsService(cfg: Config): ServiceSchema<{ family: string; resource: string }, object, Vars> {
	return {
		name: "settings",
		mixins: [DbMixin("preferences", cfg)],
		settings: { family: "console", resource: "preferences" },
		actions: {
			languages: {
				rest: "GET /i18n/languages",
				permission: PUBLIC,
				openapi: { summary: "Languages of the console", tags: ["settings"], response: { type: "array", items: { type: "object" } } },
				params: { $$strict: true },
				handler: () => LANGUAGES
			},
			timezones: {
				rest: "GET /settings/timezones",
				permission: AUTHENTICATED,
				openapi: { summary: "IANA time zones the server knows", tags: ["settings"], response: { type: "array", items: { type: "string" } } },
				params: { $$strict: true },
				handler: () => TIMEZONES
			},
			preferences: {
				rest: "GET /settings/preferences",
				permission: AUTHENTICATED,
				openapi: { summary: "The caller's preferences", tags: ["settings"], response: PREFS_RESPONSE },
				params: { $$strict: true },
				async handler(ctx: Context<unknown, GatewayMeta>) {
					const [doc] = await this.adapter.find({ query: { userId: caller(ctx) }, limit: 1 });
					return { ...DEFAULTS, ...pick(doc), updatedAt: doc?.updatedAt ? new Date(doc.updatedAt).toISOString() : null };
				}
			},
			savePreferences: {
				rest: "PUT /settings/preferences",
				permission: AUTHENTICATED,
				openapi: { summary: "Change the caller's preferences (fields left out keep their value)", tags: ["settings"], response: PREFS_RESPONSE },
				params: {
					theme: { type: "enum", values: ["dark", "light", "system"], optional: true },
					gridMode: { type: "enum", values: ["1x1", "2x2", "3x3", "4x4"], optional: true },
					autoRotate: { type: "boolean", optional: true },
					language: { type: "enum", values: LANGUAGES.map(l => l.code), optional: true },
					timezone: { type: "string", max: 64, optional: true },
					preferences: { type: "object", optional: true },
					$$strict: true
				},
				async handler(ctx: Context<Record<string, unknown>, GatewayMeta>) {
					const userId = caller(ctx);
					const { timezone, preferences } = ctx.params as { timezone?: string; preferences?: object };
					if (timezone !== undefined && !isTimeZone(timezone))
						throw new ApiError(400, "VALIDATION_ERROR", `Unknown time zone: ${timezone}`, { details: [{ field: "timezone", issue: "not an IANA time zone" }] });
					if (preferences !== undefined && JSON.stringify(preferences).length > 16_384)
						throw new ApiError(400, "VALIDATION_ERROR", "preferences is larger than 16 KB", { details: [{ field: "preferences", issue: "larger than 16 KB" }] });
					const [doc] = await this.adapter.find({ query: { userId }, limit: 1 });
					const now = new Date();
					const changes = { ...pick(ctx.params), updatedAt: now };
					const saved = doc ? await this.adapter.updateById(doc._id, { $set: changes }) : await this.adapter.insert({ userId, ...DEFAULTS, ...changes, createdAt: now });
					ctx.meta.$audit = { resourceId: userId };
					return { ...DEFAULTS, ...pick(saved), updatedAt: now.toISOString() };
				}
			},
			/** An account was deleted: its preferences go with it. */
			forgetUser: {
				visibility: "public",
				params: { userId: "string" },
				async handler(ctx: Context<{ userId: string }>) {
					await this.adapter.removeMany({ userId: ctx.params.userId });
				}
			}
		}
	};
}

function pick(d: Record<string, unknown> | undefined | null) {
	const out: Record<string, unknown> = {};
	if (!d) return out;
	for (const k of ["theme", "gridMode", "autoRotate", "language", "timezone", "preferences"]) if (d[k] !== undefined) out[k] = d[k];
	return out;
}
