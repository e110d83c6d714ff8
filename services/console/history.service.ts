/**
 * A person's history (storage role; seed 002 "Audit & History", `GET /history/person/{employeeId}`):
 * their attendance logs over time and, where the detections store runs, their detections,
 * newest first. Without a detections service the history is the attendance alone.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { isDate } from "../../lib/attendance/time";
import { ApiError } from "../../lib/errors";

const date = { type: "string", pattern: "^\\d{4}-\\d{2}-\\d{2}$", optional: true, messages: { stringPattern: "'{field}' must be a date YYYY-MM-DD" } } as const;

interface Settings {
	family: string;
	resource: string;
}

interface Detection {
	_id?: string;
	id?: string;
	trackId?: string;
	cameraId?: number | string;
	cameraName?: string;
	status?: string;
	confidence?: number;
	timestamp?: Date | string;
	lastSeen?: Date | string;
	thumbnail?: string | null;
}

const iso = (d: Date | string | undefined | null) => (d ? new Date(d).toISOString() : null);

export default function historyService(_cfg: Config): ServiceSchema<Settings> {
	return {
		name: "history",
		settings: { family: "console", resource: "history" },
		actions: {
			person: {
				rest: "GET /history/person/:employeeId",
				permission: "attendance:read",
				openapi: {
					summary: "A person's attendance logs (newest day first) and detections (newest first)",
					tags: ["attendance"],
					response: {
						type: "object",
						properties: {
							employeeId: { type: "string" },
							personId: { type: ["string", "null"] },
							name: { type: ["string", "null"] },
							department: { type: ["string", "null"] },
							totals: { type: "object", properties: { days: { type: "integer" }, present: { type: "integer" }, late: { type: "integer" }, missed: { type: "integer" } } },
							attendance: { type: "array" },
							detections: { type: ["array", "null"], description: "null when no detections store runs" }
						}
					},
					errors: ["PERSON_NOT_FOUND"]
				},
				params: {
					employeeId: { type: "string", min: 1, max: 64, pattern: "^[A-Za-z0-9._:@-]+$" },
					dateFrom: date,
					dateTo: date,
					limit: { type: "number", integer: true, min: 1, max: 500, convert: true, default: 100 },
					$$strict: true
				},
				async handler(ctx: Context<{ employeeId: string; dateFrom?: string; dateTo?: string; limit: number }>) {
					const { employeeId, dateFrom, dateTo, limit } = ctx.params;
					for (const [field, v] of [["dateFrom", dateFrom], ["dateTo", dateTo]] as const)
						if (v && !isDate(v)) throw new ApiError(400, "VALIDATION_ERROR", `${field}: not a calendar date`, { details: [{ field, issue: "not a calendar date" }] });
					const att = await ctx.call<{ logs: Record<string, unknown>[]; totals: Record<string, number>; person: { personId: string | null; name: string; department: string | null } | null }, object>("attendanceLogs.ofEmployee", { employeeId, dateFrom, dateTo, limit });
					let detections: Record<string, unknown>[] | null = null;
					let first: Record<string, unknown> | null = null;
					try {
						const docs = await ctx.call<(Detection & Record<string, unknown>)[], object>("detections.find", { query: { employeeId }, sort: "-timestamp", limit });
						first = docs[0] ?? null;
						detections = docs
							.filter(d => !dateFrom || !d.timestamp || iso(d.timestamp)!.slice(0, 10) >= dateFrom)
							.map(d => ({
								id: String(d.id ?? d._id),
								trackId: d.trackId ?? null,
								cameraId: d.cameraId ?? null,
								cameraName: d.cameraName ?? null,
								status: d.status ?? null,
								confidence: d.confidence ?? null,
								timestamp: iso(d.timestamp),
								lastSeen: iso(d.lastSeen),
								thumbnail: d.thumbnail ? `/api/v1/assets/${d.thumbnail}` : null
							}));
					} catch (err) {
						// No detections store on this cluster: the history is the attendance alone.
						if ((err as Error).name === "ServiceNotFoundError") this.logger.debug("No detections for the history", { error: (err as Error).message });
						else this.logger.warn("Detections not read for the history", { employeeId, error: (err as Error).message });
					}
					if (!att.person && !detections?.length) throw new ApiError(404, "PERSON_NOT_FOUND", `No attendance or detections of ${employeeId}`);
					return {
						employeeId,
						personId: att.person?.personId ?? (first?.personId as string | undefined) ?? null,
						name: att.person?.name ?? (first?.name as string | undefined) ?? null,
						department: att.person?.department ?? (first?.department as string | undefined) ?? null,
						totals: att.totals,
						attendance: att.logs,
						detections
					};
				}
			}
		}
	};
}
