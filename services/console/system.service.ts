/**
 * The dashboard's summary (storage role; seed 002 "System & Health", `GET /system/summary`),
 * computed from the stores at each request: cameras online of those enabled, face profiles
 * registered (when the faces store runs), today's attendance in the site's zone, manual
 * entries, completion against the shifts' expected headcount, the last Odoo sync, the
 * unknown-face alerts raised today.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { zonedInstant } from "../../lib/attendance/time";

interface Settings {
	family: string;
	resource: string;
}

interface Overview {
	date: string;
	timezone: string;
	present: number;
	late: number;
	missed: number;
	attended: number;
	detected: number;
	expectedHeadcount: number;
	compliance: number | null;
	onSiteNow: number;
	manualEntries: number;
}

export default function systemService(_cfg: Config): ServiceSchema<Settings> {
	return {
		name: "system",
		settings: { family: "console", resource: "system" },
		actions: {
			summary: {
				rest: "GET /system/summary",
				permission: "system:read",
				openapi: {
					summary: "Dashboard summary: cameras, people registered, today's attendance (site time), manual entries, completion, last Odoo sync",
					tags: ["system"],
					response: {
						type: "object",
						properties: {
							activeCameras: { type: "integer", description: "enabled and online" },
							totalCameras: { type: "integer" },
							enabledCameras: { type: "integer" },
							registeredPeople: { type: ["integer", "null"], description: "face profiles not archived; null without a faces store" },
							peopleDetectedToday: { type: "integer" },
							peopleOnSite: { type: "integer" },
							lateToday: { type: "integer" },
							unknownFaceAlerts: { type: ["integer", "null"], description: "unknown-face alerts raised today (site time); null without an alerts store" },
							manualOverrides: { type: "integer" },
							attendanceCompletion: { type: ["number", "null"], description: "% of today's expected headcount attending; null without shifts today" },
							expectedHeadcount: { type: "integer" },
							lastSync: { type: ["string", "null"], format: "date-time" },
							date: { type: "string" },
							timezone: { type: "string" }
						}
					}
				},
				params: { $$strict: true },
				async handler(ctx: Context) {
					const [total, enabled, online, registered, today, synced] = await Promise.all([
						ctx.call<number, object>("cameras.count", {}),
						ctx.call<number, object>("cameras.count", { query: { enabled: true } }),
						ctx.call<number, object>("cameras.count", { query: { enabled: true, status: "online" } }),
						ctx.call<number, object>("faces.count", { query: { status: { $ne: "archived" } } }).catch(() => null),
						ctx.call<Overview, object>("attendanceLogs.overview", {}),
						ctx.call<{ odooSyncTime: Date | string | null }[], object>("attendanceLogs.find", { query: { odooSyncTime: { $ne: null } }, sort: "-odooSyncTime", limit: 1, fields: ["odooSyncTime"] })
					]);
					const last = synced[0]?.odooSyncTime;
					// Unknown faces alerted since the site's midnight.
					const unknownFaceAlerts = await ctx.call<number, object>("alerts.countSince", { type: "unknown_face", since: zonedInstant(today.date, "00:00", today.timezone) }).catch(() => null);
					return {
						activeCameras: online,
						totalCameras: total,
						enabledCameras: enabled,
						registeredPeople: registered,
						peopleDetectedToday: today.detected,
						peopleOnSite: today.onSiteNow,
						lateToday: today.late,
						unknownFaceAlerts,
						manualOverrides: today.manualEntries,
						attendanceCompletion: today.compliance,
						expectedHeadcount: today.expectedHeadcount,
						lastSync: last ? new Date(last).toISOString() : null,
						date: today.date,
						timezone: today.timezone
					};
				}
			}
		}
	};
}
