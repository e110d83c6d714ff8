/** Run by test/integration/nedb-adapter.test.ts in a process of its own: a storage node on NeDB doing updates. */
import { startNode } from "./node";

async function main() {
	const node = await startNode({ SERVICES: "storage", LOG_LEVEL: "error" });
	const adapter = (node.broker.getLocalService("audit") as any).adapter;
	const a: any = await node.broker.call("audit.record", { action: "update.check", slotId: 1 });
	await adapter.updateById(a._id, { $set: { actor: "x" } });
	await adapter.updateMany({ slotId: 1 }, { $set: { actor: "y" } });
	await node.stop();
	console.log("updates done");
}
main().catch(err => {
	console.error(err);
	process.exit(1);
});
