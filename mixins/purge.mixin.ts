/**
 * Deleting a store's documents by age (retention), for a service with DbMixin. Adds one
 * action, not routed:
 *
 *   `purgeOlder {field, before, where?, collect?, dryRun?}` -> `{count, collected: {field: [values]}}`
 *
 * Documents whose `field` is before `before` (and that match `where`) are deleted in batches
 * of BATCH, so a large backlog never sits in memory at once; `collect` names fields whose
 * values the deleted documents leave behind (a detection's thumbnail blob), answered so the
 * caller can delete those too. With `dryRun` nothing is deleted: the same documents are
 * counted and collected. The query is lib/retention/policy.ts `olderThanQuery`.
 */
import type { Context, ServiceSchema } from "moleculer";
import { olderThanQuery } from "../lib/retention/policy";
import type { DbAdapter } from "../services/schema";

export const PURGE_BATCH = 1000;

interface PurgeParams {
	field: string;
	before: Date;
	where?: Record<string, unknown>;
	collect?: string[];
	dryRun?: boolean;
}

export function PurgeMixin(allowedFields: readonly string[]): Partial<ServiceSchema> {
	return {
		actions: {
			purgeOlder: {
				visibility: "public",
				params: {
					field: { type: "enum", values: [...allowedFields] },
					before: { type: "date", convert: true },
					where: { type: "object", optional: true },
					collect: { type: "array", items: "string", max: 10, optional: true },
					dryRun: { type: "boolean", optional: true, default: false }
				},
				async handler(this: { adapter: DbAdapter }, ctx: Context<PurgeParams>) {
					const p = ctx.params;
					const query = olderThanQuery(p.field, p.before, p.where);
					const collect = p.collect ?? [];
					const collected: Record<string, string[]> = Object.fromEntries(collect.map(f => [f, []]));
					let count = 0;
					for (let offset = 0; ; ) {
						// Deleting: always the first batch of what is left; counting: page through.
						const docs = (await this.adapter.find({ query, sort: ["_id"], offset: p.dryRun ? offset : 0, limit: PURGE_BATCH })) as Record<string, unknown>[];
						if (docs.length === 0) break;
						for (const d of docs) for (const f of collect) if (typeof d[f] === "string") collected[f].push(d[f] as string);
						if (p.dryRun) {
							offset += docs.length;
							count += docs.length;
						} else {
							const removed = await this.adapter.removeMany({ _id: { $in: docs.map(d => d._id) } });
							count += removed;
							if (removed === 0) break; // removed meanwhile by someone else: nothing left to do here
						}
						if (docs.length < PURGE_BATCH) break;
					}
					return { count, collected };
				}
			}
		}
	} as unknown as Partial<ServiceSchema>;
}
