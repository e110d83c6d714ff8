/**
 * The actor supervisor: runs one kind of actor, keyed by a document's key, on exactly one
 * node of the nodes running the service it is mixed into. Recognition sessions are one kind
 * (services/recognition.service.ts: key slotId, leases in `sessions`); any other kind that
 * keeps a lease per key in a store is supervised the same way.
 *
 * - Placement: rendezvous hashing of the key over the live nodes of the service that are not
 *   draining (lib/recognition/placement.ts); every node computes the same answer.
 * - One owner: a node runs a key's actors only while it holds the key's lease in the store
 *   (`store.claim` before they start, `store.renew` every third of `leaseMs`, `store.release`
 *   when they stop). A lease that cannot be renewed stops them, never later than it ends.
 * - Adoption: every `placementIntervalMs` each node looks for documents that should run and
 *   have no live lease (a node died or was cut off) and adopts those it wins.
 * - Operators: `move` hands a key's lease to another node, which claims it at once; `drain`
 *   moves every key of a node and keeps it from taking new ones (also on SIGTERM);
 *   `actors` and `load` say what a node runs.
 *
 * Actions of the service (addressed `<service>.<action>`, the key under its own name):
 * adopt, release, move, drain, undrain, actors, load. Events: `<service>.draining`,
 * `<service>.undrained` (also when the service starts: a restarted one takes keys). One supervisor
 * per service.
 */
import type { Context, Service, ServiceSchema } from "moleculer";
import { ApiError } from "../lib/errors";
import { leaseIsLive, liveOwner, placeActor, type Lease } from "../lib/recognition/placement";

export type ActorKey = number | string;

/** What the store's claim and renew answer. */
export interface LeaseGrant {
	token: number;
	leaseUntil: number;
}

/** A key this node runs. */
export interface OwnedActors<D> {
	/** The document the actors were started from. */
	doc: D;
	token: number;
	since: number;
	/** Epoch ms until which the last renewal holds the lease. */
	leaseUntil: number;
	renewTimer: NodeJS.Timeout | null;
	renewing: boolean;
}

export interface Adoption<K extends ActorKey = ActorKey> {
	key: K;
	nodeID: string;
	token: number;
	already?: boolean;
}

/** The supervising service, as its hooks see it. */
export type Supervisor<D extends Lease = Lease, K extends ActorKey = ActorKey> = Service & SupervisorVars<D, K> & SupervisorMethods<D, K>;

interface SupervisorVars<D, K extends ActorKey> {
	owned: Map<K, OwnedActors<D>>;
	adopting: Map<K, Promise<Adoption<K>>>;
	/** Other nodes that announced they drain (placement skips them). */
	drainingNodes: Set<string>;
	/** This node drains: it takes no new keys and placement passes stop. */
	draining: boolean;
	ticking: boolean;
	stopping: boolean;
	placementTimer?: NodeJS.Timeout;
	resuming?: Promise<unknown>;
}

interface SupervisorMethods<D, K extends ActorKey> {
	handOffAll(ctx: Context): Promise<{ moved: Record<string, unknown>[]; kept: K[] }>;
	liveActorNodes(): string[];
	placeFor(key: K, exclude?: Set<string>): string | null;
	adoptLocal(key: K): Promise<Adoption<K>>;
	startActors(doc: D, token: number): Promise<void>;
	renewLease(key: K): Promise<void>;
	stopActors(key: K, reason: string): Promise<void>;
	placementTick(): Promise<void>;
}

