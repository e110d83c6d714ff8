/**
 * `npm start`'s entry point as a real process: a bad configuration value stops start-up at
 * once, with exit code 2 and a message naming the variable, before anything listens.
 */
import { spawn } from "node:child_process";
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
