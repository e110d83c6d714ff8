/**
 * Recognition sessions (actors role): start and stop a slot's session (FUACS sections 1 and
 * 2) and list the running ones. Each session runs as a session actor with one camera actor
 * per working camera (services/actors/), together on one `actors` node.
 *
 * Placement and ownership: a session's actors run on the node that rendezvous hashing picks
 * among the live, non-draining actors nodes (lib/recognition/placement.ts), and only while
 * that node holds the session's lease in the store (services/sessions.service.ts): claimed
 * before the actors start, renewed every third of ACTOR_LEASE_MS, released or handed over
 * when they stop. Every actors node looks every ACTOR_PLACEMENT_MS for active sessions
 * without a live lease (a node died, or was cut off) and adopts those it wins; the fencing
 * token of the lease keeps a stale owner from writing. Operators move sessions (`move`) and
 * empty nodes (`drain`, also on SIGTERM) through the same lease hand-over.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { InferenceClientMixin } from "../mixins/inference-client.mixin";
import { ApiError, badRequest, notFound, serverError } from "../lib/errors";
import { parseSessionRequest, SessionRequestError, type SessionCamera, type SessionRequest } from "../lib/recognition/session-request";
import { isoSeconds } from "../lib/time";
import { redactUrl } from "../lib/url";
import { grabFrames } from "../lib/video/frame-source";
import { loadManifest } from "../lib/vision/manifest";
import { assertCalibrated } from "../lib/vision/similarity";
import { placeActor, sessionKey } from "../lib/recognition/placement";
import { cameraActor, cameraActorName } from "./actors/camera.actor";
import { sessionActor, sessionActorName, type SessionDoc } from "./actors/session.actor";

const ACTIVE = ["starting", "active", "stopping"];
/** The Java backend's documented callback path, used when a request has no callbackUrl. */
const DEFAULT_CALLBACK_PATH = "/api/v1/attendance/recognition-result";

