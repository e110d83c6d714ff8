/**
 * `npm start`: one Rollcall node. With no environment at all it runs every service in one
 * process on embedded stores at http://127.0.0.1:8000; TRANSPORTER and SERVICES make it a
 * cluster node with a role.
 */
import os from "node:os";
import { ConfigError, loadConfig, type Config } from "../config";
import { portFree } from "../lib/net/ports";
import { redactUrl } from "../lib/url";
import { createNode } from "../services";
import { buildWeb } from "./build-web";

export async function main(opts: { repl?: boolean } = {}): Promise<void> {
	let cfg: Config;
	try {
		cfg = loadConfig(process.env, { generateApiKey: true });
	} catch (err) {
		if (err instanceof ConfigError) {
			process.stderr.write(`${err.message}\n`);
			process.exit(2);
		}
		throw err;
	}
	if (opts.repl && cfg.transporter) cfg = { ...cfg, roles: [], metricsPort: null, nodeId: `repl-${process.pid}` };
	// A port another process holds stops start-up like a bad value does: exit 2, one line.
	const ports: [string, number | null][] = [
		["PORT", cfg.roles.includes("gateway") && cfg.port > 0 ? cfg.port : null],
		["METRICS_PORT", cfg.metricsPort]
	];
	for (const [variable, port] of ports) {
		if (port !== null && !(await portFree(cfg.host, port))) {
			process.stderr.write(`Invalid configuration: ${variable} ${port} is already in use on ${cfg.host} (set ${variable} to a free port${variable === "METRICS_PORT" ? ", or off" : ""})\n`);
			process.exit(2);
		}
	}
	// npm ci builds the web console; a checkout without the build gets it here, once (the API runs without it).
	if (cfg.roles.includes("gateway") && !opts.repl && !buildWeb({ ifMissing: true })) process.stderr.write("web: the console could not be built; / answers how to build it (npm run build:web)\n");
	// Before any thread starts, so the threads this node makes (inference workers, libuv's pool) inherit it.
	if (cfg.nodeNice > 0) os.setPriority(0, Math.min(19, os.getPriority(0) + cfg.nodeNice));
	const broker = createNode(cfg);
	if (cfg.jwtSecretSource === "generated" && !cfg.transporter) broker.logger.warn(`Console token secret generated and kept in ${cfg.dataDir}/jwt-secret (set JWT_SECRET in production; every node of a cluster needs the same)`);
	if (cfg.apiKeySource === "generated")
		broker.logger.warn(`Development API key generated and kept in ${cfg.dataDir}/api-key (set API_KEY in production): ${cfg.apiKey}`);
	else if (cfg.apiKeySource === "file") broker.logger.info(`Using the development API key kept in ${cfg.dataDir}/api-key`);
	broker.logger.info("Rollcall node starting", { nodeID: cfg.nodeId, roles: cfg.roles, transporter: cfg.transporter ? redactUrl(cfg.transporter) : "none (one process)" });

	let stopping = false;
	const stop = async (signal: string) => {
		if (stopping) return;
		stopping = true;
		broker.logger.info("Stopping", { signal });
		// An actors node hands its sessions, then its camera monitors, to the other actors nodes before it goes.
		for (const service of ["recognition", "monitors"])
			if (broker.getLocalService(service) && cfg.transporter)
				await broker
					.call(`${service}.drain`, {}, { nodeID: broker.nodeID, timeout: 60_000 })
					.then(r => broker.logger.info("Drained before stopping", { of: service, ...(r as object) }))
					.catch(err => broker.logger.warn("Drain before stop failed", { of: service, error: (err as Error).message }));
		await broker.stop().catch(err => broker.logger.error("Stop failed", err));
		process.exit(0);
	};
	process.on("SIGTERM", () => void stop("SIGTERM"));
	process.on("SIGINT", () => void stop("SIGINT"));

	try {
		await broker.start();
	} catch (err) {
		if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") {
			process.stderr.write(`Invalid configuration: PORT ${cfg.port} is already in use on ${cfg.host}\n`);
			await broker.stop().catch(() => undefined);
			process.exit(2);
		}
		broker.logger.fatal("Start-up failed", err);
		await broker.stop().catch(() => undefined);
		process.exit(1);
	}
	if (opts.repl) {
		// Operators' commands (cluster, actors, slots, move, drain, inference).
		const { replCommands } = await import("./repl-commands");
		broker.options.replOptions = { customCommands: replCommands } as never;
		broker.repl();
	}
}

if (require.main === module) void main();
