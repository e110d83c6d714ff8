/** Small shared pieces: errors in words, paged tables, fields, dialogs, badges. */
import { useCallback, useEffect, useId, useRef, useState, type ReactNode } from "react";
import { ApiFailure, type Paging } from "./api";

/** An error as the API said it, with the fields it names; nothing when there is none. */
export function ErrorNote({ error, title }: { error: unknown; title?: string }) {
	if (!error) return null;
	const f = error instanceof ApiFailure ? error : null;
	return (
		<div role="alert" className="error">
			{title && <strong>{title}: </strong>}
			{f ? f.message : (error as Error).message ?? String(error)}
			{f && f.details.length > 0 && (
				<ul>
					{f.details.map((d, i) => (
						<li key={i}>{d.issue ?? d.field}</li>
					))}
				</ul>
			)}
			{f && f.code && <span className="code"> ({f.code})</span>}
		</div>
	);
}

export function Notice({ children }: { children: ReactNode }) {
	return (
		<div role="status" className="notice">
			{children}
		</div>
	);
}

/** An async action's state: run it, see it busy, see its error. */
export function useAction<A extends unknown[], R>(fn: (...args: A) => Promise<R>): { run: (...args: A) => Promise<R | undefined>; busy: boolean; error: unknown; clear: () => void } {
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState<unknown>(null);
	const run = useCallback(
		async (...args: A) => {
			setBusy(true);
			setError(null);
			try {
				return await fn(...args);
			} catch (err) {
				setError(err);
				return undefined;
			} finally {
				setBusy(false);
			}
		},
		[fn]
	);
	return { run, busy, error, clear: () => setError(null) };
}

/** Data loaded when its dependencies change (the previous request aborted), with reload. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): { data: T | null; error: unknown; loading: boolean; reload: () => void } {
	const [data, setData] = useState<T | null>(null);
	const [error, setError] = useState<unknown>(null);
	const [loading, setLoading] = useState(true);
	const [tick, setTick] = useState(0);
	useEffect(() => {
		const ac = new AbortController();
		setLoading(true);
		load(ac.signal).then(
			d => {
				if (ac.signal.aborted) return;
				setData(d);
				setError(null);
				setLoading(false);
			},
			err => {
				if (ac.signal.aborted || (err as Error).name === "AbortError") return;
				setError(err);
				setLoading(false);
			}
		);
		return () => ac.abort();
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, [...deps, tick]);
	return { data, error, loading, reload: () => setTick(t => t + 1) };
}

export interface Column<T> {
	label: string;
	render(row: T): ReactNode;
	className?: string;
}

/** A table of one page of rows; the server pages, so thousands of rows stay responsive. */
export function Table<T>({ caption, columns, rows, rowKey, empty, loading }: { caption: string; columns: Column<T>[]; rows: T[]; rowKey(row: T): string; empty?: string; loading?: boolean }) {
	return (
		<div className="table-wrap">
			<table aria-busy={loading || undefined}>
				<caption className="sr-only">{caption}</caption>
				<thead>
					<tr>
						{columns.map(c => (
							<th key={c.label} scope="col" className={c.className}>
								{c.label}
							</th>
						))}
					</tr>
				</thead>
				<tbody>
					{rows.length === 0 ? (
						<tr>
							<td colSpan={columns.length} className="muted">
								{loading ? "Loading…" : (empty ?? "Nothing to show.")}
							</td>
						</tr>
					) : (
						rows.map(r => (
							<tr key={rowKey(r)}>
								{columns.map(c => (
									<td key={c.label} className={c.className}>
										{c.render(r)}
									</td>
								))}
							</tr>
						))
					)}
				</tbody>
			</table>
		</div>
	);
}

