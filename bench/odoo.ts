/**
 * Odoo sync throughput: attendance logs per second into an Odoo STAND-IN
 * (test/support/odoo-standin.ts, the JSON-RPC server of the tests; no Odoo runs here), through
 * the real path: POST /odoo/sync -> the odoo.sync job -> batches of 100 claimed on the logs,
 * employees looked up per batch, each log looked up then created in hr.attendance, results
 * written back by compare-and-set, sync logs written. One process: the node (gateway +
 * storage, NeDB, and the odooSync worker) and the stand-in share the event loop.
 *
 *   npm run bench:odoo -- [--employees 200] [--days 10] [--latency 0] [--concurrency 4]
 *
 * Three runs on the same logs: the first sync (every log created), the same logs again by id
 * (every record found, unchanged: the idempotent path), and with `--latency` ms added to each
 * Odoo answer (a remote server; default 10).
 */
import os from "node:os";
import odooSyncService from "../services/odoo-sync.service";
import { ADMIN, CONSOLE_ENV, call, login } from "../test/support/console";
import { startNode } from "../test/support/node";
import { OdooStandin } from "../test/support/odoo-standin";

function arg(name: string, def: number): number {
	const i = process.argv.indexOf(`--${name}`);
	return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const EMPLOYEES = arg("employees", 200);
const DAYS = arg("days", 10);
const LATENCY = arg("latency", 10);
const CONCURRENCY = arg("concurrency", 4);

async function main() {
	const load0 = os.loadavg();
	const odoo = await new OdooStandin({ database: "bench_db" }).start();
	for (let e = 0; e < EMPLOYEES; e++) odoo.addEmployee(`Person ${e}`, { barcode: `EMP-${String(e).padStart(5, "0")}` });
	const node = await startNode({ ...CONSOLE_ENV, SERVICES: "gateway,storage", LOG_LEVEL: "error", RATE_LIMIT_PER_MINUTE: "0", ODOO_SYNC_INTERVAL_MS: "0", ODOO_CONCURRENCY: String(CONCURRENCY), ODOO_SYNC_MAX_LOGS: "1000000" });
	await node.broker.createService(odooSyncService(node.cfg));
	const admin = (await login(node, ADMIN.email, ADMIN.password)).accessToken;
	await call(node, "/odoo/config", { method: "PUT", token: admin, body: { baseUrl: odoo.url, database: "bench_db", username: "sync@example.com", apiKey: "standin-api-key-0001" } });

	// The logs: each employee, each day, in at 08:xx and out at 17:xx (two sightings).
	const t0 = performance.now();
	const work: (() => Promise<unknown>)[] = [];
	const ids: string[] = [];
	for (let d = 0; d < DAYS; d++)
		for (let e = 0; e < EMPLOYEES; e++) {
			const day = new Date(Date.UTC(2025, 9, 1 + d));
			const employeeId = `EMP-${String(e).padStart(5, "0")}`;
			for (const [h, n] of [[8, 1], [17, 2]] as const)
				work.push(async () => {
					const at = new Date(day.getTime() + h * 3600_000 + (e % 60) * 60_000);
					const r = await node.broker.call<{ logId: string }, object>("attendanceLogs.recordSighting", { detectionId: `b-${employeeId}-${d}-${n}`, personId: `P-${employeeId}`, employeeId, name: `Person ${e}`, cameraId: "CAM-01", at });
					if (n === 1) ids.push(r.logId);
				});
		}
	await Promise.all(Array.from({ length: 16 }, async () => {
		for (let w = work.shift(); w; w = work.shift()) await w();
	}));
	const logs = ids.length;
	console.log(`${logs} logs made in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

	const run = async (label: string, body: Record<string, unknown>) => {
		const calls0 = odoo.calls.length;
		const s = performance.now();
		const r = await call(node, "/odoo/sync", { token: admin, body });
		let job = r.body.data;
		while (job.status !== "completed" && job.status !== "failed") {
			await new Promise(res => setTimeout(res, 50));
			job = (await call(node, `/jobs/${job.id}`, { token: admin })).body.data;
		}
		const secs = (performance.now() - s) / 1000;
		const c = job.result?.counts ?? {};
		const row = { run: label, logs: c.logs, created: c.created, unchanged: c.unchanged, failed: c.failed, seconds: +secs.toFixed(2), logsPerSecond: Math.round((c.logs ?? 0) / secs), odooCalls: odoo.calls.length - calls0, callsPerLog: +((odoo.calls.length - calls0) / Math.max(1, c.logs ?? 0)).toFixed(2) };
		console.log(JSON.stringify(row));
		return row;
	};
	await run("first sync (create)", {});
	await run("again by id (found, unchanged)", { ids: ids.slice(0, 10_000) });
	odoo.latencyMs = LATENCY;
	const sample = ids.slice(0, Math.min(ids.length, 1000));
	await run(`by id, ${LATENCY} ms per Odoo answer (found, unchanged)`, { ids: sample });
	console.log(`hr.attendance records: ${odoo.records["hr.attendance"].length} for ${logs} logs`);
	console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model}, load before ${load0.map(l => l.toFixed(1)).join(" ")}, after ${os.loadavg().map(l => l.toFixed(1)).join(" ")}`);
	await node.stop();
	await odoo.stop();
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
