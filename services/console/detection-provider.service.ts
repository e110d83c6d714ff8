/**
 * The detection "provider" (gateway role; seed 002 `GET/PUT /detections/provider/config`,
 * `POST /detections/test-provider`): Rollcall's own inference cluster, not an external API.
 *
 * - status connected / degraded / offline (lib/detections/provider.ts) from the inference
 *   nodes the registry lists and real calls: the latency of the newest frames of the
 *   per-frame event log (capture to result), and this gateway's last test-provider call;
 * - test-provider runs a real inference (`inference.analyze`) of a sample image on every
 *   inference node and reports each node's latency (a 640x480 test card with no face: it
 *   measures decoding and detection, not embedding);
 * - the config is the recognition settings (similarity threshold, minimum face size, the
 *   sampling interval of new cameras), kept in the site's settings document (site.recognition)
 *   and applied by the monitors at once (`site.changed`). An external provider (endpoint,
 *   apiKey) is refused with EXTERNAL_PROVIDER_UNSUPPORTED.
 */
import type { Context, ServiceSchema } from "moleculer";
import sharp from "sharp";
import type { Config } from "../../config";
import { meanMs, probeMessage, providerStatus, RECOGNITION_LIMITS, type ProbeOutcome, type RecognitionSettings } from "../../lib/detections/provider";
import { ApiError } from "../../lib/errors";
import type { GatewayMeta, Implements } from "../schema";

export const PROVIDER_NAME = "Rollcall inference cluster";

const CONFIG_RESPONSE = {
	type: "object",
	properties: {
		providerName: { type: "string" },
		endpoint: { type: "null", description: "always null: the provider is this cluster" },
		enabled: { type: "boolean" },
		status: { type: "string", enum: ["connected", "degraded", "offline"] },
		lastHeartbeat: { type: ["string", "null"], format: "date-time" },
		averageLatencyMs: { type: ["integer", "null"] },
		nodes: { type: "integer", description: "inference nodes in the registry" },
		models: { type: "array", items: { type: "object" } },
		similarityThreshold: { type: "number" },
		minFaceSize: { type: "integer" },
		sampleInterval: { type: "number" },
		version: { type: "integer" },
		updatedAt: { type: ["string", "null"] }
	}
};
const TEST_RESPONSE = {
	type: "object",
	properties: {
		status: { type: "string", enum: ["connected", "degraded", "offline"] },
		latencyMs: { type: ["integer", "null"] },
		message: { type: "string" },
		nodes: { type: "integer" },
		perNode: { type: "array", items: { type: "object", properties: { nodeID: { type: "string" }, latencyMs: { type: ["integer", "null"] }, error: { type: ["string", "null"] } } } },
		testedAt: { type: "string" }
	}
};

interface Methods {
	inferenceNodes(): string[];
	sample(): Promise<Buffer>;
	view(): Promise<Record<string, unknown>>;
}
interface Vars {
	lastProbe: ProbeOutcome | null;
	sampleJpeg: Buffer | null;
}

type ConfigChange = Partial<RecognitionSettings> & { version?: number; endpoint?: string | null; apiKey?: string | null; enabled?: boolean };

