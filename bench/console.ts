/**
 * Console API throughput and latency: authenticated `GET /auth/me` and `GET /users?page=1`
 * against ONE gateway process (all of a console's services in it: gateway + storage, NeDB),
 * at 200 concurrent keep-alive connections, sent by autocannon from this process. Two runs per
 * route: flat out (throughput, p50/p99), and paced at 1,000 requests/s (the latency goal:
 * p99 under 20 ms). Then the cost of a login: the Argon2id hash and verify.
 *
 *   npm run bench:console -- [--seconds 15] [--connections 200] [--rate 1000]
 *
 * The node runs with RATE_LIMIT_PER_MINUTE=0 (the limiter would refuse a bench).
 */
import { spawn } from "node:child_process";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
// @ts-expect-error autocannon ships no types
import autocannon from "autocannon";
import { hashPassword, verifyPassword } from "../lib/auth/passwords";
import { tempDir } from "../test/support/node";

function arg(name: string, def: number): number {
	const i = process.argv.indexOf(`--${name}`);
	return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const SECONDS = arg("seconds", 15);
const CONNECTIONS = arg("connections", 200);
const RATE = arg("rate", 1000);
const ROOT = path.resolve(__dirname, "..");
const ADMIN = { email: "bench@rollcall.test", password: "bench-password-0123" };

function freePort(): Promise<number> {
	return new Promise(resolve => {
		const srv = net.createServer().listen(0, "127.0.0.1", () => {
			const port = (srv.address() as net.AddressInfo).port;
			srv.close(() => resolve(port));
		});
	});
}

/** Flat out: autocannon, every connection sends its next request as soon as it has the answer. */
async function flatOut(url: string, token: string) {
	const r = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, headers: { authorization: `Bearer ${token}` } });
	return { rps: Math.round(r["2xx"] / SECONDS), p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, bad: r.non2xx + r.errors + r.timeouts };
}

/**
 * Paced: an open loop at `rate` requests/s, evenly spaced, over a pool of CONNECTIONS
 * keep-alive connections. Latency counts from when a request was due, so a slow answer
 * that holds up the next ones is counted (no coordinated omission).
 */
async function paced(url: string, token: string, rate: number) {
	const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
	const u = new URL(url);
	const lat: number[] = [];
	let bad = 0;
	const total = rate * SECONDS;
	const t0 = performance.now();
	const inflight: Promise<void>[] = [];
	for (let i = 0; i < total; i++) {
		const due = t0 + (i * 1000) / rate;
		const wait = due - performance.now();
		if (wait > 1) await new Promise(r => setTimeout(r, wait));
		inflight.push(
			new Promise<void>(resolve => {
				const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, agent, headers: { authorization: `Bearer ${token}` } }, res => {
					res.resume();
					res.on("end", () => {
						if (res.statusCode !== 200) bad++;
						lat.push(performance.now() - due);
						resolve();
					});
				});
				req.on("error", () => {
					bad++;
					resolve();
				});
				req.end();
			})
		);
		if (inflight.length > 5000) await Promise.all(inflight.splice(0, 2500));
	}
	await Promise.all(inflight);
	agent.destroy();
	lat.sort((a, b) => a - b);
	const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(1);
	return { rps: Math.round(lat.length / ((performance.now() - t0) / 1000)), p50: q(0.5), p99: q(0.99), max: lat[lat.length - 1].toFixed(1), bad };
}

async function main() {
	const port = await freePort();
	const node = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/start.ts")], {
		cwd: ROOT,
		env: { ...process.env, SERVICES: "gateway,storage", PORT: String(port), METRICS_PORT: "off", DATA_DIR: tempDir("rollcall-bench-console-"), API_KEY: "bench-console-key-0123456789", ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, RATE_LIMIT_PER_MINUTE: "0", LOG_LEVEL: "warn" },
		stdio: ["ignore", "ignore", "inherit"]
	});
	const base = `http://127.0.0.1:${port}/api/v1`;
	try {
		let token = "";
		for (let i = 0; i < 600 && !token; i++) {
			try {
				const res = await fetch(`${base}/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: ADMIN.email, password: ADMIN.password }) });
				token = ((await res.json()) as { data: { accessToken: string } }).data.accessToken;
			} catch {
				await new Promise(r => setTimeout(r, 100));
			}
		}
		// Twenty accounts, so a page of users is a page.
		for (let i = 0; i < 20; i++)
			await fetch(`${base}/users`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ name: `User ${i}`, email: `user${i}@rollcall.test`, roleId: "ROLE-VIEWER", password: `user-password-${i}-x` }) });

		console.log(`Machine: ${os.cpus().length} x ${os.cpus()[0].model}, Node ${process.version}; ${CONNECTIONS} connections, ${SECONDS} s per run; one gateway+storage process`);
		for (const route of ["/auth/me", "/users?page=1"]) {
			await flatOut(base + route, token); // warm-up, not counted
			const flat = await flatOut(base + route, token);
			const steady = await paced(base + route, token, RATE);
			console.log(`GET ${route}: flat out ${flat.rps} req/s, p50 ${flat.p50} ms, p99 ${flat.p99} ms (max ${flat.max}); paced at ${RATE} req/s: p50 ${steady.p50} ms, p99 ${steady.p99} ms (max ${steady.max}, ${steady.rps} req/s served); failed ${flat.bad + steady.bad}`);
		}
	} finally {
		node.kill("SIGTERM");
	}

	const times = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
	const hashes: number[] = [];
	const verifies: number[] = [];
	let h = "";
	for (let i = 0; i < 20; i++) {
		let t = performance.now();
		h = await hashPassword("a-password-to-time-0123");
		hashes.push(performance.now() - t);
		t = performance.now();
		await verifyPassword(h, "a-password-to-time-0123");
		verifies.push(performance.now() - t);
	}
	console.log(`Login cost (Argon2id m=19 MiB t=2 p=1): hash median ${times(hashes).toFixed(1)} ms, verify median ${times(verifies).toFixed(1)} ms`);
}

void main().then(
	() => process.exit(0),
	err => {
		console.error(err);
		process.exit(1);
	}
);
