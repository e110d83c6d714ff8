/**
 * Named API keys (apikeys:read; created and revoked with apikeys:write, an administrator's):
 * a key for a program (the face API, an integration) with a role. The key itself is in the
 * create answer only, so it is shown once, here, until the page is left; the list shows each
 * key's public prefix. Revoking takes effect at once on every gateway.
 */
import { useState, type FormEvent } from "react";
import { del, get, post } from "../api";
import { dateTime } from "../time";
import { Badge, ErrorNote, Field, Table, useAction, useLoad } from "../ui";
import { useSession } from "../session";

interface ApiKey {
	id: string;
	name: string;
	prefix: string;
	roleId: string;
	createdBy: string | null;
	createdAt: string;
	revoked: boolean;
}

const ROLES = ["ROLE-VIEWER", "ROLE-OPERATOR", "ROLE-ADMIN"];

export default function ApiKeys() {
	const s = useSession();
	const canWrite = s.can("apikeys:write");
	const list = useLoad(sig => get<ApiKey[]>("/api-keys", undefined, sig), []);
	const [name, setName] = useState("");
	const [roleId, setRoleId] = useState("ROLE-VIEWER");
	const [created, setCreated] = useState<(ApiKey & { key: string }) | null>(null);
	const create = useAction(async (e: FormEvent) => {
		e.preventDefault();
		setCreated(null);
		const r = await post<ApiKey & { key: string }>("/api-keys", { name, roleId });
		setCreated(r.data);
		setName("");
		list.reload();
	});
	const revoke = useAction(async (k: ApiKey) => {
		if (!window.confirm(`Revoke the key ${k.name} (rk_${k.prefix}_…)? Programs using it are refused at once.`)) return;
		await del(`/api-keys/${encodeURIComponent(k.id)}`);
		list.reload();
	});
	return (
		<>
			<h1>API keys</h1>
			{canWrite && (
				<form className="toolbar" onSubmit={e => void create.run(e)} aria-label="Create an API key">
					<Field label="Key name">{id => <input id={id} required maxLength={100} value={name} onChange={e => setName(e.target.value)} placeholder="door controller" />}</Field>
					<Field label="Role">
						{id => (
							<select id={id} value={roleId} onChange={e => setRoleId(e.target.value)}>
								{ROLES.map(r => (
									<option key={r} value={r}>
										{r.replace("ROLE-", "").toLowerCase()}
									</option>
								))}
							</select>
						)}
					</Field>
					<button type="submit" disabled={create.busy}>
						Create key
					</button>
				</form>
			)}
			<ErrorNote error={create.error} title="Not created" />
			{created && (
				<div role="status" className="notice">
					<p>
						Key <strong>{created.name}</strong> created. Copy it now: it is not shown again.
					</p>
					<p>
						<code className="mono" aria-label="The new key">{created.key}</code>{" "}
						<button type="button" onClick={() => void navigator.clipboard?.writeText(created.key)}>
							Copy
						</button>
					</p>
				</div>
			)}
			<ErrorNote error={list.error} />
			<ErrorNote error={revoke.error} title="Not revoked" />
			<Table
				caption="API keys"
				loading={list.loading}
				rows={list.data?.data ?? []}
				rowKey={k => k.id}
				empty="No API key yet."
				columns={[
					{ label: "Name", render: k => k.name },
					{ label: "Prefix", render: k => <span className="mono">rk_{k.prefix}_…</span> },
					{ label: "Role", render: k => k.roleId.replace("ROLE-", "").toLowerCase() },
					{ label: "Created", render: k => `${dateTime(k.createdAt)}${k.createdBy ? ` by ${k.createdBy}` : ""}` },
					{ label: "State", render: k => <Badge tone={k.revoked ? "bad" : "ok"}>{k.revoked ? "revoked" : "active"}</Badge> },
					...(canWrite
						? [
								{
									label: "Actions",
									render: (k: ApiKey) =>
										k.revoked ? null : (
											<button type="button" onClick={() => void revoke.run(k)} aria-label={`Revoke ${k.name}`}>
												Revoke
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
