/**
 * System health (system:read): the nodes with their roles, CPU, memory, disk and uptime
 * (GET /system/health/metrics, /system/uptime), the actors on each node (sessions, their
 * camera streams, camera monitors) with their scan lag and the inference queues
 * (GET /system/actors, every 5 s), the services of the broker registry with their status and
 * nodes (GET /system/health/services), and the versions (GET /system/version). An
 * administrator (system:admin) may move a session or a camera's monitor to another node,
 * drain an actors node and take it back (the REPL's operations: POST
 * /system/actors/{kind}/{id}/move, /system/nodes/{nodeId}/drain and /undrain), and restart a
 * service (POST /system/services/{id}/restart: each node in turn). Reloaded every 10 s.
 */
import { useEffect, useState } from "react";
import { get, post } from "../api";
import { dateTime } from "../time";
import { Badge, Card, Dialog, ErrorNote, Field, Notice, statusTone, Table, useAction, useLoad } from "../ui";
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

interface Actor {
	kind: "session" | "camera" | "monitor";
	id: number;
	slotId: number | null;
	cameraId: number | null;
	status: string;
	lagMs: number | null;
	since: string | null;
	frames: number | null;
	fps: number | null;
}
interface ActorsNode {
	nodeID: string;
	roles: string[];
	cpu: number | null;
	actorsNode: boolean;
	draining: boolean | null;
	actors: Actor[];
}
interface InferenceQueue {
	nodeID: string;
	running: number | null;
	waiting: number | null;
	engines: number | null;
	maxWaiting: number | null;
	latencyMs: number | null;
	served: number | null;
}
interface Cluster {
	nodes: ActorsNode[];
	inference: InferenceQueue[];
}

