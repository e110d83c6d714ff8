/**
 * Live view: a grid of the monitored cameras with their latest frame and the boxes of the
 * faces seen in the last seconds, named or unknown, updated as detections arrive over Socket.IO.
 */
import { useEffect, useState } from "react";
import { get, objectUrl } from "../api";
import { useChannel, useChannelTick } from "../live";
import { timeOf } from "../time";
import { Badge, ErrorNote, statusTone, useLoad } from "../ui";
import type { Camera } from "./Cameras";

export interface Detection {
	id: string;
	trackId: string;
	name: string | null;
	employeeId: string | null;
	cameraId: number;
	status: "authorized" | "visitor" | "unknown";
	confidence: number;
	boundingBox: { x: number; y: number; width: number; height: number };
	lastSeen: string;
}

/** How long a box stays on screen after its face was last seen. */
const BOX_MS = 6000;

/** How often the latest frame is read again (the monitor keeps one every 10 s, under the same name). */
const FRAME_MS = 5000;

/**
 * The camera's latest frame: read again every FRAME_MS (revalidated, the name does not
 * change), the one on screen kept until the next has arrived, so it never blinks.
 */
function Frame({ camera }: { camera: Camera }) {
	const [src, setSrc] = useState<string | null>(null);
	const [tick, setTick] = useState(0);
	useEffect(() => {
		const t = setInterval(() => document.visibilityState === "visible" && setTick(n => n + 1), FRAME_MS);
		return () => clearInterval(t);
	}, []);
	useEffect(() => {
		if (!camera.thumbnail) return;
		let gone = false;
		objectUrl(camera.thumbnail, { cache: "no-cache" }).then(
			u => (gone ? URL.revokeObjectURL(u) : setSrc(u)),
			() => undefined
		);
		return () => void (gone = true);
	}, [camera.thumbnail, tick]);
	// The one replaced (or the last, when the tile goes) is released.
	useEffect(() => () => void (src && URL.revokeObjectURL(src)), [src]);
	return src ? <img src={src} alt={`Latest frame of ${camera.name}`} /> : <div className="no-frame">{camera.status === "online" ? "waiting for a frame" : "no picture"}</div>;
}

/** What a box says: the person's name, or unknown. */
const label = (d: Detection) => (d.status === "unknown" ? "unknown" : (d.name ?? d.employeeId ?? "unknown"));

function size(c: Camera): [number, number] {
	const m = /^(\d+)x(\d+)$/.exec(c.resolution ?? "");
	return m ? [Number(m[1]), Number(m[2])] : [1920, 1080];
}

export default function Live() {
	const [tick, setTick] = useState(0);
	const statusTick = useChannelTick("camera-status", 500);
	const cams = useLoad(sig => get<Camera[]>("/cameras", { enabled: true, pageSize: 100 }, sig).then(a => a.data), [tick, statusTick]);
	const [dets, setDets] = useState<Map<string, Detection & { shownAt: number }>>(new Map());
	const [now, setNow] = useState(Date.now());
	const add = (list: Detection[]) =>
		setDets(prev => {
			const next = new Map(prev);
			for (const d of list) next.set(d.trackId, { ...d, shownAt: Date.now() });
			return next;
		});
	useEffect(() => {
		get<Detection[]>("/detections/live", { limit: 100 }).then(a => add(a.data.filter(d => Date.now() - Date.parse(d.lastSeen) < BOX_MS)), () => undefined);
	}, []);
	useChannel<{ detection: Detection }>("detections", m => m?.detection?.trackId && add([m.detection]));
	// The cameras are read again every 10 s (and on a status change); boxes expire every second.
	useEffect(() => {
		const a = setInterval(() => setNow(Date.now()), 1000);
		const b = setInterval(() => setTick(t => t + 1), 10_000);
		return () => (clearInterval(a), clearInterval(b));
	}, []);
	const cameras = cams.data ?? [];
	return (
		<>
			<h1>Live view</h1>
			<ErrorNote error={cams.error} />
			{cameras.length === 0 && !cams.loading && <p className="muted">No monitored camera.</p>}
			<div className="live-grid">
				{cameras.map(c => {
					const [w, h] = size(c);
					const boxes = [...dets.values()].filter(d => d.cameraId === c.cameraId && now - d.shownAt < BOX_MS);
					return (
						<figure key={c.id} className="live-tile" aria-label={c.name}>
							<div className="live-frame" style={{ aspectRatio: `${w} / ${h}` }}>
								<Frame camera={c} />
								{boxes.map(d => (
									<div
										key={d.trackId}
										className={`box box-${d.status}`}
										data-testid="detection-box"
										data-track={d.trackId}
										data-status={d.status}
										data-last-seen={d.lastSeen}
										title={`${label(d)} · ${Math.round(d.confidence * 100)}%`}
										style={{ left: `${(100 * d.boundingBox.x) / w}%`, top: `${(100 * d.boundingBox.y) / h}%`, width: `${(100 * d.boundingBox.width) / w}%`, height: `${(100 * d.boundingBox.height) / h}%` }}
									>
										<span className="box-label">{label(d)}</span>
									</div>
								))}
							</div>
							<figcaption>
								<Badge tone={statusTone(c.status)}>{c.status}</Badge> {c.name} <span className="muted">{c.status === "online" ? `${c.fps} fps` : ""}</span>
								<ul className="plain small">
									{boxes.map(d => (
										<li key={d.trackId}>
											{d.status === "unknown" ? "unknown face" : d.name} · {Math.round(d.confidence * 100)}% · {timeOf(d.lastSeen)}
										</li>
									))}
								</ul>
							</figcaption>
						</figure>
					);
				})}
			</div>
		</>
	);
}