export default function recognitionService(cfg: Config): ServiceSchema {
	const embeddingVersion = loadManifest(cfg.modelsManifest).embeddingVersion;
	assertCalibrated(embeddingVersion);
	const defaults = {
		similarityThreshold: cfg.similarityThreshold,
		scanInterval: cfg.scanInterval,
		callbackUrl: cfg.javaBackendUrl ? new URL(DEFAULT_CALLBACK_PATH, cfg.javaBackendUrl).toString() : null,
		embeddingVersion
	};

	return {
		name: "recognition",
		mixins: [InferenceClientMixin],
		settings: { leaseMs: cfg.actorLeaseMs, placementIntervalMs: cfg.placementIntervalMs },
		actions: {
			processSession: {
				message: "Face recognition session started successfully",
				async handler(this: any, ctx: Context<unknown>) {
					let req: SessionRequest;
					try {
						req = parseSessionRequest(ctx.params, defaults);
					} catch (err) {
						if (err instanceof SessionRequestError) throw badRequest(err.code, err.message);
						throw err;
					}
					const { slotId } = req;
					// The slot is taken (409 if it runs, 429 past MAX_SESSIONS) before the cameras are
					// tested (seconds), so a second start of it meanwhile is refused; actors adopt the
					// session only once it is active.
					const startedAt = new Date();
					const opened: SessionDoc = await ctx.call("sessions.open", {
						maxSessions: cfg.maxSessions,
						doc: {
							slotId,
							roomId: req.roomId,
							status: "starting",
							students: req.students.map(({ embeddingVector: _v, ...s }) => s),
							cameras: req.cameras.map(c => ({ ...c, status: "testing", error: null })),
							config: req.config,
							counters: {},
							leaseOwner: null,
							leaseToken: 0,
							leaseUntil: 0,
							leaseHandTo: null,
							startedAt
						}
					});

					let tests: { cameraId: number; ok: boolean; error: string | null }[];
					let working: SessionCamera[];
					let target: string;
					try {
						// Each camera is tested; a failing one is logged and the session goes on without it.
						tests = await Promise.all(req.cameras.map(c => this.testCamera(slotId, c)));
						working = req.cameras.filter((_, i) => tests[i].ok);
						if (working.length === 0) {
							await ctx.call("audit.record", { action: "session.failed", slotId, details: { reason: "ALL_CAMERAS_FAILED", cameras: tests.map(t => ({ cameraId: t.cameraId, error: t.error })) } });
							throw serverError("ALL_CAMERAS_FAILED", "Failed to connect to any camera. Cannot start session.");
						}

						// Persist everything the actors need before anything runs or is answered.
						await ctx.call("embeddings.remove", { filter: { slotId } });
						await ctx.call("embeddings.upsert", {
							points: req.students.map(s => ({ id: `session:${slotId}:student:${s.userId}`, vector: s.embeddingVector, payload: { slotId, userId: s.userId, embeddingVersion: s.embeddingVersion } }))
						});
						for (const c of req.cameras) await ctx.call("cameras.create", { cameraId: c.id, name: c.name, rtspUrl: c.rtspUrl, roomId: req.roomId ?? undefined }, { meta: { internal: true } });
						target = this.placeFor(slotId) ?? this.broker.nodeID;
						await ctx.call("sessions.update", {
							id: opened._id,
							status: "active",
							cameras: req.cameras.map((c, i) => ({ ...c, status: tests[i].ok ? "connected" : "failed", error: tests[i].error ?? null })),
							leaseHandTo: target
						});
					} catch (err) {
						// A start that did not get through frees the slot (ALL_CAMERAS_FAILED included).
						await ctx.call("sessions.remove", { id: opened._id }).catch(() => undefined);
						throw err;
					}
					// The chosen node starts the actors now; should it fail, placement adopts the session.
					let servedBy: string | null = null;
					try {
						servedBy = (await ctx.call<{ nodeID: string }, object>("recognition.adopt", { slotId }, { nodeID: target })).nodeID;
					} catch (err) {
						this.logger.warn("Session actors not started on the chosen node; placement will retry", { slotId, nodeID: target, error: (err as Error).message });
					}
					const data = {
						slotId,
						roomId: req.roomId,
						totalStudents: req.students.length,
						totalCameras: req.cameras.length,
						activeCameras: working.length,
						failedCameras: req.cameras.length - working.length,
						config: { similarityThreshold: req.config.similarityThreshold, scanInterval: req.config.scanInterval },
						sessionStartedAt: isoSeconds(startedAt)
					};
					await ctx.call("audit.record", { action: "session.started", slotId, details: { ...data, cameras: tests, servedBy } });
					this.logger.info("Session started", { slotId, students: data.totalStudents, activeCameras: data.activeCameras, failedCameras: data.failedCameras, servedBy });
					this.broker.broadcast("live.session.started", data);
					return data;
				}
			},

			stopSession: {
				message: "Face recognition session stopped successfully",
				async handler(this: any, ctx: Context<{ slotId?: unknown }>) {
					const slotId = (ctx.params ?? {}).slotId;
					if (slotId === undefined || slotId === null || slotId === "") throw badRequest("SLOT_ID_REQUIRED", "Slot ID is required");
					if (typeof slotId !== "number" || !Number.isInteger(slotId)) throw badRequest("INVALID_SLOT_ID", "Slot ID must be an integer");
					const [doc]: SessionDoc[] = await ctx.call("sessions.find", { query: { slotId, status: { $in: ACTIVE } }, limit: 1 });
					if (!doc) throw notFound("SESSION_NOT_FOUND", `No active face recognition session found for slot ${slotId}`);
					// No node adopts a session that is stopping; its owner stops the actors (here, or
					// on its next lease renewal should it not answer).
					await ctx.call("sessions.update", { id: doc._id, status: "stopping" });
					if (doc.leaseOwner && this.liveActorNodes().includes(doc.leaseOwner))
						await ctx.call("recognition.release", { slotId }, { nodeID: doc.leaseOwner }).catch((err: Error) => this.logger.warn("Owner did not release the session", { slotId, nodeID: doc.leaseOwner, error: err.message }));
					// Bounded wait for what is still pending; the outbox keeps retrying afterwards.
					const { pending } = await ctx.call<{ pending: number }, object>("callbacks.flush", { slotId, timeoutMs: cfg.stopFlushMs }, { timeout: cfg.stopFlushMs + 5000 });
					const stoppedAt = new Date();
					await ctx.call("sessions.update", { id: doc._id, status: "stopped", stoppedAt, live: false });
					await ctx.call("embeddings.remove", { filter: { slotId } });
					const totalRecognitions: number = await ctx.call("recognitions.count", { query: { sessionId: String(doc._id), kind: "report", delivery: "delivered" } });
					const data = { slotId, sessionDuration: Math.max(0, Math.round((stoppedAt.getTime() - new Date(doc.startedAt).getTime()) / 1000)), totalRecognitions, sessionStoppedAt: isoSeconds(stoppedAt) };
					await ctx.call("audit.record", { action: "session.stopped", slotId, details: { ...data, pendingCallbacks: pending } });
					this.logger.info("Session stopped", { slotId, totalRecognitions, pendingCallbacks: pending });
					this.broker.broadcast("live.session.stopped", { ...data, roomId: doc.roomId, pendingCallbacks: pending });
					return data;
				}
			},

			/** Sessions that are running now, across the cluster, with the node that runs each. */
			sessions: {
				message: "Active sessions retrieved successfully",
				async handler(this: any, ctx: Context) {
					const docs = await ctx.call<Array<Record<string, any>>>("sessions.active");
					const now = Date.now();
					return docs.map(d => ({
						slotId: d.slotId,
						roomId: d.roomId,
						status: d.status,
						totalStudents: Array.isArray(d.students) ? d.students.length : 0,
						totalCameras: Array.isArray(d.cameras) ? d.cameras.length : 0,
						startedAt: d.startedAt,
						servedBy: d.leaseOwner && (d.leaseUntil ?? 0) > now ? d.leaseOwner : null
					}));
				}
			},

			/** Claim the session's lease for this node and start its actors here (placement, move). */
			adopt: {
				visibility: "public",
				params: { slotId: "number" },
				async handler(this: any, ctx: Context<{ slotId: number }>) {
					const { slotId } = ctx.params;
					if (this.owned.has(slotId)) return { slotId, nodeID: this.broker.nodeID, token: this.owned.get(slotId).token, already: true };
					if (this.draining) throw new ApiError(409, "NODE_DRAINING", `Node ${this.broker.nodeID} is draining and takes no sessions`);
					return this.adoptLocal(slotId);
				}
			},

			/** Stop this node's actors of a session and give up its lease, handing it to `handTo` if given. */
			release: {
				visibility: "public",
				params: { slotId: "number", handTo: { type: "string", optional: true } },
				async handler(this: any, ctx: Context<{ slotId: number; handTo?: string }>) {
					const { slotId, handTo } = ctx.params;
					const own = this.owned.get(slotId);
					if (!own) return { slotId, released: false };
					await this.stopActors(slotId, handTo ? "moved" : "released");
					await ctx.call("sessions.release", { slotId, token: own.token, handTo });
					return { slotId, released: true, handTo: handTo ?? null };
				}
			},

			/** Move a session's actors to another actors node (operators: `move` in the REPL). */
			move: {
				params: { slotId: { type: "number", convert: true }, nodeID: "string" },
				async handler(this: any, ctx: Context<{ slotId: number; nodeID: string }>) {
					const { slotId, nodeID } = ctx.params;
					if (!this.liveActorNodes().includes(nodeID)) throw new ApiError(400, "NODE_NOT_AVAILABLE", `${nodeID} is not a live actors node`);
					const [doc]: SessionDoc[] = await ctx.call("sessions.find", { query: { slotId, status: "active" }, limit: 1 });
					if (!doc) throw notFound("SESSION_NOT_FOUND", `No active face recognition session found for slot ${slotId}`);
					const from = doc.leaseOwner && (doc.leaseUntil ?? 0) > Date.now() ? doc.leaseOwner : null;
					if (from === nodeID) return { slotId, from, to: nodeID, gapMs: 0 };
					const t0 = Date.now();
					if (from && this.liveActorNodes().includes(from)) await ctx.call("recognition.release", { slotId, handTo: nodeID }, { nodeID: from });
					const adopted = await ctx.call<{ token: number }, object>("recognition.adopt", { slotId }, { nodeID });
					const gapMs = Date.now() - t0;
					await ctx.call("audit.record", { action: "session.moved", slotId, details: { from, to: nodeID, gapMs, token: adopted.token } });
					this.logger.info("Session moved", { slotId, from, to: nodeID, gapMs });
					return { slotId, from, to: nodeID, gapMs, token: adopted.token };
				}
			},

			/**
			 * Hand every session of this node to the others and take no new ones (operators:
			 * `drain` in the REPL; also on SIGTERM). Call it on the node to drain (nodeID option).
			 */
			drain: {
				async handler(this: any, ctx: Context) {
					this.draining = true;
					this.broker.broadcast("recognition.draining", { nodeID: this.broker.nodeID });
					const moved: { slotId: number; to: string; gapMs: number }[] = [];
					const kept: number[] = [];
					for (const slotId of [...this.owned.keys()]) {
						const to = this.placeFor(slotId, new Set([this.broker.nodeID]));
						if (!to) {
							kept.push(slotId);
							continue;
						}
						try {
							const r = await ctx.call<{ gapMs: number }, object>("recognition.move", { slotId, nodeID: to }, { nodeID: this.broker.nodeID });
							moved.push({ slotId, to, gapMs: r.gapMs });
						} catch (err) {
							this.logger.warn("Session not moved off a draining node", { slotId, to, error: (err as Error).message });
							kept.push(slotId);
						}
					}
					this.logger.info("Node drained", { moved: moved.length, kept: kept.length });
					return { nodeID: this.broker.nodeID, moved, kept };
				}
			},

			/** This node's actors: sessions with their lease and cameras with status and scan lag. */
			actors: {
				async handler(this: any, ctx: Context) {
					const out = [];
					for (const [slotId, own] of this.owned) {
						const cameras = await Promise.all(
							own.cameras.map((id: number) => ctx.call<Record<string, unknown>, object>(`${cameraActorName(slotId, id)}.state`, {}, { nodeID: this.broker.nodeID }).catch(() => ({ cameraId: id, status: "unknown" })))
						);
						out.push({ slotId, nodeID: this.broker.nodeID, token: own.token, since: new Date(own.since).toISOString(), draining: this.draining, cameras });
					}
					return out;
				}
			},

			/** What this node is: role load for operators (`nodes` in the REPL). */
			load: {
				handler(this: any) {
					return { nodeID: this.broker.nodeID, sessions: this.owned.size, cameras: [...this.owned.values()].reduce((s: number, o: { cameras: number[] }) => s + o.cameras.length, 0), draining: this.draining };
				}
			}
		},

		events: {
			"recognition.draining"(this: any, ctx: Context<{ nodeID: string }>) {
				if (ctx.params.nodeID !== this.broker.nodeID) this.drainingNodes.add(ctx.params.nodeID);
			},
			"$node.disconnected"(this: any, ctx: Context<{ node: { id: string } }>) {
				this.drainingNodes.delete(ctx.params.node.id);
			}
		},

		methods: {
			async testCamera(this: any, slotId: number, camera: SessionCamera) {
				try {
					const grab = await grabFrames({ url: camera.rtspUrl }, 1, { connectTimeoutMs: cfg.cameraConnectTimeout, readTimeoutMs: cfg.cameraReadTimeout, transport: cfg.rtspTransport, width: 64 });
					return { cameraId: camera.id, ok: grab.frames.length > 0, error: grab.frames.length > 0 ? null : "no frame" };
				} catch (err) {
					this.logger.warn("Camera failed its connection test", { slotId, cameraId: camera.id, url: redactUrl(camera.rtspUrl), error: (err as Error).message });
					return { cameraId: camera.id, ok: false, error: (err as Error).message };
				}
			},

			/** Live nodes running this service (the actors nodes), this one included. */
			liveActorNodes(this: any): string[] {
				const nodes = this.broker.registry.getServiceList({ onlyAvailable: true, skipInternal: true }).filter((s: { name: string }) => s.name === "recognition").map((s: { nodeID: string }) => s.nodeID);
				return [...new Set<string>(nodes)];
			},

			/** The node that should run a session now (rendezvous over live, non-draining actors nodes). */
			placeFor(this: any, slotId: number, exclude: Set<string> = new Set()): string | null {
				const skip = new Set<string>([...exclude, ...this.drainingNodes]);
				if (this.draining) skip.add(this.broker.nodeID);
				return placeActor(sessionKey(slotId), this.liveActorNodes(), skip);
			},

			/** Claim the lease, then start the actors here; undone if they cannot start. */
			async adoptLocal(this: any, slotId: number) {
				// One adoption per slot at a time on this node (placement and a move may race).
				if (this.adopting.has(slotId)) return this.adopting.get(slotId);
				const run = (async () => {
					const lease = await this.broker.call("sessions.claim", { slotId, nodeID: this.broker.nodeID, ttlMs: cfg.actorLeaseMs });
					if (!lease) throw new ApiError(409, "LEASE_HELD", `Session ${slotId} is owned by another node`);
					const [doc]: SessionDoc[] = await this.broker.call("sessions.find", { query: { slotId, status: "active" }, limit: 1 });
					if (!doc) throw notFound("SESSION_NOT_FOUND", `No active face recognition session found for slot ${slotId}`);
					const t0 = Date.now();
					try {
						await this.startActors(doc, lease.token);
					} catch (err) {
						await this.stopActors(slotId, "failed to start").catch(() => undefined);
						await this.broker.call("sessions.release", { slotId, token: lease.token }).catch(() => undefined);
						throw err;
					}
					this.logger.info("Session adopted", { slotId, token: lease.token, startMs: Date.now() - t0 });
					return { slotId, nodeID: this.broker.nodeID, token: lease.token };
				})();
				this.adopting.set(slotId, run);
				try {
					return await run;
				} finally {
					this.adopting.delete(slotId);
				}
			},

			/** Create the session actor, then one camera actor per working camera, on this node. */
			async startActors(this: any, doc: SessionDoc, token: number) {
				const slotId = doc.slotId;
				const cams = doc.cameras.filter(c => c.status !== "failed");
				const own = { token, since: Date.now(), cameras: cams.map(c => c.id), renewTimer: null as NodeJS.Timeout | null, leaseUntil: Date.now() + cfg.actorLeaseMs };
				this.owned.set(slotId, own);
				own.renewTimer = setInterval(() => void this.renewLease(slotId), Math.max(200, Math.floor(cfg.actorLeaseMs / 3)));
				this.broker.createService(sessionActor(cfg, doc, token));
				await this.broker.waitForServices([sessionActorName(slotId)], 30_000);
				for (const c of cams) this.broker.createService(cameraActor(cfg, slotId, c, doc.config.scanInterval));
				await this.broker.waitForServices(cams.map(c => cameraActorName(slotId, c.id)), 30_000);
			},

			/** Keep the lease; lose it (or fail to keep it until it ends) and the actors stop here. */
			async renewLease(this: any, slotId: number) {
				const own = this.owned.get(slotId);
				if (!own || own.renewing) return;
				own.renewing = true;
				try {
					const r = await this.broker.call("sessions.renew", { slotId, nodeID: this.broker.nodeID, token: own.token, ttlMs: cfg.actorLeaseMs });
					own.leaseUntil = r.leaseUntil;
				} catch (err) {
					const lost = (err as { type?: string }).type === "LEASE_LOST";
					// Unreachable store: keep going until the lease would have ended, never past it.
					if (lost || Date.now() >= own.leaseUntil - 500) {
						this.logger.warn("Session lease lost: stopping its actors here", { slotId, token: own.token, error: (err as Error).message });
						await this.stopActors(slotId, "lease lost");
					}
				} finally {
					own.renewing = false;
				}
			},

			/** Look for active sessions with no live owner and adopt those this node wins. */
			async placementTick(this: any) {
				if (this.draining || this.ticking) return;
				this.ticking = true;
				try {
					const docs: SessionDoc[] = await this.broker.call("sessions.active");
					const now = Date.now();
					const live = new Set(this.liveActorNodes());
					for (const doc of docs) {
						if (doc.status !== "active" || this.owned.has(doc.slotId)) continue;
						const held = !!doc.leaseOwner && (doc.leaseUntil ?? 0) > now;
						const handedToMe = doc.leaseHandTo === this.broker.nodeID;
						const handedToLive = !!doc.leaseHandTo && live.has(doc.leaseHandTo);
						if (held && !handedToMe) continue;
						// A hand-over to a live node is that node's to take (give it a few ticks).
						const expiredFor = now - Math.max(doc.leaseUntil ?? 0, new Date(doc.startedAt).getTime());
						if (!handedToMe && handedToLive && expiredFor < 3 * cfg.placementIntervalMs) continue;
						const mine = handedToMe || this.placeFor(doc.slotId) === this.broker.nodeID || expiredFor > 5 * cfg.placementIntervalMs;
						if (!mine) continue;
						this.logger.info("Adopting a session with no live owner", { slotId: doc.slotId, previousOwner: doc.leaseOwner ?? null, leaseEndedMsAgo: expiredFor });
						await this.adoptLocal(doc.slotId).catch((err: Error) => this.logger.debug("Adoption skipped", { slotId: doc.slotId, error: err.message }));
					}
				} catch (err) {
					this.logger.debug("Placement pass failed", { error: (err as Error).message });
				} finally {
					this.ticking = false;
				}
			},

			async stopActors(this: any, slotId: number, reason: string) {
				const own = this.owned.get(slotId);
				if (own?.renewTimer) clearInterval(own.renewTimer);
				this.owned.delete(slotId);
				const local = (name: string) => this.broker.getLocalService(name);
				for (const id of own?.cameras ?? []) {
					const svc = local(cameraActorName(slotId, id));
					if (svc) await this.broker.destroyService(svc);
				}
				const session = local(sessionActorName(slotId));
				if (session) await this.broker.destroyService(session);
				if (own) this.logger.info("Session actors stopped here", { slotId, reason });
			}
		},

		created(this: any) {
			this.owned = new Map();
			this.adopting = new Map();
			this.drainingNodes = new Set<string>();
			this.draining = false;
		},

		started(this: any) {
			// Sessions are picked up in the background once the stores answer: a node must
			// start even while the storage node is still coming up.
			this.resuming = this.broker
				.waitForServices(["sessions", "embeddings", "attendance", "recognitions"], 120_000)
				.then(() => {
					if (this.stopping) return;
					this.placementTimer = setInterval(() => void this.placementTick(), cfg.placementIntervalMs);
					return this.placementTick();
				})
				.catch((err: Error) => this.logger.error("Session placement did not start", { error: err.message }));
		},

		async stopped(this: any) {
			this.stopping = true;
			clearInterval(this.placementTimer);
			await this.resuming;
			// Give up leases at once so other nodes need not wait for them to run out.
			for (const [slotId, own] of [...this.owned]) {
				clearInterval(own.renewTimer);
				await this.broker.call("sessions.release", { slotId, token: own.token }).catch(() => undefined);
			}
			this.owned.clear();
		}
	} as ServiceSchema;
}