/** What an actor row is, in words. */
function actorName(a: Actor): string {
	if (a.kind === "session") return `Session of slot ${a.slotId}`;
	if (a.kind === "camera") return `Camera ${a.cameraId} of slot ${a.slotId}`;
	return `Monitor of camera ${a.cameraId}`;
}
const num = (v: number | null | undefined, unit = "") => (v === null || v === undefined ? "–" : `${Math.round(v)}${unit}`);

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
	const canOperate = s.can("system:admin") && (s.has("POST /system/nodes/{nodeId}/drain") || s.has("POST /system/nodes/:nodeId/drain"));
	const cluster = useLoad(async sig => (s.has("GET /system/actors") ? (await get<Cluster>("/system/actors", undefined, sig)).data : null), [s.routesKnown]);
	useEffect(() => {
		const t = setInterval(() => cluster.reload(), 5_000);
		return () => clearInterval(t);
	}, [cluster.reload]);
	const [operated, setOperated] = useState<string | null>(null);
	const [moving, setMoving] = useState<Actor | null>(null);
	const [target, setTarget] = useState("");
	const move = useAction(async (a: Actor, toNode: string) => {
		setOperated(null);
		const r = await post<{ kind: string; id: number; from: string | null; to: string; gapMs: number }>(`/system/actors/${a.kind}/${a.id}/move`, toNode ? { toNode } : {});
		setMoving(null);
		setOperated(`${actorName(a)} moved from ${r.data.from ?? "no node"} to ${r.data.to} (${r.data.gapMs} ms).`);
		cluster.reload();
	});
	const drain = useAction(async (nodeID: string, undo: boolean) => {
		if (!window.confirm(undo ? `Let ${nodeID} take sessions and monitors again?` : `Drain ${nodeID}? Its sessions and camera monitors move to the other actors nodes, and it takes no new ones.`)) return;
		setOperated(null);
		if (undo) {
			await post(`/system/nodes/${encodeURIComponent(nodeID)}/undrain`);
			setOperated(`${nodeID} takes sessions and monitors again.`);
		} else {
			const r = await post<{ moved: unknown[]; kept: unknown[]; monitors: { moved: unknown[]; kept: unknown[] } | null }>(`/system/nodes/${encodeURIComponent(nodeID)}/drain`);
			const kept = r.data.kept.length + (r.data.monitors?.kept.length ?? 0);
			setOperated(`${nodeID} drained: ${r.data.moved.length} session(s) and ${r.data.monitors?.moved.length ?? 0} monitor(s) moved${kept ? `, ${kept} kept (no other node could take them)` : ""}.`);
		}
		cluster.reload();
	});
	const c = cluster.data;
	const actorsNodes = (c?.nodes ?? []).filter(n => n.actorsNode);
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
			{c && (
				<>
					<h2>Actors</h2>
					{operated && <Notice>{operated}</Notice>}
					<ErrorNote error={cluster.error} />
					<ErrorNote error={drain.error} title="Not drained" />
					{actorsNodes.length === 0 && <p className="muted">No actors node is running.</p>}
					{actorsNodes.map(n => (
						<section key={n.nodeID} aria-label={`Actors on ${n.nodeID}`}>
							<h3>
								<span className="mono">{n.nodeID}</span> {n.draining ? <Badge tone="warn">draining</Badge> : <Badge tone="ok">takes actors</Badge>}{" "}
								{canOperate &&
									(n.draining ? (
										<button type="button" disabled={drain.busy} onClick={() => void drain.run(n.nodeID, true)} aria-label={`Undrain ${n.nodeID}`}>
											Undrain
										</button>
									) : (
										<button type="button" disabled={drain.busy} onClick={() => void drain.run(n.nodeID, false)} aria-label={`Drain ${n.nodeID}`}>
											Drain
										</button>
									))}
							</h3>
							<Table
								caption={`Actors on ${n.nodeID}`}
								rows={n.actors}
								rowKey={a => `${a.kind}:${a.id}:${a.cameraId ?? ""}`}
								empty="No actor runs here."
								columns={[
									{ label: "Actor", render: a => actorName(a) },
									{ label: "Status", render: a => <Badge tone={statusTone(a.status)}>{a.status}</Badge> },
									{ label: "Scan lag", render: a => (a.kind === "session" ? "" : num(a.lagMs, " ms")) },
									{ label: "Frames", render: a => (a.kind === "session" ? "" : num(a.frames)) },
									{ label: "Since", render: a => (a.since ? dateTime(a.since) : "–") },
									...(canOperate
										? [
												{
													label: "Actions",
													render: (a: Actor) =>
														a.kind === "camera" ? (
															<span className="muted">moves with its session</span>
														) : (
															<button
																type="button"
																disabled={move.busy}
																onClick={() => {
																	move.clear();
																	setTarget("");
																	setMoving(a);
																}}
																aria-label={`Move ${actorName(a)}`}
															>
																Move
															</button>
														)
												}
											]
										: [])
								]}
							/>
						</section>
					))}
					<h2>Inference queues</h2>
					<Table
						caption="Inference queues"
						rows={c.inference}
						rowKey={q => q.nodeID}
						empty="No inference node is running."
						columns={[
							{ label: "Node", render: q => <span className="mono">{q.nodeID}</span> },
							{ label: "Running", render: q => num(q.running) },
							{ label: "Waiting", render: q => (q.maxWaiting ? `${num(q.waiting)} of ${q.maxWaiting}` : num(q.waiting)) },
							{ label: "Engines", render: q => num(q.engines) },
							{ label: "Latency", render: q => num(q.latencyMs, " ms") },
							{ label: "Served", render: q => num(q.served) }
						]}
					/>
					<Dialog title={moving ? `Move ${actorName(moving)}` : "Move"} open={moving !== null} onClose={() => setMoving(null)}>
						{moving && (
							<form
								onSubmit={e => {
									e.preventDefault();
									void move.run(moving, target);
								}}
							>
								<Field label="Target node">
									{id => (
										<select id={id} value={target} onChange={e => setTarget(e.target.value)}>
											<option value="">Where placement picks</option>
											{actorsNodes
												.filter(n => !n.actors.some(a => a.kind === moving.kind && a.id === moving.id))
												.map(n => (
													<option key={n.nodeID} value={n.nodeID} disabled={!!n.draining}>
														{n.nodeID}
														{n.draining ? " (draining)" : ""}
													</option>
												))}
										</select>
									)}
								</Field>
								<ErrorNote error={move.error} title="Not moved" />
								<div className="actions">
									<button type="submit" disabled={move.busy}>
										Move
									</button>
									<button type="button" className="link" onClick={() => setMoving(null)}>
										Cancel
									</button>
								</div>
							</form>
						)}
					</Dialog>
				</>
			)}
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
