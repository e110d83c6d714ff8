/**
 * What operators ask of a running cluster, from any broker that joined it (the REPL node, a
 * gateway): nodes with roles and load, actors (sessions, their cameras, camera monitors) with
 * their node, state and lag, sessions, moving a session or a monitor, draining a node (and
 * taking it back), inference queues and latencies. The REPL commands
 * (scripts/repl-commands.ts) print these, the console's system routes
 * (services/console/cluster.service.ts) answer them: one way to do each thing. Refusals are
 * ApiErrors with documented codes (NODE_NOT_FOUND, NOT_ACTORS_NODE, NO_TARGET_NODE, and the
 * supervisor's own NODE_DRAINING, SESSION_NOT_FOUND, CAMERA_NOT_FOUND).
 */
import type { ServiceBroker } from "moleculer";
import { ApiError, notFound } from "../errors";
import { liveOwner, monitorKey, placeActor, sessionKey, type Lease } from "../recognition/placement";

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
	/** Since when this node runs the key's actors (ISO 8601). */
	since: string | null;
}

export async function clusterActors(broker: ServiceBroker): Promise<ActorRow[]> {
	const rows: ActorRow[] = [];
	for (const nodeID of nodesOf(broker, "recognition")) {
		const actors = await broker.call<any[], object>("recognition.actors", {}, { nodeID }).catch(() => []);
		for (const a of actors) {
			const since = a.since ?? null;
			rows.push({ nodeID, kind: "session", slotId: a.slotId, token: a.token, cameraId: null, status: a.draining ? "session (draining)" : "session", lagMs: null, frames: null, skipped: null, fps: null, since });
			for (const c of a.cameras) rows.push({ nodeID, kind: "camera", slotId: a.slotId, token: a.token, cameraId: c.cameraId, status: c.status, lagMs: c.lagMs ?? null, frames: c.frames ?? null, skipped: c.skipped ?? null, fps: null, since });
		}
	}
	for (const nodeID of nodesOf(broker, "monitors")) {
		const monitors = await broker.call<any[], object>("monitors.actors", {}, { nodeID }).catch(() => []);
		for (const a of monitors) {
			const m = a.monitor ?? {};
			const status = `${m.status ?? "unknown"}${a.draining ? " (draining)" : ""}`;
			rows.push({ nodeID, kind: "monitor", slotId: null, token: a.token, cameraId: a.cameraId, status, lagMs: m.lagMs ?? null, frames: m.samples ?? null, skipped: m.skipped ?? null, fps: m.fps ?? null, since: a.since ?? null });
		}
	}
	return rows;
}

export async function clusterSessions(broker: ServiceBroker) {
	return broker.call<Record<string, unknown>[]>("recognition.sessions");
}

/** What an operator can move: a session (its cameras go with it) or a camera's monitor. */
const MOVABLE = {
	session: {
		service: "recognition",
		key: "slotId",
		placementKey: sessionKey,
		find: async (broker: ServiceBroker, slotId: number) => (await broker.call<Lease[], object>("sessions.find", { query: { slotId, status: "active" }, limit: 1 }))[0] ?? null,
		notFound: (slotId: number) => notFound("SESSION_NOT_FOUND", `No active face recognition session found for slot ${slotId}`)
	},
	monitor: {
		service: "monitors",
		key: "cameraId",
		placementKey: monitorKey,
		find: (broker: ServiceBroker, cameraId: number) => broker.call<Lease | null, object>("cameras.monitorDoc", { cameraId }),
		notFound: (cameraId: number) => new ApiError(404, "CAMERA_NOT_FOUND", `No enabled camera ${cameraId} to monitor`)
	}
} as const;
export type MovableKind = keyof typeof MOVABLE;
export const MOVABLE_KINDS = Object.keys(MOVABLE) as MovableKind[];

export interface Moved {
	from: string | null;
	to: string;
	gapMs: number;
	token?: number;
}

/** A live node running `service` (the actors role), or 404 NODE_NOT_FOUND / 409 NOT_ACTORS_NODE. */
export function assertActorsNode(broker: ServiceBroker, nodeID: string, service = "recognition"): void {
	const live = (broker.registry.getNodeList({ onlyAvailable: true, withServices: false }) as { id: string }[]).some(n => n.id === nodeID);
	if (!live) throw new ApiError(404, "NODE_NOT_FOUND", `No live node ${nodeID} in the cluster`);
	if (!nodesOf(broker, service).includes(nodeID)) throw new ApiError(409, "NOT_ACTORS_NODE", `${nodeID} does not run the actors role`);
}

