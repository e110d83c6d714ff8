/**
 * The outbound-URL policy: every place Rollcall opens a URL a caller gave (cameras, FUACS
 * capture-frame / test-connection, enrollment videos, FUACS callbacks, Odoo) asks here first,
 * with the host resolved (every address it resolves to is checked, so a name that resolves to
 * a refused address is refused), and again at each redirect.
 *
 * Rules, in this order (the first that matches decides; a refusal names its rule):
 * 1. `own-port`: this node's own gateway and metrics ports (PORT, METRICS_PORT, and any port
 *    the gateway took when PORT=0) on a loopback, unspecified or own-interface address.
 *    Always refused: nothing overrides it.
 * 2. `deny-list`: an address in OUTBOUND_DENY. Refused; deny overrides allow.
 * 3. `allow-list`: an address in OUTBOUND_ALLOW is allowed, even where a default refuses it.
 * 4. defaults: `link-local` (169.254.0.0/16, fe80::/10: cloud metadata services live there)
 *    and `unspecified` (0.0.0.0/8, ::, which connect to this host) refused.
 * 5. anything else is allowed (cameras legitimately sit on private networks).
 * IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses are checked as the IPv4
 * address they carry. `scheme` refuses a scheme the use does not take.
 *
 * To avoid DNS rebinding between check and connect, callers connect to the address checked:
 * `outboundRequest` (HTTP) pins it in the socket's lookup and follows redirects itself, each
 * hop checked; `streamInput` gives FFmpeg a URL with the checked address in place of the name
 * (rtsp, http with a Host header; https keeps the name for TLS, so FFmpeg resolves it again);
 * plain rtsp over TCP goes through lib/net/rtsp-relay.ts, which checks the server's redirects.
 */
import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import { redactUrl } from "../url";

export type OutboundUse = "camera" | "video" | "callback" | "odoo";

/** Schemes each use may open. */
export const USE_SCHEMES: Record<OutboundUse, readonly string[]> = {
	camera: ["rtsp", "rtsps", "http", "https"],
	video: ["http", "https"],
	callback: ["http", "https"],
	odoo: ["http", "https"]
};

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, rtsp: 554, rtsps: 322 };

export type Rule = "scheme" | "own-port" | "deny-list" | "link-local" | "unspecified";

export const RULE_TEXT: Record<Rule, string> = {
	scheme: "scheme not allowed for this use",
	"own-port": "this node's own gateway or metrics port",
	"deny-list": "in OUTBOUND_DENY",
	"link-local": "link-local address (169.254.0.0/16, fe80::/10)",
	unspecified: "unspecified address (0.0.0.0/8, ::), which reaches this host"
};

/** A refusal: the URL (credentials hidden), the rule, the address at fault. */
export class UrlNotAllowed extends Error {
	readonly code = "URL_NOT_ALLOWED";
	constructor(
		readonly rule: Rule,
		readonly url: string,
		readonly address: string | null,
		readonly detail: string
	) {
		super(`URL not allowed (rule ${rule}): ${detail}`);
		this.name = "UrlNotAllowed";
	}
}

/** The host did not resolve: not a refusal, a connection failure. */
export class OutboundResolveError extends Error {
	constructor(
		readonly host: string,
		reason: string
	) {
		super(`Cannot resolve host ${host}: ${reason}`);
		this.name = "OutboundResolveError";
	}
}

// ---- addresses and CIDRs (pure) ----

export interface Cidr {
	family: 4 | 6;
	base: bigint;
	prefix: number;
	text: string;
}

function v4ToBig(a: string): bigint {
	return a.split(".").reduce((n, p) => (n << 8n) | BigInt(Number(p)), 0n);
}

function v6ToBig(a: string): bigint {
	let s = a.toLowerCase().replace(/%.*$/, "");
	// A trailing dotted IPv4 (::ffff:1.2.3.4) becomes two hextets.
	const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
	if (m) {
		const v = v4ToBig(m[2]);
		s = `${m[1]}${(v >> 16n).toString(16)}:${(v & 0xffffn).toString(16)}`;
	}
	const [head, tail] = s.includes("::") ? s.split("::") : [s, null];
	const h = head ? head.split(":") : [];
	const t = tail ? tail.split(":") : [];
	const fill = tail === null ? [] : Array(8 - h.length - t.length).fill("0");
	return [...h, ...fill, ...t].reduce((n, p) => (n << 16n) | BigInt(parseInt(p || "0", 16)), 0n);
}

