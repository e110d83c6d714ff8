/**
 * The cluster's actors for the console's system page (gateway role, resource `cluster`):
 * per node its roles, CPU, load, draining state and the actors it runs (sessions with their
 * camera streams, camera monitors) with their scan lag; the inference queues; and an
 * administrator's operations on them: move a session or a camera's monitor to another node,
 * drain an actors node, take a drained node back.
 *
 * The same functions as the REPL's `cluster`, `actors`, `inference`, `move`, `move-monitor`
 * and `drain` (lib/cluster/operator.ts), which call the actor supervisor's own actions
 * (`recognition.move`, `recognition.drain`, `monitors.move`, ...): one way to do each thing.
 * Mutations are audited by the audit middleware (and the supervisor records `session.moved`,
 * `monitor.moved`).
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { assertActorsNode, clusterActors, clusterNodes, drainNode, inferenceQueues, moveActor, MOVABLE_KINDS, undrainNode, type MovableKind } from "../../lib/cluster/operator";
import type { GatewayMeta } from "../schema";

interface Settings {
	family: string;
	resource: string;
}

/** A node id as the registry names nodes (NODE_ID): printable, no slashes. */
const nodeId = { type: "string", min: 1, max: 200, pattern: "^[A-Za-z0-9._:@-]+$" } as const;

const actorRow = {
	type: "object",
	properties: {
		kind: { type: "string", enum: ["session", "camera", "monitor"], description: "a session, one of its camera streams (moves with its session), or a camera's monitor" },
		id: { type: "integer", description: "slotId of a session or its camera stream; cameraId of a monitor" },
		slotId: { type: ["integer", "null"] },
		cameraId: { type: ["integer", "null"] },
		status: { type: "string" },
		lagMs: { type: ["integer", "null"], description: "how late the last scan (camera) or sample (monitor) started against its schedule" },
		since: { type: ["string", "null"], format: "date-time", description: "since when this node runs it" },
		token: { type: "integer", description: "the lease's fencing token" },
		frames: { type: ["integer", "null"] },
		skipped: { type: ["integer", "null"] },
		fps: { type: ["number", "null"] }
	}
};

