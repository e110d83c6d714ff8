/**
 * The session actor: one Moleculer service per recognition session (`session-<slotId>`),
 * created when the session starts and destroyed when it stops. It owns the session's
 * students (a StudentGallery built from the embedding store), the attendance rule, and its
 * counters; camera actors hand it the faces of each sampled frame. Everything it decides is
 * persisted (recognitions, attendance, counters) before it is announced, so a new actor on
 * any node resumes from the stores.
 */
import crypto from "node:crypto";
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { AttendanceRule, StudentGallery, type MatchResult } from "../../lib/recognition/matcher";
import type { Lease } from "../../lib/recognition/placement";
import { isoSeconds } from "../../lib/time";
import type { Implements } from "../schema";

export const sessionActorName = (slotId: number) => `session-${slotId}`;

export interface SessionDoc extends Lease {
	_id: string;
	slotId: number;
	roomId: number | null;
	status: string;
	students: { userId: number; fullName: string; rollNumber: string; embeddingVersion: number }[];
	cameras: { id: number; name: string; rtspUrl: string; status: string }[];
	config: { similarityThreshold: number; scanInterval: number; callbackUrl: string };
	counters?: Partial<Counters>;
	startedAt: string | Date;
}

export interface Counters {
	frames: number;
	faces: number;
	recognized: number;
	unknown: number;
	reported: number;
	processingMsTotal: number;
	similaritySum: number;
	/** Faces embedded by another embedder version than the students': never compared. */
	versionMismatch: number;
}

export interface FaceIn {
	box: [number, number, number, number];
	score: number;
	embedding?: number[];
	embeddingVersion?: number;
	quality?: { overall?: number };
}

export interface FacesParams {
	cameraId: number;
	frameAt: string | Date;
	processingMs: number;
	faces: FaceIn[];
}

/** What one frame's faces came to. */
export interface FacesOutcome {
	faces: number;
	recognized: number;
	reported: number[];
}

/** What the actor reads back of a student's attendance document. */
interface AttendanceSeen {
	_id: string;
	sightings?: number;
	bestSimilarity?: number;
	recognitionId?: string;
}

interface Settings {
	slotId: number;
	actor: "session";
	token: number;
}

interface Methods {
	handleFaces(p: FacesParams): Promise<FacesOutcome>;
	decide(p: FacesParams): Promise<FacesOutcome>;
	recordAttendance(userId: number, x: { m: MatchResult }, at: Date, report?: Record<string, any>): Promise<void>;
	saveCounters(): Promise<void>;
}

interface Vars {
	saveTimer: NodeJS.Timeout;
}

const ZERO: Counters = { frames: 0, faces: 0, recognized: 0, unknown: 0, reported: 0, processingMsTotal: 0, similaritySum: 0, versionMismatch: 0 };

