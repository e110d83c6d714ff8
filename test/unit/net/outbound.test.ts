/**
 * The outbound-URL policy (lib/net/outbound.ts): address rules, resolution through an
 * injected resolver, and HTTP requests against real servers on loopback addresses only
 * (127.0.0.1 answers; 127.0.0.2 is the "refused" range of these tests).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { outboundFetch, addOwnPort, addressOf, inCidr, OutboundPolicy, outboundRequest, parseCidr, parseCidrList, parseHostsMap, removeOwnPort, resolveStreamUrl, staticResolver, streamInput, UrlNotAllowed, OutboundResolveError, type Resolver } from "../../../lib/net/outbound";

const refusal = async (p: Promise<unknown>): Promise<UrlNotAllowed> => {
	try {
		await p;
	} catch (err) {
		if (err instanceof UrlNotAllowed) return err;
		throw err;
	}
	throw new Error("expected a refusal");
};

describe("CIDRs and addresses", () => {
	test("parse IPv4, IPv6, bare addresses; refuse junk", () => {
		expect(parseCidr("10.0.0.0/8")).toMatchObject({ family: 4, prefix: 8 });
		expect(parseCidr("fe80::/10")).toMatchObject({ family: 6, prefix: 10 });
		expect(parseCidr("127.0.0.2")).toMatchObject({ family: 4, prefix: 32, text: "127.0.0.2/32" });
		expect(parseCidrList("127.0.0.2/32, 10.1.0.0/16 ::1")).toHaveLength(3);
		for (const bad of ["10.0.0.0/33", "10.0.0/8", "example.com", "1.2.3.4/8/1", "::/129", "10.0.0.0/x"]) expect(() => parseCidr(bad)).toThrow();
	});

	test("membership, with IPv4-mapped and NAT64 IPv6 as IPv4", () => {
		const ll = parseCidr("169.254.0.0/16");
		for (const a of ["169.254.169.254", "::ffff:169.254.169.254", "::ffff:a9fe:a9fe", "[::ffff:a9fe:a9fe]", "64:ff9b::a9fe:a9fe"]) expect(inCidr(addressOf(a)!, ll)).toBe(true);
		expect(inCidr(addressOf("169.255.0.1")!, ll)).toBe(false);
		expect(inCidr(addressOf("fe80::1%eth0")!, parseCidr("fe80::/10"))).toBe(true);
		expect(inCidr(addressOf("fec0::1")!, parseCidr("fe80::/10"))).toBe(false);
		expect(inCidr(addressOf("10.9.8.7")!, parseCidr("0.0.0.0/0"))).toBe(true);
		expect(inCidr(addressOf("2001:db8::1")!, parseCidr("10.0.0.0/8"))).toBe(false);
		// an IPv4 range written as mapped IPv6 matches the IPv4 address
		expect(inCidr(addressOf("127.0.0.2")!, parseCidr("::ffff:127.0.0.2/128"))).toBe(true);
		expect(addressOf("not-an-ip")).toBeNull();
	});

	test("hosts map", () => {
		expect(parseHostsMap("cam.test=127.0.0.1, two.test=127.0.0.1|::1")).toEqual({ "cam.test": ["127.0.0.1"], "two.test": ["127.0.0.1", "::1"] });
		expect(() => parseHostsMap("cam.test")).toThrow();
		expect(() => parseHostsMap("cam.test=nope")).toThrow();
	});
});

describe("verdicts", () => {
	const policy = new OutboundPolicy({ ownPorts: [8000, 3030, null, 0], localAddresses: ["10.20.30.40"] });

	test("link-local and unspecified refused by default, other addresses allowed", () => {
		expect(policy.verdict("169.254.169.254", 80)).toMatchObject({ ok: false, rule: "link-local" });
		expect(policy.verdict("fe80::1", 554)).toMatchObject({ ok: false, rule: "link-local" });
		expect(policy.verdict("::ffff:169.254.169.254", 80)).toMatchObject({ ok: false, rule: "link-local" });
		expect(policy.verdict("0.0.0.0", 554)).toMatchObject({ ok: false, rule: "unspecified" });
		expect(policy.verdict("::", 554)).toMatchObject({ ok: false, rule: "unspecified" });
		for (const a of ["192.168.1.100", "10.0.0.5", "127.0.0.1", "::1", "8.8.8.8"]) expect(policy.verdict(a, 554)).toEqual({ ok: true });
	});

	test("own gateway and metrics ports on loopback, unspecified or own addresses refused; other ports not", () => {
		for (const a of ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1", "0.0.0.0", "10.20.30.40"]) {
			expect(policy.verdict(a, 8000)).toMatchObject({ ok: false, rule: "own-port" });
			expect(policy.verdict(a, 3030)).toMatchObject({ ok: false, rule: "own-port" });
		}
		expect(policy.verdict("127.0.0.1", 8554)).toEqual({ ok: true });
		expect(policy.verdict("10.20.30.41", 8000)).toEqual({ ok: true }); // another host's port 8000
		addOwnPort(41234);
		expect(policy.verdict("127.0.0.1", 41234)).toMatchObject({ ok: false, rule: "own-port" });
		removeOwnPort(41234);
		expect(policy.verdict("127.0.0.1", 41234)).toEqual({ ok: true });
	});

	test("allow overrides the defaults, deny overrides allow, nothing overrides own-port", () => {
		const p = new OutboundPolicy({ allow: parseCidrList("169.254.10.0/24,127.0.0.0/8"), deny: parseCidrList("169.254.10.7,10.0.0.0/8"), ownPorts: [8000], localAddresses: [] });
		expect(p.verdict("169.254.10.5", 80)).toEqual({ ok: true });
		expect(p.verdict("169.254.11.5", 80)).toMatchObject({ ok: false, rule: "link-local" });
		expect(p.verdict("169.254.10.7", 80)).toMatchObject({ ok: false, rule: "deny-list", detail: expect.stringContaining("169.254.10.7/32") });
		expect(p.verdict("10.1.2.3", 554)).toMatchObject({ ok: false, rule: "deny-list" });
		expect(p.verdict("127.0.0.1", 8000)).toMatchObject({ ok: false, rule: "own-port" });
	});
});

describe("check", () => {
	const hosts: Resolver = staticResolver({ "cam.test": ["10.0.0.5"], "meta.test": ["10.0.0.5", "169.254.169.254"], "v6meta.test": ["::ffff:169.254.169.254"] }, async host => {
		throw Object.assign(new Error(`unknown ${host}`), { code: "ENOTFOUND" });
	});
	const policy = new OutboundPolicy({ resolver: hosts, deny: parseCidrList("127.0.0.2/32"), localAddresses: [] });

	test("a name is checked by every address it resolves to", async () => {
		const ok = await policy.check("rtsp://user:pw@cam.test/stream1", "camera");
		expect(ok).toMatchObject({ scheme: "rtsp", host: "cam.test", port: 554, addresses: [{ address: "10.0.0.5", family: 4 }] });
		const r = await refusal(policy.check("rtsp://user:secret@meta.test:554/x", "camera"));
		expect(r).toMatchObject({ rule: "link-local", address: "169.254.169.254" });
		expect(r.message).toContain("meta.test resolves to 169.254.169.254");
		expect(r.url).not.toContain("secret");
		await expect(refusal(policy.check("http://v6meta.test/", "video"))).resolves.toMatchObject({ rule: "link-local" });
	});

	test("address literals, odd IPv4 spellings and brackets", async () => {
		await expect(refusal(policy.check("http://169.254.169.254/latest/meta-data", "video"))).resolves.toMatchObject({ rule: "link-local" });
		await expect(refusal(policy.check("http://0xa9.0xfe.0xa9.0xfe/", "callback"))).resolves.toMatchObject({ rule: "link-local" });
		await expect(refusal(policy.check("http://2852039166/", "callback"))).resolves.toMatchObject({ rule: "link-local" });
		await expect(refusal(policy.check("http://[::ffff:169.254.169.254]/", "callback"))).resolves.toMatchObject({ rule: "link-local" });
		await expect(refusal(policy.check("http://127.0.0.2:9/", "callback"))).resolves.toMatchObject({ rule: "deny-list" });
		await expect(policy.check("http://127.0.0.1:9/", "callback")).resolves.toMatchObject({ port: 9 });
	});

	test("schemes per use", async () => {
		await expect(refusal(policy.check("rtsp://cam.test/", "video"))).resolves.toMatchObject({ rule: "scheme" });
		await expect(refusal(policy.check("file:///etc/passwd", "camera"))).resolves.toMatchObject({ rule: "scheme" });
		await expect(refusal(policy.check("ftp://cam.test/", "callback"))).resolves.toMatchObject({ rule: "scheme" });
		await expect(refusal(policy.check("not a url", "camera"))).resolves.toMatchObject({ rule: "scheme" });
	});

	test("a name that does not resolve is a resolution failure, or passes when asked to", async () => {
		await expect(policy.check("rtsp://nowhere.test/", "camera")).rejects.toBeInstanceOf(OutboundResolveError);
		await expect(policy.check("rtsp://nowhere.test/", "camera", { unresolved: "pass" })).resolves.toMatchObject({ addresses: [] });
	});

	test("streamInput puts the checked address in place of the name", async () => {
		const rtsp = await policy.check("rtsp://u:p@cam.test:8554/live?x=1", "camera");
		expect(streamInput(rtsp)).toEqual({ input: "rtsp://u:p@10.0.0.5:8554/live?x=1" });
		const h = await policy.check("http://cam.test:8080/mjpeg", "camera");
		expect(streamInput(h)).toEqual({ input: "http://10.0.0.5:8080/mjpeg", headers: "Host: cam.test:8080\r\n" });
		const s = await policy.check("https://cam.test/v.mp4", "video");
		expect(streamInput(s)).toEqual({ input: "https://cam.test/v.mp4" });
		const lit = await policy.check("rtsp://127.0.0.1:8554/a", "camera");
		expect(streamInput(lit)).toEqual({ input: "rtsp://127.0.0.1:8554/a" });
		// Never the caller's text: FFmpeg reads the host of http://a\\@b/ as b, the check as a.
		const tricky = await policy.check("http://127.0.0.1:8080\\@127.0.0.2:9/x", "camera");
		expect(tricky.host).toBe("127.0.0.1");
		expect(streamInput(tricky)).toEqual({ input: "http://127.0.0.1:8080/@127.0.0.2:9/x" });
		const trickyTls = await policy.check("https://cam.test\\@127.0.0.2:9/x", "video");
		expect(streamInput(trickyTls)).toEqual({ input: "https://cam.test/@127.0.0.2:9/x" });
	});
});

describe("outboundRequest (real servers on 127.0.0.1 and 127.0.0.2)", () => {
	let good: http.Server;
	let refused: http.Server;
	let goodPort = 0;
	let refusedPort = 0;
	const seen: { path: string; method: string; host?: string; key?: string; body: string }[] = [];
	let refusedHits = 0;

	beforeAll(async () => {
		good = http.createServer((req, res) => {
			let body = "";
			req.on("data", c => (body += c));
			req.on("end", () => {
				seen.push({ path: req.url ?? "", method: req.method ?? "", host: req.headers.host, key: req.headers["x-api-key"] as string | undefined, body });
				const u = new URL(req.url ?? "/", "http://x");
				if (u.pathname === "/to-refused") return res.writeHead(302, { Location: `http://127.0.0.2:${refusedPort}/secret` }).end();
				if (u.pathname === "/to-name") return res.writeHead(302, { Location: `http://meta.test/latest` }).end();
				if (u.pathname === "/hop") return res.writeHead(Number(u.searchParams.get("code") ?? 302), { Location: `/final` }).end();
				if (u.pathname === "/other-origin") return res.writeHead(307, { Location: `http://other.test:${goodPort}/final` }).end();
				if (u.pathname === "/loop") return res.writeHead(302, { Location: `/loop` }).end();
				if (u.pathname === "/slow") return void setTimeout(() => res.end("late"), 2000);
				res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ ok: true, path: u.pathname }));
			});
		});
		refused = http.createServer((_req, res) => {
			refusedHits++;
			res.end("should never be reached");
		});
		await new Promise<void>(r => good.listen(0, "127.0.0.1", r));
		await new Promise<void>(r => refused.listen(0, "127.0.0.2", r));
		goodPort = (good.address() as AddressInfo).port;
		refusedPort = (refused.address() as AddressInfo).port;
	});
	afterAll(async () => {
		await new Promise(r => good.close(r));
		await new Promise(r => refused.close(r));
	});

	const calls: string[] = [];
	const resolver: Resolver = async host => {
		calls.push(host);
		if (host === "cam.test" || host === "other.test") return [{ address: "127.0.0.1", family: 4 }];
		if (host === "meta.test") return [{ address: "127.0.0.2", family: 4 }];
		throw Object.assign(new Error("ENOTFOUND"), { code: "ENOTFOUND" });
	};
	const policy = () => new OutboundPolicy({ resolver, deny: parseCidrList("127.0.0.2/32"), localAddresses: [] });

	test("the refused server itself answers when asked directly without the policy (the test is real)", async () => {
		const res = await fetch(`http://127.0.0.2:${refusedPort}/`);
		expect(await res.text()).toBe("should never be reached");
		refusedHits = 0;
	});

	test("a redirect to a denied address is refused before any connection to it", async () => {
		const r = await refusal(outboundRequest(policy(), "callback", `http://127.0.0.1:${goodPort}/to-refused`, { method: "POST", body: "{}" }));
		expect(r).toMatchObject({ rule: "deny-list", address: "127.0.0.2" });
		const n = await refusal(outboundRequest(policy(), "callback", `http://127.0.0.1:${goodPort}/to-name`));
		expect(n).toMatchObject({ rule: "deny-list" });
		expect(n.message).toContain("meta.test resolves to 127.0.0.2");
		await expect(refusal(outboundRequest(policy(), "callback", `http://127.0.0.2:${refusedPort}/`))).resolves.toMatchObject({ rule: "deny-list" });
		expect(refusedHits).toBe(0);
	});

	test("a name is resolved once and the connection goes to the checked address, Host kept", async () => {
		calls.length = 0;
		seen.length = 0;
		const res = await outboundRequest(policy(), "odoo", `http://cam.test:${goodPort}/jsonrpc`, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"a":1}' });
		expect(res.status).toBe(200);
		expect(res.json()).toEqual({ ok: true, path: "/jsonrpc" });
		expect(calls).toEqual(["cam.test"]);
		expect(seen).toEqual([{ path: "/jsonrpc", method: "POST", host: `cam.test:${goodPort}`, key: undefined, body: '{"a":1}' }]);
	});

	test("redirects: 302 turns POST into GET, 307 keeps it; credentials dropped across origins; a loop stops", async () => {
		seen.length = 0;
		const a = await outboundRequest(policy(), "callback", `http://127.0.0.1:${goodPort}/hop?code=302`, { method: "POST", body: "x", headers: { "X-API-Key": "k" } });
		expect(a).toMatchObject({ status: 200, redirects: 1, url: `http://127.0.0.1:${goodPort}/final` });
		expect(seen.map(s => [s.method, s.path, s.body, s.key])).toEqual([
			["POST", "/hop?code=302", "x", "k"],
			["GET", "/final", "", "k"]
		]);
		seen.length = 0;
		await outboundRequest(policy(), "callback", `http://127.0.0.1:${goodPort}/hop?code=307`, { method: "POST", body: "y", headers: { "X-API-Key": "k" } });
		expect(seen.map(s => [s.method, s.body])).toEqual([
			["POST", "y"],
			["POST", "y"]
		]);
		seen.length = 0;
		await outboundRequest(policy(), "callback", `http://127.0.0.1:${goodPort}/other-origin`, { method: "POST", body: "z", headers: { "X-API-Key": "k" } });
		expect(seen.map(s => [s.host, s.key])).toEqual([
			[`127.0.0.1:${goodPort}`, "k"],
			[`other.test:${goodPort}`, undefined]
		]);
		await expect(outboundRequest(policy(), "callback", `http://127.0.0.1:${goodPort}/loop`, { maxRedirects: 3 })).rejects.toThrow("more than 3 redirects");
		const raw = await outboundRequest(policy(), "callback", `http://127.0.0.1:${goodPort}/loop`, { maxRedirects: 0 });
		expect(raw.status).toBe(302);
	});

	test("timeouts are TimeoutErrors", async () => {
		await expect(outboundRequest(policy(), "callback", `http://127.0.0.1:${goodPort}/slow`, { timeoutMs: 200 })).rejects.toMatchObject({ name: "TimeoutError" });
	});

	test("outboundFetch: fetch's signature under the policy (the Odoo client takes a fetch)", async () => {
		const f = outboundFetch(policy(), "odoo");
		seen.length = 0;
		const res = await f(`http://cam.test:${goodPort}/jsonrpc`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ id: 1 }) });
		expect(res.status).toBe(200);
		expect(res.ok).toBe(true);
		expect(res.headers.get("content-type")).toBe("application/json");
		expect(await res.json()).toEqual({ ok: true, path: "/jsonrpc" });
		expect(seen).toEqual([expect.objectContaining({ method: "POST", host: `cam.test:${goodPort}`, body: '{"id":1}' })]);
		// redirects: followed and checked, answered as they are, or an error, as fetch's option says
		expect((await f(`http://127.0.0.1:${goodPort}/hop?code=302`)).status).toBe(200);
		expect((await f(`http://127.0.0.1:${goodPort}/hop?code=302`, { redirect: "manual" })).status).toBe(302);
		await expect(f(`http://127.0.0.1:${goodPort}/hop?code=302`, { redirect: "error" })).rejects.toThrow(TypeError);
		await expect(f(`http://127.0.0.1:${goodPort}/to-refused`)).rejects.toBeInstanceOf(UrlNotAllowed);
		// an aborted signal rejects with its reason, as fetch does
		await expect(f(`http://127.0.0.1:${goodPort}/slow`, { signal: AbortSignal.timeout(150) })).rejects.toMatchObject({ name: "TimeoutError" });
		expect(refusedHits).toBe(0);
	});

	test("resolveStreamUrl follows a stream's redirects under the policy", async () => {
		await expect(resolveStreamUrl(policy(), "video", `http://127.0.0.1:${goodPort}/hop?code=302`, 2000)).resolves.toMatchObject({ url: `http://127.0.0.1:${goodPort}/final` });
		await expect(refusal(resolveStreamUrl(policy(), "video", `http://127.0.0.1:${goodPort}/to-refused`, 2000))).resolves.toMatchObject({ rule: "deny-list" });
		expect(refusedHits).toBe(0);
	});
});