export function Pager({ meta, onPage, onPageSize }: { meta?: Paging | null; onPage(page: number): void; onPageSize?(size: number): void }) {
	if (!meta) return null;
	const last = Math.max(1, meta.totalPages);
	return (
		<nav className="pager" aria-label="Pages">
			<button onClick={() => onPage(meta.page - 1)} disabled={meta.page <= 1}>
				Previous
			</button>
			<span aria-live="polite">
				Page {meta.page} of {last} · {meta.total.toLocaleString()} in all
			</span>
			<button onClick={() => onPage(meta.page + 1)} disabled={meta.page >= last}>
				Next
			</button>
			{onPageSize && (
				<label>
					Rows per page{" "}
					<select value={meta.pageSize} onChange={e => onPageSize(Number(e.target.value))}>
						{[20, 50, 100].map(n => (
							<option key={n}>{n}</option>
						))}
					</select>
				</label>
			)}
		</nav>
	);
}

/** A labelled input (the label is the input's accessible name). */
export function Field({ label, children, hint }: { label: string; children: (id: string) => ReactNode; hint?: string }) {
	const id = useId();
	return (
		<div className="field">
			<label htmlFor={id}>{label}</label>
			{children(id)}
			{hint && <small className="muted">{hint}</small>}
		</div>
	);
}

/** A modal dialog (the native <dialog>: focus kept inside, Escape closes). */
export function Dialog({ title, open, onClose, children }: { title: string; open: boolean; onClose(): void; children: ReactNode }) {
	const ref = useRef<HTMLDialogElement>(null);
	useEffect(() => {
		const d = ref.current;
		if (!d) return;
		if (open && !d.open) d.showModal();
		if (!open && d.open) d.close();
	}, [open]);
	return (
		<dialog ref={ref} onClose={onClose} aria-label={title}>
			{open && (
				<>
					<header className="dialog-head">
						<h2>{title}</h2>
						<button className="link" onClick={onClose} aria-label="Close">
							✕
						</button>
					</header>
					{children}
				</>
			)}
		</dialog>
	);
}

export function Badge({ tone, children }: { tone: "ok" | "warn" | "bad" | "info" | "muted"; children: ReactNode }) {
	return <span className={`badge badge-${tone}`}>{children}</span>;
}

export function statusTone(s: string | null | undefined): "ok" | "warn" | "bad" | "info" | "muted" {
	switch (s) {
		case "online":
		case "present":
		case "active":
		case "synced":
		case "completed":
		case "healthy":
		case "running":
		case "resolved":
			return "ok";
		case "late":
		case "pending":
		case "degraded":
		case "medium":
		case "warning":
		case "acknowledged":
			return "warn";
		case "offline":
		case "down":
		case "failed":
		case "suspended":
		case "critical":
		case "high":
		case "unhealthy":
		case "missed":
			return "bad";
		case "low":
		case "info":
		case "processing":
		case "queued":
			return "info";
		default:
			return "muted";
	}
}

export function Card({ label, value, hint }: { label: string; value: ReactNode; hint?: ReactNode }) {
	return (
		<div className="card">
			<div className="card-label">{label}</div>
			<div className="card-value">{value}</div>
			{hint && <div className="card-hint">{hint}</div>}
		</div>
	);
}

/** Page state (page, filters) kept in the URL's hash query, so back and reload keep it. */
export function useQueryState(query: URLSearchParams, path: string): [Record<string, string>, (patch: Record<string, string | number | undefined>) => void] {
	const state: Record<string, string> = {};
	query.forEach((v, k) => (state[k] = v));
	const set = (patch: Record<string, string | number | undefined>) => {
		const next: Record<string, string | undefined> = { ...state };
		for (const [k, v] of Object.entries(patch)) next[k] = v === undefined || v === "" ? undefined : String(v);
		if (!("page" in patch)) delete next.page; // a new filter starts at page 1
		const q = new URLSearchParams();
		for (const [k, v] of Object.entries(next)) if (v !== undefined) q.set(k, v);
		const s = q.toString();
		window.location.hash = s ? `${path}?${s}` : path;
	};
	return [state, set];
}
