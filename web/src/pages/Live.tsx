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

function Frame({ camera }: { camera: Camera }) {
	const [src, setSrc] = useState<string | null>(null);
	useEffect(() => {
		if (!camera.thumbnail) return;
		let url: string | null = null;
		let gone = false;
		objectUrl(camera.thumbnail).then(
			u => (gone ? URL.revokeObjectURL(u) : ((url = u), setSrc(u))),
			() => undefined
		);
		return () => {
			gone = true;
			if (url) URL.revokeObjectURL(url);
		};
	}, [camera.thumbnail]);
	return src ? <img src={src} alt={`Latest frame of ${camera.name}`} /> : <div className="no-frame">{camera.status === "online" ? "waiting for a frame" : "no picture"}</div>;
}

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
	// Frames refresh every 10 s; boxes expire every second.
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
										style={{ left: `${(100 * d.boundingBox.x) / w}%`, top: `${(100 * d.boundingBox.y) / h}%`, width: `${(100 * d.boundingBox.width) / w}%`, height: `${(100 * d.boundingBox.height) / h}%` }}
									>
										<span className="box-label">{d.status === "unknown" ? "unknown" : (d.name ?? d.employeeId)}</span>
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
