/**
 * The web console (web/, built into web/dist by `npm ci` or `npm run build:web`) at `/`, served
 * like the API reference page (docs.ts): before moleculer-web, and only for its own paths, so
 * /api, /socket.io, /ws and /health are never shadowed. Exactly these are answered:
 * - `/` and `/index.html`: the page, `Cache-Control: no-cache` (revalidated by ETag), so a new
 *   build is picked up at the next load;
 * - `/assets/<name>`: the build's content-hashed files, `immutable` for a year;
 * - `/<name>` of a file at the top of the build (favicon.svg): an hour.
 * Names are single path segments of [A-Za-z0-9._-] looked up in the build folder, never paths.
 * Text files are gzipped once per build and kept in memory. Pages are routed by the URL's hash
 * (#/cameras), so no other path needs the page.
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import type { IncomingMessage, ServerResponse } from "node:http";

export const CONSOLE_DIST = path.resolve(__dirname, "../../web/dist");

const TYPES: Record<string, string> = {
	".html": "text/html; charset=utf-8",
	".js": "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".svg": "image/svg+xml",
	".png": "image/png",
	".ico": "image/x-icon",
	".woff2": "font/woff2",
	".json": "application/json; charset=utf-8"
};
const COMPRESSIBLE = new Set([".html", ".js", ".css", ".svg", ".json"]);
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const SECURITY = {
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy": "same-origin",
	"X-Frame-Options": "DENY",
	"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
};

/** Gzipped bodies by file and its modification time (a rebuild changes it). */
const gzipped = new Map<string, { mtimeMs: number; body: Buffer }>();

function fileOf(url: string, dist: string): { file: string; cache: string } | null {
	if (url === "/" || url === "/index.html") return { file: path.join(dist, "index.html"), cache: "no-cache" };
	const asset = /^\/assets\/([^/]+)$/.exec(url);
	if (asset) return NAME.test(asset[1]) ? { file: path.join(dist, "assets", asset[1]), cache: "public, max-age=31536000, immutable" } : null;
	const top = /^\/([^/]+)$/.exec(url);
	if (top && NAME.test(top[1]) && top[1] !== "index.html" && path.extname(top[1]) in TYPES) return { file: path.join(dist, top[1]), cache: "public, max-age=3600" };
	return null;
}

/** Answers a request for the console's files; false when the path is not one of them (or the file does not exist, but for /). */
export function serveConsole(req: IncomingMessage, res: ServerResponse, dist = CONSOLE_DIST): boolean {
	const url = (req.url ?? "").split("?")[0];
	const target = fileOf(url, dist);
	if (!target) return false;
	let stat: fs.Stats;
	try {
		stat = fs.statSync(target.file);
		if (!stat.isFile()) return false;
	} catch {
		if (url !== "/" && url !== "/index.html") return false; // not ours: moleculer-web answers (404)
		res.writeHead(503, { ...SECURITY, "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" }).end("The web console is not built: run `npm run build:web` (npm ci does it), then reload.\n");
		return true;
	}
	if (req.method !== "GET" && req.method !== "HEAD") {
		res.writeHead(405, { Allow: "GET, HEAD" }).end();
		return true;
	}
	const ext = path.extname(target.file);
	const etag = `"${stat.size.toString(36)}-${Math.floor(stat.mtimeMs).toString(36)}"`;
	const headers: Record<string, string | number> = { ...SECURITY, "Content-Type": TYPES[ext] ?? "application/octet-stream", "Cache-Control": target.cache, ETag: etag, "Last-Modified": stat.mtime.toUTCString() };
	if (req.headers["if-none-match"] === etag) {
		res.writeHead(304, headers).end();
		return true;
	}
	let body: Buffer | null = null;
	if (COMPRESSIBLE.has(ext)) {
		headers.Vary = "Accept-Encoding";
		if (/\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""))) {
			let z = gzipped.get(target.file);
			if (!z || z.mtimeMs !== stat.mtimeMs) {
				z = { mtimeMs: stat.mtimeMs, body: zlib.gzipSync(fs.readFileSync(target.file), { level: 9 }) };
				gzipped.set(target.file, z);
			}
			body = z.body;
			headers["Content-Encoding"] = "gzip";
		}
	}
	headers["Content-Length"] = body ? body.length : stat.size;
	res.writeHead(200, headers);
	if (req.method === "HEAD") res.end();
	else if (body) res.end(body);
	else fs.createReadStream(target.file).pipe(res);
	return true;
}
