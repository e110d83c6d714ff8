/**
 * A node that stops lets its session and camera actors finish first: the last frame's results
 * are written while the stores are still up (Moleculer by itself stops every service at once).
 * Real broker, real embedded stores; the actors are minimal stand-ins that write on stop as
 * the real ones do when a frame is in flight.
 */
import { startNode } from "../support/node";

describe("node shutdown", () => {
	it("stops cameras, then sessions, then everything else; their last writes land", async () => {
		const node = await startNode({ SERVICES: "storage,actors", LOG_LEVEL: "error", INFERENCE_WORKERS: "0" });
		const events: string[] = [];
		const lastWrite = (kind: string, slotId: number) => ({
			name: `${kind}-${slotId}-test`,
			settings: { actor: kind, slotId },
			async stopped(this: any) {
				// An in-flight frame takes a moment to finish.
				await new Promise(r => setTimeout(r, 150));
				try {
					await this.broker.call("audit.record", { action: `${kind}.last-write`, slotId, details: {} });
					events.push(`${kind} wrote`);
				} catch (err) {
					events.push(`${kind} failed: ${(err as Error).message}`);
				}
			}
		});
		node.broker.createService(lastWrite("camera", 7001));
		node.broker.createService(lastWrite("session", 7001));
		await node.broker.waitForServices(["camera-7001-test", "session-7001-test"]);
		await node.stop();
		expect(events).toEqual(["camera wrote", "session wrote"]);

		// And the writes are on disk: a node on the same DATA_DIR finds them.
		const again = await startNode({ SERVICES: "storage", LOG_LEVEL: "error", DATA_DIR: node.dataDir });
		try {
			const logged = await again.broker.call<any[], object>("audit.find", { query: { slotId: 7001 } });
			expect(logged.map(a => a.action).sort()).toEqual(["camera.last-write", "session.last-write"]);
		} finally {
			await again.stop();
		}
	}, 30_000);
});
