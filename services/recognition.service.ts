/**
 * Recognition sessions (actors role): the entry point for starting and stopping a slot's
 * session and listing the ones running. Session and camera actors hang off this service.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";

export default function recognitionService(_cfg: Config): ServiceSchema {
	return {
		name: "recognition",
		actions: {
			/** Sessions that are running now, across the cluster. */
			sessions: {
				message: "Active sessions retrieved successfully",
				async handler(this: { broker: { nodeID: string } }, ctx: Context) {
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
		}
	} as ServiceSchema;
}