/** Live nodes of an actor service that take new actors (not draining, as each says in `load`). */
async function takers(broker: ServiceBroker, service: string): Promise<string[]> {
	const nodes = nodesOf(broker, service);
	const open = await Promise.all(nodes.map(nodeID => broker.call<{ draining: boolean }, object>(`${service}.load`, {}, { nodeID }).then(l => !l.draining, () => false)));
	return nodes.filter((_, i) => open[i]);
}

/**
 * Move a session's actors or a camera's monitor to `toNode`, or (none given) to the node
 * placement picks among the other nodes that take new actors; 409 NO_TARGET_NODE when none.
 */
export async function moveActor<R extends object = Record<string, unknown>>(broker: ServiceBroker, kind: MovableKind, key: number, toNode?: string): Promise<Moved & R> {
	const k = MOVABLE[kind];
	if (toNode) assertActorsNode(broker, toNode, k.service);
	const doc = await k.find(broker, key);
	if (!doc) throw k.notFound(key);
	let to = toNode;
	if (!to) {
		const from = liveOwner(doc, Date.now());
		to = placeActor(k.placementKey(key), await takers(broker, k.service), new Set(from ? [from] : [])) ?? undefined;
		if (!to) throw new ApiError(409, "NO_TARGET_NODE", `No other actors node can take ${kind} ${key}`);
	}
	return broker.call<Moved & R, object>(`${k.service}.move`, { [k.key]: key, nodeID: to });
}

export async function moveSession(broker: ServiceBroker, slotId: number, nodeID?: string) {
	return moveActor<{ slotId: number }>(broker, "session", slotId, nodeID);
}

export async function moveMonitor(broker: ServiceBroker, cameraId: number, nodeID?: string) {
	return moveActor<{ cameraId: number }>(broker, "monitor", cameraId, nodeID);
}

/**
 * Hand every session of an actors node to the others, then its camera monitors (`monitors`);
 * the node takes no new ones until `undrainNode`. 409 NO_TARGET_NODE when no other node takes
 * new actors (a drain would only stop the cluster from placing any).
 */
export async function drainNode(broker: ServiceBroker, nodeID: string) {
	assertActorsNode(broker, nodeID);
	if (!(await takers(broker, "recognition")).some(n => n !== nodeID)) throw new ApiError(409, "NO_TARGET_NODE", `No other actors node takes sessions: ${nodeID} is not drained`);
	const sessions = await broker.call<{ nodeID: string; moved: { slotId: number; to: string; gapMs: number }[]; kept: number[] }, object>("recognition.drain", {}, { nodeID, timeout: 120_000 });
	const monitors = nodesOf(broker, "monitors").includes(nodeID)
		? await broker.call<{ moved: { cameraId: number; to: string; gapMs: number }[]; kept: number[] }, object>("monitors.drain", {}, { nodeID, timeout: 120_000 })
		: null;
	return { ...sessions, monitors: monitors ? { moved: monitors.moved, kept: monitors.kept } : null };
}

/** Let a drained node take sessions and monitors again (placement passes resume there). */
export async function undrainNode(broker: ServiceBroker, nodeID: string) {
	assertActorsNode(broker, nodeID);
	const sessions = await broker.call<{ nodeID: string; draining: boolean }, object>("recognition.undrain", {}, { nodeID });
	if (nodesOf(broker, "monitors").includes(nodeID)) await broker.call("monitors.undrain", {}, { nodeID });
	return { nodeID, draining: sessions.draining };
}

export async function inferenceQueues(broker: ServiceBroker) {
	return Promise.all(
		nodesOf(broker, "inference").map(async nodeID => {
			const info = await broker.call<{ queue: { running: number; waiting: number; concurrency: number; maxWaiting: number }; latencyMs: number | null; served: number }, object>("inference.info", {}, { nodeID }).catch(() => null);
			return { nodeID, running: info?.queue.running ?? null, waiting: info?.queue.waiting ?? null, engines: info?.queue.concurrency ?? null, maxWaiting: info?.queue.maxWaiting ?? null, latencyMs: info?.latencyMs ?? null, served: info?.served ?? null };
		})
	);
}
