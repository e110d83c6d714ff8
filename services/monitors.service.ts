/**
 * Camera monitors (actors role): every enabled camera of the registry is watched all day by
 * a monitor actor (services/actors/monitor.actor.ts) on one actors node.
 *
 * Placement, ownership, failover, move and drain are the actor supervisor's
 * (mixins/actor-supervisor.mixin.ts), of which the monitors are a second kind beside the
 * recognition sessions: keyed by cameraId, the lease of each camera kept in its registry
 * document (cameras.claim / renew / release, fenced writes with cameras.reportState). The
 * actions adopt, release, move, drain, actors and load are addressed `monitors.<action>`.
 *
 * A camera disabled, deleted or edited (`cameras.changed`, broadcast by the registry) has its
 * actor stopped at once on the node that owns it; an edit that changes what is opened (stream,
 * credentials, sampling interval) restarts it on the node placement picks, at once. Other
 * edits, and the actors' own state reports, leave it running.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { ApiError } from "../lib/errors";
import { cameraId as cameraIdRule } from "../lib/validation/rules";
import { monitorFingerprint, type UptimeDay } from "../lib/cameras/monitor";
import { leaseIsLive, monitorKey } from "../lib/recognition/placement";
import { ActorSupervisorMixin, type Supervisor } from "../mixins/actor-supervisor.mixin";
import { monitorActor, monitorActorName, type MonitorDoc } from "./actors/monitor.actor";
import type { Implements } from "./schema";

/** What the registry broadcasts after every change of a camera. */
export interface CameraChanged {
	cameraId: number;
	id?: string;
	enabled?: boolean;
	deleted?: boolean;
	version?: number;
}

interface Connection {
	cameraId: number;
	id: string;
	name: string;
	/** With the credentials: for opening only, never logged. */
	url: string;
}

interface Settings {
	leaseMs: number;
	placementIntervalMs: number;
}

type Vars = Pick<Supervisor<MonitorDoc, number>, "owned" | "adopting" | "draining" | "stopping" | "placeFor" | "adoptLocal" | "stopActors">;

interface Methods {
	cameraChanged(p: CameraChanged): Promise<void>;
	/** Stop the actor here and give the lease up; `restart`: start it again where placement says, at once. */
	retire(cameraId: number, reason: string, restart: boolean): Promise<void>;
}

const notFound = (cameraId: number) => new ApiError(404, "CAMERA_NOT_FOUND", `No enabled camera ${cameraId} to monitor`);

