/**
 * `npm start`'s entry point as a real process: a bad configuration value stops start-up at
 * once, with exit code 2 and a message naming the variable, before anything listens.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import net from "node:net";
import path from "node:path";
import { tempDir } from "../support/node";

const ROOT = path.resolve(__dirname, "../..");

function start(env: Record<string, string>): Promise<{ code: number | null; stderr: string; ms: number }> {
	const t0 = Date.now();
	return new Promise((resolve, reject) => {
		const proc = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/start.ts")], {
			cwd: ROOT,
			env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: tempDir("rollcall-startup-"), METRICS_PORT: "off", PORT: "0", ...env },
			stdio: ["ignore", "pipe", "pipe"]
		});
		let stderr = "";
		proc.stderr.on("data", d => (stderr += d));
		const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
		proc.once("error", reject);
		proc.once("exit", code => {
			clearTimeout(timer);
			resolve({ code, stderr, ms: Date.now() - t0 });
		});
	});
}

describe("start-up with a bad configuration", () => {
	it.each([
		["PORT", "eighty", /PORT/],
		["SIMILARITY_THRESHOLD", "1.5", /SIMILARITY_THRESHOLD/],
		["SERVICES", "gateway,kitchen", /SERVICES/],
		["TRANSPORTER", "ftp://127.0.0.1:21", /TRANSPORTER/]
	])("stops at once when %s=%s, naming the variable", async (name, value, pattern) => {
		const r = await start({ [name]: value });
		expect(r.code).toBe(2);
		expect(r.stderr).toMatch(pattern);
		expect(r.ms).toBeLessThan(20_000);
	});
});

/** A port that is free now (the OS picks it, then it is given back). */
function freePort(): Promise<number> {
	return new Promise(resolve => {
		const srv = net.createServer();
		srv.listen(0, "127.0.0.1", () => {
			const port = (srv.address() as net.AddressInfo).port;
			srv.close(() => resolve(port));
		});
	});
}

describe("start-up with a port that is taken", () => {
	it.each(["PORT", "METRICS_PORT"])("stops with exit 2 and one line naming %s and the port", async variable => {
		const holder = net.createServer();
		await new Promise<void>(r => holder.listen(0, "127.0.0.1", () => r()));
		const port = (holder.address() as net.AddressInfo).port;
		try {
			const r = await start({ SERVICES: "gateway", [variable]: String(port), ...(variable === "PORT" ? {} : { PORT: "0" }) });
			expect(r.code).toBe(2);
			const lines = r.stderr.trim().split("\n");
			expect(lines).toHaveLength(1);
			expect(lines[0]).toMatch(new RegExp(`${variable} ${port} is already in use`));
		} finally {
			holder.close();
		}
	});
});

describe("start-up of a one-process node", () => {
	it("opens its HTTP port only once its own services have started: the first health answer is healthy; it runs at the priority NODE_NICE gives, its inference workers behind", async () => {
		const port = await freePort();
		const proc = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/start.ts")], {
			cwd: ROOT,
			env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: tempDir("rollcall-first-health-"), METRICS_PORT: "off", PORT: String(port), API_KEY: "first-health-key-0123456789", LOG_LEVEL: "warn", NODE_NICE: "3" },
			stdio: ["ignore", "ignore", "pipe"]
		});
		let stderr = "";
		proc.stderr!.on("data", d => (stderr += d));
		try {
			const deadline = Date.now() + 60_000;
			let first: { status: number; body: any } | null = null;
			while (!first && Date.now() < deadline) {
				try {
					const res = await fetch(`http://127.0.0.1:${port}/api/v1/health`);
					first = { status: res.status, body: await res.json() };
				} catch {
					await new Promise(r => setTimeout(r, 25)); // not listening yet
				}
			}
			expect(first ? "answered" : `no answer; stderr: ${stderr}`).toBe("answered");
			expect(first!.status).toBe(200);
			expect(first!.body.data.status).toBe("healthy");
			expect(first!.body.data.components).toEqual(expect.objectContaining({ inference: "up", actors: "up", sessions: "up" }));
			// Niceness of the node's main thread and of each of its threads (field 19 of stat), as the kernel has them.
			const niceOf = (stat: string) => Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
			const own = os.getPriority(0);
			expect(niceOf(fs.readFileSync(`/proc/${proc.pid}/stat`, "utf8"))).toBe(Math.min(19, own + 3));
			const threads = fs.readdirSync(`/proc/${proc.pid}/task`).map(tid => niceOf(fs.readFileSync(`/proc/${proc.pid}/task/${tid}/stat`, "utf8")));
			expect(threads).toContain(Math.min(19, own + 3 + 5)); // the inference workers (INFERENCE_NICE 5)
		} finally {
			proc.kill("SIGTERM");
			await new Promise(r => proc.once("exit", r));
		}
	}, 90_000);
});
