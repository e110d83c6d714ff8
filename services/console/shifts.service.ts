/**
 * Shift schedules (storage role; seed 002 `shift_schedules`, `GET /shifts`): name, start and
 * end as local clock times in the site's zone ("HH:MM"; an end at or before the start is the
 * next day), the ISO weekdays it starts on, location, expected headcount, and the grace before
 * an arrival is late (the site's default when unset). Compliance is computed from the
 * attendance logs of each shift's latest started occurrence (lib/attendance/shifts.ts).
 * Reading needs attendance:read, changing shifts:write. Changes broadcast `shifts.changed`.
 */
import crypto from "node:crypto";
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { DbMixin } from "../../mixins/db.mixin";
import { pageParams, pageQuery, paged, type PageParams } from "../../lib/api/paging";
import { latestStarted, tallyOccurrence, type ShiftRule } from "../../lib/attendance/shifts";
import { isClock } from "../../lib/attendance/time";
import { ApiError, notFound } from "../../lib/errors";
import type { DbVars, GatewayMeta, Implements } from "../schema";
import type { SiteSettings } from "./site.service";

export interface ShiftDoc {
	_id: string;
	name: string;
	start: string;
	end: string;
	days: number[];
	location: string;
	expectedHeadcount: number;
	lateAfterMinutes: number | null;
	createdAt: Date;
	updatedAt: Date;
	version: number;
}

const clock = { type: "string", pattern: "^([01]\\d|2[0-3]):[0-5]\\d$", messages: { stringPattern: "'{field}' must be a local time HH:MM (00:00 to 23:59)" } } as const;
const fields = (optional: boolean) => ({
	name: { type: "string", min: 1, max: 200, trim: true, optional },
	start: { ...clock, optional },
	end: { ...clock, optional },
	days: { type: "array", items: { type: "number", integer: true, min: 1, max: 7 }, min: 1, max: 7, unique: true, optional: true, description: "ISO weekdays the shift starts on, 1 Monday ... 7 Sunday (default Monday to Friday)" },
	location: { type: "string", max: 200, trim: true, optional: true },
	expectedHeadcount: { type: "number", integer: true, min: 0, max: 1_000_000, optional },
	lateAfterMinutes: { type: "number", integer: true, min: 0, max: 720, optional: true, nullable: true, description: "null: the site's default" }
});
type Input = { name?: string; start?: string; end?: string; days?: number[]; location?: string; expectedHeadcount?: number; lateAfterMinutes?: number | null };

const id = { type: "string", min: 1, max: 64, pattern: "^[A-Za-z0-9_-]+$" } as const;

const SHIFT_RESPONSE = {
	type: "object",
	properties: {
		id: { type: "string" },
		name: { type: "string" },
		start: { type: "string", description: "HH:MM, site time" },
		end: { type: "string", description: "HH:MM, site time; at or before start: the next day" },
		overnight: { type: "boolean" },
		days: { type: "array", items: { type: "integer" } },
		location: { type: "string" },
		expectedHeadcount: { type: "integer" },
		lateAfterMinutes: { type: "integer", description: "in force (the site's default when not set)" },
		lateAfterMinutesSet: { type: ["integer", "null"] },
		compliance: { type: ["number", "null"], description: "% of the expected headcount attending the latest started occurrence" },
		current: {
			type: ["object", "null"],
			properties: { date: { type: "string" }, start: { type: "string" }, end: { type: "string" }, attended: { type: "integer" }, onTime: { type: "integer" }, late: { type: "integer" }, missed: { type: "integer" } }
		},
		createdAt: { type: "string", format: "date-time" },
		updatedAt: { type: "string", format: "date-time" },
		version: { type: "integer" }
	}
};

const fieldError = (field: string, issue: string) => new ApiError(400, "VALIDATION_ERROR", `${field}: ${issue}`, { details: [{ field, issue }] });

