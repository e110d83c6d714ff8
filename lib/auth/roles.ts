/**
 * The console's roles (seed 002) and their permissions, `resource:verb`. Fixed in code: a
 * role is a promise about what its holders can do, reviewed with the code that checks it.
 */
export interface Role {
	id: string;
	name: string;
	permissions: string[];
	description: string;
}

export const ROLES: readonly Role[] = [
	{ id: "ROLE-ADMIN", name: "Admin", permissions: ["*"], description: "Full system access" },
	{
		id: "ROLE-OPERATOR",
		name: "Operator",
		permissions: ["cameras:read", "cameras:write", "attendance:read", "attendance:export", "faces:read", "faces:write", "faceapi:use", "alerts:read", "alerts:write", "system:read", "developer:invoke", "odoo:read"],
		description: "Operational access"
	},
	{ id: "ROLE-VIEWER", name: "Viewer", permissions: ["cameras:read", "attendance:read", "system:read", "alerts:read"], description: "Read-only access" }
];

export const ROLE_IDS = ROLES.map(r => r.id);

export function roleById(id: string): Role | undefined {
	return ROLES.find(r => r.id === id);
}

export function permissionsOf(roleId: string): string[] {
	return [...(roleById(roleId)?.permissions ?? [])];
}

/** Holders of this role can do everything (the role an account must keep one of). */
export function hasAdminRights(roleId: string): boolean {
	return permissionsOf(roleId).includes("*");
}
