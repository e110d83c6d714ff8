/**
 * Operators' commands in `npm run repl` (README, "Operating a cluster"):
 *   cluster                   nodes with their roles and load
 *   actors                    session, camera and monitor actors: node, lease token, status, lag
 *   slots                     running sessions and the node serving each
 *   move <slotId> <nodeID>    move a session's actors to another actors node
 *   move-monitor <cameraId> <nodeID>   move a camera's monitor actor to another actors node
 *   drain <nodeID>            hand every session and monitor of an actors node to the others
 *   undrain <nodeID>          let a drained actors node take sessions and monitors again
 *   inference                 inference nodes: queue, engines, latency, requests served
 */
import type { ServiceBroker } from "moleculer";
import { clusterActors, clusterNodes, clusterSessions, drainNode, inferenceQueues, moveMonitor, moveSession, undrainNode } from "../lib/cluster/operator";

type Command = { command: string; description: string; action: (broker: ServiceBroker, args: Record<string, string>) => Promise<void> };

const show = (rows: unknown) => {
	if (Array.isArray(rows) && rows.length === 0) console.log("(none)");
	else if (Array.isArray(rows)) console.table(rows);
	else console.log(JSON.stringify(rows, null, 2));
};

export const replCommands: Command[] = [
	{ command: "cluster", description: "Rollcall nodes with their roles and load", action: async broker => show(await clusterNodes(broker)) },
	{ command: "actors", description: "Session, camera and monitor actors with their node, lease, status and lag", action: async broker => show(await clusterActors(broker)) },
	{ command: "slots", description: "Running recognition sessions and the node serving each", action: async broker => show(await clusterSessions(broker)) },
	{ command: "move <slotId> <nodeID>", description: "Move a session's actors to another actors node", action: async (broker, a) => show(await moveSession(broker, Number(a.slotId), a.nodeID)) },
	{ command: "move-monitor <cameraId> <nodeID>", description: "Move a camera's monitor actor to another actors node", action: async (broker, a) => show(await moveMonitor(broker, Number(a.cameraId), a.nodeID)) },
	{ command: "drain <nodeID>", description: "Hand every session and camera monitor of an actors node to the others", action: async (broker, a) => show(await drainNode(broker, a.nodeID)) },
	{ command: "undrain <nodeID>", description: "Let a drained actors node take sessions and camera monitors again", action: async (broker, a) => show(await undrainNode(broker, a.nodeID)) },
	{ command: "inference", description: "Inference nodes: queue, engines, latency, requests served", action: async broker => show(await inferenceQueues(broker)) }
];
