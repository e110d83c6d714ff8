/**
 * The web console's first load: bytes and time from navigation to a usable dashboard, in
 * Debian's headless Chromium (playwright-core) against a one-process node started as
 * `npm start` starts it (every service, embedded stores), on this machine.
 *
 * - bundle: the build's files, raw and gzip (what the gateway sends), the first load's and all;
 * - cold: a fresh browser profile (empty cache), a signed-in session (tokens in storage, as
 *   after a sign-in), navigation to / until the dashboard's figures are on screen (a
 *   MutationObserver in the page notes the time, so polling adds nothing), and the bytes
 *   received (console files, API answers), from the Resource Timing entries;
 * - warm: the same page loaded again in the same profile (index.html revalidated, hashed files
 *   from the cache);
 * - sign-in page: a fresh profile without a session, until the form is usable.
 *
 *   npm run bench:web -- [--runs 10]
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { buildWeb } from "../scripts/build-web";
import { launch } from "../test/support/browser";
import { tempDir } from "../test/support/node";

const RUNS = (() => {
	const i = process.argv.indexOf("--runs");
	return i >= 0 ? Number(process.argv[i + 1]) : 10;
})();
const ROOT = path.resolve(__dirname, "..");
const DIST = path.join(ROOT, "web", "dist");
const ADMIN = { email: "bench@rollcall.test", password: "bench-password-0123" };

function freePort(): Promise<number> {
	return new Promise(resolve => {
		const srv = net.createServer().listen(0, "127.0.0.1", () => {
			const port = (srv.address() as net.AddressInfo).port;
			srv.close(() => resolve(port));
		});
	});
}

async function startNode(): Promise<{ origin: string; child: ChildProcess }> {
	const port = await freePort();
	const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
		cwd: ROOT,
		env: { ...process.env, PORT: String(port), METRICS_PORT: "off", DATA_DIR: tempDir("rollcall-bench-web-"), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, LOG_LEVEL: "warn", RATE_LIMIT_PER_MINUTE: "0" },
		stdio: ["ignore", "ignore", "inherit"]
	});
	const origin = `http://127.0.0.1:${port}`;
	for (let i = 0; i < 240; i++) {
		try {
			if ((await fetch(`${origin}/api/v1/health`)).status < 500) return { origin, child };
		} catch {
			/* not yet */
		}
		await new Promise(r => setTimeout(r, 500));
	}
	child.kill("SIGTERM");
	throw new Error("the node did not start");
}

const gz = (b: Buffer) => zlib.gzipSync(b, { level: 9 }).length;
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
function stats(xs: number[]) {
	const s = [...xs].sort((a, b) => a - b);
	const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
	return { median: Math.round(q(0.5)), p95: Math.round(q(0.95)), min: Math.round(s[0]), max: Math.round(s[s.length - 1]) };
}

function bundle() {
	const html = fs.readFileSync(path.join(DIST, "index.html"), "utf8");
	const initial = new Set(["index.html", ...[...html.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map(m => m[1])]);
	let rawAll = 0,
		gzAll = 0,
		rawFirst = 0,
		gzFirst = 0,
		files = 0;
	const walk = (dir: string, rel = "") => {
		for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
			const r = rel ? `${rel}/${e.name}` : e.name;
			if (e.isDirectory()) walk(path.join(dir, e.name), r);
			else {
				const b = fs.readFileSync(path.join(dir, e.name));
				files++;
				rawAll += b.length;
				gzAll += gz(b);
				if (initial.has(r)) {
					rawFirst += b.length;
					gzFirst += gz(b);
				}
			}
		}
	};
	walk(DIST);
	return { files, rawAll, gzAll, rawFirst, gzFirst, initial: [...initial] };
}

