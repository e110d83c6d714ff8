/**
 * Real Rollcall node processes for cluster tests: `npm start`'s entry point run by the
 * same Node as the tests, with its own env (role, port, namespace, data dir), over the
 * real NATS at 127.0.0.1:4222.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { TEST_API_KEY, tempDir } from "./node";

export const NATS_URL = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const ROOT = path.resolve(__dirname, "../..");

export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.unref();
		srv.on("error", reject);
		srv.listen(0, "127.0.0.1", () => {
			const { port } = srv.address() as net.AddressInfo;
			srv.close(() => resolve(port));
		});
	});
}

/** True when something accepts TCP connections at host:port. */
export function reachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
	return new Promise(resolve => {
		const s = net.connect({ host, port });
		const done = (ok: boolean) => {
			s.destroy();
			resolve(ok);
		};
		s.setTimeout(timeoutMs, () => done(false));
		s.once("connect", () => done(true));
		s.once("error", () => done(false));
	});
}

export function natsReachable(): Promise<boolean> {
	const u = new URL(NATS_URL);
	return reachable(u.hostname, Number(u.port || 4222));
}

export class NodeProcess {
	readonly logs: string[] = [];
	private exited: Promise<number | null>;
	constructor(
		readonly name: string,
		readonly proc: ChildProcess,
		readonly port: number | null
	) {
		const collect = (chunk: Buffer) => this.logs.push(...chunk.toString().split("\n").filter(Boolean));
		proc.stdout?.on("data", collect);
		proc.stderr?.on("data", collect);
		this.exited = new Promise(resolve => proc.once("exit", code => resolve(code)));
	}

	get baseUrl(): string {
		return `http://127.0.0.1:${this.port}/api/v1`;
	}

	/** Resolves when a log line matches, rejects on timeout or exit. */
	async waitForLog(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
		const deadline = Date.now() + timeoutMs;
		while (Date.now() < deadline) {
			const hit = this.logs.find(l => pattern.test(l));
			if (hit) return hit;
			if (this.proc.exitCode !== null) throw new Error(`${this.name} exited (${this.proc.exitCode}) before ${pattern}:\n${this.logs.slice(-20).join("\n")}`);
			await new Promise(r => setTimeout(r, 50));
		}
		throw new Error(`${this.name}: no log line matched ${pattern} within ${timeoutMs} ms:\n${this.logs.slice(-20).join("\n")}`);
	}

	async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 15_000): Promise<number | null> {
		if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
		const timer = setTimeout(() => this.proc.kill("SIGKILL"), timeoutMs);
		const code = await this.exited;
		clearTimeout(timer);
		return code;
	}
}

export async function spawnNode(name: string, env: Record<string, string>): Promise<NodeProcess> {
	const port = env.SERVICES?.includes("gateway") || !env.SERVICES ? await freePort() : null;
	const proc = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/start.ts")], {
		cwd: ROOT,
		env: {
			PATH: process.env.PATH,
			HOME: process.env.HOME,
			UV_THREADPOOL_SIZE: "128",
			NODE_ID: name,
			API_KEY: TEST_API_KEY,
			METRICS_PORT: "off",
			LOG_LEVEL: "info",
			DATA_DIR: tempDir(`rollcall-${name}-`),
			...(port !== null ? { PORT: String(port) } : {}),
			...env
		},
		stdio: ["ignore", "pipe", "pipe"]
	});
	const node = new NodeProcess(name, proc, port);
	await node.waitForLog(/ServiceBroker with \d+ service\(s\) started successfully/, 60_000);
	return node;
}
