/** One person's attendance days and detections. */
import { useState, type FormEvent } from "react";
import { get } from "../api";
import { navigate, type Route } from "../router";
import { dateTime, day, timeOf } from "../time";
import { Badge, Card, ErrorNote, Field, statusTone, Table, useLoad } from "../ui";
import type { Log } from "./Attendance";

interface History {
	employeeId: string;
	name: string | null;
	department: string | null;
	totals?: Record<string, number>;
	attendance: Log[];
	detections: { id: string; cameraId?: string | number; cameraName?: string; confidence?: number; firstSeen?: string; lastSeen?: string; status?: string }[];
}

export default function HistoryPage({ route }: { route: Route }) {
	const employeeId = route.query.get("employeeId") ?? "";
	const [draft, setDraft] = useState(employeeId);
	const h = useLoad(sig => (employeeId ? get<History>(`/history/person/${encodeURIComponent(employeeId)}`, { limit: 200 }, sig).then(a => a.data) : Promise.resolve(null)), [employeeId]);
	const submit = (e: FormEvent) => {
		e.preventDefault();
		navigate("/history", { employeeId: draft.trim() });
	};
	const d = h.data;
	return (
		<>
			<h1>Person history</h1>
			<form className="toolbar" onSubmit={submit}>
				<Field label="Employee id">{id => <input id={id} required value={draft} onChange={e => setDraft(e.target.value)} />}</Field>
				<button type="submit">Show</button>
			</form>
			<ErrorNote error={h.error} />
			{d && (
				<>
					<h2>
						{d.name ?? d.employeeId} <span className="muted">{d.department ?? ""}</span>
					</h2>
					{d.totals && (
						<section className="cards" aria-label="Totals">
							{Object.entries(d.totals).map(([k, v]) => (
								<Card key={k} label={k} value={v} />
							))}
						</section>
					)}
					<h3>Attendance</h3>
					<Table
						caption="Attendance days"
						rows={d.attendance}
						rowKey={l => l.id}
						empty="No attendance."
						columns={[
							{ label: "Day", render: l => day(l.day) },
							{ label: "In", render: l => timeOf(l.timeInAt) },
							{ label: "Out", render: l => timeOf(l.timeOutAt) },
							{ label: "Camera", render: l => l.cameraName ?? l.cameraId ?? "" },
							{ label: "Status", render: l => <Badge tone={statusTone(l.status)}>{l.status}</Badge> },
							{ label: "Source", render: l => l.source }
						]}
					/>
					<h3>Detections</h3>
					<Table
						caption="Detections"
						rows={d.detections}
						rowKey={x => x.id}
						empty="No detection."
						columns={[
							{ label: "First seen", render: x => dateTime(x.firstSeen) },
							{ label: "Last seen", render: x => dateTime(x.lastSeen) },
							{ label: "Camera", render: x => x.cameraName ?? x.cameraId ?? "" },
							{ label: "Confidence", render: x => (x.confidence === undefined ? "" : `${Math.round(x.confidence * 100)}%`) }
						]}
					/>
				</>
			)}
		</>
	);
}
