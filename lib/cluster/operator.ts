/**
 * What operators ask of a running cluster, from any broker that joined it (the REPL node):
 * nodes with roles and load, actors (sessions, their cameras, camera monitors) with their
 * node, state and lag, sessions, moving a session or a monitor, draining a node, inference
 * queues and latencies. The REPL commands
 * (scripts/repl-commands.ts) print these; the cluster tests call them too.
 */
import type { ServiceBroker } from "moleculer";

const ROLE_OF: Record<string, string> = { api: "gateway", recognition: "actors", inference: "inference", sessions: "storage" };

interface ServiceEntry {
	name: string;
	nodeID: string;
}

function services(broker: ServiceBroker): ServiceEntry[] {
	return broker.registry.getServiceList({ onlyAvailable: true, skipInternal: true }) as unknown as ServiceEntry[];
}

/** Live nodes running a service, sorted. */
export const nodesOf = (broker: ServiceBroker, service: string) => [...new Set(services(broker).filter(s => s.name === service).map(s => s.nodeID))].sort();

export interface NodeRow {
	nodeID: string;
	roles: string;
	cpu: number | null;
	sessions: number | null;
	cameras: number | null;
	/** Monitor actors (enabled cameras watched all day). */
	monitors: number | null;
	draining: boolean | null;
	inferenceQueue: string | null;
}

export async function clusterNodes(broker: ServiceBroker): Promise<NodeRow[]> {
	const nodes = (broker.registry.getNodeList({ onlyAvailable: true, withServices: false }) as { id: string; cpu?: number | null }[]).filter(n => n.id !== broker.nodeID || services(broker).some(s => s.nodeID === n.id));
	const byNode = new Map<string, Set<string>>();
	for (const s of services(broker)) if (ROLE_OF[s.name]) (byNode.get(s.nodeID) ?? byNode.set(s.nodeID, new Set()).get(s.nodeID)!).add(ROLE_OF[s.name]);
	return Promise.all(
		nodes
			.filter(n => byNode.has(n.id))
			.sort((a, b) => a.id.localeCompare(b.id))
			.map(async n => {
				const roles = [...byNode.get(n.id)!].sort();
				const load = roles.includes("actors") ? await broker.call<{ sessions: number; cameras: number; draining: boolean }, object>("recognition.load", {}, { nodeID: n.id }).catch(() => null) : null;
				const monitors = nodesOf(broker, "monitors").includes(n.id) ? await broker.call<{ monitors: number }, object>("monitors.load", {}, { nodeID: n.id }).catch(() => null) : null;
				const inf = roles.includes("inference") ? await broker.call<{ queue: { running: number; waiting: number } }, object>("inference.info", {}, { nodeID: n.id }).catch(() => null) : null;
				return {
					nodeID: n.id,
					roles: roles.join(","),
					cpu: n.cpu ?? null,
					sessions: load?.sessions ?? null,
					cameras: load?.cameras ?? null,
					monitors: monitors?.monitors ?? null,
					draining: load?.draining ?? null,
					inferenceQueue: inf ? `${inf.queue.running} running, ${inf.queue.waiting} waiting` : null
				};
			})
	);
}

export interface ActorRow {
	nodeID: string;
	kind: "session" | "camera" | "monitor";
	/** Sessions and their cameras; null for monitors. */
	slotId: number | null;
	token: number;
	cameraId: number | null;
	status: string;
	lagMs: number | null;
	/** Frames analysed (session cameras) or samples taken (monitors). */
	frames: number | null;
	skipped: number | null;
	/** Measured frame rate of a monitored stream. */
	fps: number | null;
}

export async function clusterActors(broker: ServiceBroker): Promise<ActorRow[]> {
	const rows: ActorRow[] = [];
	for (const nodeID of nodesOf(broker, "recognition")) {
		const actors = await broker.call<any[], object>("recognition.actors", {}, { nodeID }).catch(() => []);
		for (const a of actors) {
			rows.push({ nodeID, kind: "session", slotId: a.slotId, token: a.token, cameraId: null, status: a.draining ? "session (draining)" : "session", lagMs: null, frames: null, skipped: null, fps: null });
			for (const c of a.cameras) rows.push({ nodeID, kind: "camera", slotId: a.slotId, token: a.token, cameraId: c.cameraId, status: c.status, lagMs: c.lagMs ?? null, frames: c.frames ?? null, skipped: c.skipped ?? null, fps: null });
		}
	}
	for (const nodeID of nodesOf(broker, "monitors")) {
		const monitors = await broker.call<any[], object>("monitors.actors", {}, { nodeID }).catch(() => []);
		for (const a of monitors) {
			const m = a.monitor ?? {};
			const status = `${m.status ?? "unknown"}${a.draining ? " (draining)" : ""}`;
			rows.push({ nodeID, kind: "monitor", slotId: null, token: a.token, cameraId: a.cameraId, status, lagMs: m.lagMs ?? null, frames: m.samples ?? null, skipped: m.skipped ?? null, fps: m.fps ?? null });
		}
	}
	return rows;
}

export async function clusterSessions(broker: ServiceBroker) {
	return broker.call<Record<string, unknown>[]>("recognition.sessions");
}

export async function moveSession(broker: ServiceBroker, slotId: number, nodeID: string) {
	return broker.call<{ slotId: number; from: string | null; to: string; gapMs: number; token?: number }, object>("recognition.move", { slotId, nodeID });
}

export async function moveMonitor(broker: ServiceBroker, cameraId: number, nodeID: string) {
	return broker.call<{ cameraId: number; from: string | null; to: string; gapMs: number; token?: number }, object>("monitors.move", { cameraId, nodeID });
}

/** Hand every session of an actors node to the others, then its camera monitors (`monitors`). */
export async function drainNode(broker: ServiceBroker, nodeID: string) {
	if (!nodesOf(broker, "recognition").includes(nodeID)) throw new Error(`${nodeID} is not a live actors node`);
	const sessions = await broker.call<{ nodeID: string; moved: { slotId: number; to: string; gapMs: number }[]; kept: number[] }, object>("recognition.drain", {}, { nodeID, timeout: 120_000 });
	const monitors = nodesOf(broker, "monitors").includes(nodeID)
		? await broker.call<{ moved: { cameraId: number; to: string; gapMs: number }[]; kept: number[] }, object>("monitors.drain", {}, { nodeID, timeout: 120_000 })
		: null;
	return { ...sessions, monitors: monitors ? { moved: monitors.moved, kept: monitors.kept } : null };
}

export async function inferenceQueues(broker: ServiceBroker) {
	return Promise.all(
		nodesOf(broker, "inference").map(async nodeID => {
			const info = await broker.call<{ queue: { running: number; waiting: number; concurrency: number; maxWaiting: number }; latencyMs: number | null; served: number }, object>("inference.info", {}, { nodeID }).catch(() => null);
			return { nodeID, running: info?.queue.running ?? null, waiting: info?.queue.waiting ?? null, engines: info?.queue.concurrency ?? null, maxWaiting: info?.queue.maxWaiting ?? null, latencyMs: info?.latencyMs ?? null, served: info?.served ?? null };
		})
	);
}