export default function monitorsService(cfg: Config): ServiceSchema<Settings, Methods, Vars> {
	/** What each camera's running actor was started from (a change restarts it). */
	const fingerprints = new Map<number, string>();
	/** The day's uptime each camera's last actor here left, for the next one here (a restart after an edit). */
	const uptimes = new Map<number, UptimeDay>();
	/** One change at a time per camera; a change that comes meanwhile is looked at once after it. */
	const changing = new Map<number, { running: Promise<void>; again: CameraChanged | null }>();
	let startedAt = Date.now();

	const connection = (broker: Supervisor<MonitorDoc, number>["broker"], cameraId: number) => broker.call<Connection | null, object>("cameras.connection", { cameraId });

	const supervisor = ActorSupervisorMixin<MonitorDoc, number>({
		service: "monitors",
		kind: "monitor",
		plural: "monitors",
		key: "cameraId",
		keyRule: cameraIdRule,
		keyOf: doc => doc.cameraId,
		placementKey: monitorKey,
		leaseMs: cfg.actorLeaseMs,
		placementIntervalMs: cfg.placementIntervalMs,
		waitFor: ["cameras", "audit"],
		store: { claim: "cameras.claim", renew: "cameras.renew", release: "cameras.release" },
		list() {
			return this.broker.call<MonitorDoc[]>("cameras.monitored");
		},
		find(cameraId) {
			return this.broker.call<MonitorDoc | null, object>("cameras.monitorDoc", { cameraId });
		},
		notFound,
		// A camera never claimed (or released) is the placement's pick's to take for a few
		// passes after it was enabled or edited, or after this node started.
		since: doc => Math.max(startedAt, doc.updatedAt ? new Date(doc.updatedAt).getTime() : 0),
		async start(doc, token) {
			const conn = await connection(this.broker, doc.cameraId);
			if (!conn?.url) throw notFound(doc.cameraId);
			fingerprints.set(doc.cameraId, monitorFingerprint(doc, conn.url));
			const opts = { uptime: uptimes.get(doc.cameraId), onStopped: (u: UptimeDay) => void uptimes.set(doc.cameraId, u) };
			this.broker.createService(monitorActor(cfg, { ...doc, id: doc.id ?? conn.id ?? String(doc._id) }, token, conn.url, opts));
			// Polled often: a restart after an edit must take well under a sampling interval.
			await this.broker.waitForServices([monitorActorName(doc.cameraId)], 30_000, 20);
		},
		async stop(cameraId) {
			fingerprints.delete(cameraId);
			const svc = this.broker.getLocalService(monitorActorName(cameraId));
			if (svc) await this.broker.destroyService(svc);
		},
		/** The actor's live state (status, fps, resolution, sample lag). */
		async describe(ctx, cameraId) {
			const monitor = await ctx.call<Record<string, unknown>, object>(`${monitorActorName(cameraId)}.state`, {}, { nodeID: this.broker.nodeID }).catch(() => ({ cameraId, status: "unknown" }));
			return { monitor };
		}
	});

	return {
		name: "monitors",
		mixins: [supervisor],
		settings: { leaseMs: cfg.actorLeaseMs, placementIntervalMs: cfg.placementIntervalMs },
		actions: {
			/** A monitor actor of this node was told its lease is no longer current: stop it. */
			lost: {
				visibility: "protected",
				params: { cameraId: cameraIdRule, token: "number" },
				async handler(ctx: Context<{ cameraId: number; token: number }>) {
					const own = this.owned.get(ctx.params.cameraId);
					if (!own || own.token !== ctx.params.token) return { stopped: false };
					await this.stopActors(ctx.params.cameraId, "lease lost");
					return { stopped: true };
				}
			}
		},
		events: {
			"cameras.changed"(ctx: Context<CameraChanged>) {
				const p = ctx.params;
				if (typeof p?.cameraId !== "number") return;
				const busy = changing.get(p.cameraId);
				if (busy) {
					busy.again = p;
					return;
				}
				const entry: { running: Promise<void>; again: CameraChanged | null } = { running: Promise.resolve(), again: null };
				changing.set(p.cameraId, entry);
				entry.running = (async () => {
					let next: CameraChanged | null = p;
					while (next) {
						entry.again = null;
						await this.cameraChanged(next).catch((err: Error) => this.logger.warn("Camera change not applied to its monitor", { cameraId: p.cameraId, error: err.message }));
						next = entry.again;
					}
					changing.delete(p.cameraId);
				})();
			}
		},
		methods: {
			async cameraChanged(p: CameraChanged) {
				const { cameraId } = p;
				const me = this.broker.nodeID;
				// An adoption under way here: look at the change once it is through.
				const adopting = this.adopting.get(cameraId);
				if (adopting) await adopting.catch(() => undefined);
				const own = this.owned.get(cameraId);
				if (!own) {
					// Newly enabled (or not running anywhere): placement's pick starts it now,
					// without waiting for its next pass.
					if (!p.enabled || p.deleted || this.draining || this.stopping || this.placeFor(cameraId) !== me) return;
					const doc = await this.broker.call<MonitorDoc | null, object>("cameras.monitorDoc", { cameraId });
					if (!doc || leaseIsLive(doc, Date.now()) || this.owned.has(cameraId)) return;
					await this.adoptLocal(cameraId).catch((err: Error) => this.logger.debug("Monitor not adopted on change", { cameraId, error: err.message }));
					return;
				}
				if (p.deleted || p.enabled === false) return this.retire(cameraId, p.deleted ? "camera deleted" : "camera disabled", false);
				if (p.version !== undefined && p.version === own.doc.version) return;
				const doc = await this.broker.call<MonitorDoc | null, object>("cameras.monitorDoc", { cameraId });
				if (this.owned.get(cameraId) !== own) return;
				if (!doc) return this.retire(cameraId, "camera disabled", false);
				const conn = await connection(this.broker, cameraId);
				if (this.owned.get(cameraId) !== own) return;
				if (!conn?.url) return this.retire(cameraId, "camera disabled", false);
				if (monitorFingerprint(doc, conn.url) === fingerprints.get(cameraId)) {
					own.doc = doc;
					return;
				}
				return this.retire(cameraId, "camera edited", true);
			},

			async retire(cameraId: number, reason: string, restart: boolean) {
				const own = this.owned.get(cameraId);
				if (!own) return;
				const me = this.broker.nodeID;
				const target = restart ? (this.placeFor(cameraId) ?? me) : null;
				this.logger.info(restart ? "Monitor restarting" : "Monitor stopping", { cameraId, reason, to: target });
				await this.stopActors(cameraId, reason);
				await this.broker.call("cameras.release", { cameraId, token: own.token, ...(target ? { handTo: target } : {}) }).catch((err: Error) => this.logger.warn("Monitor lease not released", { cameraId, error: err.message }));
				if (!target) return;
				// As a move does: the node the lease was handed to claims it at once (placement would, later).
				if (target === me) await this.adoptLocal(cameraId).catch((err: Error) => this.logger.warn("Monitor not restarted here; placement will retry", { cameraId, error: err.message }));
				else await this.broker.call("monitors.adopt", { cameraId }, { nodeID: target }).catch((err: Error) => this.logger.warn("Monitor not restarted on its node; placement will retry", { cameraId, nodeID: target, error: err.message }));
			}
		} satisfies Implements<Methods, Settings, Vars>,
		created() {
			startedAt = Date.now();
		}
	};
}
