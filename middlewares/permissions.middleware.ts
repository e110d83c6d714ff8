/**
 * The one permission check. Every action reached from outside (through the gateway: REST,
 * Socket.IO, the developer console's invoke, which is REST again) is checked against the
 * permission it declares in its own schema. Calls between services are not: the caller is
 * server code that already passed this check at the edge. The REPL has no principal.
 */
import type { ActionSchema, Context, Middleware } from "moleculer";
import { AUTHENTICATED, PUBLIC, hasPermission } from "../lib/api/route-facts";
import { ApiError } from "../lib/errors";
import type { GatewayMeta } from "../services/schema";

/** A call made by the gateway on behalf of a caller. */
export const fromEdge = (ctx: Context<unknown, GatewayMeta>) => ctx.caller === "api" && ctx.meta.user !== undefined;

export const PermissionsMiddleware: Middleware = {
	name: "Permissions",
	localAction(next: (ctx: Context) => Promise<unknown>, action: ActionSchema) {
		const needed = action.permission;
		if (!needed || needed === PUBLIC) return next;
		return function checkPermission(ctx: Context<unknown, GatewayMeta>) {
			if (fromEdge(ctx)) {
				const user = ctx.meta.user;
				if (!user) throw new ApiError(401, "UNAUTHORIZED", "Authentication required");
				if (needed !== AUTHENTICATED && !hasPermission(user.permissions, needed)) throw new ApiError(403, "FORBIDDEN", `This needs the ${needed} permission`);
			}
			return next(ctx);
		};
	}
} as Middleware;
