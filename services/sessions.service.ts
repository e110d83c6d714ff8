/** Session documents (storage role): students, cameras, config, counters and state of each slot's session. */
import type { ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { DbMixin } from "../mixins/db.mixin";

export default function sessionsService(cfg: Config): ServiceSchema {
	return {
		name: "sessions",
		mixins: [DbMixin("sessions", cfg)],
		settings: {
			fields: ["_id", "slotId", "roomId", "status", "students", "cameras", "config", "counters", "owner", "startedAt", "stoppedAt"],
			maxLimit: 10000
		},
		actions: {
			/** Sessions that are running now (not stopped). */
			active: {
				visibility: "public",
				handler(this: any) {
					return this.adapter.find({ query: { status: { $in: ["starting", "active", "stopping"] } } }).then((docs: object[]) => this.transformDocuments(null, {}, docs));
				}
			}
		}
	} as ServiceSchema;
}
