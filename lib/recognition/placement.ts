/**
 * Where a session's actors run: rendezvous (highest-random-weight) hashing of the slot over
 * the live `actors` nodes that are not draining. Every node computes the same answer from
 * the same registry, without talking to the others; a node that joins or leaves moves only
 * the sessions it wins or held (about 1/N of them), and a session's cameras go with it.
 */
import crypto from "node:crypto";

/** The weight of `nodeID` for `key`: the first 8 bytes of sha1(key/nodeID). */
export function weight(key: string, nodeID: string): bigint {
	return crypto.createHash("sha1").update(`${key}/${nodeID}`).digest().readBigUInt64BE(0);
}

/** Nodes ordered by preference for `key` (best first); ties broken by node ID. */
export function rankNodes(key: string, nodeIDs: readonly string[]): string[] {
	return [...new Set(nodeIDs)]
		.map(id => ({ id, w: weight(key, id) }))
		.sort((a, b) => (a.w === b.w ? a.id.localeCompare(b.id) : a.w > b.w ? -1 : 1))
		.map(x => x.id);
}

/** The node that should own `key`, or null when none is eligible. */
export function placeActor(key: string, nodeIDs: readonly string[], exclude: ReadonlySet<string> = new Set()): string | null {
	return rankNodes(
		key,
		nodeIDs.filter(id => !exclude.has(id))
	)[0] ?? null;
}

export const sessionKey = (slotId: number) => `session:${slotId}`;
/** The rendezvous key of a camera's monitor actor. */
export const monitorKey = (cameraId: number) => `monitor:${cameraId}`;

/** Lease state of a document (a session's, or any supervised actor's), as the store keeps it. */
export interface Lease {
	leaseOwner?: string | null;
	leaseToken?: number;
	/** Epoch ms until which the owner holds the lease. */
	leaseUntil?: number | null;
	/** A node the lease was handed to (migration): it may claim at once. */
	leaseHandTo?: string | null;
}

/** The one rule of a live lease: an owner, and a time it holds until that has not come yet. */
export function leaseIsLive(lease: Lease, now: number): boolean {
	return !!lease.leaseOwner && (lease.leaseUntil ?? 0) > now;
}

/** The node holding a live lease, or null. */
export function liveOwner(lease: Lease, now: number): string | null {
	return leaseIsLive(lease, now) ? lease.leaseOwner! : null;
}

/**
 * Whether `nodeID` may claim the lease now, and with which fencing token: a free or expired
 * lease, or one handed to this node, gets the next token (a new owner); the owner itself
 * renews with the same token.
 */
export function claimDecision(lease: Lease, nodeID: string, now: number): { ok: true; token: number; renew: boolean } | { ok: false; owner: string; until: number } {
	const token = lease.leaseToken ?? 0;
	const held = leaseIsLive(lease, now);
	if (held && lease.leaseOwner === nodeID && lease.leaseHandTo !== nodeID) return { ok: true, token, renew: true };
	if (!held || lease.leaseHandTo === nodeID) return { ok: true, token: token + 1, renew: false };
	return { ok: false, owner: lease.leaseOwner!, until: lease.leaseUntil ?? 0 };
}
