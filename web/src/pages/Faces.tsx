/**
 * The face register: profiles (paged, searchable) and registering a person with up to 5
 * photos. The API checks every photo and refuses the request whole when one has no single
 * usable face, naming each refused photo (details field images[i]): each photo is shown
 * accepted or refused with its reason, and the refused ones can be removed and the rest sent.
 * A profile's category (employee, or visitor: recognised but never counted for attendance) is
 * chosen when registering and changed in the profile.
 */
import { useEffect, useState, type FormEvent } from "react";
import { ApiFailure, del, get, objectUrl, put, request } from "../api";
import type { Route } from "../router";
import { useSession } from "../session";
import { dateTime } from "../time";
import { Badge, Dialog, ErrorNote, Field, Notice, Pager, statusTone, Table, useAction, useLoad, useQueryState } from "../ui";

const MAX_PHOTOS = 5;
const CATEGORIES = ["employee", "visitor"] as const;
type Category = (typeof CATEGORIES)[number];

function CategorySelect({ value, onChange, disabled }: { value: Category; onChange(c: Category): void; disabled?: boolean }) {
	return (
		<Field label="Category" hint="A visitor is recognised on the cameras but never counted for attendance">
			{id => (
				<select id={id} value={value} disabled={disabled} onChange={e => onChange(e.target.value as Category)}>
					{CATEGORIES.map(c => (
						<option key={c} value={c}>
							{c}
						</option>
					))}
				</select>
			)}
		</Field>
	);
}

interface FaceImage {
	id: string;
	filename: string;
	/** null for an embedding-only face (given through the face API's gallery/set, no photo kept). */
	url: string | null;
	source?: "photo" | "embedding";
	quality?: number;
	createdAt?: string;
}
interface Profile {
	id: string;
	employeeId: string;
	name: string;
	department?: string | null;
	category?: Category;
	status: string;
	imageCount: number;
	images?: FaceImage[];
	version: number;
	updatedAt?: string;
}

interface Photo {
	key: string;
	file: File;
	preview: string;
	verdict: { ok: true } | { ok: false; reason: string; code?: string } | null;
}

/** Each photo's verdict from the API's answer: refused ones named in details (images[i]), the others passed. */
function verdicts(photos: Photo[], err: unknown): Photo[] {
	if (!(err instanceof ApiFailure) || err.status !== 400) return photos;
	const refused = new Map<number, string>();
	for (const d of err.details) {
		const m = /^images\[(\d+)\]$/.exec(d.field ?? "");
		if (m) refused.set(Number(m[1]), d.issue ?? err.message);
	}
	if (refused.size === 0 && photos.length === 1) refused.set(0, err.message);
	if (refused.size === 0) return photos;
	// An issue reads "CODE: filename: reason": the reason in words, the code beside it.
	const verdict = (p: Photo, issue: string): Photo["verdict"] => {
		const m = /^([A-Z_]+):\s*(.*)$/s.exec(issue);
		const reason = (m ? m[2] : issue).replace(`${p.file.name}: `, "");
		return { ok: false, reason: reason.charAt(0).toUpperCase() + reason.slice(1), code: m?.[1] };
	};
	return photos.map((p, i) => ({ ...p, verdict: refused.has(i) ? verdict(p, refused.get(i)!) : { ok: true } }));
}

function PhotoPicker({ photos, setPhotos, max }: { photos: Photo[]; setPhotos(p: Photo[]): void; max: number }) {
	const add = (files: FileList | null) => {
		if (!files) return;
		const next = [...photos];
		for (const f of Array.from(files)) {
			if (next.length >= max) break;
			next.push({ key: `${f.name}-${f.size}-${Math.random()}`, file: f, preview: URL.createObjectURL(f), verdict: null });
		}
		setPhotos(next);
	};
	return (
		<div>
			<Field label={`Photos (up to ${max})`} hint="JPEG, PNG or WebP; one face each, looking at the camera">
				{id => <input id={id} type="file" accept="image/jpeg,image/png,image/webp" multiple disabled={photos.length >= max} onChange={e => (add(e.target.files), (e.target.value = ""))} />}
			</Field>
			<ul className="photos" aria-label="Chosen photos">
				{photos.map(p => (
					<li key={p.key} className={p.verdict ? (p.verdict.ok ? "accepted" : "refused") : undefined}>
						<img src={p.preview} alt={p.file.name} />
						<div className="photo-name">{p.file.name}</div>
						<div className="photo-verdict" role="status">
							{p.verdict === null ? <span className="muted">not checked yet</span> : p.verdict.ok ? <Badge tone="ok">accepted</Badge> : <><Badge tone="bad">refused</Badge> <span className="reason">{p.verdict.reason}</span> {p.verdict.code && <span className="code">({p.verdict.code})</span>}</>}
						</div>
						<button type="button" onClick={() => setPhotos(photos.filter(x => x !== p))} aria-label={`Remove ${p.file.name}`}>
							Remove
						</button>
					</li>
				))}
			</ul>
		</div>
	);
}

