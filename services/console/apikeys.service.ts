/**
 * Named API keys (storage role): an administrator creates a key with a role for a program
 * (the face API, an integration), sees it once, and can revoke it. Stored as SHA-256 only;
 * the gateway finds a key by its public prefix and compares the hash in constant time.
 */
import crypto from "node:crypto";
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { DbMixin } from "../../mixins/db.mixin";
import { ROLE_IDS, permissionsOf } from "../../lib/auth/roles";
import { newApiKey } from "../../lib/auth/tokens";
import { ApiError } from "../../lib/errors";
import type { DbVars, GatewayMeta } from "../schema";

interface KeyDoc {
	_id: string;
	name: string;
	prefix: string;
	hash: string;
	roleId: string;
	createdBy?: string;
	createdAt: Date;
	revokedAt: Date | null;
}

const view = (d: KeyDoc) => ({ id: d._id, name: d.name, prefix: d.prefix, roleId: d.roleId, createdBy: d.createdBy ?? null, createdAt: new Date(d.createdAt).toISOString(), revoked: !!d.revokedAt });
const KEY_RESPONSE = { type: "object", properties: { id: { type: "string" }, name: { type: "string" }, prefix: { type: "string" }, roleId: { type: "string" }, createdBy: { type: ["string", "null"] }, createdAt: { type: "string" }, revoked: { type: "boolean" } } };

type Vars = DbVars;

export default function apiKeysService(cfg: Config): ServiceSchema<{ family: string; resource: string }, object, Vars> {
	return {
		name: "apikeys",
		mixins: [DbMixin("api_keys", cfg)],
		settings: { family: "console", resource: "api-key" },
		actions: {
			list: {
				rest: "GET /api-keys",
				permission: "apikeys:read",
				openapi: { summary: "Named API keys (never the keys themselves)", tags: ["api-keys"], response: { type: "array", items: KEY_RESPONSE } },
				params: { $$strict: true },
				async handler() {
					const docs: KeyDoc[] = await this.adapter.find({ sort: ["-createdAt"] });
					return docs.map(view);
				}
			},
			create: {
				rest: "POST /api-keys",
				permission: "apikeys:write",
				status: 201,
				openapi: { summary: "Create a named API key with a role; the key is in this answer only", tags: ["api-keys"], response: { ...KEY_RESPONSE, properties: { ...KEY_RESPONSE.properties, key: { type: "string" } } } },
				params: { name: { type: "string", min: 1, max: 100, trim: true }, roleId: { type: "enum", values: ROLE_IDS }, $$strict: true },
				async handler(ctx: Context<{ name: string; roleId: string }, GatewayMeta>) {
					const { key, prefix, hash } = newApiKey();
					const doc: KeyDoc = { _id: crypto.randomUUID(), name: ctx.params.name, prefix, hash, roleId: ctx.params.roleId, createdBy: ctx.meta.user?.email ?? ctx.meta.user?.name, createdAt: new Date(), revokedAt: null };
					await this.adapter.insert(doc);
					return { ...view(doc), key };
				}
			},
			revoke: {
				rest: "DELETE /api-keys/:id",
				permission: "apikeys:write",
				status: 204,
				openapi: { summary: "Revoke a named API key (at once, on every gateway)", tags: ["api-keys"], errors: ["API_KEY_NOT_FOUND"] },
				params: { id: { type: "string", min: 1, max: 64 }, $$strict: true },
				async handler(ctx: Context<{ id: string }>) {
					const doc: KeyDoc | null = await this.adapter.findById(ctx.params.id);
					if (!doc) throw new ApiError(404, "API_KEY_NOT_FOUND", `API key not found: ${ctx.params.id}`);
					await this.adapter.updateById(doc._id, { $set: { revokedAt: new Date() } });
					this.broker.broadcast("apikeys.changed", { id: doc._id });
					return null;
				}
			},
			/** The record behind a key's prefix, for the gateway's check. */
			resolve: {
				visibility: "public",
				params: { prefix: "string" },
				async handler(ctx: Context<{ prefix: string }>) {
					const [doc]: KeyDoc[] = await this.adapter.find({ query: { prefix: ctx.params.prefix }, limit: 1 });
					return doc ? { id: doc._id, name: doc.name, hash: doc.hash, roleId: doc.roleId, permissions: permissionsOf(doc.roleId), revoked: !!doc.revokedAt } : null;
				}
			}
		}
	};
}
