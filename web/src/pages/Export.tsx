/**
 * Attendance export as a background job: POST /attendance/export answers 202 with the job,
 * whose progress arrives on the `exports` live channel (and is polled, in case the socket is
 * down); when it completes, its file is downloaded with the user's credentials.
 */
import { useEffect, useRef, useState } from "react";
import { get, raw, request } from "../api";
import { useChannel } from "../live";
import { useSession } from "../session";
import { ErrorNote } from "../ui";

interface Job {
	id: string;
	status: string;
	progress?: number;
	downloadUrl?: string | null;
	rows?: number;
	error?: { code?: string; message?: string } | string | null;
}

async function download(url: string, fallbackName: string): Promise<void> {
	const res = await raw(url);
	const name = /filename="?([^";]+)"?/.exec(res.headers.get("content-disposition") ?? "")?.[1] ?? fallbackName;
	const blobUrl = URL.createObjectURL(await res.blob());
	const a = document.createElement("a");
	a.href = blobUrl;
	a.download = name;
	document.body.append(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(blobUrl), 10_000);
}

export function ExportButton({ filters }: { filters: Record<string, string | undefined> }) {
	const s = useSession();
	const [format, setFormat] = useState("csv");
	const [job, setJob] = useState<Job | null>(null);
	const [error, setError] = useState<unknown>(null);
	const fetched = useRef<string | null>(null);
	const available = s.has("POST /attendance/export");

	useChannel<{ export: Job }>(available ? "exports" : null, m => {
		const p = m?.export;
		if (p) setJob(j => (j && p.id === j.id ? { ...j, ...p } : j));
	});
	// Poll as well: the live channel is a speed-up, not the only way to learn of the end.
	useEffect(() => {
		if (!job || job.status === "completed" || job.status === "failed") return;
		const t = setInterval(() => {
			get<Job>(`/exports/${encodeURIComponent(job.id)}`).then(a => setJob(j => (j && j.id === a.data.id ? { ...j, ...a.data } : j)), setError);
		}, 1000);
		return () => clearInterval(t);
	}, [job]);
	useEffect(() => {
		if (job?.status === "completed" && fetched.current !== job.id) {
			fetched.current = job.id;
			const url = job.downloadUrl ?? `/exports/${encodeURIComponent(job.id)}/download`;
			download(url, `attendance.${format}`).catch(setError);
		}
	}, [job, format]);

	if (!available) return null;
	const start = async () => {
		setError(null);
		fetched.current = null;
		try {
			const body: Record<string, unknown> = { format };
			for (const [k, v] of Object.entries(filters)) if (v) body[k] = v;
			const r = await request<Job>("/attendance/export", { method: "POST", body });
			setJob(r.data);
		} catch (err) {
			setError(err);
		}
	};
	const running = job && job.status !== "completed" && job.status !== "failed";
	const failed = job?.status === "failed" ? `Export failed: ${typeof job.error === "string" ? job.error : (job.error?.message ?? "no reason given")}` : null;
	return (
		<div className="export">
			<label>
				Format{" "}
				<select value={format} onChange={e => setFormat(e.target.value)}>
					<option value="csv">CSV</option>
					<option value="pdf">PDF</option>
				</select>
			</label>
			<button type="button" onClick={() => void start()} disabled={!!running}>
				Export
			</button>
			{job && (
				<span className="export-state" aria-live="polite">
					<progress max={100} value={job.status === "completed" ? 100 : (job.progress ?? 0)} aria-label="Export progress" /> {job.status}
					{job.status === "processing" && ` ${job.progress ?? 0}%`}
					{job.status === "completed" && job.rows !== undefined && ` (${job.rows} rows)`}
					{job.status === "completed" && job.downloadUrl && (
						<button type="button" className="link" onClick={() => void download(job.downloadUrl!, `attendance.${format}`).catch(setError)}>
							Download again
						</button>
					)}
				</span>
			)}
			{failed && <span role="alert" className="error">{failed}</span>}
			<ErrorNote error={error} title="Export" />
		</div>
	);
}