/** An address as family + 32/128-bit integer; IPv4-mapped and NAT64 IPv6 as the IPv4 they carry. */
export function addressOf(address: string): { family: 4 | 6; value: bigint; text: string } | null {
	const a = address.replace(/^\[|\]$/g, "");
	const kind = net.isIP(a.replace(/%.*$/, ""));
	if (kind === 4) return { family: 4, value: v4ToBig(a), text: a };
	if (kind !== 6) return null;
	const v = v6ToBig(a);
	const top96 = v >> 32n;
	// ::ffff:0:0/96 (mapped) and 64:ff9b::/96 (NAT64, RFC 6052)
	if (top96 === 0xffffn || top96 === 0x0064ff9b0000000000000000n) {
		const v4 = v & 0xffffffffn;
		return { family: 4, value: v4, text: [24n, 16n, 8n, 0n].map(s => String((v4 >> s) & 0xffn)).join(".") };
	}
	return { family: 6, value: v, text: a };
}

/** `10.0.0.0/8`, `fe80::/10`, or a bare address (/32, /128). Throws on anything else. */
export function parseCidr(text: string): Cidr {
	const t = text.trim();
	const [addr, bits, extra] = t.split("/");
	const a = net.isIP(addr) ? addr : null;
	if (!a || extra !== undefined) throw new Error(`not a CIDR: "${text}"`);
	const family = net.isIP(a) as 4 | 6;
	const max = family === 4 ? 32 : 128;
	if (bits !== undefined && !/^\d{1,3}$/.test(bits)) throw new Error(`not a CIDR: "${text}"`);
	const prefix = bits === undefined ? max : Number(bits);
	if (prefix > max) throw new Error(`prefix /${prefix} is too long in "${text}"`);
	const value = family === 4 ? v4ToBig(a) : v6ToBig(a);
	const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(max - prefix);
	return { family, base: value & mask, prefix, text: bits === undefined ? `${a}/${max}` : t };
}

/** A comma- or space-separated list of CIDRs. */
export function parseCidrList(raw: string | undefined | null): Cidr[] {
	if (!raw) return [];
	return raw
		.split(/[\s,]+/)
		.filter(Boolean)
		.map(parseCidr);
}

export function inCidr(addr: { family: 4 | 6; value: bigint }, c: Cidr): boolean {
	if (addr.family !== c.family) {
		// An IPv4 range in IPv6 form (::ffff:a.b.c.d/96+n) matches the IPv4 address too.
		if (addr.family === 4 && c.family === 6 && c.prefix >= 96 && c.base >> 32n === 0xffffn) {
			return inCidr({ family: 6, value: (0xffffn << 32n) | addr.value }, c);
		}
		return false;
	}
	const max = c.family === 4 ? 32 : 128;
	if (c.prefix === 0) return true;
	return addr.value >> BigInt(max - c.prefix) === c.base >> BigInt(max - c.prefix);
}

const LINK_LOCAL = [parseCidr("169.254.0.0/16"), parseCidr("fe80::/10")];
const UNSPECIFIED = [parseCidr("0.0.0.0/8"), parseCidr("::/128")];
const LOOPBACK = [parseCidr("127.0.0.0/8"), parseCidr("::1/128")];

// ---- the policy ----

export interface ResolvedAddress {
	address: string;
	family: 4 | 6;
}

