/** The audit log (audit:read): every console mutation and refusal, filtered and paged. */
import { useState, type FormEvent } from "react";
import { get } from "../api";
import type { Route } from "../router";
import { dateTime, localInputToIso } from "../time";
import { Badge, ErrorNote, Field, Pager, statusTone, Table, useLoad, useQueryState } from "../ui";

interface Entry {
	id: string;
	actor: string;
	actorRole?: string;
	action: string;
	resourceType?: string;
	resourceId?: string;
	message?: string;
	severity: string;
	outcome: string;
	ipAddress?: string;
	timestamp: string;
}

const FILTERS = ["actor", "action", "resource", "severity", "from", "to"] as const;

export default function Audit({ route }: { route: Route }) {
	const [q, setQ] = useQueryState(route.query, "/audit");
	const page = Number(q.page ?? 1);
	const pageSize = Number(q.pageSize ?? 50);
	const filters: Record<string, string | undefined> = {};
	for (const k of FILTERS) filters[k] = q[k];
	const list = useLoad(sig => get<Entry[]>("/audit", { page, pageSize, ...filters, from: filters.from && localInputToIso(filters.from), to: filters.to && localInputToIso(filters.to) }, sig), [page, pageSize, JSON.stringify(filters)]);
	const [draft, setDraft] = useState<Record<string, string>>(() => ({ ...q }));
	const input = (k: string) => ({ value: draft[k] ?? "", onChange: (e: { target: { value: string } }) => setDraft({ ...draft, [k]: e.target.value }) });
	const apply = (e: FormEvent) => {
		e.preventDefault();
		const patch: Record<string, string> = {};
		for (const k of FILTERS) patch[k] = draft[k] ?? "";
		setQ(patch);
	};
	return (
		<>
			<h1>Audit log</h1>
			<form className="toolbar" onSubmit={apply} aria-label="Filters">
				<Field label="Actor">{id => <input id={id} {...input("actor")} />}</Field>
				<Field label="Action">{id => <input id={id} placeholder="camera.create" {...input("action")} />}</Field>
				<Field label="Resource">{id => <input id={id} placeholder="camera" {...input("resource")} />}</Field>
				<Field label="Severity">
					{id => (
						<select id={id} {...input("severity")}>
							<option value="">any</option>
							<option value="info">info</option>
							<option value="warning">warning</option>
							<option value="critical">critical</option>
						</select>
					)}
				</Field>
				<Field label="From">{id => <input id={id} type="datetime-local" {...input("from")} />}</Field>
				<Field label="To">{id => <input id={id} type="datetime-local" {...input("to")} />}</Field>
				<button type="submit">Apply filters</button>
			</form>
			<ErrorNote error={list.error} />
			<Table
				caption="Audit log"
				loading={list.loading}
				rows={list.data?.data ?? []}
				rowKey={e => e.id}
				columns={[
					{ label: "Time", render: e => dateTime(e.timestamp) },
					{ label: "Actor", render: e => e.actor },
					{ label: "Action", render: e => <span className="mono">{e.action}</span> },
					{ label: "Resource", render: e => [e.resourceType, e.resourceId].filter(Boolean).join(" ") },
					{ label: "Message", render: e => e.message ?? "" },
					{ label: "Severity", render: e => <Badge tone={statusTone(e.severity)}>{e.severity}</Badge> },
					{ label: "Outcome", render: e => e.outcome },
					{ label: "Address", render: e => e.ipAddress ?? "" }
				]}
			/>
			<Pager meta={list.data?.meta} onPage={p => setQ({ page: p })} onPageSize={n => setQ({ pageSize: n, page: 1 })} />
		</>
	);
}
