/** Settings: one's own preferences and password; the site's attendance rules; users and roles for an admin. */
import { useState, type FormEvent } from "react";
import { del, get, patch, post, put } from "../api";
import { type Route } from "../router";
import { useSession, type User } from "../session";
import { dateTime } from "../time";
import { Badge, Dialog, ErrorNote, Field, Notice, Pager, statusTone, Table, useAction, useLoad, useQueryState } from "../ui";

interface Prefs {
	theme: string;
	language: string;
	timezone: string;
	updatedAt: string | null;
}
interface Site {
	timezone: string;
	onSiteAbsenceMinutes: number;
	lateAfterMinutes: number;
	version: number;
}
interface Role {
	id: string;
	name: string;
	description: string;
}
interface Account extends User {
	lastActive?: string | null;
	version: number;
}

function Preferences() {
	const s = useSession();
	const prefs = useLoad(sig => get<Prefs>("/settings/preferences", undefined, sig).then(a => a.data), []);
	const zones = useLoad(sig => get<string[] | { timezones: string[] }>("/settings/timezones", undefined, sig).then(a => (Array.isArray(a.data) ? a.data : a.data.timezones)), []);
	const [zone, setZone] = useState<string | null>(null);
	const [saved, setSaved] = useState(false);
	const save = useAction(async () => {
		await put("/settings/preferences", { timezone: zone ?? current });
		await s.reload();
		setSaved(true);
	});
	const browser = Intl.DateTimeFormat().resolvedOptions().timeZone;
	const current = zone ?? (prefs.data?.updatedAt ? prefs.data.timezone : browser);
	return (
		<section aria-labelledby="prefs-h">
			<h2 id="prefs-h">Your preferences</h2>
			<ErrorNote error={prefs.error ?? zones.error} />
			<form className="form" onSubmit={(e: FormEvent) => (e.preventDefault(), void save.run())}>
				<Field label="Time zone" hint={`Times are shown in this zone (your browser's is ${browser})`}>
					{id => (
						<select id={id} value={current} onChange={e => (setZone(e.target.value), setSaved(false))}>
							{(zones.data ?? [current]).map(z => (
								<option key={z}>{z}</option>
							))}
						</select>
					)}
				</Field>
				<ErrorNote error={save.error} title="Not saved" />
				{saved && <Notice>Saved.</Notice>}
				<button type="submit" disabled={save.busy}>
					Save preferences
				</button>
			</form>
		</section>
	);
}

function OwnPassword() {
	const s = useSession();
	const [f, setF] = useState({ currentPassword: "", newPassword: "" });
	const [done, setDone] = useState(false);
	const save = useAction(async () => {
		await patch(`/users/${encodeURIComponent(s.user.id)}/password`, f);
		setF({ currentPassword: "", newPassword: "" });
		setDone(true);
	});
	return (
		<section aria-labelledby="pw-h">
			<h2 id="pw-h">Your password</h2>
			<form className="form" onSubmit={(e: FormEvent) => (e.preventDefault(), setDone(false), void save.run())}>
				<Field label="Current password">{id => <input id={id} type="password" autoComplete="current-password" required value={f.currentPassword} onChange={e => setF({ ...f, currentPassword: e.target.value })} />}</Field>
				<Field label="New password" hint="At least 10 characters">{id => <input id={id} type="password" autoComplete="new-password" required minLength={10} value={f.newPassword} onChange={e => setF({ ...f, newPassword: e.target.value })} />}</Field>
				<ErrorNote error={save.error} title="Not changed" />
				{done && <Notice>Password changed.</Notice>}
				<button type="submit" disabled={save.busy}>
					Change password
				</button>
			</form>
		</section>
	);
}

function SiteSettings() {
	const s = useSession();
	const canWrite = s.can("settings:write");
	const site = useLoad(sig => get<Site>("/settings/site", undefined, sig).then(a => a.data), []);
	const [draft, setDraft] = useState<Partial<Site>>({});
	const save = useAction(async () => {
		await put("/settings/site", { ...draft, version: site.data!.version });
		setDraft({});
		site.reload();
	});
	const v = { ...site.data, ...draft } as Site;
	if (!site.data) return <ErrorNote error={site.error} />;
	return (
		<section aria-labelledby="site-h">
			<h2 id="site-h">Site</h2>
			<form className="form" onSubmit={(e: FormEvent) => (e.preventDefault(), void save.run())}>
				<Field label="Site time zone" hint="Attendance days are reckoned in it">{id => <input id={id} value={v.timezone} readOnly={!canWrite} onChange={e => setDraft({ ...draft, timezone: e.target.value })} />}</Field>
				<Field label="Off site after (minutes unseen)">{id => <input id={id} type="number" min={1} value={v.onSiteAbsenceMinutes} readOnly={!canWrite} onChange={e => setDraft({ ...draft, onSiteAbsenceMinutes: Number(e.target.value) })} />}</Field>
				<Field label="Late after (minutes)">{id => <input id={id} type="number" min={0} value={v.lateAfterMinutes} readOnly={!canWrite} onChange={e => setDraft({ ...draft, lateAfterMinutes: Number(e.target.value) })} />}</Field>
				<ErrorNote error={save.error} title="Not saved" />
				{canWrite && (
					<button type="submit" disabled={save.busy || Object.keys(draft).length === 0}>
						Save site settings
					</button>
				)}
			</form>
		</section>
	);
}

