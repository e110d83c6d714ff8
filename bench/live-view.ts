/**
 * The live view's delay from a detection to its box on screen, in Debian's headless Chromium
 * (playwright-core) against a one-process node (every service, the real models): a monitored
 * camera's tile open in the live view, detections published through the store's own write
 * (`detections.record`, which broadcasts `live.detection` to the Socket.IO relay) at a
 * controlled rate, each stamped with its lastSeen at publication. A MutationObserver in the
 * page notes when the box carrying that lastSeen is in the DOM and the next animation frame
 * after it (on screen); same machine, same clock (performance.timeOrigin + now()).
 *
 *   npm run bench:live-view -- [--count 60] [--rate 5]
 */
import os from "node:os";
import { buildWeb } from "../scripts/build-web";
import { launch } from "../test/support/browser";
import { ADMIN, CONSOLE_ENV, call, login } from "../test/support/console";
import { startNode } from "../test/support/node";

const arg = (name: string, def: number) => {
	const i = process.argv.indexOf(`--${name}`);
	return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const COUNT = arg("count", 60);
const RATE = arg("rate", 5);

const OBSERVE = `(() => {
	window.__boxes = {};
	const now = () => performance.timeOrigin + performance.now();
	const mark = () => {
		for (const e of document.querySelectorAll("[data-testid=detection-box]")) {
			const k = e.getAttribute("data-last-seen");
			if (k && !window.__boxes[k]) {
				const b = (window.__boxes[k] = { dom: now(), paint: 0 });
				requestAnimationFrame(() => (b.paint = now()));
			}
		}
	};
	new MutationObserver(mark).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-last-seen"] });
})();`;

function stats(xs: number[]) {
	const s = [...xs].sort((a, b) => a - b);
	const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
	return `p50 ${q(0.5).toFixed(1)} ms, p95 ${q(0.95).toFixed(1)} ms, max ${s[s.length - 1].toFixed(1)} ms (${s.length})`;
}

async function main() {
	if (!buildWeb({ ifMissing: true })) throw new Error("the console could not be built");
	console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model}, load ${os.loadavg().map(l => l.toFixed(2)).join(" ")}`);
	const node = await startNode({ ...CONSOLE_ENV, RATE_LIMIT_PER_MINUTE: "0" });
	const b = await launch();
	try {
		const origin = node.baseUrl.replace(/\/api\/v1$/, "");
		const s = await login(node, ADMIN.email, ADMIN.password);
		const cam = await call(node, "/cameras", { token: s.accessToken, body: { name: "Bench", streamUrl: "rtsp://127.0.0.1:9/bench", enabled: true } });
		const cameraId = cam.body.data.cameraId as number;
		const page = await b.newPage();
		await page.addInitScript(OBSERVE);
		await page.goto(`${origin}/favicon.svg`);
		await page.evaluate(`localStorage.setItem("rollcall.session", ${JSON.stringify(JSON.stringify({ accessToken: s.accessToken, refreshToken: s.refreshToken }))})`);
		await page.goto(`${origin}/#/live`);
		await page.getByRole("figure", { name: "Bench" }).waitFor({ timeout: 30_000 });
		await page.waitForLoadState("networkidle");
		const sent: string[] = [];
		for (let i = 0; i < COUNT + 5; i++) {
			const at = new Date();
			await node.broker.call("detections.record", { trackId: `${cameraId}-bench-${i % 4}`, cameraId, status: "unknown", confidence: 0.5, boundingBox: { x: 100 + 10 * (i % 4), y: 100, width: 200, height: 200 }, timestamp: at, lastSeen: at, frames: 1 });
			if (i >= 5) sent.push(at.toISOString()); // the first few warm the path
			await new Promise(r => setTimeout(r, 1000 / RATE));
		}
		await new Promise(r => setTimeout(r, 1000));
		const seen = (await page.evaluate("window.__boxes")) as Record<string, { dom: number; paint: number }>;
		const dom = sent.filter(k => seen[k]).map(k => seen[k].dom - Date.parse(k));
		const paint = sent.filter(k => seen[k]?.paint).map(k => seen[k].paint - Date.parse(k));
		console.log(`published detections at ${RATE}/s: ${dom.length} of ${sent.length} boxes shown`);
		console.log(`detection (lastSeen) to box in the DOM: ${stats(dom)}`);
		console.log(`detection (lastSeen) to the next frame painted: ${stats(paint)}`);
		console.log(`load after: ${os.loadavg().map(l => l.toFixed(2)).join(" ")}`);
	} finally {
		await b.close();
		await node.stop();
	}
}

void main().then(
	() => process.exit(0),
	err => {
		console.error(err);
		process.exit(1);
	}
);
