/** Attendance documents (storage role): one per (session, student) with first and last sighting. */
import type { ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { DbMixin } from "../mixins/db.mixin";
import type { DbVars } from "./schema";

export default function attendanceService(cfg: Config): ServiceSchema<{ fields: string[]; maxLimit: number }, object, DbVars> {
	return {
		name: "attendance",
		mixins: [DbMixin("attendance", cfg)],
		settings: {
			fields: ["_id", "slotId", "sessionId", "userId", "rollNumber", "fullName", "recognitionId", "firstSeenAt", "lastSeenAt", "sightings", "bestSimilarity"],
			maxLimit: 10000
		}
	};
}
