/**
 * System health (system:read): the nodes with their roles, CPU, memory, disk and uptime
 * (GET /system/health/metrics, /system/uptime), the services of the broker registry with
 * their status and nodes (GET /system/health/services), and the versions
 * (GET /system/version). An administrator (system:admin) may restart a service from here
 * (POST /system/services/{id}/restart: each node in turn). Reloaded every 10 s.
 */
import { useEffect, useState } from "react";
import { get, post } from "../api";
import { dateTime } from "../time";
import { Badge, Card, ErrorNote, Notice, statusTone, Table, useAction, useLoad } from "../ui";
import { useSession } from "../session";

interface Sample {
	timestamp: string;
	cpu: { usedPercent: number | null; cores: number; loadAverage: number[]; processPercent: number | null };
	memory: { totalBytes: number; usedPercent: number; processRssBytes: number };
	disk: { path: string; usedPercent: number; freeBytes: number } | null;
}
interface MetricsNode {
	nodeID: string;
	available: boolean;
	roles?: string[];
	hostname?: string;
	latest: Sample | null;
	error?: string;
}
interface Service {
	id: string;
	name: string;
	version: string;
	status: string;
	available: number;
	instances: number;
	nodes: { nodeID: string; available: boolean; uptimeSeconds: number | null }[];
}
interface Uptime {
	nodeID: string;
	uptimeSeconds: number;
	cluster: { since: string | null; uptimeSeconds: number | null; nodes: number; available: number };
	nodes: { nodeID: string; uptimeSeconds: number | null }[];
}
interface Version {
	name: string;
	version: string;
	node: string;
	moleculer: string;
	models: { set: string; embeddingVersion: number } | null;
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? "–" : `${Math.round(v)}%`);
const bytes = (v: number) => (v >= 1 << 30 ? `${(v / (1 << 30)).toFixed(1)} GiB` : `${Math.round(v / (1 << 20))} MiB`);
export function duration(s: number | null | undefined): string {
	if (s === null || s === undefined) return "–";
	const d = Math.floor(s / 86400);
	const h = Math.floor((s % 86400) / 3600);
	const m = Math.floor((s % 3600) / 60);
	return d ? `${d} d ${h} h` : h ? `${h} h ${m} min` : m ? `${m} min` : `${Math.floor(s)} s`;
}

export default function System() {
	const s = useSession();
	const canRestart = s.can("system:admin") && (s.has("POST /system/services/{id}/restart") || s.has("POST /system/services/:id/restart"));
	const all = useLoad(
		async sig => {
			const [metrics, services, uptime, version] = await Promise.all([
				get<{ sampleMs: number; nodes: MetricsNode[] }>("/system/health/metrics", { limit: 0 }, sig),
				get<{ services: Service[] }>("/system/health/services", undefined, sig),
				get<Uptime>("/system/uptime", undefined, sig),
				get<Version>("/system/version", undefined, sig)
			]);
			return { metrics: metrics.data, services: services.data.services, uptime: uptime.data, version: version.data };
		},
		[]
	);
	useEffect(() => {
		const t = setInterval(() => all.reload(), 10_000);
		return () => clearInterval(t);
	}, [all.reload]);
	const [restarted, setRestarted] = useState<string | null>(null);
	const restart = useAction(async (name: string) => {
		if (!window.confirm(`Restart ${name} on each of its nodes in turn?`)) return;
		setRestarted(null);
		const r = await post<{ service: string; nodes: unknown[] }>(`/system/services/${encodeURIComponent(name)}/restart`);
		setRestarted(`${r.data.service} restarted on ${r.data.nodes.length} node(s).`);
		all.reload();
	});
	const d = all.data;
	const upOf = new Map((d?.uptime.nodes ?? []).map(n => [n.nodeID, n.uptimeSeconds]));
	return (
		<>
			<h1>System health</h1>
			<ErrorNote error={all.error} />
			{d && (
				<div className="cards">
					<Card label="Rollcall" value={d.version.version} hint={`Node ${d.version.node} · Moleculer ${d.version.moleculer}`} />
					<Card label="Models" value={d.version.models?.set ?? "none on this node"} hint={d.version.models ? `embedding v${d.version.models.embeddingVersion}` : undefined} />
					<Card label="Nodes available" value={`${d.uptime.cluster.available} of ${d.uptime.cluster.nodes}`} />
					<Card label="Cluster uptime" value={duration(d.uptime.cluster.uptimeSeconds)} hint={d.uptime.cluster.since ? `since ${dateTime(d.uptime.cluster.since)}` : undefined} />
				</div>
			)}
			<h2>Nodes</h2>
			<Table
				caption="Nodes"
				loading={all.loading && !d}
				rows={d?.metrics.nodes ?? []}
				rowKey={n => n.nodeID}
				empty="No node answered."
				columns={[
					{ label: "Node", render: n => <span className="mono">{n.nodeID}</span> },
					{ label: "State", render: n => <Badge tone={n.available ? "ok" : "bad"}>{n.available ? "available" : (n.error ?? "unavailable")}</Badge> },
					{ label: "Roles", render: n => (n.roles ?? []).join(", ") },
					{ label: "CPU", render: n => (n.latest ? `${pct(n.latest.cpu.usedPercent)} of ${n.latest.cpu.cores} cores · load ${n.latest.cpu.loadAverage[0]?.toFixed(2) ?? "–"}` : "–") },
					{ label: "Memory", render: n => (n.latest ? `${pct(n.latest.memory.usedPercent)} of ${bytes(n.latest.memory.totalBytes)} · process ${bytes(n.latest.memory.processRssBytes)}` : "–") },
					{ label: "Disk", render: n => (n.latest?.disk ? `${pct(n.latest.disk.usedPercent)} used · ${bytes(n.latest.disk.freeBytes)} free` : "–") },
					{ label: "Uptime", render: n => duration(upOf.get(n.nodeID)) },
					{ label: "Sampled", render: n => (n.latest ? dateTime(n.latest.timestamp) : "–") }
				]}
			/>
			<h2>Services</h2>
			{restarted && <Notice>{restarted}</Notice>}
			<ErrorNote error={restart.error} title="Not restarted" />
			<Table
				caption="Services"
				loading={all.loading && !d}
				rows={d?.services ?? []}
				rowKey={v => v.id}
				columns={[
					{ label: "Service", render: v => <span className="mono">{v.name}</span> },
					{ label: "Status", render: v => <Badge tone={statusTone(v.status)}>{v.status}</Badge> },
					{ label: "Instances", render: v => `${v.available} of ${v.instances}` },
					{ label: "Nodes", render: v => v.nodes.map(n => `${n.nodeID} (${n.available ? duration(n.uptimeSeconds) : "down"})`).join(", ") },
					{ label: "Version", render: v => v.version },
					...(canRestart
						? [
								{
									label: "Actions",
									render: (v: Service) => (
										<button type="button" disabled={restart.busy} onClick={() => void restart.run(v.name)} aria-label={`Restart ${v.name}`}>
											Restart
										</button>
									)
								}
							]
						: [])
				]}
			/>
		</>
	);
}