// Noted by the page itself: when the dashboard's figures are first on screen, and when the sign-in form is.
const OBSERVE = `(() => {
	const mark = () => {
		if (!window.__usable && document.querySelector(".cards .card-value")) window.__usable = performance.now();
		if (!window.__login && document.querySelector("form[aria-labelledby=login-title] button")) window.__login = performance.now();
	};
	new MutationObserver(mark).observe(document, { childList: true, subtree: true });
})();`;

interface Load {
	ms: number;
	consoleBytes: number;
	apiBytes: number;
	requests: number;
}

async function measure(origin: string, session: object | null, warm: boolean): Promise<Load> {
	const b = await launch();
	try {
		const page = await b.newPage();
		await page.addInitScript(OBSERVE);
		if (session) {
			await page.goto(`${origin}/favicon.svg`);
			await page.evaluate(`localStorage.setItem("rollcall.session", ${JSON.stringify(JSON.stringify(session))})`);
		}
		const load = async () => {
			await page.goto(`${origin}/`, { waitUntil: "commit" });
			await page.waitForFunction(key => (globalThis as unknown as Record<string, unknown>)[key], session ? "__usable" : "__login", { timeout: 30_000, polling: 50 });
			await page.waitForLoadState("networkidle");
			return page.evaluate(`(() => {
				const nav = performance.getEntriesByType("navigation")[0];
				const res = performance.getEntriesByType("resource");
				const api = res.filter(r => new URL(r.name).pathname.startsWith("/api/"));
				const files = res.filter(r => !new URL(r.name).pathname.startsWith("/api/") && !r.name.includes("/socket.io"));
				return { ms: ${session ? "window.__usable" : "window.__login"}, consoleBytes: nav.transferSize + files.reduce((s, r) => s + r.transferSize, 0), apiBytes: api.reduce((s, r) => s + r.transferSize, 0), requests: res.length + 1 };
			})()`) as Promise<Load>;
		};
		const first = await load();
		return warm ? await load() : first;
	} finally {
		await b.close();
	}
}

async function main() {
	if (!buildWeb({ ifMissing: true })) throw new Error("the console could not be built");
	const cpu = os.cpus();
	console.log(`machine: ${cpu.length} x ${cpu[0]?.model}, ${Math.round(os.totalmem() / 2 ** 30)} GB, load ${os.loadavg().map(l => l.toFixed(2)).join(" ")}; Chromium ${fs.existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : "?"}`);
	const bu = bundle();
	console.log(`bundle: ${bu.files} files, ${kb(bu.rawAll)} (${kb(bu.gzAll)} gzip); first load (${bu.initial.join(", ")}): ${kb(bu.rawFirst)} (${kb(bu.gzFirst)} gzip)`);
	const { origin, child } = await startNode();
	try {
		const login = await fetch(`${origin}/api/v1/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username: ADMIN.email, password: ADMIN.password }) });
		const tokens = ((await login.json()) as { data: { accessToken: string; refreshToken: string } }).data;
		const session = { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken };
		// One load not counted: the node's first answers (lazy connections, the gzip cache) are not the console's.
		await measure(origin, session, false);
		for (const [label, s, warm] of [
			["sign-in page, cold", null, false],
			["dashboard, cold (empty cache, signed in)", session, false],
			["dashboard, warm (cached assets)", session, true]
		] as const) {
			const loads: Load[] = [];
			for (let i = 0; i < RUNS; i++) loads.push(await measure(origin, s, warm));
			const t = stats(loads.map(l => l.ms));
			const last = loads[loads.length - 1];
			console.log(`${label}: navigation to usable median ${t.median} ms, p95 ${t.p95} ms (min ${t.min}, max ${t.max}, ${RUNS} runs); received ${kb(last.consoleBytes)} of console files + ${kb(last.apiBytes)} of API answers in ${last.requests} requests`);
		}
		console.log(`load after: ${os.loadavg().map(l => l.toFixed(2)).join(" ")}`);
	} finally {
		child.kill("SIGTERM");
	}
}

void main().then(
	() => process.exit(0),
	err => {
		console.error(err);
		process.exit(1);
	}
);
