/**
 * The system page's actors in a real browser (Debian's headless Chromium through
 * playwright-core) against a real two-node cluster over the real NATS: node A runs gateway,
 * storage, actors and inference (serving the built console), node B runs actors. A recognition
 * session started on the FUACS route with a real RTSP camera runs on A; an administrator sees
 * it there with its camera's scan lag and the inference queue, drains A from the page and sees
 * the session move to B, takes A back and moves the session to it with the Move dialog; a
 * Viewer sees the actors but is offered no Move, Drain or Undrain. Screenshots go to
 * test-artifacts/browser/.
 */
import type { Page } from "playwright-core";
import { buildWeb } from "../../scripts/build-web";
import { chromiumAvailable, launch, screenshot, type Browser } from "../support/browser";
import { natsReachable, NATS_URL, spawnNode, type NodeProcess } from "../support/cluster";
import { ADMIN, CONSOLE_ENV, accountOf, call, login } from "../support/console";
import { startJavaBackend, type JavaBackend } from "../support/java-backend";
import { api } from "../support/node";
import { rtspServerMissing, startRtspServer, type RtspServer } from "../support/rtsp";
import { until } from "../support/until";

const SLOT = 6161;
/** Generous: the machine is shared and often loaded. */
const WAIT = 60_000;

const missing = !chromiumAvailable() ? "/usr/bin/chromium is not installed (apt-get install chromium)" : rtspServerMissing();
const suite = missing ? describe.skip : describe;
if (missing) console.warn(`system drain browser test skipped: ${missing}`);

/** A unit vector standing for an enrolled student nobody in the stream matches. */
function embedding(seed: number): number[] {
	const v = Array.from({ length: 512 }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5);
	const n = Math.hypot(...v);
	return v.map(x => x / n);
}

