/**
 * The one relay of live messages to this gateway's own clients, whatever their transport
 * (Socket.IO, the plain `/ws`). Broker events reach every gateway (broadcast), so each relays
 * only to its clients. A client hears a channel it subscribed to and may hear (its
 * permissions, re-checked per message; own channels only its user's messages).
 *
 * Back-pressure: a client whose transport has more than `maxBuffered` queued is skipped
 * (the message dropped for it, counted), and one that stays over the limit for `slowMs` is
 * disconnected: a slow client costs at most its buffer limit, never the gateway's memory.
 * A client signed in with a token is disconnected when the token expires or its login is
 * revoked.
 */
import { keysOf, mayHear, messagesFor, reaches, subscriptionKey, type Channel, type LiveMessage } from "../../lib/live/channels";
import type { Principal } from "../schema";

/** What the relay needs of one client connection. */
export interface LiveClient {
	readonly id: string;
	readonly transport: "socket.io" | "ws";
	readonly principal: Principal;
	/** Queued and not yet written, in the transport's unit (packets or bytes, compared to its limit). */
	buffered(): number;
	readonly maxBuffered: number;
	/** Send one encoded message (`text` is the JSON of `message`, made once for every client). */
	send(m: LiveMessage, text: string): void;
	close(code: string, reason: string): void;
}

export interface RelayStats {
	clients: number;
	sent: number;
	dropped: number;
	disconnectedSlow: number;
}

interface Entry {
	client: LiveClient;
	keys: Set<string>;
	slowSince: number | null;
	expiry: NodeJS.Timeout | null;
}

export class LiveRelay {
	private entries = new Map<string, Entry>();
	/** Subscription key -> clients. */
	private byKey = new Map<string, Set<Entry>>();
	private stats = { sent: 0, dropped: 0, disconnectedSlow: 0 };

	constructor(
		private readonly opts: { slowMs: number; log?: (message: string, fields: Record<string, unknown>) => void } = { slowMs: 10_000 }
	) {}

	add(client: LiveClient): void {
		const entry: Entry = { client, keys: new Set(), slowSince: null, expiry: null };
		this.entries.set(client.id, entry);
		const exp = client.principal.expiresAt;
		if (exp) {
			// Node's timers take at most ~24.8 days; access tokens live minutes.
			const ms = Math.max(0, Math.min(exp - Date.now(), 2 ** 31 - 1));
			entry.expiry = setTimeout(() => this.drop(client.id, "TOKEN_EXPIRED", "The access token expired: reconnect with a fresh one"), ms);
			entry.expiry.unref?.();
		}
	}

	remove(id: string): void {
		const e = this.entries.get(id);
		if (!e) return;
		if (e.expiry) clearTimeout(e.expiry);
		for (const k of e.keys) this.byKey.get(k)?.delete(e);
		this.entries.delete(id);
	}

	/** Subscribe a client; refused when it may not hear the channel. */
	subscribe(id: string, channel: Channel, scope: { cameraId?: number; slotId?: number } = {}): { ok: true; key: string } | { ok: false; code: string; message: string } {
		const e = this.entries.get(id);
		if (!e) return { ok: false, code: "NOT_CONNECTED", message: "Not connected" };
		if (!mayHear(e.client.principal, channel)) return { ok: false, code: "FORBIDDEN", message: `Not allowed to subscribe to ${channel}` };
		const key = subscriptionKey(channel, scope);
		e.keys.add(key);
		let set = this.byKey.get(key);
		if (!set) this.byKey.set(key, (set = new Set()));
		set.add(e);
		return { ok: true, key };
	}

	unsubscribe(id: string, channel: Channel, scope: { cameraId?: number; slotId?: number } = {}): void {
		const e = this.entries.get(id);
		if (!e) return;
		const key = subscriptionKey(channel, scope);
		e.keys.delete(key);
		this.byKey.get(key)?.delete(e);
	}

	/** Relay a broker event to the clients it reaches. */
	event(name: string, payload: Record<string, unknown> | undefined): number {
		let n = 0;
		for (const m of messagesFor(name, payload)) n += this.publish(m);
		return n;
	}

	publish(m: LiveMessage): number {
		const targets = new Set<Entry>();
		for (const k of keysOf(m)) for (const e of this.byKey.get(k) ?? []) targets.add(e);
		if (targets.size === 0) return 0;
		const text = JSON.stringify(m.message);
		const now = Date.now();
		let sent = 0;
		for (const e of targets) {
			if (!reaches(e.client.principal, m)) continue;
			if (e.client.buffered() > e.client.maxBuffered) {
				this.stats.dropped++;
				e.slowSince ??= now;
				if (now - e.slowSince >= this.opts.slowMs) {
					this.stats.disconnectedSlow++;
					this.drop(e.client.id, "SLOW_CONSUMER", "The client did not read its messages: disconnected");
				}
				continue;
			}
			e.slowSince = null;
			e.client.send(m, text);
			sent++;
		}
		this.stats.sent += sent;
		return sent;
	}

	/** A login (its refresh family) or a whole account was revoked: its clients go. */
	revoked(p: { userId?: string; familyId?: string; keepFamily?: string }): void {
		for (const e of [...this.entries.values()]) {
			const pr = e.client.principal;
			if (pr.kind !== "user") continue;
			const hit = (p.userId && pr.id === p.userId && pr.sid !== p.keepFamily) || (p.familyId && pr.sid === p.familyId);
			if (hit) this.drop(e.client.id, "TOKEN_REVOKED", "The login was revoked");
		}
	}

	drop(id: string, code: string, reason: string): void {
		const e = this.entries.get(id);
		if (!e) return;
		this.remove(id);
		this.opts.log?.("Live client disconnected", { clientId: id, transport: e.client.transport, userId: e.client.principal.id, code });
		e.client.close(code, reason);
	}

	counts(): RelayStats {
		return { clients: this.entries.size, ...this.stats };
	}

	closeAll(): void {
		for (const id of [...this.entries.keys()]) this.drop(id, "SHUTDOWN", "The gateway is stopping");
	}
}
