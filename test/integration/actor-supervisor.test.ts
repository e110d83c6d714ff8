/**
 * The actor supervisor with a kind of actor of its own: a trivial *monitor* actor per enabled
 * camera (key cameraId), its lease kept by a fake store service in this test. Two brokers in
 * this process over Moleculer's Fake transporter. The supervisor claims a key's lease before
 * the actor starts, renews it, stops the actor when the lease is lost, releases it, moves a
 * key on request and hands the keys of a stopped node to the other.
 */
import { ServiceBroker, type ServiceSchema } from "moleculer";
import { ApiError } from "../../lib/errors";
import { claimDecision, type Lease } from "../../lib/recognition/placement";
import { ActorSupervisorMixin } from "../../mixins/actor-supervisor.mixin";
import { until } from "../support/until";

const LEASE_MS = 900;
const PLACEMENT_MS = 100;

interface CameraDoc extends Lease {
	cameraId: number;
	enabled: boolean;
}

/** The store: camera documents with their lease, claimed by compare-and-set as the real stores do. */
function fakeStore(docs: Map<number, CameraDoc>, audit: unknown[]): ServiceSchema[] {
	const doc = (cameraId: number) => {
		const d = docs.get(cameraId);
		return d && d.enabled ? d : null;
	};
	return [
		{
			name: "cameraStore",
			actions: {
				enabled: () => [...docs.values()].filter(d => d.enabled).map(d => ({ ...d })),
				find: { params: { cameraId: "number" }, handler: ctx => (doc(ctx.params.cameraId) ? { ...doc(ctx.params.cameraId) } : null) },
				claim: {
					params: { cameraId: "number", nodeID: "string", ttlMs: "number" },
					handler(ctx) {
						const d = doc(ctx.params.cameraId);
						if (!d) return null;
						const now = Date.now();
						const decision = claimDecision(d, ctx.params.nodeID, now);
						if (!decision.ok) return null;
						Object.assign(d, { leaseOwner: ctx.params.nodeID, leaseToken: decision.token, leaseUntil: now + ctx.params.ttlMs, leaseHandTo: null });
						return { cameraId: d.cameraId, token: decision.token, leaseUntil: d.leaseUntil };
					}
				},
				renew: {
					params: { cameraId: "number", nodeID: "string", token: "number", ttlMs: "number" },
					handler(ctx) {
						const d = docs.get(ctx.params.cameraId);
						if (!d || d.leaseOwner !== ctx.params.nodeID || d.leaseToken !== ctx.params.token || d.leaseHandTo)
							throw new ApiError(409, "LEASE_LOST", `Camera ${ctx.params.cameraId}: lease ${ctx.params.token} is no longer current`);
						d.leaseUntil = Date.now() + ctx.params.ttlMs;
						return { cameraId: d.cameraId, token: d.leaseToken, leaseUntil: d.leaseUntil };
					}
				},
				release: {
					params: { cameraId: "number", token: "number", handTo: { type: "string", optional: true } },
					handler(ctx) {
						const d = docs.get(ctx.params.cameraId);
						if (!d || d.leaseToken !== ctx.params.token) return { released: false };
						Object.assign(d, { leaseUntil: 0, leaseHandTo: ctx.params.handTo ?? null });
						return { released: true };
					}
				}
			}
		},
		{ name: "audit", actions: { record: ctx => void audit.push(ctx.params) } }
	];
}

const monitorName = (cameraId: number) => `monitor-${cameraId}`;

/** The trivial actor: counts its ticks while it runs. */
function monitorActor(cameraId: number, token: number): ServiceSchema {
	let ticks = 0;
	let timer: NodeJS.Timeout | undefined;
	return {
		name: monitorName(cameraId),
		actions: { state: () => ({ cameraId, token, ticks }) },
		started() {
			timer = setInterval(() => ticks++, 20);
		},
		stopped() {
			clearInterval(timer);
		}
	};
}

/** The second kind: a service supervising one monitor actor per enabled camera. */
function monitorsService(): ServiceSchema {
	return {
		name: "monitors",
		mixins: [
			ActorSupervisorMixin<CameraDoc, number>({
				service: "monitors",
				kind: "monitor",
				plural: "monitors",
				key: "cameraId",
				keyRule: { type: "number", integer: true, min: 1 },
				keyOf: d => d.cameraId,
				placementKey: id => `monitor:${id}`,
				leaseMs: LEASE_MS,
				placementIntervalMs: PLACEMENT_MS,
				waitFor: ["cameraStore"],
				store: { claim: "cameraStore.claim", renew: "cameraStore.renew", release: "cameraStore.release" },
				list() {
					return this.broker.call<CameraDoc[]>("cameraStore.enabled");
				},
				find(cameraId) {
					return this.broker.call<CameraDoc | null, object>("cameraStore.find", { cameraId });
				},
				notFound: id => new ApiError(404, "CAMERA_NOT_FOUND", `Camera not found: ${id}`),
				async start(doc, token) {
					this.broker.createService(monitorActor(doc.cameraId, token));
					await this.broker.waitForServices([monitorName(doc.cameraId)], 5000);
				},
				async stop(cameraId) {
					const svc = this.broker.getLocalService(monitorName(cameraId));
					if (svc) await this.broker.destroyService(svc);
				},
				async describe(ctx, cameraId) {
					return { monitor: await ctx.call(`${monitorName(cameraId)}.state`, {}, { nodeID: this.broker.nodeID }) };
				},
				load: docs => ({ cameras: docs.map(d => d.cameraId).sort() })
			})
		]
	};
}