/** Every address of a host name (an address literal is returned as is). */
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async host => {
	const all = await dns.promises.lookup(host, { all: true, verbatim: true });
	return all.map(a => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** A hosts-file-like map in front of another resolver (OUTBOUND_HOSTS; tests). */
export function staticResolver(map: Record<string, string[]>, fallback: Resolver = systemResolver): Resolver {
	const lower = new Map(Object.entries(map).map(([k, v]) => [k.toLowerCase(), v]));
	return async host => {
		const hit = lower.get(host.toLowerCase());
		return hit ? hit.map(address => ({ address, family: net.isIP(address) === 6 ? 6 : 4 })) : fallback(host);
	};
}

/** `name=addr[|addr...]` pairs, comma-separated. Throws on a malformed entry. */
export function parseHostsMap(raw: string | undefined | null): Record<string, string[]> {
	const out: Record<string, string[]> = {};
	if (!raw) return out;
	for (const entry of raw.split(",").map(s => s.trim()).filter(Boolean)) {
		const [name, addrs] = entry.split("=");
		const list = (addrs ?? "").split("|").map(s => s.trim()).filter(Boolean);
		if (!name || !/^[A-Za-z0-9.-]{1,253}$/.test(name.trim()) || list.length === 0 || list.some(a => !net.isIP(a))) throw new Error(`not name=address[|address]: "${entry}"`);
		out[name.trim().toLowerCase()] = list;
	}
	return out;
}

/** Ports this process listens on (the gateway adds its own when PORT=0 chose one). */
const ownPortsAtRuntime = new Set<number>();
export function addOwnPort(port: number): void {
	if (port > 0) ownPortsAtRuntime.add(port);
}
export function removeOwnPort(port: number): void {
	ownPortsAtRuntime.delete(port);
}

export interface PolicyOptions {
	allow?: Cidr[];
	deny?: Cidr[];
	/** This node's gateway and metrics ports (0/null ignored). */
	ownPorts?: (number | null | undefined)[];
	resolver?: Resolver;
	/** This host's interface addresses (default: os.networkInterfaces()). */
	localAddresses?: string[];
}

export interface CheckedUrl {
	url: URL;
	scheme: string;
	/** Host name or address, without brackets. */
	host: string;
	port: number;
	/** Every address the host resolved to, all allowed (empty only with `unresolved: "pass"`). */
	addresses: ResolvedAddress[];
}

export type Verdict = { ok: true } | { ok: false; rule: Rule; detail: string };

export class OutboundPolicy {
	readonly allow: Cidr[];
	readonly deny: Cidr[];
	readonly resolver: Resolver;
	private readonly ownPorts: Set<number>;
	private readonly local: { family: 4 | 6; value: bigint }[];

	constructor(opts: PolicyOptions = {}) {
		this.allow = opts.allow ?? [];
		this.deny = opts.deny ?? [];
		this.resolver = opts.resolver ?? systemResolver;
		this.ownPorts = new Set((opts.ownPorts ?? []).filter((p): p is number => typeof p === "number" && p > 0));
		const locals =
			opts.localAddresses ??
			Object.values(os.networkInterfaces())
				.flat()
				.map(i => i?.address ?? "");
		this.local = locals.map(addressOf).filter((a): a is NonNullable<typeof a> => a !== null);
	}

	/** The policy of a node's configuration. */
	static fromConfig(cfg: { port: number; metricsPort: number | null; outboundAllow: Cidr[]; outboundDeny: Cidr[]; outboundHosts: Record<string, string[]> }, resolver?: Resolver): OutboundPolicy {
		const hosts = cfg.outboundHosts;
		return new OutboundPolicy({
			allow: cfg.outboundAllow,
			deny: cfg.outboundDeny,
			ownPorts: [cfg.port, cfg.metricsPort],
			resolver: resolver ?? (Object.keys(hosts).length ? staticResolver(hosts) : systemResolver)
		});
	}

	private isOwnPort(port: number): boolean {
		return this.ownPorts.has(port) || ownPortsAtRuntime.has(port);
	}

	/** May this address and port be connected to? Pure. */
	verdict(address: string, port: number): Verdict {
		const a = addressOf(address);
		if (!a) return { ok: false, rule: "unspecified", detail: `${address} is not an address` };
		const self = [...LOOPBACK, ...UNSPECIFIED].some(c => inCidr(a, c)) || this.local.some(l => l.family === a.family && l.value === a.value);
		if (self && this.isOwnPort(port)) return { ok: false, rule: "own-port", detail: `${a.text}:${port} is ${RULE_TEXT["own-port"]}` };
		const denied = this.deny.find(c => inCidr(a, c));
		if (denied) return { ok: false, rule: "deny-list", detail: `${a.text} is in OUTBOUND_DENY ${denied.text}` };
		if (this.allow.some(c => inCidr(a, c))) return { ok: true };
		if (LINK_LOCAL.some(c => inCidr(a, c))) return { ok: false, rule: "link-local", detail: `${a.text} is a ${RULE_TEXT["link-local"]}` };
		if (UNSPECIFIED.some(c => inCidr(a, c))) return { ok: false, rule: "unspecified", detail: `${a.text} is an ${RULE_TEXT.unspecified}` };
		return { ok: true };
	}

	/**
	 * Parse, check the scheme, resolve, check every address. Throws UrlNotAllowed, or
	 * OutboundResolveError when the name does not resolve (unless `unresolved: "pass"`: a
	 * camera saved while its name is down; it is checked again when opened).
	 */
	async check(raw: string | URL, use: OutboundUse, opts: { unresolved?: "fail" | "pass" } = {}): Promise<CheckedUrl> {
		const text = String(raw);
		let url: URL;
		try {
			url = new URL(text);
		} catch {
			throw new UrlNotAllowed("scheme", redactUrl(text).slice(0, 200), null, "not a URL");
		}
		const scheme = url.protocol.replace(/:$/, "").toLowerCase();
		const shown = redactUrl(url.toString());
		if (!USE_SCHEMES[use].includes(scheme)) throw new UrlNotAllowed("scheme", shown, null, `${scheme} is not allowed for ${use} URLs (${USE_SCHEMES[use].join(", ")})`);
		const host = url.hostname.replace(/^\[|\]$/g, "");
		if (!host) throw new UrlNotAllowed("scheme", shown, null, "the URL has no host");
		const port = url.port ? Number(url.port) : DEFAULT_PORTS[scheme];
		let addresses: ResolvedAddress[];
		if (net.isIP(host)) addresses = [{ address: host, family: net.isIP(host) === 6 ? 6 : 4 }];
		else {
			try {
				addresses = await this.resolver(host);
				if (addresses.length === 0) throw new Error("no address");
			} catch (err) {
				if (opts.unresolved === "pass") return { url, scheme, host, port, addresses: [] };
				throw new OutboundResolveError(host, (err as NodeJS.ErrnoException).code ?? (err as Error).message);
			}
		}
		for (const a of addresses) {
			const v = this.verdict(a.address, port);
			if (!v.ok) throw new UrlNotAllowed(v.rule, shown, a.address, net.isIP(host) ? v.detail : `${host} resolves to ${v.detail}`);
		}
		return { url, scheme, host, port, addresses };
	}
}

// ---- connecting to the checked address ----

/** An address literal as it goes in a URL's host. */
const hostLiteral = (a: ResolvedAddress) => (a.family === 6 ? `[${a.address}]` : a.address);

export interface StreamInput {
	/** What FFmpeg opens: the checked address in place of the name where that is safe. */
	input: string;
	/** FFmpeg http `headers` (the original Host), when the address replaced the name. */
	headers?: string;
}

/**
 * The URL FFmpeg should open for a checked stream URL, always rebuilt from the parsed URL (never
 * the caller's text: FFmpeg's own URL parser reads `http://a\\@b/` as host b where the WHATWG
 * parser, and so the check, reads host a). rtsp(s): the address replaces the name (RTSP has no
 * virtual hosts). http: the address, with the name in a Host header. https: the name kept
 * (TLS's SNI and certificates name it), FFmpeg resolves it once more.
 */
export function streamInput(checked: CheckedUrl): StreamInput {
	const u = checked.url;
	const a = checked.addresses[0];
	const auth = u.username || u.password ? `${u.username}${u.password ? `:${u.password}` : ""}@` : "";
	const port = u.port ? `:${u.port}` : "";
	const pinned = a && !net.isIP(checked.host) && checked.scheme !== "https";
	const host = pinned ? hostLiteral(a) : u.hostname;
	const input = `${checked.scheme}://${auth}${host}${port}${u.pathname}${u.search}`;
	if (pinned && checked.scheme === "http") return { input, headers: `Host: ${u.host}\r\n` };
	return { input };
}

export interface OutboundRequestInit {
	method?: string;
	headers?: Record<string, string>;
	body?: string | Buffer;
	/** The whole exchange, every hop (default 30 s). */
	timeoutMs?: number;
	signal?: AbortSignal;
	/** Redirects followed, each checked (default 5; 0 answers the 3xx itself). */
	maxRedirects?: number;
	/** Largest body read (default 4 MB); a longer one fails. */
	maxBytes?: number;
	/** Stop once the headers arrive (the body is not read). */
	headersOnly?: boolean;
}

export interface OutboundResponse {
	status: number;
	statusText: string;
	headers: http.IncomingHttpHeaders;
	body: Buffer;
	/** The URL that answered (after redirects). */
	url: string;
	redirects: number;
	text(): string;
	json<T = unknown>(): T;
}

/** Headers that never follow a redirect to another origin (fetch drops Authorization likewise). */
const CREDENTIAL_HEADERS = /^(authorization|cookie|proxy-authorization|x-api-key)$/i;

function timeoutError(ms: number): Error {
	const e = new Error(`timed out after ${ms} ms`);
	e.name = "TimeoutError";
	return e;
}

/** One HTTP exchange with the connection pinned to `addr`. */
function exchange(checked: CheckedUrl, addr: ResolvedAddress, init: OutboundRequestInit, headers: Record<string, string>, method: string, body: Buffer | undefined, signal: AbortSignal): Promise<{ status: number; statusText: string; headers: http.IncomingHttpHeaders; body: Buffer }> {
	const lib = checked.scheme === "https" ? https : http;
	const maxBytes = init.maxBytes ?? 4 * 1024 * 1024;
	return new Promise((resolve, reject) => {
		const req = lib.request(
			{
				protocol: `${checked.scheme}:`,
				hostname: checked.host,
				port: checked.port,
				path: `${checked.url.pathname}${checked.url.search}`,
				method,
				headers: { ...headers, ...(body ? { "Content-Length": String(body.length) } : {}) },
				agent: false,
				signal,
				servername: net.isIP(checked.host) ? undefined : checked.host,
				// The socket connects to the address checked, never to a fresh lookup of the name.
				lookup: ((_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) => {
					if (options?.all) cb(null, [{ address: addr.address, family: addr.family }]);
					else cb(null, addr.address, addr.family);
				}) as unknown as net.LookupFunction
			},
			res => {
				const status = res.statusCode ?? 0;
				const statusText = res.statusMessage ?? "";
				if (init.headersOnly || (status >= 300 && status < 400 && res.headers.location)) {
					res.destroy();
					return resolve({ status, statusText, headers: res.headers, body: Buffer.alloc(0) });
				}
				const chunks: Buffer[] = [];
				let size = 0;
				res.on("data", (c: Buffer) => {
					size += c.length;
					if (size > maxBytes) return res.destroy(new Error(`answer larger than ${maxBytes} bytes`));
					chunks.push(c);
				});
				res.on("end", () => resolve({ status, statusText, headers: res.headers, body: Buffer.concat(chunks) }));
				res.on("error", reject);
			}
		);
		req.on("error", reject);
		req.end(body);
	});
}

/**
 * An HTTP(S) request to a caller's URL under the policy: every hop checked, redirects
 * followed here (301/302/303 turn a POST into a GET, 307/308 keep it; credentials dropped on a
 * change of origin), each connection made to the address checked. Throws UrlNotAllowed,
 * OutboundResolveError, a TimeoutError, or the socket's error.
 */
export async function outboundRequest(policy: OutboundPolicy, use: OutboundUse, url: string, init: OutboundRequestInit = {}): Promise<OutboundResponse> {
	const timeoutMs = init.timeoutMs ?? 30_000;
	const timer = AbortSignal.timeout(timeoutMs);
	const signal = init.signal ? AbortSignal.any([init.signal, timer]) : timer;
	const maxRedirects = init.maxRedirects ?? 5;
	let current = url;
	let method = (init.method ?? "GET").toUpperCase();
	let body = init.body === undefined ? undefined : Buffer.isBuffer(init.body) ? init.body : Buffer.from(init.body);
	let headers = { ...init.headers };
	let origin: string | null = null;
	for (let redirects = 0; ; redirects++) {
		let checked: CheckedUrl;
		try {
			checked = await policy.check(current, use);
		} catch (err) {
			if (timer.aborted) throw timeoutError(timeoutMs);
			throw err;
		}
		if (origin !== null && checked.url.origin !== origin) headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !CREDENTIAL_HEADERS.test(k)));
		origin = checked.url.origin;
		let res;
		try {
			res = await exchange(checked, checked.addresses[0], init, headers, method, body, signal);
		} catch (err) {
			if (timer.aborted) throw timeoutError(timeoutMs);
			throw err;
		}
		const location = res.headers.location;
		if (res.status >= 300 && res.status < 400 && location && redirects < maxRedirects) {
			current = new URL(location, checked.url).toString();
			if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")) {
				if (method !== "HEAD") method = "GET";
				body = undefined;
				headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !/^content-/i.test(k)));
			}
			continue;
		}
		if (res.status >= 300 && res.status < 400 && location && maxRedirects > 0) throw new Error(`more than ${maxRedirects} redirects`);
		const out = res.body;
		return {
			status: res.status,
			statusText: res.statusText,
			headers: res.headers,
			body: out,
			url: checked.url.toString(),
			redirects,
			text: () => out.toString("utf8"),
			json: <T>() => JSON.parse(out.toString("utf8")) as T
		};
	}
}

