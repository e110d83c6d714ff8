/**
 * Live channels over Socket.IO (the gateway's relay: `subscribe {channel, cameraId?}` with an
 * ack, each message emitted under its channel's name). One connection per tab, opened on first
 * use with the current access token, asked again at every reconnect; when the gateway ends it
 * because the token expired, the token is refreshed and the connection made again. Pages
 * subscribe while mounted (counted, so two pages share a subscription) and subscriptions are
 * made again after a reconnect. The client library is loaded only when a page needs it.
 */
import { useEffect, useRef, useState } from "react";
import type { Socket } from "socket.io-client";
import { accessToken, onSessionChange, refresh } from "./api";

export type Channel = "detections" | "camera-status" | "alerts" | "notifications" | "exports" | "attendance" | "audit";

let socket: Promise<Socket> | null = null;
/** Subscriptions wanted now, by key ("detections" or "detections:3"), with how many pages want each. */
const wanted = new Map<string, { channel: Channel; cameraId?: number; count: number }>();

function subscribe(s: Socket, channel: Channel, cameraId?: number): void {
	if (s.connected) s.emit("subscribe", cameraId === undefined ? { channel } : { channel, cameraId }, () => undefined);
}

export function liveSocket(): Promise<Socket> {
	socket ??= import("socket.io-client").then(({ io }) => {
		const s = io({ path: "/socket.io", transports: ["websocket"], auth: cb => cb({ token: accessToken() }) });
		const again = () => void refresh().then(ok => ok && !s.connected && s.connect());
		s.on("connect_error", err => /TOKEN|UNAUTHORIZED/.test(err.message) && again());
		// The gateway ends a connection whose token expired (an `error` with the code, then a server disconnect).
		s.on("disconnect", reason => reason === "io server disconnect" && accessToken() && again());
		s.on("connect", () => {
			// The console does not follow the FUACS sessions' events, which every connection starts with.
			s.emit("unsubscribe", { channel: "sessions" }, () => undefined);
			for (const w of wanted.values()) subscribe(s, w.channel, w.cameraId);
		});
		return s;
	});
	return socket;
}

onSessionChange(signedIn => {
	if (!signedIn && socket) {
		void socket.then(s => s.disconnect());
		socket = null;
	}
});

/** Hear a channel (or one camera's part of it) while mounted: `handler` gets each message. */
export function useChannel<M = any>(channel: Channel | null, handler: (message: M) => void, cameraId?: number): void {
	const ref = useRef(handler);
	ref.current = handler;
	useEffect(() => {
		if (!channel) return;
		const key = cameraId === undefined ? channel : `${channel}:${cameraId}`;
		const w = wanted.get(key) ?? { channel, cameraId, count: 0 };
		w.count++;
		wanted.set(key, w);
		let s: Socket | null = null;
		let gone = false;
		const on = (m: M) => ref.current(m);
		void liveSocket().then(sock => {
			if (gone) return;
			s = sock;
			sock.on(channel, on);
			if (w.count === 1) subscribe(sock, channel, cameraId);
		});
		return () => {
			gone = true;
			w.count--;
			if (s) {
				s.off(channel, on);
				if (w.count === 0) {
					wanted.delete(key);
					if (s.connected) s.emit("unsubscribe", cameraId === undefined ? { channel } : { channel, cameraId }, () => undefined);
				}
			} else if (w.count === 0) wanted.delete(key);
		};
	}, [channel, cameraId]);
}

/** A counter that moves (at most every `minMs`) when a message arrives on the channel: a dependency to reload on. */
export function useChannelTick(channel: Channel | null, minMs = 1000): number {
	const [tick, setTick] = useState(0);
	const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
	useChannel(channel, () => {
		if (timer.current) return;
		timer.current = setTimeout(() => {
			timer.current = null;
			setTick(t => t + 1);
		}, minMs);
	});
	useEffect(() => () => void (timer.current && clearTimeout(timer.current)), []);
	return tick;
}
