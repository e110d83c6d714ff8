/**
 * Builds the web console (web/) into web/dist: `npm ci` inside web/ (its own package.json,
 * lockfile and node_modules, separate from the root's) when its node_modules is missing or
 * older than its lockfile, then `vite build` (after its type check). Run by the root
 * postinstall (so `npm ci` builds it), by `npm run build:web` (--force), and by `npm start`
 * when the build is missing (--if-missing).
 *
 * Offline-safe: the install prefers the npm cache, and a failure is reported without failing
 * the root install or the start (the API works without the console; `/` then says how to
 * build it). --strict makes a failure an exit code 1 (CI, Docker).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const WEB = path.resolve(__dirname, "../web");

function run(args: string[]): boolean {
	// --include=dev: the root's `npm ci --omit=dev` passes npm_config_omit down, but vite is a devDependency of the build.
	const r = spawnSync("npm", args, { cwd: WEB, stdio: "inherit", env: { ...process.env, npm_config_omit: "", npm_config_include: "dev" } });
	return r.status === 0;
}

function mtime(p: string): number {
	try {
		return fs.statSync(p).mtimeMs;
	} catch {
		return 0;
	}
}

export function buildWeb(opts: { ifMissing?: boolean; force?: boolean } = {}): boolean {
	if (!fs.existsSync(path.join(WEB, "package.json"))) {
		console.log("web: no web/ folder here, console not built");
		return true;
	}
	const built = path.join(WEB, "dist", "index.html");
	if (opts.ifMissing && fs.existsSync(built)) return true;
	const installed = mtime(path.join(WEB, "node_modules", ".package-lock.json"));
	if (!installed || installed < mtime(path.join(WEB, "package-lock.json"))) {
		console.log("web: installing the console's build tools (npm ci in web/)");
		if (!run(["ci", "--prefer-offline", "--no-audit", "--no-fund", "--include=dev"])) return false;
	}
	if (!opts.force && !opts.ifMissing && fs.existsSync(built) && mtime(built) > newest(path.join(WEB, "src")) && mtime(built) > mtime(path.join(WEB, "index.html"))) {
		console.log("web: console build up to date (web/dist)");
		return true;
	}
	console.log("web: building the console (web/dist)");
	return run(["run", "build"]);
}

function newest(dir: string): number {
	let m = 0;
	for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
		const p = path.join(dir, e.name);
		m = Math.max(m, e.isDirectory() ? newest(p) : mtime(p));
	}
	return m;
}

if (require.main === module) {
	const argv = process.argv.slice(2);
	const ok = buildWeb({ ifMissing: argv.includes("--if-missing"), force: argv.includes("--force") });
	if (!ok) {
		console.error("web: the console could not be built; the API runs without it (run `npm run build:web` once the npm registry or cache is reachable)");
		if (argv.includes("--strict")) process.exit(1);
	}
}
