/** Roles (gateway role; seed 002 `GET /roles`): fixed in code (lib/auth/roles.ts). */
import type { ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { ROLES } from "../../lib/auth/roles";

export default function rolesService(_cfg: Config): ServiceSchema<{ family: string; resource: string }> {
	return {
		name: "roles",
		settings: { family: "console", resource: "role" },
		actions: {
			list: {
				rest: "GET /roles",
				permission: "users:read",
				openapi: {
					summary: "The roles and their permissions",
					tags: ["users"],
					response: { type: "array", items: { type: "object", properties: { id: { type: "string" }, name: { type: "string" }, permissions: { type: "array", items: { type: "string" } }, description: { type: "string" } } } }
				},
				params: { $$strict: true },
				handler() {
					return ROLES.map(r => ({ ...r, permissions: [...r.permissions] }));
				}
			}
		}
	};
}
