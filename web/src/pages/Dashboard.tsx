/** Cameras' status, today's attendance, headcount against shifts, latest alerts. */
import { get } from "../api";
import { href } from "../router";
import { useSession } from "../session";
import { dateTime, day } from "../time";
import { Badge, Card, ErrorNote, statusTone, useLoad } from "../ui";
import { useChannelTick } from "../live";

interface Summary {
	activeCameras: number;
	enabledCameras: number;
	totalCameras: number;
	registeredPeople: number;
	peopleDetectedToday: number;
	peopleOnSite: number;
	lateToday: number;
	manualOverrides: number;
	attendanceCompletion: number | null;
	expectedHeadcount: number;
	lastSync: string | null;
	date: string;
	timezone: string;
}
interface Overview {
	date: string;
	present: number;
	late: number;
	missed: number;
	expectedHeadcount: number;
	compliance: number | null;
	onSiteNow: number;
	shifts: { id: string; name: string; start: string; end: string; expectedHeadcount: number; attended?: number; present?: number; compliance?: number | null }[];
}
interface CameraSummary {
	id: string;
	name: string;
	status: string;
	detectionsToday?: number;
	unknownFaces?: number;
	uptimePercent?: number | null;
}
interface Alert {
	id: string;
	title: string;
	level: string;
	status: string;
	createdAt?: string;
	timestamp?: string;
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? "—" : `${Math.round(v)}%`);

export function Dashboard() {
	const s = useSession();
	const alertsOn = s.can("alerts:read") && s.has("GET /alerts");
	const tick = useChannelTick(s.can("cameras:read") ? "camera-status" : null, 2000) + useChannelTick(s.can("attendance:read") ? "attendance" : null, 2000) + useChannelTick(alertsOn ? "alerts" : null, 2000);
	const summary = useLoad(sig => (s.can("system:read") ? get<Summary>("/system/summary", undefined, sig).then(a => a.data) : Promise.resolve(null)), [tick]);
	const overview = useLoad(sig => (s.can("attendance:read") ? get<Overview>("/attendance/overview", undefined, sig).then(a => a.data) : Promise.resolve(null)), [tick]);
	// The registry's cameras (name, live status) with their counts of today (the summary has ids and counts only).
	const cameras = useLoad(
		sig =>
			s.can("cameras:read")
				? Promise.all([get<CameraSummary[]>("/cameras", { pageSize: 100 }, sig), get<Omit<CameraSummary, "name" | "status">[]>("/cameras/summary", undefined, sig)]).then(([list, today]) =>
						list.data.map(c => ({ ...today.data.find(t => t.id === c.id), id: c.id, name: c.name, status: c.status }))
					)
				: Promise.resolve([]),
		[tick]
	);
	const alerts = useLoad(sig => (alertsOn ? get<Alert[]>("/alerts", { page: 1, pageSize: 5 }, sig).then(a => a.data) : Promise.resolve([])), [alertsOn, tick]);
	const sm = summary.data;
	const ov = overview.data;
	return (
		<>
			<h1>Dashboard</h1>
			<ErrorNote error={summary.error ?? overview.error} />
			{sm && (
				<section aria-label="Today" className="cards">
					<Card label="Cameras online" value={`${sm.activeCameras} / ${sm.enabledCameras}`} hint={`${sm.totalCameras} registered`} />
					<Card label="People detected today" value={sm.peopleDetectedToday} hint={`${sm.peopleOnSite} on site now`} />
					<Card label="Late today" value={sm.lateToday} />
					<Card label="Headcount" value={ov ? `${ov.present + ov.late} / ${ov.expectedHeadcount || "—"}` : "—"} hint={`compliance ${pct(ov?.compliance ?? sm.attendanceCompletion)}`} />
					<Card label="Registered people" value={sm.registeredPeople} />
					<Card label="Last Odoo sync" value={sm.lastSync ? dateTime(sm.lastSync) : "never"} />
				</section>
			)}
			<div className="grid2">
				{ov && (
					<section aria-labelledby="shifts-h">
						<h2 id="shifts-h">Attendance on {day(ov.date)}</h2>
						<p>
							<Badge tone="ok">{ov.present} present</Badge> <Badge tone="warn">{ov.late} late</Badge> <Badge tone="bad">{ov.missed} missed</Badge>
						</p>
						{ov.shifts.length === 0 ? (
							<p className="muted">No shift today.</p>
						) : (
							<table>
								<caption className="sr-only">Shifts today</caption>
								<thead>
									<tr>
										<th scope="col">Shift</th>
										<th scope="col">Hours</th>
										<th scope="col">Expected</th>
										<th scope="col">Compliance</th>
									</tr>
								</thead>
								<tbody>
									{ov.shifts.map(sh => (
										<tr key={sh.id}>
											<td>{sh.name}</td>
											<td>
												{sh.start}–{sh.end}
											</td>
											<td>{sh.expectedHeadcount}</td>
											<td>{pct(sh.compliance)}</td>
										</tr>
									))}
								</tbody>
							</table>
						)}
					</section>
				)}
				{s.can("cameras:read") && (
					<section aria-labelledby="cams-h">
						<h2 id="cams-h">Cameras</h2>
						<ErrorNote error={cameras.error} />
						{(cameras.data ?? []).length === 0 ? (
							<p className="muted">
								No camera yet. <a href={href("/cameras")}>Cameras</a>
							</p>
						) : (
							<ul className="plain">
								{(cameras.data ?? []).map(c => (
									<li key={c.id}>
										<Badge tone={statusTone(c.status)}>{c.status}</Badge> {c.name} <span className="muted">({c.id})</span>
										{c.detectionsToday !== undefined && <span className="muted"> · {c.detectionsToday} detections today</span>}
									</li>
								))}
							</ul>
						)}
					</section>
				)}
				{alertsOn && (
					<section aria-labelledby="alerts-h">
						<h2 id="alerts-h">Latest alerts</h2>
						<ErrorNote error={alerts.error} />
						{(alerts.data ?? []).length === 0 ? (
							<p className="muted">No alert.</p>
						) : (
							<ul className="plain">
								{(alerts.data ?? []).map(a => (
									<li key={a.id}>
										<Badge tone={statusTone(a.level)}>{a.level}</Badge> {a.title} <span className="muted">{dateTime(a.createdAt ?? a.timestamp)}</span>
									</li>
								))}
							</ul>
						)}
						<a href={href("/alerts")}>All alerts</a>
					</section>
				)}
			</div>
		</>
	);
}
