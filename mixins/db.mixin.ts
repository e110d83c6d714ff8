/**
 * Document storage for a service: MongoDB through the mongoose model in models/ when
 * MONGO_URI is set, else moleculer-db's NeDB adapter persisted in DATA_DIR/<collection>.db.
 * Both sit behind moleculer-db's actions and adapter interface, and pass the same
 * conformance suite (test/integration/documents.conformance.test.ts).
 */
import path from "node:path";
import fs from "node:fs";
import type { Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import DbService from "moleculer-db";
import MongooseAdapter from "moleculer-db-adapter-mongoose";
import type { Config } from "../config";
import { models, type Collection } from "../models";
import type { DbAdapter, DbVars } from "../services/schema";

/**
 * moleculer-db declares REST paths on its actions; a store's actions are routed only where
 * the service says so itself (with a permission), never by default.
 */
const NO_REST = Object.fromEntries(["list", "find", "count", "create", "insert", "get", "update", "remove"].map(a => [a, { rest: null }]));

/** moleculer-db's typings declare a class; the module is a service schema, used as a mixin. */
const DbServiceMixin = DbService as unknown as Partial<ServiceSchema>;

/**
 * A db mixin's schema: Moleculer's keys, typed for the `this` its handlers get (`TVars`), and
 * what moleculer-db reads beside them.
 */
type DbMixinSchema<TVars> = Partial<ServiceSchema<ServiceSettingSchema, object, TVars>> & {
	adapter: object;
	schema?: (typeof models)[Collection]["schema"];
	modelName?: string;
};

/** The part of NeDB's datastore used here. */
interface NeDbStore {
	ensureIndexAsync(options: { fieldName: string; unique: boolean; sparse: boolean }): Promise<void>;
	compactDatafile(): void;
}

/** What the embedded store's handlers use: its NeDB datastore, compacted on a timer. */
interface NeDbVars {
	adapter: DbAdapter & { db: NeDbStore };
	compactionTimer: NodeJS.Timeout;
}

/**
 * A mixin joins any service, whose own `this` types are not known here: hence `any` for the
 * schema's type parameters (its handlers are typed above, by DbMixinSchema).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function DbMixin(collection: Collection, cfg: Config): Partial<ServiceSchema<any, any, any, any>> {
	const def = models[collection];
	if (cfg.mongoUri) {
		const mongo: DbMixinSchema<DbVars> = {
			mixins: [DbServiceMixin],
			adapter: new MongooseAdapter(cfg.mongoUri, { serverSelectionTimeoutMS: 5000 }),
			schema: def.schema,
			modelName: def.modelName,
			actions: { ...NO_REST, health: { visibility: "public", handler: healthHandler } }
		};
		return mongo;
	}
	fs.mkdirSync(cfg.dataDir, { recursive: true });
	const nedb: DbMixinSchema<NeDbVars> = {
		mixins: [DbServiceMixin],
		adapter: new NeDbAdapter({ filename: path.join(cfg.dataDir, `${collection}.db`) }),
		actions: { ...NO_REST, health: { visibility: "public", handler: healthHandler } },
		async started() {
			// The single-field indexes of the mongoose model, unique ones included: idempotency
			// (one recognition per recognitionId, one camera per id) is the store's job here too.
			// NeDB has no compound indexes; (sessionId, userId) of attendance is kept unique by its
			// only writer, the session's actor, which handles one frame at a time.
			// Nor partial ones: live sessions are kept one per slot by sessions.open, which this
			// node alone serves with the embedded stores.
			for (const [fields, options] of def.schema.indexes() as [Record<string, unknown>, { unique?: boolean; sparse?: boolean; partialFilterExpression?: object }][]) {
				const keys = Object.keys(fields);
				if (keys.length !== 1 || options?.partialFilterExpression) continue;
				try {
					await this.adapter.db.ensureIndexAsync({ fieldName: keys[0], unique: !!options?.unique, sparse: !!options?.sparse });
				} catch (err) {
					this.logger.error("Index not created: the stored documents break it", { collection, fields: keys, error: (err as Error).message });
				}
			}
			// NeDB appends every change and compacts on load; compact hourly too, so a
			// long-running node's file stays the size of its data.
			this.compactionTimer = setInterval(() => this.adapter.db?.compactDatafile(), 3600_000).unref();
		},
		stopped() {
			clearInterval(this.compactionTimer);
		}
	};
	return nedb;
}

/**
 * moleculer-db's NeDB adapter, with `update` on NeDB's own promise API: the adapter wraps it
 * through util.promisify around a function that returns a promise, which Node reports as
 * deprecated (DEP0174) on every update.
 */
class NeDbAdapter extends (DbService.MemoryAdapter as unknown as new (opts: object) => { db: any; connect(): Promise<void> }) {
	override connect(): Promise<void> {
		const loaded = super.connect();
		const db = this.db;
		// The adapter reads [numAffected, affectedDocuments] from update's result.
		db.update = async (query: object, update: object, options: object) => {
			const r = await db.updateAsync(query, update, options);
			return [r.numAffected, r.affectedDocuments, r.upsert];
		};
		return loaded;
	}
}

/** Reachability probe used by /health: a real count through the adapter. */
async function healthHandler(this: Service & DbVars) {
	await this.adapter.count({});
	return { ok: true };
}
