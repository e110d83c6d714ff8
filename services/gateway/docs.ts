/**
 * The API reference page at /api/docs: Swagger UI from the installed swagger-ui-dist (no
 * CDN), reading this gateway's /api/v1/openapi.json. Only the files the page needs are
 * served, by name.
 */
import fs from "node:fs";
import path from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";

export const DOCS_PATH = "/api/docs";
const DIST = path.dirname(require.resolve("swagger-ui-dist/package.json"));
const FILES: Record<string, string> = {
	"swagger-ui.css": "text/css; charset=utf-8",
	"swagger-ui-bundle.js": "text/javascript; charset=utf-8",
	"swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
	"favicon-32x32.png": "image/png",
	"favicon-16x16.png": "image/png"
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Rollcall API reference</title>
<link rel="stylesheet" href="${DOCS_PATH}/swagger-ui.css">
<link rel="icon" type="image/png" href="${DOCS_PATH}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${DOCS_PATH}/swagger-ui-bundle.js"></script>
<script src="${DOCS_PATH}/swagger-ui-standalone-preset.js"></script>
<script src="${DOCS_PATH}/init.js"></script>
</body>
</html>
`;
// Inline scripts would need a weaker Content-Security-Policy; the initializer is a file too.
const INIT = `window.ui = SwaggerUIBundle({ url: "/api/v1/openapi.json", dom_id: "#swagger-ui", presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "StandaloneLayout", persistAuthorization: true });\n`;

/** Answers a /api/docs request; false when the path is not the page's. */
export function serveDocs(req: IncomingMessage, res: ServerResponse): boolean {
	const url = (req.url ?? "").split("?")[0];
	if (url !== DOCS_PATH && !url.startsWith(`${DOCS_PATH}/`)) return false;
	if (req.method !== "GET" && req.method !== "HEAD") {
		res.writeHead(405, { Allow: "GET, HEAD" }).end();
		return true;
	}
	const name = url.slice(DOCS_PATH.length + 1);
	const security = { "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:" };
	if (name === "" || name === "index.html") {
		res.writeHead(200, { ...security, "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache" }).end(req.method === "HEAD" ? undefined : PAGE);
		return true;
	}
	if (name === "init.js") {
		res.writeHead(200, { ...security, "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache" }).end(req.method === "HEAD" ? undefined : INIT);
		return true;
	}
	const type = FILES[name];
	if (!type) {
		res.writeHead(404, { "Content-Type": "text/plain" }).end("Not found");
		return true;
	}
	res.writeHead(200, { ...security, "Content-Type": type, "Cache-Control": "public, max-age=86400" });
	if (req.method === "HEAD") res.end();
	else fs.createReadStream(path.join(DIST, name)).pipe(res);
	return true;
}