/**
 * `fetch` under the policy, for code written against fetch (the Odoo client takes one):
 * outboundRequest behind fetch's signature. `redirect: "follow"` (default) follows redirects
 * with each hop checked, "manual" answers the 3xx, "error" throws on one as fetch does; an
 * aborted `signal` rejects with its reason as fetch does. A refusal rejects with UrlNotAllowed.
 * Bodies: string, Buffer/Uint8Array/ArrayBuffer, URLSearchParams; answers up to `maxBytes`.
 */
export function outboundFetch(policy: OutboundPolicy, use: OutboundUse, opts: { maxBytes?: number } = {}): typeof fetch {
	return (async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
		const url = typeof input === "string" ? input : input instanceof URL ? input.toString() : input.url;
		const headers: Record<string, string> = {};
		new Headers(init.headers).forEach((v, k) => (headers[k] = v));
		const b = init.body;
		let body: string | Buffer | undefined;
		if (b === undefined || b === null) body = undefined;
		else if (typeof b === "string") body = b;
		else if (b instanceof URLSearchParams) {
			body = b.toString();
			headers["content-type"] ??= "application/x-www-form-urlencoded;charset=UTF-8";
		} else if (Buffer.isBuffer(b)) body = b;
		else if (b instanceof ArrayBuffer) body = Buffer.from(b);
		else if (ArrayBuffer.isView(b)) body = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
		else throw new TypeError("outboundFetch: unsupported body type");
		const signal = init.signal ?? undefined;
		let res: OutboundResponse;
		try {
			res = await outboundRequest(policy, use, url, { method: init.method, headers, body, signal, timeoutMs: 24 * 3600_000, maxRedirects: init.redirect === "manual" || init.redirect === "error" ? 0 : 5, maxBytes: opts.maxBytes });
		} catch (err) {
			if (signal?.aborted) throw signal.reason ?? err;
			throw err;
		}
		if (init.redirect === "error" && res.status >= 300 && res.status < 400 && res.headers.location) throw new TypeError("fetch failed", { cause: new Error(`redirect to ${redactUrl(String(res.headers.location))} refused (redirect: "error")`) });
		const h = new Headers();
		for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) for (const one of Array.isArray(v) ? v : [v]) h.append(k, one);
		const nullBody = [101, 204, 205, 304].includes(res.status);
		return new Response(nullBody ? null : res.body, { status: res.status, statusText: res.statusText, headers: h });
	}) as typeof fetch;
}

/**
 * Where an http(s) stream really is: its redirects followed under the policy (headers only),
 * so FFmpeg can open the last hop with redirects off. Non-http URLs are only checked.
 */
export async function resolveStreamUrl(policy: OutboundPolicy, use: OutboundUse, url: string, timeoutMs: number): Promise<{ checked: CheckedUrl; url: string }> {
	const first = await policy.check(url, use);
	if (first.scheme !== "http" && first.scheme !== "https") return { checked: first, url };
	const res = await outboundRequest(policy, use, url, { method: "GET", headersOnly: true, timeoutMs });
	if (res.redirects === 0) return { checked: first, url };
	return { checked: await policy.check(res.url, use), url: res.url };
}
