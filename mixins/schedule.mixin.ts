/**
 * A periodic task with one owner across the cluster, through a lease (services/schedules.service.ts
 * keeps one document per task name). Mix it into the service that owns the task; every node
 * running that service competes, and the node holding the task's lease runs it when due. The
 * lease is claimed and renewed every third of `leaseMs`; a node that dies stops renewing and
 * another node takes the task over once the lease has run out; a node stopping gives it up
 * at once. When the task is next due is kept in the store, so restarts do not shift nor
 * repeat it.
 *
 * Use:
 *   mixins: [ScheduleMixin({ name: "retention", everyMs: () => 24 * 3600_000, leaseMs: 30_000, run() { ... } })]
 *
 * - `everyMs(this)`: the period, read before every run (so a setting can change it); null
 *   pauses the task (nothing runs; it is due again as soon as a period is given).
 * - `firstRunAfterMs`: a task the store has never seen is first due this long after it is
 *   created (default: one period).
 * - `run(this)` returns the run's result (kept as `lastResult` in the store); a throw is kept as
 *   `lastError`, and the task is due again a period later either way.
 * - The service gets `scheduleOwned(name)`: whether this node holds the task's lease now.
 */
import type { Service, ServiceSchema } from "moleculer";

export interface ScheduleOptions {
	/** Task name, unique in the cluster ("retention", "odoo.auto-sync"). */
	name: string;
	// eslint-disable-next-line @typescript-eslint/no-explicit-any
	everyMs(this: any): number | null | Promise<number | null>;
	leaseMs: number;
	firstRunAfterMs?: number;
	// eslint-disable-next-line @typescript-eslint/no-explicit-any
	run(this: any): Promise<Record<string, unknown> | void>;
}

interface Claimed {
	token: number;
	leaseUntil: number;
	nextRunAt: number;
}

interface Held {
	token: number;
	leaseUntil: number;
	timer?: NodeJS.Timeout;
	running: boolean;
}

type ScheduleThis = Service & {
	schedulesHeld: Map<string, Held>;
	schedulesTimers: Map<string, NodeJS.Timeout>;
	schedulesStopping: boolean;
	scheduleOwned(name: string): boolean;
};

export function ScheduleMixin(opts: ScheduleOptions): Partial<ServiceSchema> {
	const tickName = `scheduleTick_${opts.name.replace(/[^A-Za-z0-9]/g, "_")}`;
	return {
		methods: {
			scheduleOwned(this: ScheduleThis, name: string) {
				const h = this.schedulesHeld?.get(name);
				return !!h && h.leaseUntil > Date.now();
			},
			// One tick method per task name, so a service may mix in several schedules.
			async [tickName](this: ScheduleThis) {
				if (this.schedulesStopping) return;
				let period: number | null;
				try {
					period = await opts.everyMs.call(this);
				} catch (err) {
					this.logger.warn("Schedule period not read", { schedule: opts.name, error: (err as Error).message });
					return;
				}
				const held = this.schedulesHeld.get(opts.name);
				let claimed: Claimed | null;
				try {
					claimed = await this.broker.call<Claimed | null, object>("schedules.claim", {
						name: opts.name,
						nodeID: this.broker.nodeID,
						ttlMs: opts.leaseMs,
						firstRunAt: Date.now() + (opts.firstRunAfterMs ?? period ?? 0)
					});
				} catch (err) {
					this.logger.warn("Schedule lease not claimed", { schedule: opts.name, error: (err as Error).message });
					return;
				}
				if (!claimed) {
					if (held) this.logger.warn("Schedule lease lost: another node runs it", { schedule: opts.name });
					this.schedulesHeld.delete(opts.name);
					return;
				}
				if (!held || held.token !== claimed.token) this.logger.info("Schedule owned", { schedule: opts.name, token: claimed.token });
				const own: Held = held && held.token === claimed.token ? held : { token: claimed.token, leaseUntil: claimed.leaseUntil, running: false };
				own.leaseUntil = claimed.leaseUntil;
				this.schedulesHeld.set(opts.name, own);
				if (own.running || period === null || Date.now() < claimed.nextRunAt) return;
				own.running = true;
				const at = new Date();
				let result: Record<string, unknown> | null = null;
				let error: string | null = null;
				try {
					result = (await opts.run.call(this)) ?? null;
				} catch (err) {
					error = (err as Error).message;
					this.logger.warn("Scheduled task failed", { schedule: opts.name, error });
				} finally {
					own.running = false;
				}
				await this.broker
					.call("schedules.ran", { name: opts.name, token: own.token, at, nextRunAt: at.getTime() + period, result, error })
					.catch((err: Error) => this.logger.warn("Schedule run not recorded", { schedule: opts.name, error: err.message }));
			}
		},

		created(this: ScheduleThis) {
			this.schedulesHeld ??= new Map();
			this.schedulesTimers ??= new Map();
			this.schedulesStopping = false;
		},

		async started(this: ScheduleThis & Record<string, () => Promise<void>>) {
			const tick = () => void this[tickName]().catch(err => this.logger.warn("Schedule tick failed", { schedule: opts.name, error: (err as Error).message }));
			this.schedulesTimers.set(opts.name, setInterval(tick, Math.max(50, Math.floor(opts.leaseMs / 3))));
			// The first claim as soon as the schedules store is there (it may start after this service).
			void this.broker.waitForServices(["schedules"], opts.leaseMs).then(tick, () => undefined);
		},

		async stopped(this: ScheduleThis) {
			this.schedulesStopping = true;
			clearInterval(this.schedulesTimers.get(opts.name));
			const held = this.schedulesHeld.get(opts.name);
			if (held) await this.broker.call("schedules.release", { name: opts.name, token: held.token }).catch(() => undefined);
			this.schedulesHeld.delete(opts.name);
		}
	} as unknown as Partial<ServiceSchema>;
}
