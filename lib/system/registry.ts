/**
 * The cluster's services as the console shows them (`GET /system/health/services`), the pure
 * part: the broker registry's entries (one per service per node) grouped by service, with
 * each node's state and the time the node started that service (its sampler says,
 * services/node-health.service.ts).
 */

/** One service on one node, as `registry.getServiceList()` gives it. */
export interface RegistryEntry {
	name: string;
	version?: string | number | null;
	nodeID: string;
	available: boolean;
}

export type ServiceStatus = "running" | "degraded" | "down";

export interface ServiceView {
	id: string;
	name: string;
	version: string;
	status: ServiceStatus;
	/** Nodes that run it and are up / all that announced it. */
	available: number;
	instances: number;
	nodes: { nodeID: string; available: boolean; startedAt: string | null; uptimeSeconds: number | null }[];
}

/** Services a restart would cut from under the request asking it (the gateway, the node's own sampler). */
export const NOT_RESTARTABLE = new Set(["api", "nodeHealth"]);

export function servicesView(entries: readonly RegistryEntry[], startedAt: ReadonlyMap<string, Record<string, string>>, now: Date, defaultVersion: string): ServiceView[] {
	const byName = new Map<string, RegistryEntry[]>();
	for (const e of entries) {
		if (e.name.startsWith("$")) continue;
		const list = byName.get(e.name) ?? [];
		list.push(e);
		byName.set(e.name, list);
	}
	return [...byName.entries()]
		.sort(([a], [b]) => a.localeCompare(b))
		.map(([name, list]) => {
			const nodes = list
				.map(e => {
					const at = startedAt.get(e.nodeID)?.[name] ?? null;
					return { nodeID: e.nodeID, available: e.available, startedAt: at, uptimeSeconds: at && e.available ? Math.max(0, Math.floor((now.getTime() - new Date(at).getTime()) / 1000)) : null };
				})
				.sort((a, b) => a.nodeID.localeCompare(b.nodeID));
			const available = nodes.filter(n => n.available).length;
			const version = list.find(e => e.version !== undefined && e.version !== null)?.version;
			return {
				id: name,
				name,
				version: version !== undefined && version !== null ? String(version) : defaultVersion,
				status: available === nodes.length ? "running" : available > 0 ? "degraded" : "down",
				available,
				instances: nodes.length,
				nodes
			} satisfies ServiceView;
		});
}
