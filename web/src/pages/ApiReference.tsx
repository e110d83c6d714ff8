/** The API reference: the gateway's Swagger UI page, and its endpoints listed here. */
import { useState } from "react";
import { get } from "../api";
import { useSession } from "../session";
import { ErrorNote, Field, Table, useLoad } from "../ui";

interface Endpoint {
	id: string;
	method: string;
	path: string;
	description?: string;
	label?: string;
	family?: string;
	permission?: string;
}

export default function ApiReference() {
	const s = useSession();
	const list = useLoad(sig => (s.can("system:read") ? get<Endpoint[]>("/developer/endpoints", undefined, sig).then(a => a.data) : Promise.resolve([])), []);
	const [filter, setFilter] = useState("");
	const rows = (list.data ?? []).filter(e => !filter || `${e.method} ${e.path} ${e.description ?? ""}`.toLowerCase().includes(filter.toLowerCase()));
	return (
		<>
			<h1>API reference</h1>
			<p>
				The full reference with request and answer shapes: <a href="/api/docs" target="_blank" rel="noopener">/api/docs</a> (OpenAPI 3.1 at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>).
			</p>
			{s.can("system:read") && (
				<>
					<Field label="Filter endpoints">{id => <input id={id} type="search" value={filter} onChange={e => setFilter(e.target.value)} />}</Field>
					<ErrorNote error={list.error} />
					<Table
						caption="Endpoints"
						loading={list.loading}
						rows={rows}
						rowKey={e => e.id}
						columns={[
							{ label: "Method", render: e => <span className="mono">{e.method}</span> },
							{ label: "Path", render: e => <span className="mono">{e.path}</span> },
							{ label: "What", render: e => e.description ?? "" },
							{ label: "Family", render: e => e.family ?? "" },
							{ label: "Permission", render: e => e.permission ?? "" }
						]}
					/>
				</>
			)}
		</>
	);
}
