/**
 * The detection "provider" of seed 002, which is Rollcall's own inference cluster: its status
 * from the inference nodes the registry lists and the latencies of real calls, and the
 * recognition settings the console edits. Pure; the plumbing is
 * services/console/detection-provider.service.ts.
 */

export type ProviderStatus = "connected" | "degraded" | "offline";

/** The recognition settings (stored in the site's settings document). */
export interface RecognitionSettings {
	/** Calibrated similarity a face must reach to be a person of the gallery (0..1). */
	similarityThreshold: number;
	/** Faces smaller than this (px, the shorter side) are not analysed. */
	minFaceSize: number;
	/** Seconds between two samples of a camera created without its own sampleInterval. */
	sampleInterval: number;
}

export const RECOGNITION_LIMITS = {
	similarityThreshold: { min: 0.5, max: 0.999 },
	minFaceSize: { min: 10, max: 1000 },
	sampleInterval: { min: 0.2, max: 3600 }
} as const;

/** A latency this far over the norm makes the provider degraded. */
export const DEGRADED_LATENCY_MS = 5000;

export interface ProbeOutcome {
	ok: boolean;
	latencyMs: number | null;
	at: Date;
	error?: string | null;
}

/**
 * The provider's status: offline without an inference node or when the last real call
 * failed with none succeeding since; degraded when the average latency of recent real calls
 * is over DEGRADED_LATENCY_MS or when some recent calls failed; connected otherwise.
 */
export function providerStatus(s: { nodes: number; lastProbe: ProbeOutcome | null; averageLatencyMs: number | null; recentErrors: number; recentCalls: number }): ProviderStatus {
	if (s.nodes === 0) return "offline";
	if (s.lastProbe && !s.lastProbe.ok) return s.recentCalls > s.recentErrors ? "degraded" : "offline";
	if (s.averageLatencyMs !== null && s.averageLatencyMs > DEGRADED_LATENCY_MS) return "degraded";
	if (s.recentCalls > 0 && s.recentErrors * 2 >= s.recentCalls) return "degraded";
	return "connected";
}

/** The message a test-provider call reports with its status. */
export function probeMessage(status: ProviderStatus, nodes: number, latencyMs: number | null, error?: string | null): string {
	if (nodes === 0) return "No inference node is running";
	if (error) return `Inference failed: ${error}`;
	if (status === "degraded") return `Provider degraded: ${latencyMs} ms`;
	return `Provider healthy: ${nodes} inference node${nodes === 1 ? "" : "s"}`;
}

/** Mean of the numbers, rounded to the ms; null without any. */
export function meanMs(values: readonly number[]): number | null {
	if (values.length === 0) return null;
	return Math.round(values.reduce((a, b) => a + b, 0) / values.length);
}