describe("actor supervisor: a second kind of actor (camera monitors)", () => {
	const namespace = `sup-${process.pid}-${Date.now().toString(36)}`;
	const docs = new Map<number, CameraDoc>([1, 2, 3, 4].map(id => [id, { cameraId: id, enabled: id !== 4, leaseOwner: null, leaseToken: 0, leaseUntil: 0, leaseHandTo: null }]));
	const audit: any[] = [];
	let a: ServiceBroker;
	let b: ServiceBroker | null = null;
	const broker = (nodeID: string) => new ServiceBroker({ namespace, nodeID, transporter: "Fake", logger: false, heartbeatInterval: 1, heartbeatTimeout: 3 });
	const runsHere = (br: ServiceBroker, id: number) => !!br.getLocalService(monitorName(id));

	beforeAll(async () => {
		a = broker("node-a");
		for (const s of fakeStore(docs, audit)) a.createService(s);
		a.createService(monitorsService());
		await a.start();
	});
	afterAll(async () => {
		await b?.stop();
		await a?.stop();
	});

	it("claims the lease of every enabled camera, then starts its actor", async () => {
		await until("monitors 1-3 on node-a", () => [1, 2, 3, 4].map(id => runsHere(a, id)), r => r.join() === "true,true,true,false", 5000);
		for (const id of [1, 2, 3]) expect(docs.get(id)).toMatchObject({ leaseOwner: "node-a", leaseToken: 1 });
		expect(docs.get(4)!.leaseOwner).toBeNull();
		expect(await a.call("monitors.load")).toEqual({ nodeID: "node-a", monitors: 3, cameras: [1, 2, 3], draining: false });
		const actors = await a.call<any[]>("monitors.actors");
		expect(actors.map(x => x.cameraId).sort()).toEqual([1, 2, 3]);
		expect(actors[0]).toMatchObject({ nodeID: "node-a", token: 1, draining: false, monitor: { cameraId: actors[0].cameraId, token: 1 } });
	});

	it("renews the lease while the actor runs", async () => {
		const before = docs.get(1)!.leaseUntil!;
		await new Promise(r => setTimeout(r, 2 * LEASE_MS));
		expect(docs.get(1)!.leaseUntil!).toBeGreaterThan(before + LEASE_MS / 2);
		expect(runsHere(a, 1)).toBe(true);
		expect(((await a.call(`${monitorName(1)}.state`)) as { ticks: number }).ticks).toBeGreaterThan(10);
	});

	it("stops the actor when its lease is lost, and does not take back a lease another node holds", async () => {
		Object.assign(docs.get(2)!, { leaseOwner: "elsewhere", leaseToken: 7, leaseUntil: Date.now() + 60_000 });
		await until("monitor 2 stopped", () => runsHere(a, 2), r => r === false, LEASE_MS + 2000);
		expect(((await a.call("monitors.load")) as { monitors: number }).monitors).toBe(2);
		await new Promise(r => setTimeout(r, 5 * PLACEMENT_MS));
		expect(runsHere(a, 2)).toBe(false);
		// Once that lease ends (its owner gone), placement adopts the camera again, with a new token.
		docs.get(2)!.leaseUntil = Date.now() - 1;
		await until("monitor 2 adopted again", () => runsHere(a, 2), r => r, 5000);
		expect(docs.get(2)).toMatchObject({ leaseOwner: "node-a", leaseToken: 8 });
	});

	it("releases a lease and stops the actor on request", async () => {
		// A camera taken out of the store's enabled list is not adopted again after the release.
		docs.get(3)!.enabled = false;
		expect(await a.call("monitors.release", { cameraId: 3 })).toEqual({ cameraId: 3, released: true, handTo: null });
		expect(runsHere(a, 3)).toBe(false);
		expect(docs.get(3)!.leaseUntil).toBe(0);
		expect(await a.call("monitors.release", { cameraId: 3 })).toEqual({ cameraId: 3, released: false });
		await new Promise(r => setTimeout(r, 5 * PLACEMENT_MS));
		expect(runsHere(a, 3)).toBe(false);
	});

	it("moves a key to another node, and hands every key of a stopped node to the others", async () => {
		b = broker("node-b");
		b.createService(monitorsService());
		await b.start();
		await until("node-b known to node-a", () => (a.registry.getServiceList({ onlyAvailable: true }) as unknown as { name: string }[]).filter(s => s.name === "monitors").length, n => n === 2, 5000);
		const moved = await a.call<{ from: string; to: string; token: number }, object>("monitors.move", { cameraId: "1", nodeID: "node-b" });
		expect(moved).toMatchObject({ cameraId: 1, from: "node-a", to: "node-b", token: 2 });
		expect(runsHere(a, 1)).toBe(false);
		expect(runsHere(b, 1)).toBe(true);
		expect(docs.get(1)).toMatchObject({ leaseOwner: "node-b", leaseToken: 2 });
		expect(audit).toContainEqual(expect.objectContaining({ action: "monitor.moved", cameraId: 1 }));

		// node-b stops: it gives its leases up, and node-a adopts camera 1 again.
		await b.stop();
		b = null;
		await until("monitor 1 back on node-a", () => runsHere(a, 1), r => r, 5000);
		expect(docs.get(1)).toMatchObject({ leaseOwner: "node-a", leaseToken: 3 });
	});
});