interface Settings {
	family: string;
	resource: string;
}
interface Methods {
	byId(id: string): Promise<ShiftDoc>;
	rulesOf(docs: ShiftDoc[], site: SiteSettings): ShiftRule[];
	views(ctx: Context, docs: ShiftDoc[]): Promise<Record<string, unknown>[]>;
	changed(id: string, deleted?: boolean): void;
}
type Vars = DbVars;

export default function shiftsService(cfg: Config): ServiceSchema<Settings, Methods, Vars> {
	return {
		name: "shifts",
		mixins: [DbMixin("shifts", cfg)],
		settings: { family: "console", resource: "shift" },
		actions: {
			list: {
				rest: "GET /shifts",
				permission: "attendance:read",
				paged: true,
				openapi: { summary: "Shifts, with the compliance of their latest started occurrence", tags: ["attendance"], response: SHIFT_RESPONSE },
				params: { ...pageParams, search: { type: "string", max: 100, trim: true, optional: true }, $$strict: true },
				async handler(ctx: Context<PageParams & { search?: string }>) {
					let docs: ShiftDoc[] = await this.adapter.find({ sort: ["start", "name"] });
					const s = ctx.params.search?.toLowerCase();
					if (s) docs = docs.filter(d => d.name.toLowerCase().includes(s) || (d.location ?? "").toLowerCase().includes(s));
					const { offset, limit } = pageQuery(ctx.params);
					return paged(await this.views(ctx, docs.slice(offset, offset + limit)), docs.length, ctx.params);
				}
			},

			get: {
				rest: "GET /shifts/:id",
				permission: "attendance:read",
				openapi: { summary: "One shift", tags: ["attendance"], response: SHIFT_RESPONSE, errors: ["SHIFT_NOT_FOUND"] },
				params: { id, $$strict: true },
				async handler(ctx: Context<{ id: string }>) {
					return (await this.views(ctx, [await this.byId(ctx.params.id)]))[0];
				}
			},

			create: {
				rest: "POST /shifts",
				permission: "shifts:write",
				status: 201,
				openapi: { summary: "Add a shift", tags: ["attendance"], response: SHIFT_RESPONSE },
				params: { ...fields(false), $$strict: true },
				async handler(ctx: Context<Required<Pick<Input, "name" | "start" | "end" | "expectedHeadcount">> & Input>) {
					const p = ctx.params;
					if (p.start === p.end) throw fieldError("end", "a shift cannot start and end at the same time");
					const now = new Date();
					const doc: ShiftDoc = {
						_id: `SHIFT-${crypto.randomBytes(4).toString("hex").toUpperCase()}`,
						name: p.name,
						start: p.start,
						end: p.end,
						days: [...(p.days ?? [1, 2, 3, 4, 5])].sort(),
						location: p.location ?? "",
						expectedHeadcount: p.expectedHeadcount,
						lateAfterMinutes: p.lateAfterMinutes ?? null,
						createdAt: now,
						updatedAt: now,
						version: 1
					};
					await this.adapter.insert(doc);
					this.changed(doc._id);
					return (await this.views(ctx, [doc]))[0];
				}
			},

			update: {
				rest: "PUT /shifts/:id",
				permission: "shifts:write",
				openapi: { summary: "Change a shift; send the version you read (a stale one answers 409)", tags: ["attendance"], response: SHIFT_RESPONSE, errors: ["SHIFT_NOT_FOUND", "VERSION_CONFLICT"] },
				params: { id, version: { type: "number", integer: true, min: 1, optional: true }, ...fields(true), $$strict: true },
				async handler(ctx: Context<Input & { id: string; version?: number }>) {
					const { id, version, ...input } = ctx.params;
					const doc = await this.byId(id);
					if (version !== undefined && version !== doc.version) throw new ApiError(409, "VERSION_CONFLICT", `Shift ${id} changed meanwhile (version ${doc.version})`);
					if ((input.start ?? doc.start) === (input.end ?? doc.end)) throw fieldError("end", "a shift cannot start and end at the same time");
					const set: Partial<ShiftDoc> = {};
					for (const k of ["name", "start", "end", "location", "expectedHeadcount", "lateAfterMinutes"] as const) if (input[k] !== undefined) (set as Record<string, unknown>)[k] = input[k];
					if (input.days) set.days = [...input.days].sort();
					const n = await this.adapter.updateMany({ _id: id, version: doc.version }, { $set: { ...set, updatedAt: new Date(), version: doc.version + 1 } });
					if (n !== 1) throw new ApiError(409, "VERSION_CONFLICT", `Shift ${id} changed meanwhile`);
					this.changed(id);
					return (await this.views(ctx, [await this.byId(id)]))[0];
				}
			},

			remove: {
				rest: "DELETE /shifts/:id",
				permission: "shifts:write",
				status: 204,
				openapi: { summary: "Remove a shift (logs keep its name)", tags: ["attendance"], errors: ["SHIFT_NOT_FOUND"] },
				params: { id, $$strict: true },
				async handler(ctx: Context<{ id: string }, GatewayMeta>) {
					const doc = await this.byId(ctx.params.id);
					await this.adapter.removeById(doc._id);
					this.changed(doc._id, true);
					ctx.meta.$audit = { resourceId: doc._id, message: `Removed shift ${doc.name}` };
					return null;
				}
			},

			/** Every shift as lib/attendance reckons with it, the site's default grace resolved (not routed). */
			rules: {
				visibility: "public",
				async handler(ctx: Context): Promise<ShiftRule[]> {
					const [docs, site] = await Promise.all([this.adapter.find({ sort: ["start", "name"] }) as Promise<ShiftDoc[]>, ctx.call<SiteSettings>("site.current")]);
					return this.rulesOf(docs, site);
				}
			}
		},

		methods: {
			async byId(id: string) {
				const doc: ShiftDoc | null = await this.adapter.findById(id);
				if (!doc) throw notFound("SHIFT_NOT_FOUND", `Shift not found: ${id}`);
				return doc;
			},

			rulesOf(docs, site) {
				return docs
					.filter(d => isClock(d.start) && isClock(d.end))
					.map(d => ({ id: d._id, name: d.name, start: d.start, end: d.end, days: d.days ?? [], lateAfterMinutes: d.lateAfterMinutes ?? site.lateAfterMinutes, expectedHeadcount: d.expectedHeadcount }));
			},

			async views(ctx, docs) {
				const site = await ctx.call<SiteSettings>("site.current");
				const now = new Date();
				const rules = this.rulesOf(docs, site);
				const occurrences = rules.map(r => latestStarted(r, now, site.timezone));
				const pairs = occurrences.filter(o => o !== null).map(o => ({ shiftId: o.shiftId, day: o.date }));
				const statuses = pairs.length ? await ctx.call<Record<string, string[]>, object>("attendanceLogs.statusesOf", { pairs }) : {};
				return docs.map((d, i) => {
					const o = occurrences[i];
					const t = o ? tallyOccurrence(o, statuses[`${o.shiftId}|${o.date}`] ?? [], now) : null;
					return {
						id: d._id,
						name: d.name,
						start: d.start,
						end: d.end,
						overnight: d.end <= d.start,
						days: d.days ?? [],
						location: d.location ?? "",
						expectedHeadcount: d.expectedHeadcount,
						lateAfterMinutes: d.lateAfterMinutes ?? site.lateAfterMinutes,
						lateAfterMinutesSet: d.lateAfterMinutes ?? null,
						compliance: t?.compliance ?? null,
						current: o && t ? { date: o.date, start: o.start.toISOString(), end: o.end.toISOString(), attended: t.attended, onTime: t.onTime, late: t.late, missed: t.missed } : null,
						createdAt: new Date(d.createdAt).toISOString(),
						updatedAt: new Date(d.updatedAt).toISOString(),
						version: d.version
					};
				});
			},

			changed(id, deleted = false) {
				this.broker.broadcast("shifts.changed", { id, deleted });
			}
		} satisfies Implements<Methods, Settings, Vars>
	};
}
