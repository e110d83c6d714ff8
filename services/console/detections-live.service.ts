/**
 * The live detections (gateway role; seed 002 `GET /detections/live`): the newest detections,
 * answered from this gateway's memory, fed by the `detections.updated` events every write
 * broadcasts: never a database query per request, and fresh as soon as the event arrives.
 * A gateway that starts fills its memory once from the store.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { DETECTION_RESPONSE, type DetectionView } from "./detections.service";

/** Per camera, the newest this many (a track updated moves to the front). */
const PER_CAMERA = 100;

interface Vars {
	byCamera: Map<number, DetectionView[]>;
	/** Answers by (cameraId, limit) since the last change: a console polls far more often than detections are made. */
	answers: Map<string, DetectionView[]>;
	warmed: boolean;
}
interface Methods {
	keep(d: DetectionView): void;
	warm(): Promise<void>;
}

export default function detectionsLiveService(_cfg: Config): ServiceSchema<{ family: string; resource: string }, Methods, Vars> {
	return {
		name: "detectionsLive",
		settings: { family: "console", resource: "detection" },
		actions: {
			live: {
				rest: "GET /detections/live",
				permission: "cameras:read",
				openapi: { summary: "The newest detections, from memory (fresh within the event's delivery)", tags: ["detections"], response: { type: "array", items: DETECTION_RESPONSE } },
				params: { cameraId: { type: "number", integer: true, convert: true, optional: true }, limit: { type: "number", integer: true, min: 1, max: 100, convert: true, default: 20 }, $$strict: true },
				handler(ctx: Context<{ cameraId?: number; limit: number }>) {
					const { cameraId, limit } = ctx.params;
					const key = `${cameraId ?? "*"}:${limit}`;
					let answer = this.answers.get(key);
					if (!answer) {
						if (cameraId !== undefined) answer = (this.byCamera.get(cameraId) ?? []).slice(0, limit);
						else {
							const all: DetectionView[] = [];
							for (const list of this.byCamera.values()) all.push(...list.slice(0, limit));
							answer = all.sort((a, b) => (a.lastSeen < b.lastSeen ? 1 : a.lastSeen > b.lastSeen ? -1 : 0)).slice(0, limit);
						}
						if (this.answers.size >= 1000) this.answers.clear(); // any cameraId may be asked for
						this.answers.set(key, answer);
					}
					return answer;
				}
			}
		},
		events: {
			"detections.updated"(ctx: Context<DetectionView>) {
				this.keep(ctx.params);
			}
		},
		methods: {
			keep(d: DetectionView) {
				const list = (this.byCamera.get(d.cameraId) ?? []).filter(x => x.trackId !== d.trackId);
				list.unshift(d);
				if (list.length > PER_CAMERA) list.length = PER_CAMERA;
				this.byCamera.set(d.cameraId, list);
				this.answers.clear();
			},
			async warm() {
				try {
					const rows = await this.broker.call<DetectionView[], object>("detections.latest", { limit: 500 });
					// Oldest first, so the newest end up in front; events that came meanwhile stay newer.
					for (const d of rows.reverse()) if (!(this.byCamera.get(d.cameraId) ?? []).some(x => x.trackId === d.trackId)) this.keep(d);
					this.warmed = true;
				} catch (err) {
					this.logger.warn("Live detections not warmed from the store", { error: (err as Error).message });
				}
			}
		},
		created() {
			this.byCamera = new Map();
			this.answers = new Map();
			this.warmed = false;
		},
		started() {
			void this.broker.waitForServices(["detections"], 60_000).then(() => this.warm(), () => undefined);
		}
	};
}