suite("system page: drain an actors node and see the session move (Chromium, two nodes over NATS)", () => {
	const namespace = `sd${process.pid}${Date.now().toString(36)}`;
	const common = { TRANSPORTER: NATS_URL, NAMESPACE: namespace, ACTOR_LEASE_MS: "4000", ACTOR_PLACEMENT_MS: "500", INFERENCE_WORKERS: "1", JWT_SECRET: "system-drain-test-secret-0123456789ab", ...CONSOLE_ENV };
	let a: NodeProcess;
	let b: NodeProcess;
	let rtsp: RtspServer;
	let backend: JavaBackend;
	let browser: Browser;
	let page: Page;
	let origin: string;
	let admin: string;

	const ownerOf = async () => (await api(a.baseUrl, "/recognition/sessions")).body.data?.find((s: { slotId: number }) => s.slotId === SLOT)?.servedBy ?? null;
	const section = (p: Page, nodeID: string) => p.getByRole("region", { name: `Actors on ${nodeID}` });

	async function signIn(p: Page, email: string, password: string) {
		await p.goto(`${origin}/`);
		await p.getByLabel("Email").fill(email);
		await p.getByLabel("Password").fill(password);
		await p.getByRole("button", { name: "Sign in" }).click();
		await p.getByRole("heading", { name: "Dashboard" }).waitFor({ timeout: WAIT });
	}

	beforeAll(async () => {
		if (!(await natsReachable())) throw new Error(`NATS is not reachable at ${NATS_URL}: start it (see README, .ci/run)`);
		if (!buildWeb({ ifMissing: true })) throw new Error("the web console could not be built (npm run build:web)");
		rtsp = await startRtspServer({ live: { "/room": { width: 320, height: 240, fps: 10 } } });
		backend = await startJavaBackend();
		[a, b] = await Promise.all([spawnNode(`A-${namespace}`, { ...common, SERVICES: "gateway,storage,actors,inference" }), spawnNode(`B-${namespace}`, { ...common, SERVICES: "actors" })]);
		origin = a.baseUrl.replace(/\/api\/v1$/, "");
		await until("the cluster healthy", async () => (await api(a.baseUrl, "/health", { key: null })).body?.data?.status, s => s === "healthy", WAIT);
		admin = (await login(a, ADMIN.email, ADMIN.password)).accessToken;
		await until("both actors nodes listed", async () => (await call(a, "/system/actors", { token: admin })).body?.data?.nodes ?? [], n => n.filter((x: { actorsNode: boolean }) => x.actorsNode).length === 2, WAIT);
		const start = await api(a.baseUrl, "/recognition/process-session", {
			body: { slotId: SLOT, roomId: 1, students: [{ userId: 1, fullName: "Nobody Here", rollNumber: "N1", embeddingVector: embedding(5), embeddingVersion: 1 }], cameras: [{ id: 1, name: "A101-01", rtspUrl: rtsp.url("/room") }], config: { similarityThreshold: 0.85, scanInterval: 1, callbackUrl: backend.url } }
		});
		if (start.status !== 200) throw new Error(`process-session answered ${start.status}: ${JSON.stringify(start.body)}`);
		await until("the session served", ownerOf, o => o !== null, WAIT);
		// The story starts with the session on A: placement may have picked B.
		if ((await ownerOf()) !== a.name) {
			const moved = await call(a, `/system/actors/session/${SLOT}/move`, { token: admin, body: { toNode: a.name } });
			if (moved.status !== 200) throw new Error(`move to A answered ${moved.status}: ${JSON.stringify(moved.body)}`);
		}
		browser = await launch();
		page = await browser.newPage();
	}, 300_000);

	afterAll(async () => {
		await browser?.close();
		await Promise.all([a, b].filter(Boolean).map(n => n.stop("SIGKILL")));
		await rtsp?.stop();
		await backend?.close();
	});

	it("shows the session on A with its camera's scan lag and the inference queue; Drain A moves it to B on the page", async () => {
		await signIn(page, ADMIN.email, ADMIN.password);
		await page.goto(`${origin}/#/system`);
		await page.getByRole("heading", { name: "System health" }).waitFor();
		const onA = section(page, a.name);
		await onA.getByRole("cell", { name: `Session of slot ${SLOT}`, exact: true }).waitFor({ timeout: WAIT });
		// The camera stream's row carries a measured scan lag once it scans (the page reloads every 5 s).
		await onA.getByRole("row", { name: new RegExp(`Camera 1 of slot ${SLOT}.*connected.*\\d+ ms`) }).waitFor({ timeout: WAIT });
		expect(await section(page, b.name).getByText("No actor runs here.").count()).toBe(1);
		await page.getByRole("table", { name: "Inference queues" }).getByRole("row", { name: new RegExp(a.name) }).waitFor();
		await screenshot(page, "system-actors");

		page.once("dialog", d => void d.accept());
		await page.getByRole("button", { name: `Drain ${a.name}` }).click();
		await page.getByRole("status").filter({ hasText: `${a.name} drained: 1 session(s) and 0 monitor(s) moved.` }).waitFor({ timeout: WAIT });
		const onB = section(page, b.name);
		await onB.getByRole("cell", { name: `Session of slot ${SLOT}`, exact: true }).waitFor({ timeout: WAIT });
		await onB.getByRole("cell", { name: `Camera 1 of slot ${SLOT}`, exact: true }).waitFor();
		await onA.getByText("No actor runs here.").waitFor();
		await onA.getByText("draining").waitFor();
		expect(await ownerOf()).toBe(b.name);
		await screenshot(page, "system-drained");
		const [entry] = (await call(a, "/audit?resource=node", { token: admin })).body.data;
		expect(entry).toEqual(expect.objectContaining({ resourceId: a.name, actor: ADMIN.email, outcome: "success" }));
	}, 180_000);

	it("refuses a Move to the draining node in words; after Undrain, the Move dialog takes the session back to A", async () => {
		const onA = section(page, a.name);
		const onB = section(page, b.name);
		await onB.getByRole("button", { name: `Move Session of slot ${SLOT}` }).click();
		const dialog = page.getByRole("dialog");
		// A draining node is not offered, and the API would refuse it anyway.
		expect(await dialog.getByRole("option", { name: `${a.name} (draining)` }).isDisabled()).toBe(true);
		await dialog.getByRole("button", { name: "Move" }).click();
		await dialog.getByRole("alert").filter({ hasText: /Not moved.*No other actors node can take session.*NO_TARGET_NODE/s }).waitFor({ timeout: WAIT });
		await dialog.getByRole("button", { name: "Cancel" }).click();

		page.once("dialog", d => void d.accept());
		await page.getByRole("button", { name: `Undrain ${a.name}` }).click();
		await page.getByRole("status").filter({ hasText: `${a.name} takes sessions and monitors again.` }).waitFor({ timeout: WAIT });
		await onA.getByText("takes actors").waitFor({ timeout: WAIT });

		await onB.getByRole("button", { name: `Move Session of slot ${SLOT}` }).click();
		await dialog.getByLabel("Target node").selectOption(a.name);
		await dialog.getByRole("button", { name: "Move" }).click();
		await page.getByRole("status").filter({ hasText: `Session of slot ${SLOT} moved from ${b.name} to ${a.name}` }).waitFor({ timeout: WAIT });
		await onA.getByRole("cell", { name: `Session of slot ${SLOT}`, exact: true }).waitFor({ timeout: WAIT });
		expect(await ownerOf()).toBe(a.name);
		await screenshot(page, "system-moved");
	}, 120_000);

	it("shows a Viewer the actors, and offers no Move, Drain or Undrain (the API refuses them anyway)", async () => {
		const viewer = await accountOf(a, admin, "ROLE-VIEWER", "viewer@drain.test");
		const other = await launch();
		try {
			const p = await other.newPage();
			await signIn(p, "viewer@drain.test", viewer.password);
			await p.goto(`${origin}/#/system`);
			await section(p, a.name).getByRole("cell", { name: `Session of slot ${SLOT}`, exact: true }).waitFor({ timeout: WAIT });
			await p.getByRole("table", { name: "Inference queues" }).waitFor();
			const names = await p.locator("main button").allTextContents();
			expect(names.filter(n => /^(Move|Drain|Undrain|Restart)/.test(n.trim()))).toEqual([]);
			await screenshot(p, "system-viewer");
			const refused = await call(a, `/system/nodes/${a.name}/drain`, { token: viewer.token, body: {} });
			expect({ status: refused.status, code: refused.body.error?.code }).toEqual({ status: 403, code: "FORBIDDEN" });
			expect(await ownerOf()).toBe(a.name);
		} finally {
			await other.close();
		}
	}, 120_000);
});
