/**
 * Background jobs and cluster-singleton schedules on real brokers over the real NATS: a
 * gateway + storage node keeps the documents, a second broker is a worker; a job left by a
 * node that stopped renewing its lease (a stand-in "dead" node: a claim nobody renews) is
 * taken up again with a new fencing token, and the dead node's late completion is refused;
 * a job started too often fails; owners read their own jobs over HTTP, administrators all;
 * a schedule runs on one node at a time, waits for a live lease to run out and moves on stop.
 */
import { ServiceBroker, type ServiceSchema } from "moleculer";
import { loadConfig } from "../../config";
import { brokerOptions } from "../../moleculer.config";
import { JobWorkerMixin, type JobControl } from "../../mixins/job-worker.mixin";
import { ScheduleMixin } from "../../mixins/schedule.mixin";
import type { JobDoc } from "../../lib/jobs/jobs";
import { ApiError } from "../../lib/errors";
import { ADMIN, CONSOLE_ENV, accountOf, call, login } from "../support/console";
import { natsReachable, NATS_URL } from "../support/cluster";
import { startNode, TEST_API_KEY, type TestNode } from "../support/node";
import { until } from "../support/until";

const namespace = `jobs${process.pid}${Date.now().toString(36)}`;
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

interface Progress {
	id: string;
	userId: string | null;
	status: string;
	progress: number;
	rows?: number;
}