export default function detectionProviderService(_cfg: Config): ServiceSchema<{ family: string; resource: string }, Methods, Vars> {
	return {
		name: "detectionProvider",
		settings: { family: "console", resource: "detection-provider" },
		actions: {
			config: {
				rest: "GET /detections/provider/config",
				permission: "cameras:read",
				openapi: { summary: "The detection provider (this cluster's inference): status, measured latency, nodes, models, recognition settings", tags: ["detections"], response: CONFIG_RESPONSE },
				params: { $$strict: true },
				handler() {
					return this.view();
				}
			},
			saveConfig: {
				rest: "PUT /detections/provider/config",
				permission: "settings:write",
				openapi: { summary: "Change the recognition settings (fields left out keep their value)", tags: ["detections"], response: CONFIG_RESPONSE, errors: ["EXTERNAL_PROVIDER_UNSUPPORTED", "VERSION_CONFLICT"] },
				params: {
					similarityThreshold: { type: "number", ...RECOGNITION_LIMITS.similarityThreshold, optional: true },
					minFaceSize: { type: "number", integer: true, ...RECOGNITION_LIMITS.minFaceSize, optional: true },
					sampleInterval: { type: "number", ...RECOGNITION_LIMITS.sampleInterval, optional: true },
					version: { type: "number", integer: true, min: 1, optional: true },
					endpoint: { type: "string", max: 2000, optional: true, nullable: true },
					apiKey: { type: "string", max: 2000, optional: true, nullable: true },
					enabled: { type: "boolean", optional: true },
					$$strict: true
				},
				async handler(ctx: Context<ConfigChange, GatewayMeta>) {
					const { version, endpoint, apiKey, enabled, ...changes } = ctx.params;
					if (endpoint || apiKey)
						throw new ApiError(400, "EXTERNAL_PROVIDER_UNSUPPORTED", "The detection provider is this cluster's own inference: an external endpoint or API key is not used", {
							details: [{ field: endpoint ? "endpoint" : "apiKey", issue: "external providers are not supported" }]
						});
					if (enabled === false)
						throw new ApiError(400, "EXTERNAL_PROVIDER_UNSUPPORTED", "The provider cannot be disabled: disable cameras to stop detections", { details: [{ field: "enabled", issue: "always true" }] });
					await ctx.call("site.saveRecognition", { changes, version, by: ctx.meta.user?.email ?? ctx.meta.user?.name ?? null });
					ctx.meta.$audit = { resourceId: "detection-provider", message: `Recognition settings: ${Object.keys(changes).join(", ") || "nothing"} changed` };
					return this.view();
				}
			},
			test: {
				rest: "POST /detections/test-provider",
				permission: "cameras:write",
				openapi: { summary: "Run a real inference on every inference node and report its latency", tags: ["detections"], response: TEST_RESPONSE },
				params: { $$strict: true },
				async handler() {
					const nodes = this.inferenceNodes();
					const image = await this.sample();
					const perNode = await Promise.all(
						nodes.map(async nodeID => {
							const t0 = performance.now();
							try {
								await this.broker.call("inference.analyze", { image, maxFaces: 1 }, { nodeID, timeout: 30_000 });
								return { nodeID, latencyMs: Math.round(performance.now() - t0), error: null as string | null };
							} catch (err) {
								return { nodeID, latencyMs: null as number | null, error: (err as Error).message };
							}
						})
					);
					const ok = perNode.filter(n => n.latencyMs !== null).map(n => n.latencyMs!);
					const latencyMs = meanMs(ok);
					const error = ok.length === 0 && perNode.length ? perNode[0].error : null;
					const at = new Date();
					this.lastProbe = { ok: nodes.length > 0 && ok.length > 0, latencyMs, at, error };
					const status = providerStatus({ nodes: nodes.length, lastProbe: this.lastProbe, averageLatencyMs: latencyMs, recentErrors: perNode.length - ok.length, recentCalls: perNode.length });
					this.logger.info("Detection provider tested", { status, nodes: nodes.length, latencyMs, failed: perNode.length - ok.length });
					return { status, latencyMs, message: probeMessage(status, nodes.length, latencyMs, error), nodes: nodes.length, perNode, testedAt: at.toISOString() };
				}
			}
		},
		methods: {
			inferenceNodes() {
				const list = this.broker.registry.getServiceList({ onlyAvailable: true, skipInternal: true }) as unknown as { name: string; nodeID: string }[];
				return [...new Set(list.filter(s => s.name === "inference").map(s => s.nodeID))].sort();
			},
			async sample() {
				// A test card: gradients and blocks, JPEG like a camera's frame (no face).
				this.sampleJpeg ??= await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 90, g: 110, b: 130 } } })
					.composite([
						{ input: { create: { width: 200, height: 200, channels: 3, background: { r: 230, g: 200, b: 170 } } }, left: 220, top: 120 },
						{ input: { create: { width: 640, height: 80, channels: 3, background: { r: 20, g: 20, b: 20 } } }, left: 0, top: 400 }
					])
					.jpeg({ quality: 85 })
					.toBuffer();
				return this.sampleJpeg;
			},
			async view() {
				const nodes = this.inferenceNodes();
				const [settings, recent, info] = await Promise.all([
					this.broker.call<RecognitionSettings & { version: number; updatedAt: string | null }, object>("site.recognition", {}),
					this.broker.call<{ calls: number; errors: number; averageLatencyMs: number | null; lastOkAt: string | null }, object>("detectionEvents.recentLatency", { limit: 100 }).catch(() => null),
					nodes.length ? this.broker.call<{ models: Record<string, { file: string; kind: string; version: string }>; embeddingVersion: number }, object>("inference.info", {}, { timeout: 5000 }).catch(() => null) : null
				]);
				const averageLatencyMs = recent?.averageLatencyMs ?? this.lastProbe?.latencyMs ?? null;
				const beats = [recent?.lastOkAt ? new Date(recent.lastOkAt).getTime() : 0, this.lastProbe?.ok ? this.lastProbe.at.getTime() : 0];
				const lastHeartbeat = Math.max(...beats);
				return {
					providerName: PROVIDER_NAME,
					endpoint: null,
					enabled: true,
					status: providerStatus({ nodes: nodes.length, lastProbe: this.lastProbe, averageLatencyMs, recentErrors: recent?.errors ?? 0, recentCalls: recent?.calls ?? 0 }),
					lastHeartbeat: lastHeartbeat ? new Date(lastHeartbeat).toISOString() : null,
					averageLatencyMs,
					recentFrames: recent ? { calls: recent.calls, errors: recent.errors } : null,
					lastTest: this.lastProbe ? { ok: this.lastProbe.ok, latencyMs: this.lastProbe.latencyMs, at: this.lastProbe.at.toISOString(), error: this.lastProbe.error ?? null } : null,
					nodes: nodes.length,
					nodeIDs: nodes,
					models: info ? Object.entries(info.models).map(([role, m]) => ({ role, name: m.file.replace(/\.onnx$/, ""), kind: m.kind, version: m.version })) : [],
					embeddingVersion: info?.embeddingVersion ?? null,
					similarityThreshold: settings.similarityThreshold,
					minFaceSize: settings.minFaceSize,
					sampleInterval: settings.sampleInterval,
					version: settings.version,
					updatedAt: settings.updatedAt
				};
			}
		} satisfies Implements<Methods, { family: string; resource: string }, Vars>,
		created() {
			this.lastProbe = null;
			this.sampleJpeg = null;
		}
	};
}
