/** Recognition documents (storage role): every face seen, recognised or unknown, with its delivery state. */
import type { ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { DbMixin } from "../mixins/db.mixin";

export default function recognitionsService(cfg: Config): ServiceSchema {
	return {
		name: "recognitions",
		mixins: [DbMixin("recognitions", cfg)],
		settings: {
			fields: ["_id", "recognitionId", "slotId", "cameraId", "userId", "similarity", "cosine", "box", "recognizedAt", "delivery", "attempts", "nextAttemptAt", "embeddingVersion"],
			maxLimit: 10000
		}
	} as ServiceSchema;
}
