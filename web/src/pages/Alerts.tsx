/** Alerts (filters, paging; acknowledge, mute, delete with alerts:write) and the user's notifications. */
import { useState } from "react";
import { del, get, post } from "../api";
import { useChannelTick } from "../live";
import type { Route } from "../router";
import { useSession } from "../session";
import { dateTime } from "../time";
import { Badge, ErrorNote, Field, Pager, statusTone, Table, useAction, useLoad, useQueryState } from "../ui";

export interface Alert {
	id: string;
	title: string;
	description: string;
	level: string;
	type: string;
	cause: string;
	cameraId: number | null;
	count: number;
	timestamp: string;
	lastSeen: string;
	acknowledged: boolean;
	acknowledgedBy: string | null;
	muted: boolean;
	resolved: boolean;
	resolvedAt: string | null;
}
interface Notification {
	id: string;
	title: string;
	message?: string;
	level: string;
	link: string | null;
	acknowledged: boolean;
	timestamp: string;
}

function Notifications() {
	const tick = useChannelTick("notifications", 500);
	const [page, setPage] = useState(1);
	const list = useLoad(sig => get<Notification[]>("/notifications", { page, pageSize: 20 }, sig), [page, tick]);
	const act = useAction(async (id: string | null) => {
		if (id) await post(`/notifications/${encodeURIComponent(id)}/acknowledge`);
		else if (window.confirm("Clear every notification?")) await del("/notifications");
		list.reload();
	});
	return (
		<section aria-labelledby="notes-h">
			<h2 id="notes-h">Your notifications</h2>
			<ErrorNote error={list.error ?? act.error} />
			<Table
				caption="Notifications"
				loading={list.loading}
				rows={list.data?.data ?? []}
				rowKey={n => n.id}
				empty="No notification."
				columns={[
					{ label: "Time", render: n => dateTime(n.timestamp) },
					{ label: "Level", render: n => <Badge tone={statusTone(n.level)}>{n.level}</Badge> },
					{
						label: "Notification",
						render: n => (
							<>
								<strong>{n.title}</strong> {n.message && <span className="muted">{n.message}</span>} {n.link && <a href={n.link.startsWith("/") ? `#${n.link}` : n.link}>open</a>}
							</>
						)
					},
					{ label: "Read", render: n => (n.acknowledged ? "yes" : <button onClick={() => void act.run(n.id)}>Mark read</button>) }
				]}
			/>
			<div className="actions">
				<Pager meta={list.data?.meta} onPage={setPage} />
				{(list.data?.data.length ?? 0) > 0 && <button onClick={() => void act.run(null)}>Clear all</button>}
			</div>
		</section>
	);
}

export default function Alerts({ route }: { route: Route }) {
	const s = useSession();
	const canWrite = s.can("alerts:write");
	const [q, setQ] = useQueryState(route.query, "/alerts");
	const page = Number(q.page ?? 1);
	const pageSize = Number(q.pageSize ?? 20);
	const tick = useChannelTick("alerts", 500);
	const list = useLoad(
		sig => get<Alert[]>("/alerts", { page, pageSize, level: q.level, resolved: q.state === "open" ? false : q.state === "resolved" ? true : undefined, acknowledged: q.ack === "" || q.ack === undefined ? undefined : q.ack }, sig),
		[page, pageSize, q.level, q.state, q.ack, tick]
	);
	const act = useAction(async (what: "ack" | "mute" | "unmute" | "delete", a: Alert) => {
		const path = `/alerts/${encodeURIComponent(a.id)}`;
		if (what === "ack") await post(`${path}/acknowledge`);
		if (what === "mute" || what === "unmute") await post(`${path}/mute`, { muted: what === "mute" });
		if (what === "delete") {
			if (!window.confirm(`Delete the alert "${a.title}"?`)) return;
			await del(path);
		}
		list.reload();
	});
	return (
		<>
			<h1>Alerts</h1>
			<div className="toolbar">
				<Field label="Level">
					{id => (
						<select id={id} value={q.level ?? ""} onChange={e => setQ({ level: e.target.value })}>
							<option value="">any</option>
							<option value="critical,high">high and critical</option>
							{["critical", "high", "medium", "low"].map(l => (
								<option key={l}>{l}</option>
							))}
						</select>
					)}
				</Field>
				<Field label="State">
					{id => (
						<select id={id} value={q.state ?? ""} onChange={e => setQ({ state: e.target.value })}>
							<option value="">any</option>
							<option value="open">open</option>
							<option value="resolved">resolved</option>
						</select>
					)}
				</Field>
				<Field label="Acknowledged">
					{id => (
						<select id={id} value={q.ack ?? ""} onChange={e => setQ({ ack: e.target.value })}>
							<option value="">any</option>
							<option value="false">not yet</option>
							<option value="true">acknowledged</option>
						</select>
					)}
				</Field>
			</div>
			<ErrorNote error={list.error} />
			<ErrorNote error={act.error} title="Alert action failed" />
			<Table
				caption="Alerts"
				loading={list.loading}
				rows={list.data?.data ?? []}
				rowKey={a => a.id}
				empty="No alert."
				columns={[
					{ label: "Raised", render: a => dateTime(a.timestamp) },
					{ label: "Level", render: a => <Badge tone={statusTone(a.level)}>{a.level}</Badge> },
					{
						label: "Alert",
						render: a => (
							<>
								<strong>{a.title}</strong>
								<div className="muted small">{a.description}</div>
							</>
						)
					},
					{ label: "Times", render: a => a.count },
					{ label: "Last seen", render: a => dateTime(a.lastSeen) },
					{
						label: "State",
						render: a => (
							<>
								{a.resolved ? <Badge tone="ok">resolved</Badge> : <Badge tone="warn">open</Badge>} {a.acknowledged && <Badge tone="info">acknowledged{a.acknowledgedBy ? ` by ${a.acknowledgedBy}` : ""}</Badge>} {a.muted && <Badge tone="muted">muted</Badge>}
							</>
						)
					},
					...(canWrite
						? [
								{
									label: "Actions",
									render: (a: Alert) => (
										<div className="row-actions">
											{!a.acknowledged && (
												<button onClick={() => void act.run("ack", a)} disabled={act.busy}>
													Acknowledge
												</button>
											)}
											<button onClick={() => void act.run(a.muted ? "unmute" : "mute", a)} disabled={act.busy}>
												{a.muted ? "Unmute" : "Mute"}
											</button>
											<button className="danger" onClick={() => void act.run("delete", a)} disabled={act.busy}>
												Delete
											</button>
										</div>
									)
								}
							]
						: [])
				]}
			/>
			<Pager meta={list.data?.meta} onPage={p => setQ({ page: p })} onPageSize={n => setQ({ pageSize: n, page: 1 })} />
			<Notifications />
		</>
	);
}
