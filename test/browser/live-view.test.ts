/**
 * The live view in a real browser (Debian's headless Chromium through playwright-core)
 * against a real Rollcall node (every service, the real models) with a real RTSP camera
 * (GStreamer's server replaying a clip of Anna, then a stranger): sign in, the camera turns
 * online on the dashboard and the cameras page, and the live view shows the camera's latest
 * frame (read again while the page is open) with the detection boxes drawn over it as they
 * arrive over Socket.IO: Anna's box named, placed where the detection says within the frame,
 * the stranger's box shown as unknown. Screenshots go to test-artifacts/browser/.
 */
import path from "node:path";
import type { Page } from "playwright-core";
import { buildWeb } from "../../scripts/build-web";
import { chromiumAvailable, launch, screenshot, type Browser } from "../support/browser";
import { ADMIN, CONSOLE_ENV, call, login } from "../support/console";
import { faceCrop, FACES, makeFaceVideo, SAMPLES, type FaceBox } from "../support/face-video";
import { startNode, tempDir, type TestNode } from "../support/node";
import { rtspServerMissing, startRtspServer, type RtspServer } from "../support/rtsp";
import { until } from "../support/until";

/** A stranger: in no profile. */
const DORA = { photo: SAMPLES[2], focus: [587, 327, 791, 607] as FaceBox };


/** What the test reads of an <img> (the tests are type-checked without the DOM's types). */
interface Img {
	naturalWidth: number;
	naturalHeight: number;
	src: string;
}
interface Rect {
	x: number;
	y: number;
	width: number;
	height: number;
}
interface BoxOnScreen {
	track: string;
	status: string;
	lastSeen: string;
	label: string;
	rect: Rect;
}

const missing = chromiumAvailable() ? rtspServerMissing() : "/usr/bin/chromium is not installed (apt-get install chromium)";
if (missing) console.warn(`live view browser test skipped: ${missing}`);
const suite = missing ? describe.skip : describe;

