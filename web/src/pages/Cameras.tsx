/** The camera registry: list with filters and paging; add, edit, test, snapshot, enable, delete (cameras:write). */
import { useEffect, useState, type FormEvent } from "react";
import { del, get, objectUrl, patch, post, put } from "../api";
import { useChannelTick } from "../live";
import type { Route } from "../router";
import { useSession } from "../session";
import { dateTime } from "../time";
import { Badge, Dialog, ErrorNote, Field, Notice, Pager, statusTone, Table, useAction, useLoad, useQueryState } from "../ui";

export interface Camera {
	id: string;
	cameraId: number;
	name: string;
	location?: string | null;
	streamType: string;
	streamUrl: string;
	credentials?: { username?: string; password?: string } | null;
	status: string;
	fps: number;
	latency: number;
	bitrate: number;
	resolution: string | null;
	enabled: boolean;
	sampleInterval: number;
	thumbnail: string | null;
	lastSeen: string | null;
	version: number;
}

interface Draft {
	id: string;
	name: string;
	location: string;
	streamUrl: string;
	username: string;
	password: string;
	sampleInterval: string;
	enabled: boolean;
}

const emptyDraft: Draft = { id: "", name: "", location: "", streamUrl: "rtsp://", username: "", password: "", sampleInterval: "5", enabled: true };

function CameraForm({ camera, onDone }: { camera: Camera | null; onDone(): void }) {
	const [d, setD] = useState<Draft>(
		camera
			? { id: camera.id, name: camera.name, location: camera.location ?? "", streamUrl: camera.streamUrl, username: camera.credentials?.username ?? "", password: "", sampleInterval: String(camera.sampleInterval), enabled: camera.enabled }
			: emptyDraft
	);
	const save = useAction(async () => {
		const body: Record<string, unknown> = { name: d.name.trim(), location: d.location.trim() || undefined, streamUrl: d.streamUrl.trim(), sampleInterval: Number(d.sampleInterval), enabled: d.enabled };
		if (d.username) body.username = d.username;
		if (d.password) body.password = d.password; // blank on edit: the stored one is kept
		if (camera) await put(`/cameras/${encodeURIComponent(camera.id)}`, { ...body, version: camera.version });
		else await post("/cameras", { ...body, id: d.id.trim() || undefined });
		onDone();
	});
	const set = (k: keyof Draft) => (e: { target: { value: string; checked?: boolean; type?: string } }) => setD({ ...d, [k]: e.target.type === "checkbox" ? !!e.target.checked : e.target.value });
	const submit = (e: FormEvent) => {
		e.preventDefault();
		void save.run();
	};
	return (
		<form onSubmit={submit} className="form">
			{!camera && <Field label="Id (optional)" hint="CAM-NN by default">{id => <input id={id} value={d.id} onChange={set("id")} />}</Field>}
			<Field label="Name">{id => <input id={id} required value={d.name} onChange={set("name")} />}</Field>
			<Field label="Location">{id => <input id={id} value={d.location} onChange={set("location")} />}</Field>
			<Field label="Stream URL" hint="rtsp://, rtsps://, http:// or https://">{id => <input id={id} required value={d.streamUrl} onChange={set("streamUrl")} />}</Field>
			<Field label="Username">{id => <input id={id} autoComplete="off" value={d.username} onChange={set("username")} />}</Field>
			<Field label="Password" hint={camera ? "Leave blank to keep the stored one" : undefined}>{id => <input id={id} type="password" autoComplete="new-password" value={d.password} onChange={set("password")} />}</Field>
			<Field label="Sample interval (s)">{id => <input id={id} type="number" min={0.2} max={3600} step={0.1} value={d.sampleInterval} onChange={set("sampleInterval")} />}</Field>
			<label className="check">
				<input type="checkbox" checked={d.enabled} onChange={set("enabled")} /> Monitored (enabled)
			</label>
			<ErrorNote error={save.error} title="Not saved" />
			<div className="actions">
				<button type="submit" className="primary" disabled={save.busy}>
					{camera ? "Save" : "Add camera"}
				</button>
			</div>
		</form>
	);
}