function UserForm({ account, roles, onDone }: { account: Account | null; roles: Role[]; onDone(): void }) {
	const [f, setF] = useState({ name: account?.name ?? "", email: account?.email ?? "", roleId: account?.roleId ?? "ROLE-VIEWER", status: account?.status ?? "active", password: "" });
	const save = useAction(async () => {
		if (account) {
			await put(`/users/${encodeURIComponent(account.id)}`, { name: f.name, email: f.email, roleId: f.roleId, status: f.status, version: account.version });
			if (f.password) await patch(`/users/${encodeURIComponent(account.id)}/password`, { newPassword: f.password });
		} else await post("/users", { name: f.name, email: f.email, roleId: f.roleId, password: f.password });
		onDone();
	});
	const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
	return (
		<form className="form" onSubmit={(e: FormEvent) => (e.preventDefault(), void save.run())}>
			<Field label="Name">{id => <input id={id} required value={f.name} onChange={set("name")} />}</Field>
			<Field label="Email">{id => <input id={id} type="email" required value={f.email} onChange={set("email")} />}</Field>
			<Field label="Role">
				{id => (
					<select id={id} value={f.roleId} onChange={set("roleId")}>
						{roles.map(r => (
							<option key={r.id} value={r.id}>
								{r.name} — {r.description}
							</option>
						))}
					</select>
				)}
			</Field>
			{account && (
				<Field label="Status">
					{id => (
						<select id={id} value={f.status} onChange={set("status")}>
							<option value="active">active</option>
							<option value="suspended">suspended</option>
						</select>
					)}
				</Field>
			)}
			<Field label={account ? "New password (optional)" : "Password"} hint="At least 10 characters">
				{id => <input id={id} type="password" autoComplete="new-password" required={!account} minLength={10} value={f.password} onChange={set("password")} />}
			</Field>
			<ErrorNote error={save.error} title="Not saved" />
			<div className="actions">
				<button className="primary" type="submit" disabled={save.busy}>
					{account ? "Save" : "Create user"}
				</button>
			</div>
		</form>
	);
}

function Users({ route }: { route: Route }) {
	const s = useSession();
	const canWrite = s.can("users:write");
	const [q, setQ] = useQueryState(route.query, "/settings");
	const page = Number(q.page ?? 1);
	const list = useLoad(sig => get<Account[]>("/users", { page, pageSize: 20, search: q.search, role: q.role }, sig), [page, q.search, q.role]);
	const roles = useLoad(sig => get<Role[]>("/roles", undefined, sig).then(a => a.data), []);
	const [editing, setEditing] = useState<Account | "new" | null>(null);
	const remove = useAction(async (a: Account) => {
		if (!window.confirm(`Delete the account of ${a.email}?`)) return;
		await del(`/users/${encodeURIComponent(a.id)}`);
		list.reload();
	});
	return (
		<section aria-labelledby="users-h">
			<h2 id="users-h">Users and roles</h2>
			<div className="toolbar">
				<Field label="Search users">{id => <input id={id} type="search" defaultValue={q.search ?? ""} onKeyDown={e => e.key === "Enter" && setQ({ search: (e.target as HTMLInputElement).value })} />}</Field>
				<Field label="Role">
					{id => (
						<select id={id} value={q.role ?? ""} onChange={e => setQ({ role: e.target.value })}>
							<option value="">any</option>
							{(roles.data ?? []).map(r => (
								<option key={r.id} value={r.id}>
									{r.name}
								</option>
							))}
						</select>
					)}
				</Field>
				{canWrite && (
					<button className="primary" onClick={() => setEditing("new")}>
						Add user
					</button>
				)}
			</div>
			<ErrorNote error={list.error ?? remove.error} />
			<Table
				caption="Users"
				loading={list.loading}
				rows={list.data?.data ?? []}
				rowKey={a => a.id}
				columns={[
					{ label: "Name", render: a => a.name },
					{ label: "Email", render: a => a.email },
					{ label: "Role", render: a => (roles.data ?? []).find(r => r.id === a.roleId)?.name ?? a.roleId },
					{ label: "Status", render: a => <Badge tone={statusTone(a.status)}>{a.status}</Badge> },
					{ label: "Last active", render: a => dateTime(a.lastActive) },
					...(canWrite
						? [
								{
									label: "Actions",
									render: (a: Account) => (
										<div className="row-actions">
											<button onClick={() => setEditing(a)}>Edit</button>
											{a.id !== s.user.id && (
												<button className="danger" onClick={() => void remove.run(a)}>
													Delete
												</button>
											)}
										</div>
									)
								}
							]
						: [])
				]}
			/>
			<Pager meta={list.data?.meta} onPage={p => setQ({ page: p })} />
			<Dialog title={editing === "new" ? "Add a user" : `Edit ${editing ? (editing as Account).email : ""}`} open={editing !== null} onClose={() => setEditing(null)}>
				{editing !== null && (
					<UserForm
						account={editing === "new" ? null : editing}
						roles={roles.data ?? []}
						onDone={() => {
							setEditing(null);
							list.reload();
						}}
					/>
				)}
			</Dialog>
		</section>
	);
}

export default function Settings({ route }: { route: Route }) {
	const s = useSession();
	return (
		<>
			<h1>Settings</h1>
			<div className="grid2">
				<Preferences />
				<OwnPassword />
			</div>
			<SiteSettings />
			{s.can("users:read") && <Users route={route} />}
		</>
	);
}
