import fs from "node:fs";
import path from "node:path";
import { ConfigError, loadConfig } from "../../config";
import { tempDir } from "../support/node";

const base = { API_KEY: "a-long-enough-test-key" };

function errorOf(env: Record<string, string>): ConfigError {
	try {
		loadConfig({ ...base, ...env });
	} catch (err) {
		expect(err).toBeInstanceOf(ConfigError);
		return err as ConfigError;
	}
	throw new Error("expected a ConfigError");
}

describe("config", () => {
	it("has the documented defaults", () => {
		const cfg = loadConfig({ ...base, DATA_DIR: "/tmp/x" });
		expect(cfg).toEqual(
			expect.objectContaining({
				port: 8000,
				host: "127.0.0.1",
				transporter: null,
				roles: ["gateway", "actors", "inference", "storage"],
				similarityThreshold: 0.85,
				scanInterval: 5,
				maxSessions: 10,
				logLevel: "info",
				mongoUri: null,
				qdrantUrl: null,
				metricsPort: 3030,
				dataDir: "/tmp/x",
				uploadsDir: "/tmp/x/uploads"
			})
		);
	});

	it.each([
		["PORT", "eighty"],
		["PORT", "70000"],
		["SIMILARITY_THRESHOLD", "1.5"],
		["SIMILARITY_THRESHOLD", "high"],
		["SCAN_INTERVAL", "0"],
		["MAX_SESSIONS", "-1"],
		["LOG_LEVEL", "loud"],
		["SERVICES", "gateway,frontend"],
		["TRANSPORTER", "not a url"],
		["MONGO_URI", "http://localhost:27017"],
		["QDRANT_URL", "ftp://qdrant"],
		["JAVA_BACKEND_URL", "javascript:alert(1)"],
		["METRICS_PORT", "0"],
		["API_KEY", "short"],
		["NAMESPACE", "has space"]
	])("stops start-up on a bad %s (%s) with a message naming it", (variable, value) => {
		const err = errorOf({ [variable]: value });
		expect(err.variable).toBe(variable);
		expect(err.message).toContain(variable);
	});

	it("reads roles, ports and stores", () => {
		const cfg = loadConfig({ ...base, SERVICES: "gateway, storage", PORT: "0", METRICS_PORT: "off", TRANSPORTER: "nats://127.0.0.1:4222", MONGO_URI: "mongodb://m:27017/rollcall", QDRANT_URL: "http://q:6333" });
		expect(cfg.roles).toEqual(["gateway", "storage"]);
		expect(cfg.port).toBe(0);
		expect(cfg.metricsPort).toBeNull();
		expect(cfg.transporter).toBe("nats://127.0.0.1:4222");
		expect(cfg.mongoUri).toBe("mongodb://m:27017/rollcall");
		expect(cfg.qdrantUrl).toBe("http://q:6333");
	});

	it("generates a development API key once, keeps it in DATA_DIR, and reuses it", () => {
		const dir = tempDir();
		const first = loadConfig({ DATA_DIR: dir }, { generateApiKey: true });
		expect(first.apiKeySource).toBe("generated");
		expect(first.apiKey.length).toBeGreaterThanOrEqual(32);
		expect(fs.readFileSync(path.join(dir, "api-key"), "utf8").trim()).toBe(first.apiKey);
		expect((fs.statSync(path.join(dir, "api-key")).mode & 0o777).toString(8)).toBe("600");
		const second = loadConfig({ DATA_DIR: dir }, { generateApiKey: true });
		expect(second.apiKeySource).toBe("file");
		expect(second.apiKey).toBe(first.apiKey);
	});

	it("requires an API key when generation is not allowed", () => {
		expect(() => loadConfig({ DATA_DIR: tempDir() })).toThrow(/API_KEY/);
	});

	it("reads the outbound-URL policy's lists, refusing malformed ones", () => {
		const cfg = loadConfig({ ...base, DATA_DIR: "/tmp/x", OUTBOUND_ALLOW: "169.254.10.0/24", OUTBOUND_DENY: "127.0.0.2/32, 10.0.0.0/8", OUTBOUND_HOSTS: "cam.test=127.0.0.1" });
		expect(cfg.outboundAllow.map(c => c.text)).toEqual(["169.254.10.0/24"]);
		expect(cfg.outboundDeny.map(c => c.text)).toEqual(["127.0.0.2/32", "10.0.0.0/8"]);
		expect(cfg.outboundHosts).toEqual({ "cam.test": ["127.0.0.1"] });
		expect(loadConfig({ ...base, DATA_DIR: "/tmp/x" })).toMatchObject({ outboundAllow: [], outboundDeny: [], outboundHosts: {} });
		expect(errorOf({ OUTBOUND_DENY: "10.0.0.0/40" }).variable).toBe("OUTBOUND_DENY");
		expect(errorOf({ OUTBOUND_ALLOW: "example.com" }).variable).toBe("OUTBOUND_ALLOW");
		expect(errorOf({ OUTBOUND_HOSTS: "cam.test=not-an-ip" }).variable).toBe("OUTBOUND_HOSTS");
	});

	it("reads the CPU priorities: inference workers behind the event loop by default, the node as it was started", () => {
		expect(loadConfig({ ...base, DATA_DIR: "/tmp/x" })).toMatchObject({ inferenceNice: 5, nodeNice: 0 });
		expect(loadConfig({ ...base, DATA_DIR: "/tmp/x", INFERENCE_NICE: "0", NODE_NICE: "10" })).toMatchObject({ inferenceNice: 0, nodeNice: 10 });
		expect(errorOf({ INFERENCE_NICE: "20" }).variable).toBe("INFERENCE_NICE");
		expect(errorOf({ NODE_NICE: "-5" }).variable).toBe("NODE_NICE");
	});
});
