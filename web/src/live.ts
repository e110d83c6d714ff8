/**
 * Live events over Socket.IO (the gateway relays the broker's live.* events), one connection
 * per tab, opened on first use with the current access token (asked again at every reconnect,
 * so a refreshed token is used). The client library is loaded only when a page needs it.
 */
import { useEffect, useRef, useState } from "react";
import type { Socket } from "socket.io-client";
import { accessToken, onSessionChange, refresh } from "./api";

let socket: Promise<Socket> | null = null;
/** Called with the socket each time it (re)connects, so subscriptions are made again. */
const onConnect = new Set<(s: Socket) => void>();

export function liveSocket(): Promise<Socket> {
	socket ??= import("socket.io-client").then(({ io }) => {
		const s = io({ path: "/socket.io", transports: ["websocket"], auth: cb => cb({ token: accessToken() }) });
		s.on("connect_error", err => {
			if (/TOKEN|UNAUTHORIZED/.test(err.message)) void refresh().then(ok => ok && s.connect());
		});
		s.on("connect", () => onConnect.forEach(f => f(s)));
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

/** Run `subscribe` on every (re)connection while mounted. */
export function useOnConnect(subscribe: (s: Socket) => void, deps: unknown[]): void {
	useEffect(() => {
		let s: Socket | null = null;
		const f = (sock: Socket) => subscribe(sock);
		onConnect.add(f);
		void liveSocket().then(sock => {
			s = sock;
			if (sock.connected) subscribe(sock);
		});
		return () => {
			onConnect.delete(f);
			void s;
		};
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, deps);
}

/** Call `handler` for each of these events while mounted. */
export function useLiveEvent(events: string[], handler: (event: string, payload: any) => void): void {
	const ref = useRef(handler);
	ref.current = handler;
	const key = events.join(",");
	useEffect(() => {
		let s: Socket | null = null;
		let gone = false;
		const fns = events.map(e => [e, (p: unknown) => ref.current(e, p)] as const);
		void liveSocket().then(sock => {
			if (gone) return;
			s = sock;
			for (const [e, f] of fns) sock.on(e, f);
		});
		return () => {
			gone = true;
			if (s) for (const [e, f] of fns) s.off(e, f);
		};
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, [key]);
}

/** A counter that moves (at most every `minMs`) when one of these events arrives: a dependency to reload on. */
export function useLive(events: string[], minMs = 1000): number {
	const [tick, setTick] = useState(0);
	const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
	useLiveEvent(events, () => {
		if (timer.current) return;
		timer.current = setTimeout(() => {
			timer.current = null;
			setTick(t => t + 1);
		}, minMs);
	});
	useEffect(() => () => void (timer.current && clearTimeout(timer.current)), []);
	return tick;
}
