/** Which services a node runs: its roles, plus the store services where the stores are real servers. */
import { loadConfig } from "../../config";
import { servicesFor } from "../../services";

const names = (env: Record<string, string>) => servicesFor(loadConfig({ API_KEY: "roles-test-key-0123456789", METRICS_PORT: "off", ...env })).map(f => f(loadConfig({ API_KEY: "roles-test-key-0123456789", METRICS_PORT: "off", ...env })).name).sort();
const STORES = ["alerts", "apikeys", "attendance", "attendanceLogs", "attendanceSightings", "audit", "auth", "banners", "blobs", "cameras", "detectionEvents", "detections", "embeddings", "exports", "faces", "gallery", "history", "jobs", "metrics", "nodeHealth", "notifications", "odoo", "odooSyncLogs", "recognitionLogs", "recognitions", "retention", "schedules", "sessions", "settings", "shifts", "site", "system", "systemMetrics", "users"];
const GATEWAY = ["antiSpoofing", "api", "cluster", "detectionProvider", "detectionsLive", "developer", "faceAnalysis", "faceDetection", "faceHealth", "faceRecognition", "health", "nodeHealth", "roles"];

describe("services of a node", () => {
	it("runs the store services only on the storage node with the embedded stores", () => {
		expect(names({ SERVICES: "actors" })).toEqual(["callbacks", "detectionFrames", "enrollment", "exportWorker", "monitors", "nodeHealth", "odooSync", "recognition", "streams"]);
		expect(names({ SERVICES: "gateway" })).toEqual(GATEWAY);
		expect(names({ SERVICES: "storage" })).toEqual(STORES);
	});

	it("runs them on every gateway and actors node when MongoDB and Qdrant are configured", () => {
		const real = { MONGO_URI: "mongodb://127.0.0.1:27017/rollcall", QDRANT_URL: "http://127.0.0.1:6333" };
		expect(names({ ...real, SERVICES: "actors" })).toEqual([...new Set(["callbacks", "detectionFrames", "enrollment", "exportWorker", "monitors", "nodeHealth", "odooSync", "recognition", "streams", ...STORES])].sort());
		expect(names({ ...real, SERVICES: "gateway" })).toEqual([...new Set([...GATEWAY, ...STORES])].sort());
		expect(names({ ...real, SERVICES: "inference" })).toEqual(["inference", "nodeHealth"]);
		// Only MongoDB: embeddings still live on the storage node, so nothing moves.
		expect(names({ MONGO_URI: real.MONGO_URI, SERVICES: "actors" })).toEqual(["callbacks", "detectionFrames", "enrollment", "exportWorker", "monitors", "nodeHealth", "odooSync", "recognition", "streams"]);
	});
});