function Snapshot({ camera }: { camera: Camera }) {
	const [src, setSrc] = useState<string | null>(null);
	const [at, setAt] = useState<string | null>(null);
	const take = useAction(async () => {
		const r = await post<{ url: string; timestamp: string }>(`/cameras/${encodeURIComponent(camera.id)}/snapshot`);
		setSrc(await objectUrl(r.data.url));
		setAt(r.data.timestamp);
	});
	useEffect(() => {
		void take.run();
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, [camera.id]);
	useEffect(() => () => void (src && URL.revokeObjectURL(src)), [src]);
	return (
		<div>
			{take.busy && <p aria-busy="true">Taking a snapshot…</p>}
			<ErrorNote error={take.error} title="No snapshot" />
			{src && (
				<figure>
					<img src={src} alt={`Snapshot of ${camera.name}`} className="snapshot" />
					<figcaption className="muted">{dateTime(at)}</figcaption>
				</figure>
			)}
		</div>
	);
}

export default function Cameras({ route }: { route: Route }) {
	const s = useSession();
	const canWrite = s.can("cameras:write");
	const [q, setQ] = useQueryState(route.query, "/cameras");
	const page = Number(q.page ?? 1);
	const pageSize = Number(q.pageSize ?? 20);
	const live = useChannelTick("camera-status", 1500);
	const list = useLoad(sig => get<Camera[]>("/cameras", { page, pageSize, search: q.search, status: q.status }, sig), [page, pageSize, q.search, q.status, live]);
	const [editing, setEditing] = useState<Camera | "new" | null>(null);
	const [snap, setSnap] = useState<Camera | null>(null);
	const [result, setResult] = useState<{ camera: string; text: string; ok: boolean } | null>(null);
	const act = useAction(async (what: "test" | "toggle" | "delete", c: Camera) => {
		const path = `/cameras/${encodeURIComponent(c.id)}`;
		if (what === "test") {
			const r = await post<{ success: boolean; latencyMs?: number; bitrate?: number; message?: string }>(`${path}/test-connection`);
			setResult({ camera: c.name, ok: r.data.success, text: r.data.success ? `connected, ${r.data.latencyMs ?? "?"} ms${r.data.bitrate ? `, ${r.data.bitrate} kbit/s` : ""}` : (r.data.message ?? "failed") });
			return;
		}
		if (what === "toggle") await patch(`${path}/state`, { enabled: !c.enabled, version: c.version });
		if (what === "delete") {
			if (!window.confirm(`Delete camera ${c.name} (${c.id})?`)) return;
			await del(path);
		}
		list.reload();
	});
	const rows = list.data?.data ?? [];
	return (
		<>
			<h1>Cameras</h1>
			<div className="toolbar">
				<Field label="Search">{id => <input id={id} type="search" defaultValue={q.search ?? ""} onKeyDown={e => e.key === "Enter" && setQ({ search: (e.target as HTMLInputElement).value })} onBlur={e => e.target.value !== (q.search ?? "") && setQ({ search: e.target.value })} />}</Field>
				<Field label="Status">
					{id => (
						<select id={id} value={q.status ?? ""} onChange={e => setQ({ status: e.target.value })}>
							<option value="">any</option>
							<option value="online">online</option>
							<option value="offline">offline</option>
						</select>
					)}
				</Field>
				{canWrite && (
					<button className="primary" onClick={() => setEditing("new")}>
						Add camera
					</button>
				)}
			</div>
			<ErrorNote error={list.error} />
			<ErrorNote error={act.error} title="Camera action failed" />
			{result && <Notice>{`Test of ${result.camera}: ${result.ok ? "" : "failed, "}${result.text}`}</Notice>}
			<Table
				caption="Cameras"
				loading={list.loading}
				rows={rows}
				rowKey={c => c.id}
				empty="No camera."
				columns={[
					{ label: "Id", render: c => c.id },
					{ label: "Name", render: c => c.name },
					{ label: "Location", render: c => c.location ?? "" },
					{ label: "Status", render: c => <Badge tone={statusTone(c.status)}>{c.status}</Badge> },
					{ label: "Monitored", render: c => (c.enabled ? "yes" : "no") },
					{ label: "Stream", render: c => <span className="mono">{c.streamUrl}</span> },
					{ label: "Measured", render: c => (c.status === "online" ? `${c.fps} fps · ${c.bitrate} kbit/s · ${c.resolution ?? ""}` : "") },
					{ label: "Last seen", render: c => dateTime(c.lastSeen) },
					...(canWrite
						? [
								{
									label: "Actions",
									render: (c: Camera) => (
										<div className="row-actions">
											<button onClick={() => setEditing(c)}>Edit</button>
											<button onClick={() => void act.run("test", c)} disabled={act.busy}>
												Test
											</button>
											<button onClick={() => setSnap(c)}>Snapshot</button>
											<button onClick={() => void act.run("toggle", c)} disabled={act.busy}>
												{c.enabled ? "Disable" : "Enable"}
											</button>
											<button className="danger" onClick={() => void act.run("delete", c)} disabled={act.busy}>
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
			<Dialog title={editing === "new" ? "Add a camera" : `Edit ${editing ? (editing as Camera).name : ""}`} open={editing !== null} onClose={() => setEditing(null)}>
				{editing !== null && (
					<CameraForm
						camera={editing === "new" ? null : editing}
						onDone={() => {
							setEditing(null);
							list.reload();
						}}
					/>
				)}
			</Dialog>
			<Dialog title={`Snapshot of ${snap?.name ?? ""}`} open={snap !== null} onClose={() => setSnap(null)}>
				{snap && <Snapshot camera={snap} />}
			</Dialog>
		</>
	);
}