export interface ActorSupervisorOptions<D extends Lease, K extends ActorKey> {
	/** Name of the service this is mixed into (its actions and event are addressed by it). */
	service: string;
	/** What one key's actors are called in logs, errors and the audit log ("session"). */
	kind: string;
	/** Plural of `kind`, the count in `load` ("sessions"). */
	plural: string;
	/** Name of the key in action params, store calls and answers ("slotId"). */
	key: string;
	/** fastest-validator rule of the key. */
	keyRule: Record<string, unknown> & { type: string };
	keyOf(doc: D): K;
	/** The rendezvous key of a key (only its stability matters). */
	placementKey(key: K): string;
	leaseMs: number;
	placementIntervalMs: number;
	/** Services that must be up before placement starts. */
	waitFor: string[];
	/**
	 * Store actions, called with `{[key], nodeID, ttlMs}` (claim: a LeaseGrant or null when
	 * another node holds it), `{[key], nodeID, token, ttlMs}` (renew: a LeaseGrant, or an error
	 * of type LEASE_LOST) and `{[key], token, handTo?}` (release).
	 */
	store: { claim: string; renew: string; release: string };
	/** The documents that should run now, each with its lease. */
	list(this: Supervisor<D, K>): Promise<D[]>;
	/** The document of a key that should run, or null. */
	find(this: Supervisor<D, K>, key: K): Promise<D | null>;
	notFound(key: K): Error;
	/** Since when a document should run (epoch ms): a lease never claimed counts as ended then. */
	since?(doc: D): number;
	/** Start the key's actors on this node; the lease is held and renewed meanwhile. */
	start(this: Supervisor<D, K>, doc: D, token: number): Promise<void>;
	/** Stop this node's actors of a key (`doc` is null when the key was not owned here). */
	stop(this: Supervisor<D, K>, key: K, doc: D | null): Promise<void>;
	/** More about a key's actors in `actors`. */
	describe?(this: Supervisor<D, K>, ctx: Context, key: K, doc: D): Promise<Record<string, unknown>>;
	/** More counts in `load`, from the documents of the keys this node runs. */
	load?(docs: D[]): Record<string, unknown>;
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export function ActorSupervisorMixin<D extends Lease, K extends ActorKey>(opts: ActorSupervisorOptions<D, K>): Partial<ServiceSchema> {
	const { service, kind, plural, key: keyName, leaseMs, placementIntervalMs } = opts;
	const Kind = capital(kind);
	const at = (key: K) => ({ [keyName]: key });
	const keyOfParams = (params: Record<string, unknown>) => params[keyName] as K;
	type This = Supervisor<D, K>;

	const schema: Partial<ServiceSchema> = {
		actions: {
			/** Claim the key's lease for this node and start its actors here (placement, move). */
			adopt: {
				visibility: "public",
				params: { [keyName]: opts.keyRule },
				async handler(this: This, ctx: Context<Record<string, unknown>>) {
					const key = keyOfParams(ctx.params);
					const own = this.owned.get(key);
					if (own) return { ...at(key), nodeID: this.broker.nodeID, token: own.token, already: true };
					if (this.draining) throw new ApiError(409, "NODE_DRAINING", `Node ${this.broker.nodeID} is draining and takes no ${plural}`);
					const adopted = await this.adoptLocal(key);
					return { ...at(key), nodeID: adopted.nodeID, token: adopted.token };
				}
			},

			/** Stop this node's actors of a key and give up its lease, handing it to `handTo` if given. */
			release: {
				visibility: "public",
				params: { [keyName]: opts.keyRule, handTo: { type: "string", optional: true } },
				async handler(this: This, ctx: Context<Record<string, unknown> & { handTo?: string }>) {
					const key = keyOfParams(ctx.params);
					const { handTo } = ctx.params;
					const own = this.owned.get(key);
					if (!own) return { ...at(key), released: false };
					await this.stopActors(key, handTo ? "moved" : "released");
					await ctx.call(opts.store.release, { ...at(key), token: own.token, handTo });
					return { ...at(key), released: true, handTo: handTo ?? null };
				}
			},

			/** Move a key's actors to another node of the service (operators: `move` in the REPL). */
			move: {
				params: { [keyName]: { ...opts.keyRule, convert: true }, nodeID: "string" },
				async handler(this: This, ctx: Context<Record<string, unknown> & { nodeID: string }>) {
					const key = keyOfParams(ctx.params);
					const { nodeID } = ctx.params;
					if (!this.liveActorNodes().includes(nodeID)) throw new ApiError(400, "NODE_NOT_AVAILABLE", `${nodeID} is not a live actors node`);
					const doc = await opts.find.call(this, key);
					if (!doc) throw opts.notFound(key);
					const from = liveOwner(doc, Date.now());
					if (from === nodeID) return { ...at(key), from, to: nodeID, gapMs: 0 };
					// Refused before anything stops: a draining node would not adopt what was released for it.
					if (this.drainingNodes.has(nodeID) || (nodeID === this.broker.nodeID && this.draining)) throw new ApiError(409, "NODE_DRAINING", `Node ${nodeID} is draining and takes no ${plural}`);
					const t0 = Date.now();
					const released = !!from && this.liveActorNodes().includes(from);
					if (released) await ctx.call(`${service}.release`, { ...at(key), handTo: nodeID }, { nodeID: from! });
					let adopted: { token: number };
					try {
						adopted = await ctx.call<{ token: number }, object>(`${service}.adopt`, at(key), { nodeID });
					} catch (err) {
						// The target refused after the hand-over: start it again where it ran rather than wait for placement.
						if (released) await ctx.call(`${service}.adopt`, at(key), { nodeID: from! }).catch(() => undefined);
						throw err;
					}
					const gapMs = Date.now() - t0;
					await ctx.call("audit.record", { action: `${kind}.moved`, ...at(key), details: { from, to: nodeID, gapMs, token: adopted.token } });
					this.logger.info(`${Kind} moved`, { ...at(key), from, to: nodeID, gapMs });
					return { ...at(key), from, to: nodeID, gapMs, token: adopted.token };
				}
			},

			/**
			 * Hand every key of this node to the others and take no new ones (operators: `drain`
			 * in the REPL; also on SIGTERM). Call it on the node to drain (nodeID option).
			 */
			drain: {
				async handler(this: This, ctx: Context) {
					this.draining = true;
					this.broker.broadcast(`${service}.draining`, { nodeID: this.broker.nodeID });
					const { moved, kept } = await this.handOffAll(ctx);
					this.logger.info("Node drained", { moved: moved.length, kept: kept.length });
					return { nodeID: this.broker.nodeID, moved, kept };
				}
			},

			/** Take new keys again after a drain (operators: the console's undrain); placement passes resume. */
			undrain: {
				handler(this: This) {
					if (this.stopping) throw new ApiError(409, "NODE_STOPPING", `Node ${this.broker.nodeID} is stopping`);
					this.draining = false;
					this.broker.broadcast(`${service}.undrained`, { nodeID: this.broker.nodeID });
					this.logger.info("Node takes actors again", { of: service });
					return { nodeID: this.broker.nodeID, draining: false };
				}
			},

			/** This node's actors: each key with its lease, and what `describe` adds. */
			actors: {
				async handler(this: This, ctx: Context) {
					const out = [];
					for (const [key, own] of this.owned) {
						const more = opts.describe ? await opts.describe.call(this, ctx, key, own.doc) : {};
						out.push({ ...at(key), nodeID: this.broker.nodeID, token: own.token, since: new Date(own.since).toISOString(), draining: this.draining, ...more });
					}
					return out;
				}
			},

			/** What this node runs: its load for operators (`cluster` in the REPL). */
			load: {
				handler(this: This) {
					const docs = [...this.owned.values()].map(o => o.doc);
					return { nodeID: this.broker.nodeID, [plural]: this.owned.size, ...(opts.load ? opts.load(docs) : {}), draining: this.draining };
				}
			}
		},

		events: {
			[`${service}.draining`](this: This, ctx: Context<{ nodeID: string }>) {
				if (ctx.params.nodeID !== this.broker.nodeID) this.drainingNodes.add(ctx.params.nodeID);
			},
			[`${service}.undrained`](this: This, ctx: Context<{ nodeID: string }>) {
				this.drainingNodes.delete(ctx.params.nodeID);
			},
			"$node.disconnected"(this: This, ctx: Context<{ node: { id: string } }>) {
				this.drainingNodes.delete(ctx.params.node.id);
			}
		},

		methods: {
			/**
			 * Move every key this node runs to the node placement picks among the others (drain;
			 * a restart of the service, services/node-health.service.ts). Keys no other node can
			 * take stay here.
			 */
			async handOffAll(this: This, ctx: Context): Promise<{ moved: Record<string, unknown>[]; kept: K[] }> {
				const moved: Record<string, unknown>[] = [];
				const kept: K[] = [];
				for (const key of [...this.owned.keys()]) {
					const to = this.placeFor(key, new Set([this.broker.nodeID]));
					if (!to) {
						kept.push(key);
						continue;
					}
					try {
						const r = await ctx.call<{ gapMs: number }, object>(`${service}.move`, { ...at(key), nodeID: to }, { nodeID: this.broker.nodeID });
						moved.push({ ...at(key), to, gapMs: r.gapMs });
					} catch (err) {
						this.logger.warn(`${Kind} not handed off`, { ...at(key), to, error: (err as Error).message });
						kept.push(key);
					}
				}
				return { moved, kept };
			},

			/** Live nodes running this service, this one included. */
			liveActorNodes(this: This): string[] {
				const nodes = (this.broker.registry.getServiceList({ onlyAvailable: true, skipInternal: true }) as unknown as { name: string; nodeID: string }[])
					.filter(s => s.name === service)
					.map(s => s.nodeID);
				return [...new Set(nodes)];
			},

			/** The node that should run a key now (rendezvous over live, non-draining nodes). */
			placeFor(this: This, key: K, exclude: Set<string> = new Set()): string | null {
				const skip = new Set<string>([...exclude, ...this.drainingNodes]);
				if (this.draining) skip.add(this.broker.nodeID);
				return placeActor(opts.placementKey(key), this.liveActorNodes(), skip);
			},

			/** Claim the lease, then start the actors here; undone if they cannot start. */
			async adoptLocal(this: This, key: K): Promise<Adoption<K>> {
				// One adoption per key at a time on this node (placement and a move may race).
				const running = this.adopting.get(key);
				if (running) return running;
				const run = (async () => {
					const lease = await this.broker.call<LeaseGrant | null, object>(opts.store.claim, { ...at(key), nodeID: this.broker.nodeID, ttlMs: leaseMs });
					if (!lease) throw new ApiError(409, "LEASE_HELD", `${Kind} ${key} is owned by another node`);
					const doc = await opts.find.call(this, key);
					if (!doc) throw opts.notFound(key);
					const t0 = Date.now();
					try {
						await this.startActors(doc, lease.token);
					} catch (err) {
						await this.stopActors(key, "failed to start").catch(() => undefined);
						await this.broker.call(opts.store.release, { ...at(key), token: lease.token }).catch(() => undefined);
						throw err;
					}
					this.logger.info(`${Kind} adopted`, { ...at(key), token: lease.token, startMs: Date.now() - t0 });
					return { key, nodeID: this.broker.nodeID, token: lease.token };
				})();
				this.adopting.set(key, run);
				try {
					return await run;
				} finally {
					this.adopting.delete(key);
				}
			},

			/** Own the key (renewing its lease from now on), then start its actors. */
			async startActors(this: This, doc: D, token: number) {
				const key = opts.keyOf(doc);
				const own: OwnedActors<D> = { doc, token, since: Date.now(), leaseUntil: Date.now() + leaseMs, renewTimer: null, renewing: false };
				this.owned.set(key, own);
				own.renewTimer = setInterval(() => void this.renewLease(key), Math.max(200, Math.floor(leaseMs / 3)));
				await opts.start.call(this, doc, token);
			},

			/** Keep the lease; lose it (or fail to keep it until it ends) and the actors stop here. */
			async renewLease(this: This, key: K) {
				const own = this.owned.get(key);
				if (!own || own.renewing) return;
				own.renewing = true;
				try {
					const r = await this.broker.call<LeaseGrant, object>(opts.store.renew, { ...at(key), nodeID: this.broker.nodeID, token: own.token, ttlMs: leaseMs });
					own.leaseUntil = r.leaseUntil;
				} catch (err) {
					const lost = (err as { type?: string }).type === "LEASE_LOST";
					// Unreachable store: keep going until the lease would have ended, never past it.
					if (lost || Date.now() >= own.leaseUntil - 500) {
						this.logger.warn(`${Kind} lease lost: stopping its actors here`, { ...at(key), token: own.token, error: (err as Error).message });
						await this.stopActors(key, "lease lost");
					}
				} finally {
					own.renewing = false;
				}
			},

			/** Look for documents that should run with no live owner and adopt those this node wins. */
			async placementTick(this: This) {
				if (this.draining || this.ticking) return;
				this.ticking = true;
				try {
					const docs = await opts.list.call(this);
					const now = Date.now();
					const live = new Set(this.liveActorNodes());
					for (const doc of docs) {
						const key = opts.keyOf(doc);
						if (this.owned.has(key)) continue;
						const handedToMe = doc.leaseHandTo === this.broker.nodeID;
						const handedToLive = !!doc.leaseHandTo && live.has(doc.leaseHandTo);
						if (leaseIsLive(doc, now) && !handedToMe) continue;
						// A hand-over to a live node is that node's to take (give it a few ticks).
						const expiredFor = now - Math.max(doc.leaseUntil ?? 0, opts.since ? opts.since(doc) : 0);
						if (!handedToMe && handedToLive && expiredFor < 3 * placementIntervalMs) continue;
						const mine = handedToMe || this.placeFor(key) === this.broker.nodeID || expiredFor > 5 * placementIntervalMs;
						if (!mine) continue;
						this.logger.info(`Adopting a ${kind} with no live owner`, { ...at(key), previousOwner: doc.leaseOwner ?? null, leaseEndedMsAgo: expiredFor });
						await this.adoptLocal(key).catch((err: Error) => this.logger.debug("Adoption skipped", { ...at(key), error: err.message }));
					}
				} catch (err) {
					this.logger.debug("Placement pass failed", { error: (err as Error).message });
				} finally {
					this.ticking = false;
				}
			},

			async stopActors(this: This, key: K, reason: string) {
				const own = this.owned.get(key);
				if (own?.renewTimer) clearInterval(own.renewTimer);
				this.owned.delete(key);
				await opts.stop.call(this, key, own?.doc ?? null);
				if (own) this.logger.info(`${Kind} actors stopped here`, { ...at(key), reason });
			}
		},

		created(this: This) {
			this.owned = new Map();
			this.adopting = new Map();
			this.drainingNodes = new Set<string>();
			this.draining = false;
			this.ticking = false;
			this.stopping = false;
		},

		started(this: This) {
			// A drained node whose service was restarted takes keys again: others stop skipping it.
			this.broker.broadcast(`${service}.undrained`, { nodeID: this.broker.nodeID });
			// Keys are picked up in the background once the stores answer: a node must start
			// even while the storage node is still coming up.
			this.resuming = this.broker
				.waitForServices(opts.waitFor, 120_000)
				.then(() => {
					if (this.stopping) return;
					this.placementTimer = setInterval(() => void this.placementTick(), placementIntervalMs);
					return this.placementTick();
				})
				.catch((err: Error) => this.logger.error(`${Kind} placement did not start`, { error: err.message }));
		},

		async stopped(this: This) {
			this.stopping = true;
			clearInterval(this.placementTimer);
			await this.resuming;
			// Give up leases at once so other nodes need not wait for them to run out.
			for (const [key, own] of [...this.owned]) {
				if (own.renewTimer) clearInterval(own.renewTimer);
				await this.broker.call(opts.store.release, { ...at(key), token: own.token }).catch(() => undefined);
			}
			this.owned.clear();
		}
	} as unknown as Partial<ServiceSchema>;
	return schema;
}
