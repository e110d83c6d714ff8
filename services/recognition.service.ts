/**
 * Recognition sessions (actors role): start and stop a slot's session (FUACS sections 1 and
 * 2) and list the running ones. Each session runs as a session actor with one camera actor
 * per working camera (services/actors/), together on one `actors` node.
 *
 * Placement and ownership are the actor supervisor's (mixins/actor-supervisor.mixin.ts), of
 * which the sessions are one kind: a session's actors run on the node that rendezvous hashing
 * picks among the live, non-draining actors nodes (lib/recognition/placement.ts), and only while
 * that node holds the session's lease in the store (services/sessions.service.ts): claimed
 * before the actors start, renewed every third of ACTOR_LEASE_MS, released or handed over
 * when they stop. Every actors node looks every ACTOR_PLACEMENT_MS for active sessions
 * without a live lease (a node died, or was cut off) and adopts those it wins; the fencing
 * token of the lease keeps a stale owner from writing. Operators move sessions (`move`) and
 * empty nodes (`drain`, also on SIGTERM) through the same lease hand-over.
 */
import type { Context, Service, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { InferenceClientMixin } from "../mixins/inference-client.mixin";
import { notFound, serverError } from "../lib/errors";
import { processSessionParams, sessionRequest, stopSessionParams, type SessionCamera, type SessionParams } from "../lib/recognition/session-request";
import { slotId } from "../lib/validation/rules";
import { isoSeconds } from "../lib/time";
import { redactUrl } from "../lib/url";
import { grabFrames } from "../lib/video/frame-source";
import { loadManifest } from "../lib/vision/manifest";
import { assertCalibrated } from "../lib/vision/similarity";
import { liveOwner, sessionKey } from "../lib/recognition/placement";
import { ActorSupervisorMixin, type Supervisor } from "../mixins/actor-supervisor.mixin";
import { cameraActor, cameraActorName } from "./actors/camera.actor";
import { sessionActor, sessionActorName, type SessionDoc } from "./actors/session.actor";
import type { Implements } from "./schema";
import { auditRefusal, guardUrl, outboundPolicy, refusalOf } from "./outbound-guard";

const ACTIVE = ["starting", "active", "stopping"];
/** The Java backend's documented callback path, used when a request has no callbackUrl. */
const DEFAULT_CALLBACK_PATH = "/api/v1/attendance/recognition-result";

/**
 * The session supervisor: a session's actors (the session actor and a camera actor per
 * working camera) are one key's actors, keyed by slotId, with their lease in `sessions`.
 */
function sessionSupervisor(cfg: Config) {
	/** The cameras that passed their test at start: each gets a camera actor. */
	const working = (doc: SessionDoc) => doc.cameras.filter(c => c.status !== "failed");
	return ActorSupervisorMixin<SessionDoc, number>({
		service: "recognition",
		kind: "session",
		plural: "sessions",
		key: "slotId",
		keyRule: slotId,
		keyOf: doc => doc.slotId,
		placementKey: sessionKey,
		leaseMs: cfg.actorLeaseMs,
		placementIntervalMs: cfg.placementIntervalMs,
		waitFor: ["sessions", "embeddings", "attendance", "recognitions"],
		store: { claim: "sessions.claim", renew: "sessions.renew", release: "sessions.release" },
		async list() {
			return (await this.broker.call<SessionDoc[]>("sessions.active")).filter(d => d.status === "active");
		},
		async find(slotId) {
			const [doc] = await this.broker.call<SessionDoc[], object>("sessions.find", { query: { slotId, status: "active" }, limit: 1 });
			return doc ?? null;
		},
		notFound: slotId => notFound("SESSION_NOT_FOUND", `No active face recognition session found for slot ${slotId}`),
		since: doc => new Date(doc.startedAt).getTime(),
		/** The session actor, then one camera actor per working camera, on this node. */
		async start(doc, token) {
			const cams = working(doc);
			this.broker.createService(sessionActor(cfg, doc, token));
			await this.broker.waitForServices([sessionActorName(doc.slotId)], 30_000);
			for (const c of cams) this.broker.createService(cameraActor(cfg, doc.slotId, c, doc.config.scanInterval));
			await this.broker.waitForServices(cams.map(c => cameraActorName(doc.slotId, c.id)), 30_000);
		},
		/** Cameras first, then their session. */
		async stop(slotId, doc) {
			const local = (name: string) => this.broker.getLocalService(name);
			for (const c of doc ? working(doc) : []) {
				const svc = local(cameraActorName(slotId, c.id));
				if (svc) await this.broker.destroyService(svc);
			}
			const session = local(sessionActorName(slotId));
			if (session) await this.broker.destroyService(session);
		},
		/** Each camera actor with its status and scan lag. */
		describe(ctx, slotId, doc) {
			return Promise.all(
				working(doc).map(c => ctx.call<Record<string, unknown>, object>(`${cameraActorName(slotId, c.id)}.state`, {}, { nodeID: this.broker.nodeID }).catch(() => ({ cameraId: c.id, status: "unknown" })))
			).then(cameras => ({ cameras }));
		},
		load: docs => ({ cameras: docs.reduce((n, d) => n + working(d).length, 0) })
	});
}

interface Settings {
	family: string;
	leaseMs: number;
	placementIntervalMs: number;
}

interface CameraTest {
	cameraId: number;
	ok: boolean;
	error: string | null;
}

interface Methods {
	testCamera(slotId: number, camera: SessionCamera): Promise<CameraTest>;
}

/** What the session supervisor mixin gives the service: its state and its methods (placeFor, liveActorNodes, ...). */
type Vars = Omit<Supervisor<SessionDoc, number>, keyof Service>;

export default function recognitionService(cfg: Config): ServiceSchema<Settings, Methods, Vars> {
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
		mixins: [InferenceClientMixin, sessionSupervisor(cfg)],
		settings: { family: "integration", leaseMs: cfg.actorLeaseMs, placementIntervalMs: cfg.placementIntervalMs },
		actions: {
			processSession: {
				rest: "POST /recognition/process-session",
				permission: "sessions:write",
				message: "Face recognition session started successfully",
				params: processSessionParams(embeddingVersion),
				async handler(ctx: Context<SessionParams>) {
					const req = sessionRequest(ctx.params, defaults);
					const { slotId } = req;
					// Refused outbound URLs refuse the session before anything is taken (400 URL_NOT_ALLOWED).
					await guardUrl(ctx, cfg, req.config.callbackUrl, "callback", "config.callbackUrl");
					for (const [i, c] of req.cameras.entries()) await guardUrl(ctx, cfg, c.rtspUrl, "camera", `cameras[${i}].rtspUrl`);
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

					let tests: CameraTest[];
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
						for (const c of req.cameras) await ctx.call("cameras.register", { cameraId: c.id, name: c.name, rtspUrl: c.rtspUrl, roomId: req.roomId ?? undefined });
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
				rest: "POST /recognition/stop-session",
				permission: "sessions:write",
				message: "Face recognition session stopped successfully",
				params: stopSessionParams,
				async handler(ctx: Context<{ slotId: number }>) {
					const { slotId } = ctx.params;
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
				rest: "GET /recognition/sessions",
				permission: "sessions:read",
				message: "Active sessions retrieved successfully",
				async handler(ctx: Context) {
					const docs = await ctx.call<SessionDoc[]>("sessions.active");
					const now = Date.now();
					return docs.map(d => ({
						slotId: d.slotId,
						roomId: d.roomId,
						status: d.status,
						totalStudents: Array.isArray(d.students) ? d.students.length : 0,
						totalCameras: Array.isArray(d.cameras) ? d.cameras.length : 0,
						startedAt: d.startedAt,
						servedBy: liveOwner(d, now)
					}));
				}
			}
		},

		methods: {
			async testCamera(slotId: number, camera: SessionCamera): Promise<CameraTest> {
				try {
					const grab = await grabFrames({ url: camera.rtspUrl }, 1, {
						connectTimeoutMs: cfg.cameraConnectTimeout,
						readTimeoutMs: cfg.cameraReadTimeout,
						transport: cfg.rtspTransport,
						width: 64,
						outbound: { policy: outboundPolicy(cfg), use: "camera" }
					});
					return { cameraId: camera.id, ok: grab.frames.length > 0, error: grab.frames.length > 0 ? null : "no frame" };
				} catch (err) {
					this.logger.warn("Camera failed its connection test", { slotId, cameraId: camera.id, url: redactUrl(camera.rtspUrl), error: (err as Error).message });
					const refused = refusalOf(err);
					if (refused) await auditRefusal(this.broker, null, refused, "camera", "rtspUrl", { slotId, cameraId: camera.id });
					return { cameraId: camera.id, ok: false, error: (err as Error).message };
				}
			}
		} satisfies Implements<Methods, Settings, Vars>
	};
}
