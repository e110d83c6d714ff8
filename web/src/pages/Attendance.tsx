/** Attendance logs: filters, server paging, manual entries and deletion (attendance:write), export. */
import { useState, type FormEvent } from "react";
import { del, get, post } from "../api";
import { useChannelTick } from "../live";
import { href, type Route } from "../router";
import { useSession } from "../session";
import { day, localInputToIso, timeOf } from "../time";
import { Badge, Dialog, ErrorNote, Field, Pager, statusTone, Table, useAction, useLoad, useQueryState } from "../ui";
import { ExportButton } from "./Export";

export interface Log {
	id: string;
	employeeId: string;
	name: string;
	department?: string | null;
	day: string;
	timeInAt: string | null;
	timeOutAt: string | null;
	cameraId: string | null;
	cameraName?: string | null;
	accuracy: number | null;
	status: string;
	source: string;
	odooStatus: string;
	shiftName?: string | null;
}

const FILTERS = ["search", "dateFrom", "dateTo", "status", "source", "odooStatus", "cameraId"] as const;

function ManualEntry({ onDone }: { onDone(): void }) {
	const [f, setF] = useState({ employeeId: "", name: "", timestamp: "", status: "", note: "" });
	const save = useAction(async () => {
		await post("/attendance/manual", { employeeId: f.employeeId.trim(), name: f.name.trim() || undefined, timestamp: localInputToIso(f.timestamp), status: f.status || undefined, note: f.note.trim() || undefined });
		onDone();
	});
	const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
	return (
		<form className="form" onSubmit={(e: FormEvent) => (e.preventDefault(), void save.run())}>
			<Field label="Employee id">{id => <input id={id} required value={f.employeeId} onChange={set("employeeId")} />}</Field>
			<Field label="Name" hint="Needed only for someone never seen">{id => <input id={id} value={f.name} onChange={set("name")} />}</Field>
			<Field label="Time (your time zone)">{id => <input id={id} type="datetime-local" required value={f.timestamp} onChange={set("timestamp")} />}</Field>
			<Field label="Status">
				{id => (
					<select id={id} value={f.status} onChange={set("status")}>
						<option value="">from the shift</option>
						<option value="present">present</option>
						<option value="late">late</option>
					</select>
				)}
			</Field>
			<Field label="Note">{id => <input id={id} value={f.note} onChange={set("note")} />}</Field>
			<ErrorNote error={save.error} title="Not saved" />
			<div className="actions">
				<button className="primary" type="submit" disabled={save.busy}>
					Add entry
				</button>
			</div>
		</form>
	);
}

export default function Attendance({ route }: { route: Route }) {
	const s = useSession();
	const canWrite = s.can("attendance:write");
	const [q, setQ] = useQueryState(route.query, "/attendance");
	const page = Number(q.page ?? 1);
	const pageSize = Number(q.pageSize ?? 50);
	const filters: Record<string, string | undefined> = {};
	for (const k of FILTERS) filters[k] = q[k];
	const live = useChannelTick("attendance", 2000);
	const list = useLoad(sig => get<Log[]>("/attendance/logs", { page, pageSize, ...filters }, sig), [page, pageSize, JSON.stringify(filters), live]);
	const [adding, setAdding] = useState(false);
	const remove = useAction(async (l: Log) => {
		if (!window.confirm(`Delete the log of ${l.name} on ${day(l.day)}?`)) return;
		await del(`/attendance/${encodeURIComponent(l.id)}`);
		list.reload();
	});
	const [draft, setDraft] = useState<Record<string, string>>(() => ({ ...q }));
	const apply = (e: FormEvent) => {
		e.preventDefault();
		const patch: Record<string, string> = {};
		for (const k of FILTERS) patch[k] = draft[k] ?? "";
		setQ(patch);
	};
	const input = (k: string) => ({ value: draft[k] ?? "", onChange: (e: { target: { value: string } }) => setDraft({ ...draft, [k]: e.target.value }) });
	return (
		<>
			<h1>Attendance</h1>
			<form className="toolbar" onSubmit={apply} aria-label="Filters">
				<Field label="Search">{id => <input id={id} type="search" placeholder="name, employee id" {...input("search")} />}</Field>
				<Field label="From (site day)">{id => <input id={id} type="date" {...input("dateFrom")} />}</Field>
				<Field label="To (site day)">{id => <input id={id} type="date" {...input("dateTo")} />}</Field>
				<Field label="Status">
					{id => (
						<select id={id} {...input("status")}>
							<option value="">any</option>
							<option value="present">present</option>
							<option value="late">late</option>
						</select>
					)}
				</Field>
				<Field label="Source">
					{id => (
						<select id={id} {...input("source")}>
							<option value="">any</option>
							<option value="auto">auto</option>
							<option value="manual">manual</option>
						</select>
					)}
				</Field>
				<Field label="Odoo">
					{id => (
						<select id={id} {...input("odooStatus")}>
							<option value="">any</option>
							<option value="pending">pending</option>
							<option value="synced">synced</option>
							<option value="failed">failed</option>
						</select>
					)}
				</Field>
				<Field label="Camera">{id => <input id={id} size={8} placeholder="CAM-01" {...input("cameraId")} />}</Field>
				<button type="submit">Apply filters</button>
				{canWrite && (
					<button type="button" onClick={() => setAdding(true)}>
						Manual entry
					</button>
				)}
				<ExportButton filters={filters} />
			</form>
			<ErrorNote error={list.error} />
			<ErrorNote error={remove.error} title="Not deleted" />
			<Table
				caption="Attendance logs"
				loading={list.loading}
				rows={list.data?.data ?? []}
				rowKey={l => l.id}
				empty="No attendance matches."
				columns={[
					{ label: "Day", render: l => day(l.day) },
					{ label: "Name", render: l => <a href={href(`/history?employeeId=${encodeURIComponent(l.employeeId)}`)}>{l.name}</a> },
					{ label: "Employee id", render: l => l.employeeId },
					{ label: "Department", render: l => l.department ?? "" },
					{ label: "In", render: l => timeOf(l.timeInAt) },
					{ label: "Out", render: l => timeOf(l.timeOutAt) },
					{ label: "Camera", render: l => l.cameraName ?? l.cameraId ?? "" },
					{ label: "Accuracy", render: l => (l.accuracy === null ? "" : `${l.accuracy}%`) },
					{ label: "Status", render: l => <Badge tone={statusTone(l.status)}>{l.status}</Badge> },
					{ label: "Source", render: l => l.source },
					{ label: "Odoo", render: l => <Badge tone={statusTone(l.odooStatus)}>{l.odooStatus}</Badge> },
					...(canWrite
						? [
								{
									label: "Actions",
									render: (l: Log) => (
										<button className="danger" onClick={() => void remove.run(l)}>
											Delete
										</button>
									)
								}
							]
						: [])
				]}
			/>
			<Pager meta={list.data?.meta} onPage={p => setQ({ page: p })} onPageSize={n => setQ({ pageSize: n, page: 1 })} />
			<Dialog title="Manual attendance entry" open={adding} onClose={() => setAdding(false)}>
				{adding && (
					<ManualEntry
						onDone={() => {
							setAdding(false);
							list.reload();
						}}
					/>
				)}
			</Dialog>
		</>
	);
}