/** `token` is the session's lease: every write of this actor is fenced with it. */
export function sessionActor(cfg: Config, session: SessionDoc, token: number): ServiceSchema<Settings, Methods, Vars> {
	const slotId = session.slotId;
	// What this actor decides belongs to this session: a slot started again is a new session,
	// whose students are reported again.
	const sessionId = String(session._id);
	const students = new Map(session.students.map(s => [s.userId, s]));
	// Process-session refuses students of another version than the embedder's, so they share one.
	const embeddingVersion = session.students[0]?.embeddingVersion;
	let gallery: StudentGallery;
	let rule: AttendanceRule;
	const counters: Counters = { ...ZERO, ...session.counters };
	let queue: Promise<unknown> = Promise.resolve();
	let dirty = false;

	return {
		name: sessionActorName(slotId),
		settings: { slotId, actor: "session", token },
		actions: {
			/** Faces of one sampled frame from one camera: match, decide, persist, announce. */
			faces: {
				visibility: "public",
				handler(ctx: Context<FacesParams>) {
					// One frame at a time per session, so two cameras never race the attendance rule.
					const run = queue.then(() => this.handleFaces(ctx.params));
					queue = run.catch(() => undefined);
					return run;
				}
			},
			state: {
				visibility: "public",
				handler() {
					return { slotId, counters: { ...counters }, students: gallery?.size ?? 0, ...rule?.snapshot() };
				}
			}
		},
		methods: {
			async handleFaces(p: FacesParams) {
				// Undone if this frame's results cannot be persisted: nothing counts as reported unless stored.
				const before = { rule: rule.snapshot(), counters: { ...counters } };
				try {
					return await this.decide(p);
				} catch (err) {
					rule.restore(before.rule);
					Object.assign(counters, before.counters);
					this.logger.warn("Frame results not persisted; its decisions are undone", { slotId, cameraId: p.cameraId, error: (err as Error).message });
					throw err;
				}
			},
			async decide(p: FacesParams) {
				const at = new Date(p.frameAt);
				counters.frames++;
				counters.processingMsTotal += p.processingMs;
				const embedded = p.faces.filter(f => Array.isArray(f.embedding));
				// Embeddings of another version are not comparable with the students': an error, never a match.
				const faces = embedded.filter(f => f.embeddingVersion === embeddingVersion);
				if (faces.length < embedded.length) {
					counters.versionMismatch += embedded.length - faces.length;
					this.logger.error("Faces of another embedding version than the students' were not compared", { slotId, cameraId: p.cameraId, expected: embeddingVersion, got: [...new Set(embedded.map(f => f.embeddingVersion))] });
				}
				counters.faces += faces.length;
				// Best face per student in this frame: one frame is one sighting at most.
				const matches = faces.map(f => ({ face: f, m: gallery.match(f.embedding!, session.config.similarityThreshold) as MatchResult }));
				const bestPerStudent = new Map<number, { face: FaceIn; m: MatchResult }>();
				for (const x of matches)
					if (x.m.sighting && x.m.best && (!bestPerStudent.has(x.m.best.userId) || bestPerStudent.get(x.m.best.userId)!.m.best!.similarity < x.m.best.similarity)) bestPerStudent.set(x.m.best.userId, x);
				const docs: Record<string, unknown>[] = [];
				const reports: Record<string, any>[] = [];
				for (const x of matches) {
					const best = x.m.best;
					const base = { recognitionId: crypto.randomUUID(), slotId, sessionId, leaseToken: token, cameraId: p.cameraId, box: x.face.box.map(v => Math.round(v)), recognizedAt: at, embeddingVersion: x.face.embeddingVersion, processingMs: p.processingMs, similarity: best?.similarity ?? 0, cosine: best?.cosine ?? 0 };
					if (!best || bestPerStudent.get(best.userId) !== x) {
						counters.unknown++;
						docs.push({ ...base, kind: "unknown", userId: null, delivery: "none" });
						continue;
					}
					counters.recognized++;
					counters.similaritySum += best.similarity;
					const st = students.get(best.userId)!;
					const report = rule.sight(best.userId, best.similarity);
					const doc = { ...base, kind: report ? "report" : "sighting", userId: best.userId, rollNumber: st.rollNumber, fullName: st.fullName, delivery: report ? "pending" : "none", attempts: 0, nextAttemptAt: at };
					docs.push(doc);
					if (report) reports.push(doc);
				}
				// Persist before announcing or delivering anything.
				// Fenced: refused (LEASE_LOST) once another node holds the session.
				if (docs.length > 0) await this.broker.call("recognitions.insertFenced", { slotId, token, entities: docs });
				for (const [userId, x] of bestPerStudent) await this.recordAttendance(userId, x, at, reports.find(r => r.userId === userId));
				counters.reported += reports.length;
				dirty = true;
				if (reports.length > 0) {
					await this.saveCounters();
					await this.broker.call("callbacks.kick").catch(() => undefined);
				}
				for (const r of reports) {
					this.logger.info("Student recognised", { slotId, cameraId: p.cameraId, userId: r.userId, confidence: r.similarity, recognitionId: r.recognitionId });
					this.broker.broadcast("live.recognition", { slotId, cameraId: p.cameraId, userId: r.userId, rollNumber: r.rollNumber, fullName: r.fullName, similarity: r.similarity, recognitionId: r.recognitionId, recognizedAt: isoSeconds(at) });
				}
				for (const d of docs)
					if (d.kind === "unknown") this.broker.broadcast("live.face.unknown", { slotId, cameraId: p.cameraId, box: d.box, recognizedAt: isoSeconds(at) });
				return { faces: faces.length, recognized: bestPerStudent.size, reported: reports.map(r => r.userId) };
			},
			async recordAttendance(userId: number, x: { m: MatchResult }, at: Date, report?: Record<string, any>) {
				const st = students.get(userId)!;
				const [existing] = await this.broker.call<(AttendanceSeen | undefined)[], object>("attendance.find", { query: { sessionId, userId }, limit: 1 });
				const sim = x.m.best!.similarity;
				if (!existing) {
					await this.broker.call("attendance.create", { slotId, sessionId, userId, rollNumber: st.rollNumber, fullName: st.fullName, recognitionId: report?.recognitionId, firstSeenAt: at, lastSeenAt: at, sightings: 1, bestSimilarity: sim });
				} else {
					await this.broker.call("attendance.update", {
						id: existing._id,
						lastSeenAt: at,
						sightings: (existing.sightings ?? 0) + 1,
						bestSimilarity: Math.max(existing.bestSimilarity ?? 0, sim),
						...(report ? { recognitionId: report.recognitionId } : {})
					});
					if (!report && existing.recognitionId) this.broker.broadcast("live.attendance.updated", { slotId, userId, sightings: (existing.sightings ?? 0) + 1, lastSeenAt: isoSeconds(at) });
				}
			},
			async saveCounters() {
				if (!dirty) return;
				dirty = false;
				await this.broker.call("sessions.update", { id: session._id, counters: { ...counters } });
			}
		} satisfies Implements<Methods, Settings, Vars>,
		async started() {
			const points: { id: string; vector: number[]; payload: { userId: number } }[] = await this.broker.call("embeddings.fetch", { filter: { slotId } });
			gallery = new StudentGallery(points.filter(p => students.has(p.payload.userId)).map(p => ({ userId: p.payload.userId, embedding: p.vector })));
			// Resume: who was already reported (from the reports themselves, which are written
			// first, so a crash between a report and its attendance never reports twice) and
			// how often each student was seen.
			const reports: { userId: number }[] = await this.broker.call("recognitions.find", { query: { sessionId, kind: "report" }, fields: ["userId"], limit: 100000 });
			const seen: { userId: number; sightings: number }[] = await this.broker.call("attendance.find", { query: { sessionId }, fields: ["userId", "sightings"], limit: 100000 });
			rule = new AttendanceRule(
				reports.map(r => r.userId),
				seen.map(a => [a.userId, a.sightings ?? 0] as [number, number])
			);
			this.saveTimer = setInterval(() => void this.saveCounters().catch(() => undefined), 5000);
			this.logger.info("Session actor started", { slotId, students: gallery.size, reported: reports.length });
		},
		async stopped() {
			clearInterval(this.saveTimer);
			await queue;
			await this.saveCounters().catch(() => undefined);
		}
	};
}
