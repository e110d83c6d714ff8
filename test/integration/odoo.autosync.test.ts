/**
 * The Odoo auto-sync with two nodes running it, over the real NATS (127.0.0.1:4222): a
 * gateway + storage node keeps the stores, two more brokers each run the odooSync service
 * (as two actors nodes would) with ODOO_SYNC_INTERVAL_MS=1500, against an Odoo STAND-IN
 * (test/support/odoo-standin.ts). The runs come once per interval, all from the one node
 * holding the odoo.auto-sync lease; the attendance they send is made once; when that node
 * stops, the other takes the schedule over.
 */
import { ServiceBroker } from "moleculer";
import { loadConfig } from "../../config";
import { brokerOptions } from "../../moleculer.config";
import odooSyncService from "../../services/odoo-sync.service";
import { ADMIN, CONSOLE_ENV, call, login } from "../support/console";
import { natsReachable, NATS_URL } from "../support/cluster";
import { startNode, TEST_API_KEY, type TestNode } from "../support/node";
import { OdooStandin } from "../support/odoo-standin";
import { until } from "../support/until";

const namespace = `odoo${process.pid}${Date.now().toString(36)}`;
const INTERVAL = 1500;
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

interface Run {
	at: Date;
	details: { trigger: string; node: string; counts: Record<string, number> };
}

describe("Odoo auto-sync on two nodes over NATS", () => {
	let store: TestNode;
	let workers: ServiceBroker[];
	let odoo: OdooStandin;
	let admin: string;
	const env = { ODOO_SYNC_INTERVAL_MS: String(INTERVAL), ODOO_TIMEOUT_MS: "1000", ODOO_RETRY_BASE_MS: "20", ODOO_RETRY_MAX_MS: "80" };

	beforeAll(async () => {
		if (!(await natsReachable())) throw new Error(`NATS is not reachable at ${NATS_URL}: start it (see README, .ci/run)`);
		odoo = await new OdooStandin({ database: "autosync_db" }).start();
		odoo.addEmployee("Alice Martin", { identification_id: "EMP-001" });
		store = await startNode({ ...CONSOLE_ENV, SERVICES: "gateway,storage", TRANSPORTER: NATS_URL, NAMESPACE: namespace, ...env });
		workers = ["a", "b"].map(n => {
			const cfg = loadConfig({ API_KEY: TEST_API_KEY, METRICS_PORT: "off", LOG_LEVEL: "warn", TRANSPORTER: NATS_URL, NAMESPACE: namespace, NODE_ID: `odoo-${n}-${namespace}`, ...env });
			const b = new ServiceBroker(brokerOptions(cfg));
			b.createService(odooSyncService(cfg));
			return b;
		});
		await Promise.all(workers.map(w => w.start()));
		await Promise.all(workers.map(w => w.waitForServices(["odoo", "schedules", "attendanceLogs", "jobs"], 30_000)));
		admin = (await login(store, ADMIN.email, ADMIN.password)).accessToken;
	}, 60_000);
	afterAll(async () => {
		await Promise.all((workers ?? []).map(w => w.stop()));
		await store?.stop();
		await odoo?.stop();
	});

	const autoRuns = async () => (await store.broker.call<Run[], object>("audit.find", { query: { action: "odoo.sync.run" }, sort: "at" })).filter(r => r.details.trigger === "auto");

	it("runs once per interval, on the one node holding the schedule, and moves when it stops", async () => {
		const logId = (
			await store.broker.call<{ logId: string }, object>("attendanceLogs.recordSighting", { detectionId: "d1", personId: "P1", employeeId: "EMP-001", name: "Alice Martin", cameraId: "CAM-01", at: "2025-11-05T08:00:00Z" })
		).logId;
		await store.broker.call("attendanceLogs.recordSighting", { detectionId: "d2", personId: "P1", employeeId: "EMP-001", name: "Alice Martin", cameraId: "CAM-01", at: "2025-11-05T17:00:00Z" });
		// Auto-sync off: nothing runs.
		const put = await call(store, "/odoo/config", { method: "PUT", token: admin, body: { baseUrl: odoo.url, database: "autosync_db", username: "sync@example.com", apiKey: "standin-api-key-0001", matchField: "identification_id", autoSync: false } });
		expect(put.status).toBe(200);
		await sleep(INTERVAL * 1.5);
		expect(await autoRuns()).toEqual([]);

		// On: the first run at once, then one per interval.
		expect((await call(store, "/odoo/config", { method: "PUT", token: admin, body: { autoSync: true } })).status).toBe(200);
		await until("the first auto-sync", autoRuns, r => r.length >= 1, 10_000);
		const t0 = Date.now();
		await sleep(INTERVAL * 4);
		const runs = await autoRuns();
		const span = (Date.now() - t0) / INTERVAL;
		expect(runs.length).toBeGreaterThanOrEqual(Math.floor(span));
		expect(runs.length).toBeLessThanOrEqual(Math.ceil(span) + 1);
		const owners = new Set(runs.map(r => r.details.node));
		expect(owners.size).toBe(1);
		for (let i = 1; i < runs.length; i++) expect(new Date(runs[i].at).getTime() - new Date(runs[i - 1].at).getTime()).toBeGreaterThanOrEqual(INTERVAL - 100);
		// The first run sent the log; the others found nothing pending. One record in Odoo.
		expect(runs[0].details.counts).toMatchObject({ created: 1 });
		expect(runs.slice(1).every(r => r.details.counts.logs === 0)).toBe(true);
		expect(odoo.records["hr.attendance"]).toEqual([expect.objectContaining({ check_in: "2025-11-05 08:00:00", check_out: "2025-11-05 17:00:00" })]);
		expect((await call(store, `/attendance/logs?pageSize=100`, { token: admin })).body.data.find((l: { id: string }) => l.id === logId)).toMatchObject({ odooStatus: "synced" });
		const status = (await call(store, "/odoo/status", { token: admin })).body.data;
		expect(status).toMatchObject({ autoSync: true, status: "connected", pendingCount: 0, nextAutoSyncAt: expect.any(String) });

		// The owner stops: the other node runs the schedule.
		const [owner] = [...owners];
		const from = workers.find(w => w.nodeID === owner)!;
		const to = workers.find(w => w.nodeID !== owner)!;
		await from.destroyService(from.getLocalService("odooSync")!);
		await until("a run on the other node", async () => (await autoRuns()).at(-1)!.details.node, n => n === to.nodeID, 10_000);
	}, 60_000);
});
