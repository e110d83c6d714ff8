/**
 * Recognition sessions (actors role): start and stop a slot's session (FUACS sections 1 and
 * 2) and list the running ones. Each session runs as a session actor with one camera actor
 * per working camera (services/actors/). A session's students, cameras, config and counters
 * are persisted in the stores, so a restarted node resumes its sessions from them.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { ApiError, badRequest, conflict, notFound, serverError } from "../lib/errors";
import { parseSessionRequest, SessionRequestError, type SessionCamera, type SessionRequest } from "../lib/recognition/session-request";
import { isoSeconds } from "../lib/time";
import { redactUrl } from "../lib/url";
import { grabFrames } from "../lib/video/frame-source";
import { loadManifest } from "../lib/vision/manifest";
import { cameraActor, cameraActorName } from "./actors/camera.actor";
import { sessionActor, sessionActorName, type SessionDoc } from "./actors/session.actor";

const ACTIVE = ["starting", "active", "stopping"];
/** The Java backend's documented callback path, used when a request has no callbackUrl. */
const DEFAULT_CALLBACK_PATH = "/api/v1/attendance/recognition-result";

export default function recognitionService(cfg: Config): ServiceSchema {
	const embeddingVersion = loadManifest(cfg.modelsManifest).embeddingVersion;
	const defaults = {
		similarityThreshold: cfg.similarityThreshold,
		scanInterval: cfg.scanInterval,
		callbackUrl: cfg.javaBackendUrl ? new URL(DEFAULT_CALLBACK_PATH, cfg.javaBackendUrl).toString() : null,
		embeddingVersion
	};

	return {
		name: "recognition",
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
					const running: number = await ctx.call("sessions.count", { query: { slotId, status: { $in: ACTIVE } } });
					if (running > 0) throw conflict("SESSION_ALREADY_EXISTS", `Face recognition session already exists for slot ${slotId}`);
					const active: number = await ctx.call("sessions.count", { query: { status: { $in: ACTIVE } } });
					if (active >= cfg.maxSessions) throw new ApiError(429, "MAX_SESSIONS_REACHED", `At most ${cfg.maxSessions} sessions can run at once; stop one first`);

					// Each camera is tested; a failing one is logged and the session goes on without it.
					const tests = await Promise.all(req.cameras.map(c => this.testCamera(slotId, c)));
					const working = req.cameras.filter((_, i) => tests[i].ok);
					const startedAt = new Date();
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
					const doc: SessionDoc = await ctx.call("sessions.create", {
						slotId,
						roomId: req.roomId,
						status: "active",
						students: req.students.map(({ embeddingVector: _v, ...s }) => s),
						cameras: req.cameras.map((c, i) => ({ ...c, status: tests[i].ok ? "connected" : "failed", error: tests[i].error ?? null })),
						config: req.config,
						counters: {},
						owner: { nodeID: this.broker.nodeID },
						startedAt
					});
					await this.startActors(doc);
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
					await ctx.call("audit.record", { action: "session.started", slotId, details: { ...data, cameras: tests } });
					this.logger.info("Session started", { slotId, students: data.totalStudents, activeCameras: data.activeCameras, failedCameras: data.failedCameras });
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
					await ctx.call("sessions.update", { id: doc._id, status: "stopping" });
					await this.stopActors(doc);
					// Bounded wait for what is still pending; the outbox keeps retrying afterwards.
					const { pending } = await ctx.call<{ pending: number }, object>("callbacks.flush", { slotId, timeoutMs: cfg.stopFlushMs }, { timeout: cfg.stopFlushMs + 5000 });
					const stoppedAt = new Date();
					await ctx.call("sessions.update", { id: doc._id, status: "stopped", stoppedAt });
					await ctx.call("embeddings.remove", { filter: { slotId } });
					const totalRecognitions: number = await ctx.call("recognitions.count", { query: { slotId, kind: "report", delivery: "delivered" } });
					const data = { slotId, sessionDuration: Math.max(0, Math.round((stoppedAt.getTime() - new Date(doc.startedAt).getTime()) / 1000)), totalRecognitions, sessionStoppedAt: isoSeconds(stoppedAt) };
					await ctx.call("audit.record", { action: "session.stopped", slotId, details: { ...data, pendingCallbacks: pending } });
					this.logger.info("Session stopped", { slotId, totalRecognitions, pendingCallbacks: pending });
					this.broker.broadcast("live.session.stopped", { ...data, roomId: doc.roomId, pendingCallbacks: pending });
					return data;
				}
			},

			/** Sessions that are running now, across the cluster. */
			sessions: {
				message: "Active sessions retrieved successfully",
				async handler(this: any, ctx: Context) {
					const docs = await ctx.call<Array<Record<string, any>>>("sessions.active");
					return docs.map(d => ({
						slotId: d.slotId,
						roomId: d.roomId,
						status: d.status,
						totalStudents: Array.isArray(d.students) ? d.students.length : 0,
						totalCameras: Array.isArray(d.cameras) ? d.cameras.length : 0,
						startedAt: d.startedAt,
						servedBy: this.broker.nodeID
					}));
				}
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

			/** Create the session actor, then one camera actor per working camera, on this node. */
			async startActors(this: any, doc: SessionDoc) {
				const name = sessionActorName(doc.slotId);
				this.broker.createService(sessionActor(cfg, doc));
				await this.broker.waitForServices([name], 30_000);
				const cams = doc.cameras.filter(c => c.status !== "failed");
				for (const c of cams) this.broker.createService(cameraActor(cfg, doc.slotId, c, doc.config.scanInterval));
				await this.broker.waitForServices(cams.map(c => cameraActorName(doc.slotId, c.id)), 30_000);
			},

			/** Start the actors of sessions that were running when this node (or the cluster) stopped. */
			async resume(this: any) {
				await this.broker.waitForServices(["sessions", "embeddings", "attendance", "recognitions"], 120_000);
				const docs: SessionDoc[] = await this.broker.call("sessions.active");
				for (const doc of docs) {
					if (doc.status !== "active") continue;
					if (this.broker.registry.getServiceList({ onlyAvailable: true }).some((s: { name: string }) => s.name === sessionActorName(doc.slotId))) continue;
					this.logger.info("Resuming session", { slotId: doc.slotId });
					await this.startActors(doc).catch((err: Error) => this.logger.error("Session could not be resumed", { slotId: doc.slotId, error: err.message }));
				}
			},

			async stopActors(this: any, doc: SessionDoc) {
				const local = (name: string) => this.broker.getLocalService(name);
				for (const c of doc.cameras) {
					const svc = local(cameraActorName(doc.slotId, c.id));
					if (svc) await this.broker.destroyService(svc);
				}
				const session = local(sessionActorName(doc.slotId));
				if (session) await this.broker.destroyService(session);
			}
		},

		started(this: any) {
			// Resume in the background once the stores answer: a node must start even while
			// the storage node is still coming up.
			this.resuming = this.resume().catch((err: Error) => this.logger.error("Resuming sessions failed", { error: err.message }));
		},

		async stopped(this: any) {
			// The broker stops the actors themselves; only wait for a resume in flight.
			await this.resuming;
		}
	} as ServiceSchema;
}