suite("live view in Chromium, with a real RTSP camera", () => {
	let node: TestNode;
	let rtsp: RtspServer;
	let origin: string;
	let browser: Browser;
	let page: Page;
	let admin: string;
	let camera: { id: string; cameraId: number };

	beforeAll(async () => {
		if (!buildWeb({ ifMissing: true })) throw new Error("the web console could not be built (npm run build:web)");
		const work = tempDir("rollcall-live-view-");
		// The room: Anna and a stranger take turns, 4 s each, for 32 s (the RTSP file mount
		// plays it to its end; the monitor then connects again and it starts over).
		const room = path.join(work, "room.mp4");
		await makeFaceVideo(room, { segments: [1, 2, 3, 4].flatMap(() => [FACES.annaAgain, DORA]).map(f => ({ ...f, seconds: 4 })), fps: 10 });
		rtsp = await startRtspServer({ files: { "/room": room } });
		node = await startNode({ ...CONSOLE_ENV, DATA_DIR: path.join(work, "data"), RATE_LIMIT_PER_MINUTE: "0" });
		origin = node.baseUrl.replace(/\/api\/v1$/, "");
		admin = (await login(node, ADMIN.email, ADMIN.password)).accessToken;
		// Anna registered from another photo than the room shows.
		const fd = new FormData();
		fd.append("name", "Anna Lind");
		fd.append("employeeId", "EMP-ANNA");
		fd.append("images", new Blob([new Uint8Array(await faceCrop(FACES.anna))], { type: "image/jpeg" }), "anna.jpg");
		const res = await fetch(node.baseUrl + "/faces", { method: "POST", headers: { Authorization: `Bearer ${admin}` }, body: fd });
		expect(res.status).toBe(201);
		browser = await launch();
		page = await browser.newPage();
	}, 180_000);
	afterAll(async () => {
		await browser?.close();
		await node?.stop();
		await rtsp?.stop();
	});

	it("signs in, opens the live view, and sees the camera come online with Anna's box named and the stranger's box unknown, as they arrive", async () => {
		await page.goto(`${origin}/`);
		await page.getByLabel("Email").waitFor();
		await screenshot(page, "login");
		await page.getByLabel("Email").fill(ADMIN.email);
		await page.getByLabel("Password").fill(ADMIN.password);
		await page.getByRole("button", { name: "Sign in" }).click();
		await page.getByRole("heading", { name: "Dashboard" }).waitFor();
		await page.getByText("No camera yet.").waitFor();
		await page.goto(`${origin}/#/live`);
		await page.getByText("No monitored camera.").waitFor();

		// The camera is added while the page is open: everything it shows came over Socket.IO.
		const cam = await call(node, "/cameras", { token: admin, body: { name: "Lobby", location: "Main hall", streamUrl: rtsp.url("/room"), sampleInterval: 0.5, enabled: true } });
		expect(cam.status).toBe(201);
		camera = cam.body.data;
		const tile = page.getByRole("figure", { name: "Lobby" });
		await tile.locator("figcaption").getByText("online", { exact: true }).waitFor({ timeout: 60_000 });
		const frame = tile.getByRole("img", { name: "Latest frame of Lobby" });
		await frame.waitFor({ timeout: 30_000 });
		const firstSrc = await until("the frame decoded", () => frame.evaluate(i => ((i as unknown as Img).naturalWidth > 0 ? (i as unknown as Img).src : "")), s => s !== "", 10_000);
		expect(await frame.evaluate(i => [(i as unknown as Img).naturalWidth, (i as unknown as Img).naturalHeight])).toEqual([320, 240]);

		// Boxes come and go (each stays 6 s after its detection): every one seen is kept, with the frame's place then.
		const seen = new Map<string, BoxOnScreen & { frame: Rect }>();
		const look = async () => {
			const f = (await frame.boundingBox())!;
			const bs: BoxOnScreen[] = await tile.locator("[data-testid=detection-box]").evaluateAll(els =>
				els.map(e => {
					const r = e.getBoundingClientRect();
					return { track: e.getAttribute("data-track")!, status: e.getAttribute("data-status")!, lastSeen: e.getAttribute("data-last-seen")!, label: e.textContent!.trim(), rect: { x: r.x, y: r.y, width: r.width, height: r.height } };
				})
			);
			for (const b of bs) {
				const key = `${b.track}@${b.lastSeen}`;
				if (seen.has(key)) continue;
				seen.set(key, { ...b, frame: f });
				if (b.status === "authorized" && ![...seen.values()].some(x => x !== seen.get(key) && x.status === "authorized")) await screenshot(page, "live-view");
				if (b.status === "unknown" && ![...seen.values()].some(x => x !== seen.get(key) && x.status === "unknown")) await screenshot(page, "live-view-unknown");
			}
			return [...seen.values()];
		};
		const all = await until("Anna's box and an unknown box", look, bs => bs.some(b => b.status === "authorized") && bs.some(b => b.status === "unknown"), 90_000);
		const within = (b: Rect, f: Rect) => b.width > 10 && b.height > 10 && b.x >= f.x - 1 && b.y >= f.y - 1 && b.x + b.width <= f.x + f.width + 1 && b.y + b.height <= f.y + f.height + 1;
		for (const b of all) expect({ ...b, within: within(b.rect, b.frame) }).toEqual({ ...b, within: true });
		expect(all.filter(b => b.status === "authorized").map(b => b.label)).toEqual(all.filter(b => b.status === "authorized").map(() => "Anna Lind"));
		expect(all.filter(b => b.status === "unknown").map(b => b.label)).toEqual(all.filter(b => b.status === "unknown").map(() => "unknown"));

		// Anna's box is where her detection says, in the source's pixels (640x480), scaled to the frame on screen.
		const anna = all.find(b => b.status === "authorized")!;
		const det = ((await call(node, `/detections?cameraId=${camera.cameraId}&pageSize=100`, { token: admin })).body.data as any[]).find(d => d.trackId === anna.track);
		expect(det).toEqual(expect.objectContaining({ employeeId: "EMP-ANNA", name: "Anna Lind", status: "authorized" }));
		if (det.lastSeen === anna.lastSeen) {
			const bb = det.boundingBox;
			const f = anna.frame;
			const sx = f.width / 640;
			const sy = f.height / 480;
			expect(Math.abs(anna.rect.x - (f.x + bb.x * sx))).toBeLessThan(3);
			expect(Math.abs(anna.rect.y - (f.y + bb.y * sy))).toBeLessThan(3);
			expect(Math.abs(anna.rect.width - bb.width * sx)).toBeLessThan(3);
			expect(Math.abs(anna.rect.height - bb.height * sy)).toBeLessThan(3);
		}
		const stranger = all.find(b => b.status === "unknown")!;
		const unknowns = (await call(node, `/detections?cameraId=${camera.cameraId}&status=unknown&pageSize=100`, { token: admin })).body.data as any[];
		expect(unknowns.map(d => d.trackId)).toContain(stranger.track);

		// The frame is the latest one: read again while the page is open.
		await until("the frame read again", () => frame.evaluate(i => (i as unknown as Img).src), s => s !== firstSrc, 20_000);
		expect(browser.pageErrors.filter(e => !/status of 4\d\d/.test(e))).toEqual([]);
	}, 150_000);

	it("shows the camera online on the dashboard and the cameras page, with what the monitor measures", async () => {
		await page.goto(`${origin}/`);
		const item = page.getByRole("region", { name: "Cameras" }).getByRole("listitem").filter({ hasText: "Lobby" });
		await item.filter({ hasText: "online" }).waitFor({ timeout: 30_000 });
		expect(await item.textContent()).toContain(camera.id);
		await screenshot(page, "dashboard-camera-online");
		await page.goto(`${origin}/#/cameras`);
		const row = page.getByRole("row", { name: /Lobby/ });
		await row.getByText("online", { exact: true }).waitFor({ timeout: 30_000 });
		await until("the stream's measures", () => row.textContent(), t => /\d+(\.\d+)? fps · \d+ kbit\/s · 640x480/.test(t ?? ""), 20_000);
		await screenshot(page, "cameras-online");
	}, 90_000);

	it("shows what the camera saw of Anna in her history: her detections and her attendance", async () => {
		await page.goto(`${origin}/#/history?employeeId=EMP-ANNA`);
		await page.getByRole("heading", { name: /Anna Lind/ }).waitFor({ timeout: 15_000 });
		await page.getByRole("table", { name: "Detections" }).getByRole("row", { name: /Lobby/ }).first().waitFor();
		await page.getByRole("table", { name: "Attendance days" }).getByRole("row", { name: /auto/ }).waitFor();
		await screenshot(page, "history-detections");
	});
});
