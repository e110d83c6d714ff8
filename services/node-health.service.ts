/**
 * The node's own sampler (every role; seed 002 `collect_system_metrics`): every
 * HEALTH_SAMPLE_MS it samples this node's CPU, memory, disk (the data folder's file system)
 * and network (Linux's /proc/net/dev) into a bounded history of HEALTH_HISTORY samples
 * (lib/system/sample.ts), and keeps each sample in the system metrics store
 * (HEALTH_PERSIST). It answers for this node only; the gateway's health service asks every
 * node (`{nodeID}` call option) and puts the answers together.
 *
 * Actions (not routed; call with `{nodeID}`):
 * - `read {limit?}` -> `{nodeID, roles, hostname, pid, version, node, startedAt, uptimeSeconds,
 *   sampleMs, latest, history, services: {name: startedAt}}`.
 * - `restart {service}`: restart a service of this node: an actor supervisor first hands its
 *   actors to the other nodes (mixins/actor-supervisor.mixin.ts `handOffAll`), then the service
 *   is destroyed and made again from its factory (services/index.ts). Answers `{nodeID,
 *   service, moved, kept, ms}`.
 */
import fs from "node:fs";
import os from "node:os";
import type { Context, Service, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import pkg from "../package.json";
import { ApiError, notFound } from "../lib/errors";
import { NOT_RESTARTABLE } from "../lib/system/registry";
import { Ring, cpuPercent, cpuTimes, diskFigures, memoryFigures, networkRates, parseProcNetDev, type CpuTimes, type InterfaceCounters, type NodeSample } from "../lib/system/sample";
import type { Implements } from "./schema";

interface Methods {
	sample(): NodeSample;
	readNetwork(): Record<string, InterfaceCounters> | null;
	tick(): Promise<void>;
	localServices(): string[];
}
interface Vars {
	history: Ring<NodeSample>;
	timer: NodeJS.Timeout | null;
	prevCpu: CpuTimes;
	prevProcCpu: { usage: NodeJS.CpuUsage; at: number };
	prevNet: { counters: Record<string, InterfaceCounters>; at: number } | null;
	startedAt: Date;
	serviceStarts: Map<string, Date>;
}

type Supervising = Service & { handOffAll?: (ctx: Context) => Promise<{ moved: unknown[]; kept: unknown[] }> };

export default function nodeHealthService(cfg: Config): ServiceSchema<object, Methods, Vars> {
	return {
		name: "nodeHealth",
		actions: {
			read: {
				visibility: "public",
				params: { limit: { type: "number", integer: true, min: 0, max: 100_000, optional: true } },
				handler(ctx: Context<{ limit?: number }>) {
					// Asked before the first period has passed: sampled now (since the start-up reading).
					if (this.history.size === 0) this.history.push(this.sample());
					const limit = ctx.params.limit ?? cfg.healthHistory;
					const services: Record<string, string> = {};
					for (const name of this.localServices()) services[name] = (this.serviceStarts.get(name) ?? this.startedAt).toISOString();
					return {
						nodeID: this.broker.nodeID,
						roles: cfg.roles,
						hostname: os.hostname(),
						pid: process.pid,
						version: pkg.version,
						node: process.version,
						startedAt: this.startedAt.toISOString(),
						uptimeSeconds: Math.floor(process.uptime()),
						sampleMs: cfg.healthSampleMs,
						latest: this.history.latest(),
						history: limit > 0 ? this.history.list(limit) : [],
						services
					};
				}
			},

			restart: {
				visibility: "public",
				params: { service: { type: "string", min: 1, max: 100 } },
				async handler(ctx: Context<{ service: string }>) {
					const name = ctx.params.service;
					if (NOT_RESTARTABLE.has(name)) throw new ApiError(409, "SERVICE_NOT_RESTARTABLE", `${name} cannot be restarted through itself`);
					const svc = this.broker.getLocalService(name) as Supervising | undefined;
					if (!svc) throw notFound("SERVICE_NOT_FOUND", `Service ${name} does not run on ${this.broker.nodeID}`);
					// The factories of this node's roles; imported here, as services/index.ts imports this file.
					const { servicesFor } = await import("./index");
					const factory = servicesFor(cfg).find(f => f(cfg).name === name);
					if (!factory) throw notFound("SERVICE_NOT_FOUND", `Service ${name} has no factory on ${this.broker.nodeID}`);
					const t0 = Date.now();
					const handed = typeof svc.handOffAll === "function" ? await svc.handOffAll(ctx) : { moved: [], kept: [] };
					this.logger.warn("Restarting a service", { service: name, moved: handed.moved.length, kept: handed.kept.length });
					await this.broker.destroyService(svc);
					this.broker.createService(factory(cfg));
					// createService starts it on a started broker; wait until it is registered here again (bounded).
					const deadline = Date.now() + Math.max(30_000, cfg.requestTimeout);
					while (!this.localServices().includes(name)) {
						if (Date.now() > deadline) throw new ApiError(500, "SERVICE_NOT_RESTARTED", `Service ${name} did not start again on ${this.broker.nodeID}`);
						await new Promise(r => setTimeout(r, 50));
					}
					this.serviceStarts.set(name, new Date());
					const ms = Date.now() - t0;
					this.logger.info("Service restarted", { service: name, ms });
					return { nodeID: this.broker.nodeID, service: name, moved: handed.moved.length, kept: handed.kept.length, ms };
				}
			}
		},

		methods: {
			sample() {
				const now = Date.now();
				const cpus = os.cpus();
				const cpu = cpuTimes(cpus);
				const usedPercent = cpuPercent(this.prevCpu, cpu);
				this.prevCpu = cpu;
				const proc = process.cpuUsage();
				const dt = now - this.prevProcCpu.at;
				const procBusy = proc.user - this.prevProcCpu.usage.user + (proc.system - this.prevProcCpu.usage.system);
				const processPercent = dt > 0 ? Math.round((procBusy / 1000 / dt / Math.max(1, cpus.length)) * 1000) / 10 : null;
				this.prevProcCpu = { usage: proc, at: now };
				let disk: NodeSample["disk"] = null;
				try {
					disk = diskFigures(cfg.dataDir, fs.statfsSync(fs.existsSync(cfg.dataDir) ? cfg.dataDir : os.tmpdir()));
				} catch {
					/* no statfs here */
				}
				const counters = this.readNetwork();
				const network = counters ? networkRates(this.prevNet?.counters ?? null, counters, this.prevNet ? now - this.prevNet.at : 0) : null;
				if (counters) this.prevNet = { counters, at: now };
				return {
					timestamp: new Date(now).toISOString(),
					cpu: { usedPercent, cores: cpus.length, loadAverage: os.loadavg().map(x => Math.round(x * 100) / 100), processPercent },
					memory: memoryFigures(os.totalmem(), os.freemem(), process.memoryUsage()),
					disk,
					network
				};
			},

			readNetwork() {
				try {
					return parseProcNetDev(fs.readFileSync("/proc/net/dev", "utf8"));
				} catch {
					return null; // not Linux
				}
			},

			async tick() {
				const s = this.sample();
				this.history.push(s);
				if (!cfg.healthPersist || !(this.broker.registry.getServiceList({ onlyAvailable: true }) as { name: string }[]).some(x => x.name === "systemMetrics")) return;
				await this.broker
					.call("systemMetrics.record", { nodeID: this.broker.nodeID, timestamp: s.timestamp, cpu: s.cpu, memory: s.memory, disk: s.disk, network: s.network })
					.catch((err: Error) => this.logger.warn("System metrics sample not kept", { error: err.message }));
			},

			localServices() {
				return (this.broker.registry.getServiceList({ onlyLocal: true, skipInternal: true }) as { name: string }[]).map(s => s.name);
			}
		} satisfies Implements<Methods, object, Vars>,

		created() {
			this.history = new Ring<NodeSample>(cfg.healthHistory);
			this.timer = null;
			this.startedAt = new Date();
			this.serviceStarts = new Map();
			// The readings the first sample is measured from.
			this.prevCpu = cpuTimes(os.cpus());
			this.prevProcCpu = { usage: process.cpuUsage(), at: Date.now() };
			const counters = this.readNetwork();
			this.prevNet = counters ? { counters, at: Date.now() } : null;
		},

		started() {
			if (cfg.healthSampleMs > 0) this.timer = setInterval(() => void this.tick().catch(err => this.logger.warn("Health sample failed", { error: (err as Error).message })), cfg.healthSampleMs);
		},

		stopped() {
			if (this.timer) clearInterval(this.timer);
			this.timer = null;
		}
	};
}