describe("background jobs and schedules over NATS", () => {
	let store: TestNode;
	let worker: ServiceBroker;
	let admin: string;
	let alice: { id: string; token: string };
	let bob: { id: string; token: string };
	const events: Progress[] = [];

	beforeAll(async () => {
		if (!(await natsReachable())) throw new Error(`NATS is not reachable at ${NATS_URL}: start it (see README, .ci/run)`);
		store = await startNode({ ...CONSOLE_ENV, SERVICES: "gateway,storage", TRANSPORTER: NATS_URL, NAMESPACE: namespace });
		store.broker.createService({ name: "progressProbe", events: { "test.progress"(ctx: { params: Progress }) { events.push(ctx.params); } } });
		worker = new ServiceBroker({ ...brokerOptions(loadConfig({ API_KEY: TEST_API_KEY, METRICS_PORT: "off", LOG_LEVEL: "warn", TRANSPORTER: NATS_URL, NAMESPACE: namespace, NODE_ID: `worker-${namespace}` })) });
		worker.createService(countingWorker("count", 20));
		worker.createService({
			name: "failingWorker",
			mixins: [
				JobWorkerMixin({
					kind: "failing",
					leaseMs: 600,
					pollMs: 100,
					async run() {
						throw new ApiError(422, "NOTHING_TO_DO", "Nothing matches");
					}
				})
			]
		});
		await worker.start();
		await worker.waitForServices(["jobs", "progressProbe"], 30_000);
		await store.broker.waitForServices(["countWorker"], 30_000);
		admin = (await login(store, ADMIN.email, ADMIN.password)).accessToken;
		alice = await accountOf(store, admin, "ROLE-VIEWER", "alice@rollcall.test");
		bob = await accountOf(store, admin, "ROLE-OPERATOR", "bob@rollcall.test");
	}, 90_000);
	afterAll(async () => {
		await worker?.stop();
		await store?.stop();
	});

	/** A worker that counts to `steps`, a step every 20 ms, reporting progress; restartable. */
	function countingWorker(kind: string, steps: number): ServiceSchema {
		return {
			name: `${kind}Worker`,
			mixins: [
				JobWorkerMixin({
					kind,
					leaseMs: 600,
					pollMs: 100,
					progressMs: 0,
					progressEvent: "test.progress",
					progressExtra: (_job, result) => (result ? { rows: result.counted } : {}),
					async run(job: JobDoc, control: JobControl) {
						for (let i = 1; i <= steps; i++) {
							if (control.signal.aborted) throw new Error("lease lost");
							await sleep(20);
							await control.progress((i / steps) * 100);
						}
						return { counted: steps, by: this.broker.nodeID, token: control.token, params: job.params };
					}
				})
			]
		};
	}

	it("runs a queued job on a worker node, with progress, and keeps its result", async () => {
		const job = await store.broker.call<{ id: string; status: string }, object>("jobs.create", { kind: "count", userId: alice.id, params: { n: 1 } });
		expect(job.status).toBe("queued");
		const done = await until("the job completed", () => store.broker.call<any, object>("jobs.view", { id: job.id }), j => j.status === "completed", 15_000);
		expect(done).toEqual(expect.objectContaining({ progress: 100, attempts: 1, error: null, result: { counted: 20, by: `worker-${namespace}`, token: 1, params: { n: 1 } } }));
		// The completion is broadcast after the job's document is written: wait for it too.
		const mine = await until("the completion event", async () => events.filter(e => e.id === job.id), es => es.at(-1)?.status === "completed", 5000);
		expect(mine[0]).toEqual(expect.objectContaining({ status: "processing", progress: 0, userId: alice.id }));
		expect(mine.at(-1)).toEqual(expect.objectContaining({ status: "completed", progress: 100, rows: 20 }));
		const steps = mine.map(e => e.progress);
		expect(steps).toEqual([...steps].sort((a, b) => a - b));
		expect(new Set(steps).size).toBeGreaterThan(5);
	});

	it("records a worker's failure with its code", async () => {
		const job = await store.broker.call<{ id: string }, object>("jobs.create", { kind: "failing", userId: bob.id, params: {} });
		const failed = await until("the job failed", () => store.broker.call<any, object>("jobs.view", { id: job.id }), j => j.status === "failed", 15_000);
		expect(failed.error).toEqual({ code: "NOTHING_TO_DO", message: "Nothing matches" });
	});

	it("takes up a job left processing by a node whose lease ran out, and refuses that node's late writes", async () => {
		const job = await store.broker.call<{ id: string }, object>("jobs.create", { kind: "takeover", userId: alice.id, params: {} });
		// The stand-in dead node: it claims the job, then never renews.
		const dead = await store.broker.call<any, object>("jobs.claim", { id: job.id, nodeID: "dead-node", ttlMs: 800 });
		expect(dead).toEqual(expect.objectContaining({ token: 1 }));
		// A live lease is respected: nobody else may claim it meanwhile.
		expect(await store.broker.call("jobs.claim", { id: job.id, nodeID: "other", ttlMs: 800 })).toBeNull();
		worker.createService(countingWorker("takeover", 5));
		await worker.waitForServices(["takeoverWorker"]);
		const t0 = Date.now();
		const done = await until("the job completed elsewhere", () => store.broker.call<any, object>("jobs.view", { id: job.id }), j => j.status === "completed", 15_000);
		expect(done.result).toEqual(expect.objectContaining({ by: `worker-${namespace}`, token: 2 }));
		expect(done.attempts).toBe(2);
		expect(Date.now() - t0).toBeLessThan(5000);
		// The dead node comes back and tries to finish: its token is no longer current.
		await expect(store.broker.call("jobs.complete", { id: job.id, token: 1, result: { stale: true } })).rejects.toMatchObject({ type: "LEASE_LOST" });
		await expect(store.broker.call("jobs.renew", { id: job.id, nodeID: "dead-node", token: 1, ttlMs: 800 })).rejects.toMatchObject({ type: "LEASE_LOST" });
		expect((await store.broker.call<any, object>("jobs.view", { id: job.id })).result.stale).toBeUndefined();
	});

	it("fails a job that was started too often without finishing", async () => {
		const job = await store.broker.call<{ id: string }, object>("jobs.create", { kind: "poison", userId: null, params: {} });
		for (let i = 1; i <= 3; i++) {
			expect(await store.broker.call<any, object>("jobs.claim", { id: job.id, nodeID: `crashing-${i}`, ttlMs: 1 })).toEqual(expect.objectContaining({ token: i }));
			await sleep(5);
		}
		expect(await store.broker.call("jobs.claim", { id: job.id, nodeID: "crashing-4", ttlMs: 1 })).toBeNull();
		expect(await store.broker.call<any, object>("jobs.view", { id: job.id })).toEqual(expect.objectContaining({ status: "failed", attempts: 3, error: expect.objectContaining({ code: "JOB_ABANDONED" }) }));
	});

	it("shows a user only their own jobs, an administrator every job", async () => {
		const a = await store.broker.call<{ id: string }, object>("jobs.create", { kind: "count", userId: alice.id, params: {} });
		const b = await store.broker.call<{ id: string }, object>("jobs.create", { kind: "count", userId: bob.id, params: {} });
		expect((await call(store, `/jobs/${a.id}`, { token: alice.token })).body.data).toEqual(expect.objectContaining({ id: a.id, userId: alice.id }));
		const other = await call(store, `/jobs/${b.id}`, { token: alice.token });
		expect({ status: other.status, code: other.body.error?.code }).toEqual({ status: 404, code: "JOB_NOT_FOUND" });
		expect((await call(store, `/jobs/${b.id}`, { token: admin })).status).toBe(200);
		expect((await call(store, `/jobs/${a.id}`)).status).toBe(401);

		const own = await call(store, "/jobs?pageSize=100", { token: alice.token });
		expect(own.status).toBe(200);
		expect(own.body.data.length).toBeGreaterThanOrEqual(2);
		expect(own.body.data.every((j: { userId: string }) => j.userId === alice.id)).toBe(true);
		const all = await call(store, "/jobs?pageSize=100", { token: admin });
		expect(new Set(all.body.data.map((j: { userId: string | null }) => j.userId))).toEqual(new Set([alice.id, bob.id, null]));
		expect(all.body.meta.total).toBe(all.body.data.length);
		const kindFilter = await call(store, "/jobs?kind=failing", { token: admin });
		expect(kindFilter.body.data.map((j: { kind: string }) => j.kind)).toEqual(["failing"]);
	});

	it("runs a schedule on one node at a time, after a live lease runs out, and moves it on stop", async () => {
		const runs: { node: string; at: number }[] = [];
		const ticker = (): ServiceSchema => ({
			name: "ticker",
			mixins: [
				ScheduleMixin({
					name: "test.tick",
					everyMs: () => 150,
					leaseMs: 450,
					firstRunAfterMs: 0,
					async run(this: { broker: ServiceBroker }) {
						runs.push({ node: this.broker.nodeID, at: Date.now() });
						return { n: runs.length };
					}
				})
			]
		});
		// A node that claimed the task and died: nothing runs until its lease has run out.
		const dead = await store.broker.call<any, object>("schedules.claim", { name: "test.tick", nodeID: "dead-node", ttlMs: 1000, firstRunAt: 0 });
		expect(dead).toEqual(expect.objectContaining({ token: 1 }));
		const t0 = Date.now();
		store.broker.createService(ticker());
		worker.createService(ticker());
		await until("three runs", () => runs.length, n => n >= 3, 10_000);
		expect(runs[0].at - t0).toBeGreaterThanOrEqual(900);
		const owner = runs[0].node;
		await sleep(600);
		expect(new Set(runs.map(r => r.node))).toEqual(new Set([owner]));
		// Runs are a period apart, never two at once.
		for (let i = 1; i < runs.length; i++) expect(runs[i].at - runs[i - 1].at).toBeGreaterThanOrEqual(140);
		const doc = await store.broker.call<any, object>("schedules.read", { name: "test.tick" });
		expect(doc).toEqual(expect.objectContaining({ leaseOwner: owner, leaseToken: 2, lastResult: expect.objectContaining({ n: expect.any(Number) }) }));
		expect(doc.runs).toBeGreaterThanOrEqual(3);

		// The owner stops: it gives the lease up and the other node runs the task.
		const [from, to] = owner === store.broker.nodeID ? [store.broker, worker] : [worker, store.broker];
		await from.destroyService(from.getLocalService("ticker")!);
		await until("a run on the other node", () => runs.at(-1)!.node, n => n === to.nodeID, 5000);
		const after = await store.broker.call<any, object>("schedules.read", { name: "test.tick" });
		expect(after).toEqual(expect.objectContaining({ leaseOwner: to.nodeID, leaseToken: 3 }));
		await to.destroyService(to.getLocalService("ticker")!);
	});
});