function formOf(fields: Record<string, string>, photos: Photo[]): FormData {
	const fd = new FormData();
	// Fields before the files: the gateway reads a form's fields only ahead of its file parts.
	for (const [k, v] of Object.entries(fields)) if (v) fd.append(k, v);
	for (const p of photos) fd.append("images", p.file, p.file.name);
	return fd;
}

function Register({ onDone }: { onDone(p: Profile): void }) {
	const [name, setName] = useState("");
	const [employeeId, setEmployeeId] = useState("");
	const [department, setDepartment] = useState("");
	const [category, setCategory] = useState<Category>("employee");
	const [photos, setPhotos] = useState<Photo[]>([]);
	const [error, setError] = useState<unknown>(null);
	const [busy, setBusy] = useState(false);
	const submit = async (e: FormEvent) => {
		e.preventDefault();
		setBusy(true);
		setError(null);
		try {
			const r = await request<Profile>("/faces", { method: "POST", form: formOf({ name: name.trim(), employeeId: employeeId.trim(), department: department.trim(), category }, photos) });
			setPhotos(photos.map(p => ({ ...p, verdict: { ok: true } })));
			onDone(r.data);
		} catch (err) {
			setError(err);
			setPhotos(verdicts(photos, err));
		} finally {
			setBusy(false);
		}
	};
	const refused = photos.filter(p => p.verdict && !p.verdict.ok);
	return (
		<form onSubmit={submit} className="form" aria-label="Register a person">
			<Field label="Name">{id => <input id={id} required value={name} onChange={e => setName(e.target.value)} />}</Field>
			<Field label="Employee id">{id => <input id={id} required value={employeeId} onChange={e => setEmployeeId(e.target.value)} />}</Field>
			<Field label="Department">{id => <input id={id} value={department} onChange={e => setDepartment(e.target.value)} />}</Field>
			<CategorySelect value={category} onChange={setCategory} />
			<PhotoPicker photos={photos} setPhotos={setPhotos} max={MAX_PHOTOS} />
			<ErrorNote error={error} title="Not registered" />
			{refused.length > 0 && <Notice>Nothing was saved: remove the refused photos (or replace them) and register again.</Notice>}
			<div className="actions">
				{refused.length > 0 && (
					<button type="button" onClick={() => setPhotos(photos.filter(p => !refused.includes(p)).map(p => ({ ...p, verdict: null })))}>
						Remove refused photos
					</button>
				)}
				<button type="submit" className="primary" disabled={busy}>
					{busy ? "Checking photos…" : "Register"}
				</button>
			</div>
		</form>
	);
}

function AuthedImage({ url, alt }: { url: string; alt: string }) {
	const [src, setSrc] = useState<string | null>(null);
	useEffect(() => {
		let u: string | null = null;
		let gone = false;
		objectUrl(url).then(
			x => (gone ? URL.revokeObjectURL(x) : setSrc((u = x))),
			() => undefined
		);
		return () => {
			gone = true;
			if (u) URL.revokeObjectURL(u);
		};
	}, [url]);
	return src ? <img src={src} alt={alt} /> : <div className="img-placeholder" aria-label={alt} />;
}

