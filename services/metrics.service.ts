/**
 * Performance metrics (FUACS section 8), computed from what happened: session documents,
 * recognition documents, the audit log of enrollments, and the live state of camera actors.
 * Prometheus metrics of the brokers themselves are on METRICS_PORT (/metrics).
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { isoSeconds } from "../lib/time";
import type { CameraState } from "./actors/camera.actor";
import type { Implements } from "./schema";

const ACTIVE = ["starting", "active", "stopping"];
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

interface Settings {
	family: string;
}

interface Methods {
	cameraStates(ctx: Context): Promise<CameraState[]>;
}

export default function metricsService(_cfg: Config): ServiceSchema<Settings, Methods, object> {
	return {
		name: "metrics",
		settings: { family: "integration" },
		actions: {
			snapshot: {
				rest: "GET /metrics",
				permission: "system:read",
				message: "Metrics retrieved successfully",
				async handler(ctx: Context) {
					const today = new Date();
					today.setUTCHours(0, 0, 0, 0);
					const [active, todaysSessions, recognizedCount, recognized, unknown, generate, cameraStates, delivery] = await Promise.all([
						ctx.call<any[]>("sessions.active"),
						ctx.call<any[], object>("sessions.find", { query: { startedAt: { $gte: today } }, fields: ["counters"], limit: 100_000 }),
						ctx.call<number, object>("recognitions.count", { query: { kind: { $in: ["report", "sighting"] } } }),
						// The newest 100k are plenty for an average confidence.
						ctx.call<any[], object>("recognitions.find", { query: { kind: { $in: ["report", "sighting"] } }, fields: ["similarity"], limit: 100_000, sort: "-recognizedAt" }),
						ctx.call<number, object>("recognitions.count", { query: { kind: "unknown" } }),
						ctx.call<any[], object>("audit.find", { query: { action: "embedding.generate" }, fields: ["details"], limit: 100_000, sort: "-at" }),
						this.cameraStates(ctx),
						Promise.all(["pending", "delivered", "failed"].map(d => ctx.call<number, object>("recognitions.count", { query: { kind: "report", delivery: d } })))
					]);
					// Frames of today's sessions, stopped ones included, so the figure survives the last stop.
					const sessionsToday = todaysSessions.length;
					const frames = todaysSessions.reduce((s: number, d: any) => s + (d.counters?.frames ?? 0), 0);
					const processingMs = todaysSessions.reduce((s: number, d: any) => s + (d.counters?.processingMsTotal ?? 0), 0);
					const ok = generate.filter(g => g.details?.ok);
					const totalCameras = active.reduce((s: number, d: any) => s + (Array.isArray(d.cameras) ? d.cameras.length : 0), 0);
					const connected = cameraStates.filter(c => c.status === "connected");
					return {
						service: { uptime: Math.floor(process.uptime()), activeSessions: active.length, totalSessionsToday: sessionsToday },
						recognition: {
							totalRecognitions: recognizedCount,
							averageConfidence: round(mean(recognized.map(r => r.similarity ?? 0))),
							averageProcessingTime: round(frames ? processingMs / frames / 1000 : 0, 3),
							recognitionRate: round(recognizedCount + unknown ? recognizedCount / (recognizedCount + unknown) : 0)
						},
						embedding: {
							totalGenerated: ok.length,
							averageQuality: round(mean(ok.map(g => g.details.quality ?? 0))),
							averageProcessingTime: round(mean(ok.map(g => g.details.processingTime ?? 0))),
							successRate: round(generate.length ? ok.length / generate.length : 0)
						},
						cameras: {
							totalCameras,
							activeCameras: connected.length,
							failedCameras: Math.max(0, totalCameras - connected.length),
							averageFrameRate: round(mean(connected.map(c => c.frameRate ?? 0)), 1)
						},
						callbacks: { pending: delivery[0], delivered: delivery[1], failed: delivery[2] },
						timestamp: isoSeconds()
					};
				}
			}
		},
		methods: {
			/** Live state of every camera actor in the cluster. */
			async cameraStates(ctx: Context) {
				const names: string[] = this.broker.registry
					.getServiceList({ onlyAvailable: true, withActions: false })
					.filter((s: { name: string; settings?: { actor?: string } }) => s.settings?.actor === "camera")
					.map((s: { name: string }) => s.name);
				const states = await Promise.all([...new Set(names)].map(n => ctx.call<CameraState>(`${n}.state`).catch(() => null)));
				return states.filter((s): s is CameraState => Boolean(s));
			}
		} satisfies Implements<Methods, Settings>
	};
}
