/** No Docker engine runs here: check the compose file's shape instead of running it. */
import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { ROLES } from "../../config";

const root = path.resolve(__dirname, "../..");
const compose = parse(fs.readFileSync(path.join(root, "docker-compose.yml"), "utf8"), { merge: true });

describe("docker-compose.yml", () => {
	it("runs NATS, MongoDB and Qdrant", () => {
		expect(compose.services.nats.image).toMatch(/^nats:/);
		expect(compose.services.nats.command).toContain("-js");
		expect(compose.services.mongo.image).toMatch(/^mongo:/);
		expect(compose.services.qdrant.image).toMatch(/^qdrant\/qdrant:/);
	});

	it.each(ROLES)("runs the %s role from the one Dockerfile, on the real stores over NATS", role => {
		const svc = compose.services[role];
		expect(svc).toBeDefined();
		expect(svc.build).toBe(".");
		expect(svc.environment.SERVICES).toBe(role);
		expect(svc.environment.TRANSPORTER).toBe("nats://nats:4222");
		expect(svc.environment.MONGO_URI).toMatch(/^mongodb:\/\/mongo:27017\//);
		expect(svc.environment.QDRANT_URL).toBe("http://qdrant:6333");
		expect(svc.environment.API_KEY).toMatch(/API_KEY/);
		expect(svc.depends_on).toEqual(expect.arrayContaining(["nats", "mongo", "qdrant"]));
	});

	it("publishes only the gateway, and lets inference scale (no fixed name or host port)", () => {
		expect(compose.services.gateway.ports).toEqual(["8000:8000"]);
		for (const role of ["storage", "actors", "inference"]) expect(compose.services[role].ports).toBeUndefined();
		expect(compose.services.inference.deploy.replicas).toBeGreaterThanOrEqual(2);
		expect(compose.services.inference.container_name).toBeUndefined();
	});

	it("builds on node:22-slim and starts the node entry point", () => {
		const dockerfile = fs.readFileSync(path.join(root, "Dockerfile"), "utf8");
		expect(dockerfile).toMatch(/^FROM node:22-slim$/m);
		expect(dockerfile).toMatch(/npm ci/);
		expect(dockerfile).toMatch(/scripts\/start\.ts/);
	});
});