function ProfileView({ id, canWrite, onChanged }: { id: string; canWrite: boolean; onChanged(): void }) {
	const prof = useLoad(sig => get<Profile>(`/faces/${encodeURIComponent(id)}`, undefined, sig).then(a => a.data), [id]);
	const [photos, setPhotos] = useState<Photo[]>([]);
	const act = useAction(async (what: "add" | "archive" | "remove" | "delete" | "category", arg?: string) => {
		const p = prof.data!;
		const path = `/faces/${encodeURIComponent(p.id)}`;
		if (what === "add") {
			try {
				await request(`${path}/images`, { method: "POST", form: formOf({}, photos) });
				setPhotos([]);
			} catch (err) {
				setPhotos(verdicts(photos, err));
				throw err;
			}
		}
		if (what === "archive") await put(path, { archived: p.status !== "archived", version: p.version });
		if (what === "category" && arg) await put(path, { category: arg, version: p.version });
		if (what === "remove" && arg) await del(`${path}/images/${encodeURIComponent(arg)}`);
		if (what === "delete") {
			if (!window.confirm(`Delete ${p.name} and every photo?`)) return;
			await del(path);
			onChanged();
			return;
		}
		prof.reload();
		onChanged();
	});
	const p = prof.data;
	if (!p) return <ErrorNote error={prof.error} />;
	return (
		<div>
			<p>
				{p.employeeId} · {p.department || "no department"} · {p.category ?? "employee"} · <Badge tone={statusTone(p.status)}>{p.status}</Badge>
			</p>
			{canWrite && <CategorySelect value={p.category ?? "employee"} disabled={act.busy} onChange={c => void act.run("category", c)} />}
			<ul className="photos">
				{(p.images ?? []).map(img => (
					<li key={img.id}>
						{img.url ? (
							<AuthedImage url={img.url} alt={img.filename} />
						) : (
							<div className="img-placeholder no-photo" role="img" aria-label={`No photo kept for ${img.filename || "this face"} (embedding only)`}>
								<span>no photo</span>
								<small>embedding only</small>
							</div>
						)}
						<div className="photo-name">{img.filename}</div>
						{canWrite && (
							<button onClick={() => void act.run("remove", img.id)} aria-label={`Remove photo ${img.filename}`}>
								Remove
							</button>
						)}
					</li>
				))}
			</ul>
			<ErrorNote error={act.error} />
			{canWrite && (
				<>
					{(p.images?.length ?? 0) < MAX_PHOTOS && (
						<>
							<PhotoPicker photos={photos} setPhotos={setPhotos} max={MAX_PHOTOS - (p.images?.length ?? 0)} />
							<button onClick={() => void act.run("add")} disabled={photos.length === 0 || act.busy}>
								Add photos
							</button>
						</>
					)}
					<div className="actions">
						<button onClick={() => void act.run("archive")}>{p.status === "archived" ? "Restore" : "Archive"}</button>
						<button className="danger" onClick={() => void act.run("delete")}>
							Delete profile
						</button>
					</div>
				</>
			)}
		</div>
	);
}

export default function Faces({ route }: { route: Route }) {
	const s = useSession();
	const canWrite = s.can("faces:write");
	const [q, setQ] = useQueryState(route.query, "/faces");
	const page = Number(q.page ?? 1);
	const pageSize = Number(q.pageSize ?? 20);
	const list = useLoad(sig => get<Profile[]>("/faces", { page, pageSize, search: q.search, status: q.status }, sig), [page, pageSize, q.search, q.status]);
	const [registering, setRegistering] = useState(false);
	const [open, setOpen] = useState<Profile | null>(null);
	const [done, setDone] = useState<Profile | null>(null);
	return (
		<>
			<h1>Face register</h1>
			<div className="toolbar">
				<Field label="Search">{id => <input id={id} type="search" defaultValue={q.search ?? ""} onKeyDown={e => e.key === "Enter" && setQ({ search: (e.target as HTMLInputElement).value })} />}</Field>
				<Field label="Status">
					{id => (
						<select id={id} value={q.status ?? ""} onChange={e => setQ({ status: e.target.value })}>
							<option value="">any</option>
							<option value="active">active</option>
							<option value="pending">pending</option>
							<option value="archived">archived</option>
						</select>
					)}
				</Field>
				{canWrite && (
					<button className="primary" onClick={() => (setDone(null), setRegistering(true))}>
						Register a person
					</button>
				)}
			</div>
			{done && <Notice>{`${done.name} registered with ${done.imageCount} photo${done.imageCount === 1 ? "" : "s"}.`}</Notice>}
			<ErrorNote error={list.error} />
			<Table
				caption="Face profiles"
				loading={list.loading}
				rows={list.data?.data ?? []}
				rowKey={p => p.id}
				empty="No one registered."
				columns={[
					{ label: "Employee id", render: p => p.employeeId },
					{ label: "Name", render: p => <button className="link" onClick={() => setOpen(p)}>{p.name}</button> },
					{ label: "Department", render: p => p.department ?? "" },
					{ label: "Category", render: p => p.category ?? "employee" },
					{ label: "Photos", render: p => p.imageCount },
					{ label: "Status", render: p => <Badge tone={statusTone(p.status)}>{p.status}</Badge> },
					{ label: "Updated", render: p => dateTime(p.updatedAt) }
				]}
			/>
			<Pager meta={list.data?.meta} onPage={p => setQ({ page: p })} onPageSize={n => setQ({ pageSize: n, page: 1 })} />
			<Dialog title="Register a person" open={registering} onClose={() => setRegistering(false)}>
				{registering && (
					<Register
						onDone={p => {
							setRegistering(false);
							setDone(p);
							list.reload();
						}}
					/>
				)}
			</Dialog>
			<Dialog title={open?.name ?? ""} open={open !== null} onClose={() => setOpen(null)}>
				{open && <ProfileView id={open.id} canWrite={canWrite} onChanged={() => list.reload()} />}
			</Dialog>
		</>
	);
}