export default function clusterService(_cfg: Config): ServiceSchema<Settings> {
	return {
		name: "cluster",
		settings: { family: "console", resource: "cluster" },
		actions: {
			actors: {
				rest: "GET /system/actors",
				permission: "system:read",
				openapi: {
					summary: "Nodes with their roles, CPU, draining state and actors (sessions, camera streams, monitors) with scan lag; the inference queues",
					tags: ["system"],
					response: {
						type: "object",
						properties: {
							nodes: {
								type: "array",
								items: {
									type: "object",
									properties: {
										nodeID: { type: "string" },
										roles: { type: "array", items: { type: "string" } },
										cpu: { type: ["number", "null"], description: "% of the machine, from the node's heartbeat" },
										actorsNode: { type: "boolean", description: "runs the actors role (sessions and monitors can be moved to it, it can be drained)" },
										draining: { type: ["boolean", "null"] },
										sessions: { type: ["integer", "null"] },
										cameras: { type: ["integer", "null"] },
										monitors: { type: ["integer", "null"] },
										actors: { type: "array", items: actorRow }
									}
								}
							},
							inference: {
								type: "array",
								items: {
									type: "object",
									properties: {
										nodeID: { type: "string" },
										running: { type: ["integer", "null"] },
										waiting: { type: ["integer", "null"] },
										engines: { type: ["integer", "null"] },
										maxWaiting: { type: ["integer", "null"] },
										latencyMs: { type: ["number", "null"] },
										served: { type: ["integer", "null"] }
									}
								}
							}
						}
					}
				},
				params: { $$strict: true },
				async handler() {
					const [nodes, actors, inference] = await Promise.all([clusterNodes(this.broker), clusterActors(this.broker), inferenceQueues(this.broker)]);
					return {
						nodes: nodes.map(n => {
							const roles = n.roles ? n.roles.split(",") : [];
							return {
								nodeID: n.nodeID,
								roles,
								cpu: n.cpu,
								actorsNode: roles.includes("actors"),
								draining: n.draining,
								sessions: n.sessions,
								cameras: n.cameras,
								monitors: n.monitors,
								actors: actors
									.filter(a => a.nodeID === n.nodeID)
									.map(({ nodeID: _n, ...a }) => ({ ...a, id: a.kind === "monitor" ? a.cameraId : a.slotId }))
							};
						}),
						inference
					};
				}
			},

			move: {
				rest: "POST /system/actors/:kind/:id/move",
				permission: "system:admin",
				audit: { resource: "actor", severity: "warning" },
				openapi: {
					summary: "Move a session (with its camera streams) or a camera's monitor to another actors node: to `toNode`, or where placement picks among the others",
					tags: ["system"],
					errors: ["NODE_NOT_FOUND", "NOT_ACTORS_NODE", "NO_TARGET_NODE", "NODE_DRAINING", "SESSION_NOT_FOUND", "CAMERA_NOT_FOUND"],
					response: { type: "object", properties: { kind: { type: "string" }, id: { type: "integer" }, from: { type: ["string", "null"] }, to: { type: "string" }, gapMs: { type: "integer" }, token: { type: "integer" } } }
				},
				params: {
					kind: { type: "enum", values: MOVABLE_KINDS },
					id: { type: "number", integer: true, min: 0, convert: true },
					toNode: { ...nodeId, optional: true },
					$$strict: true
				},
				async handler(ctx: Context<{ kind: MovableKind; id: number; toNode?: string }, GatewayMeta>) {
					const { kind, id, toNode } = ctx.params;
					const r = await moveActor(this.broker, kind, id, toNode);
					ctx.meta.$audit = { resourceId: `${kind}:${id}`, message: `Moved ${kind} ${id} from ${r.from ?? "no node"} to ${r.to}`, context: { kind, id, from: r.from, to: r.to, gapMs: r.gapMs } };
					return { kind, id, from: r.from, to: r.to, gapMs: r.gapMs, token: r.token };
				}
			},

			drain: {
				rest: "POST /system/nodes/:nodeId/drain",
				permission: "system:admin",
				audit: { resource: "node", severity: "warning" },
				openapi: {
					summary: "Drain an actors node: hand every session and camera monitor it runs to the other actors nodes; it takes no new ones until undrained (or restarted)",
					tags: ["system"],
					errors: ["NODE_NOT_FOUND", "NOT_ACTORS_NODE", "NO_TARGET_NODE"],
					response: {
						type: "object",
						properties: {
							nodeID: { type: "string" },
							moved: { type: "array", description: "sessions: {slotId, to, gapMs}" },
							kept: { type: "array", description: "slotIds no other node could take" },
							monitors: { type: ["object", "null"], properties: { moved: { type: "array" }, kept: { type: "array" } } }
						}
					}
				},
				params: { nodeId, $$strict: true },
				async handler(ctx: Context<{ nodeId: string }, GatewayMeta>) {
					const r = await drainNode(this.broker, ctx.params.nodeId);
					ctx.meta.$audit = {
						resourceId: ctx.params.nodeId,
						message: `Drained ${ctx.params.nodeId}: ${r.moved.length} session(s) and ${r.monitors?.moved.length ?? 0} monitor(s) moved, ${r.kept.length + (r.monitors?.kept.length ?? 0)} kept`,
						context: { moved: r.moved, kept: r.kept, monitors: r.monitors }
					};
					return r;
				}
			},

			undrain: {
				rest: "POST /system/nodes/:nodeId/undrain",
				permission: "system:admin",
				audit: { resource: "node" },
				openapi: {
					summary: "Let a drained actors node take sessions and camera monitors again (nothing is moved back; placement places new ones there)",
					tags: ["system"],
					errors: ["NODE_NOT_FOUND", "NOT_ACTORS_NODE", "NODE_STOPPING"],
					response: { type: "object", properties: { nodeID: { type: "string" }, draining: { type: "boolean" } } }
				},
				params: { nodeId, $$strict: true },
				async handler(ctx: Context<{ nodeId: string }, GatewayMeta>) {
					assertActorsNode(this.broker, ctx.params.nodeId);
					ctx.meta.$audit = { resourceId: ctx.params.nodeId, message: `${ctx.params.nodeId} takes actors again` };
					return undrainNode(this.broker, ctx.params.nodeId);
				}
			}
		}
	};
}
