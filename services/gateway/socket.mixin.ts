/**
 * Socket.IO on the gateway's HTTP server: relays `live.*` events to clients. A client
 * authenticates like a REST caller, through the same credentials check: an API key
 * (`auth.apiKey` or the X-API-Key header) or a console access token (`auth.token` or
 * `Authorization: Bearer`).
 */
import type { Server as HttpServer } from "node:http";
import type { Context, ServiceSchema } from "moleculer";
import { Server as SocketServer, type Socket } from "socket.io";
import type { Credentials } from "./credentials";

interface SocketThis {
	logger: { error(...a: unknown[]): void };
	io?: SocketServer;
	server: HttpServer;
	credentials: Credentials;
	relay(event: string, payload: { slotId?: number } | undefined): void;
}

export const SocketMixin: Partial<ServiceSchema<object, object, object, SocketThis>> = {
	methods: {
		/** Relay a live event to Socket.IO clients: everyone in `all`, and the slot's room. */
		relay(this: SocketThis, event: string, payload: { slotId?: number } | undefined) {
			if (!this.io) return;
			const name = event.replace(/^live\./, "");
			let target = this.io.to("all");
			if (payload && payload.slotId !== undefined) target = target.to(`slot:${payload.slotId}`);
			target.emit(name, payload ?? {});
		},

		attachSocketServer(this: SocketThis) {
			const io = new SocketServer(this.server, { path: "/socket.io", serveClient: false, cors: { origin: true } });
			this.io = io;
			io.use((socket: Socket, next: (err?: Error) => void) => {
				const auth = (socket.handshake.auth ?? {}) as { apiKey?: unknown; token?: unknown };
				const header = socket.handshake.headers.authorization;
				const token = typeof auth.token === "string" ? auth.token : typeof header === "string" ? (/^Bearer\s+(.+)$/i.exec(header)?.[1] ?? undefined) : undefined;
				const check = token ? this.credentials.bearer(token) : this.credentials.apiKey(auth.apiKey ?? socket.handshake.headers["x-api-key"]);
				check.then(
					principal => {
						socket.data.principal = principal;
						next();
					},
					(err: { type?: string }) => next(new Error(err.type ?? "UNAUTHORIZED"))
				);
			});
			io.on("connection", socket => {
				const slots: unknown = socket.handshake.auth?.slots;
				// A client that names slots hears only those; otherwise it hears everything.
				if (Array.isArray(slots) && slots.length > 0) for (const s of slots) socket.join(`slot:${Number(s)}`);
				else socket.join("all");
				socket.on("subscribe", (msg: { slotId?: unknown }, ack?: (r: unknown) => void) => {
					const id = Number(msg?.slotId);
					if (!Number.isInteger(id)) return ack?.({ ok: false, code: "SLOT_ID_REQUIRED" });
					socket.join(`slot:${id}`);
					ack?.({ ok: true, room: `slot:${id}` });
				});
				socket.on("unsubscribe", (msg: { slotId?: unknown }, ack?: (r: unknown) => void) => {
					socket.leave(`slot:${Number(msg?.slotId)}`);
					ack?.({ ok: true });
				});
			});
		}
	},
	events: {
		"live.**": {
			handler(this: SocketThis, ctx: Context<{ slotId?: number }>) {
				this.relay(String(ctx.eventName), ctx.params);
			}
		}
	},
	async stopped(this: SocketThis) {
		if (this.io) await new Promise<void>(resolve => this.io!.close(() => resolve()));
	}
};
