/**
 * The web console in a real browser (Debian's headless Chromium through playwright-core)
 * against a real Rollcall node (every service, the real models) serving the built console at /:
 * sign in, a reload kept signed in by the refresh token, a camera created (and an API refusal
 * shown in words), a person registered with a good and a two-person photo (the refusal and its
 * reason shown on that photo, the rest registered), an embedding-only face shown as a
 * placeholder, attendance filtered and shown in the browser's time zone, an operator's CSV
 * export downloaded with its rows, the audit log, system health with an administrator's
 * service restart, an API key created (shown once) and revoked; a Viewer offered no write anywhere. Screenshots of each page go to
 * test-artifacts/browser/.
 */
import fs from "node:fs";
import sharp from "sharp";
import type { Page } from "playwright-core";
import { buildWeb } from "../../scripts/build-web";
import { chromiumAvailable, launch, screenshot, type Browser } from "../support/browser";
import { ADMIN, CONSOLE_ENV, accountOf, call, login } from "../support/console";
import { faceCrop, FACES } from "../support/face-video";
import { startNode, type TestNode } from "../support/node";

const ZONE = "America/New_York";


const suite = chromiumAvailable() ? describe : describe.skip;
if (!chromiumAvailable()) console.warn("browser tests skipped: /usr/bin/chromium is not installed (apt-get install chromium)");

suite("web console in Chromium", () => {
	let node: TestNode;
	let origin: string;
	let browser: Browser;
	let page: Page;
	let admin: string;

	beforeAll(async () => {
		if (!buildWeb({ ifMissing: true })) throw new Error("the web console could not be built (npm run build:web)");
		node = await startNode({ ...CONSOLE_ENV });
		origin = node.baseUrl.replace(/\/api\/v1$/, "");
		admin = (await login(node, ADMIN.email, ADMIN.password)).accessToken;
		browser = await launch({ timezoneId: ZONE });
		page = await browser.newPage();
	}, 180_000);
	afterAll(async () => {
		await browser?.close();
		await node?.stop();
	});

	async function signIn(p: Page, email: string, password: string) {
		await p.goto(`${origin}/`);
		await p.getByLabel("Email").fill(email);
		await p.getByLabel("Password").fill(password);
		await p.getByRole("button", { name: "Sign in" }).click();
		await p.getByRole("heading", { name: "Dashboard" }).waitFor();
	}

	it("serves the console at / with its caching headers, and leaves the API's paths alone", async () => {
		const index = await fetch(`${origin}/`);
		expect(index.status).toBe(200);
		expect(index.headers.get("cache-control")).toBe("no-cache");
		const html = await index.text();
		const asset = /\/assets\/[A-Za-z0-9._-]+\.js/.exec(html)![0];
		const js = await fetch(origin + asset, { headers: { "Accept-Encoding": "gzip" } });
		expect(js.status).toBe(200);
		expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
		expect(js.headers.get("content-type")).toMatch(/javascript/);
		expect((await fetch(`${origin}/assets/..%2Fpackage.json`)).status).toBe(404);
		expect((await fetch(`${origin}/api/v1/health`)).status).toBe(200);
		expect((await fetch(`${origin}/api/v1/openapi.json`)).headers.get("content-type")).toMatch(/json/);
		expect((await fetch(`${origin}/socket.io/?EIO=4&transport=polling`)).status).toBe(200);
	});

	it("refuses a wrong password in words, signs in, and stays signed in across a reload (silent refresh)", async () => {
		await page.goto(`${origin}/`);
		await page.getByLabel("Email").fill(ADMIN.email);
		await page.getByLabel("Password").fill("not-the-password");
		await page.getByRole("button", { name: "Sign in" }).click();
		await expect(page.getByRole("alert").textContent()).resolves.toMatch(/invalid|incorrect|wrong/i);
		await screenshot(page, "login-refused");
		await page.getByLabel("Password").fill(ADMIN.password);
		await page.getByRole("button", { name: "Sign in" }).click();
		await page.getByRole("heading", { name: "Dashboard" }).waitFor();
		expect(await page.getByText(`Times in ${ZONE}`).count()).toBe(1);
		// An expired access token is refreshed with the stored refresh token, without a sign-in.
		await page.evaluate(`(() => {
			const s = JSON.parse(localStorage.getItem("rollcall.session"));
			localStorage.setItem("rollcall.session", JSON.stringify({ ...s, accessToken: "expired.invalid.token" }));
		})()`);
		await page.reload();
		await page.getByRole("heading", { name: "Dashboard" }).waitFor();
		expect(await page.getByRole("button", { name: "Sign in" }).count()).toBe(0);
		await screenshot(page, "dashboard");
	});

	it("creates a camera, and shows the API's refusal of a bad one in words", async () => {
		await page.goto(`${origin}/#/cameras`);
		await page.getByRole("button", { name: "Add camera" }).click();
		const dialog = page.getByRole("dialog");
		await dialog.getByLabel("Name", { exact: true }).fill("Lobby");
		await dialog.getByLabel("Location").fill("Main hall");
		await dialog.getByLabel("Stream URL").fill("file:///etc/passwd");
		await dialog.getByRole("button", { name: "Add camera" }).click();
		const refusal = dialog.getByRole("alert");
		await refusal.waitFor();
		expect(await refusal.textContent()).toMatch(/Not saved.*(URL|url|rtsp)/s);
		await dialog.getByLabel("Stream URL").fill("rtsp://127.0.0.1:9/lobby");
		await dialog.getByLabel("Username").fill("cam");
		await dialog.getByLabel("Password").fill("secret-pass");
		await dialog.getByRole("button", { name: "Add camera" }).click();
		await page.getByRole("cell", { name: "Lobby", exact: true }).waitFor();
		expect(await page.getByRole("cell", { name: "CAM-01", exact: true }).count()).toBe(1);
		await screenshot(page, "cameras");
		const list = await call(node, "/cameras", { token: admin });
		expect(list.body.data).toEqual([expect.objectContaining({ id: "CAM-01", name: "Lobby", location: "Main hall", streamUrl: "rtsp://127.0.0.1:9/lobby" })]);
		expect(JSON.stringify(list.body.data)).not.toContain("secret-pass");
	});

	it("registers a person: the two-person photo is refused with its reason, the good one is kept", async () => {
		const good = await faceCrop(FACES.anna);
		const bea = await faceCrop(FACES.bea);
		const cleo = await faceCrop(FACES.cleo);
		const pair = await sharp({ create: { width: 720, height: 360, channels: 3, background: "#777777" } })
			.composite([
				{ input: bea, left: 0, top: 0 },
				{ input: cleo, left: 360, top: 0 }
			])
			.jpeg()
			.toBuffer();
		await page.goto(`${origin}/#/faces`);
		await page.getByRole("button", { name: "Register a person" }).click();
		const dialog = page.getByRole("dialog");
		await dialog.getByLabel("Name", { exact: true }).fill("Anna Lind");
		await dialog.getByLabel("Employee id").fill("EMP-001");
		await dialog.getByLabel("Department").fill("Math");
		expect(await dialog.getByLabel("Category").inputValue()).toBe("employee");
		await dialog.getByLabel(/Photos/).setInputFiles([
			{ name: "anna.jpg", mimeType: "image/jpeg", buffer: good },
			{ name: "two-people.jpg", mimeType: "image/jpeg", buffer: pair }
		]);
		await dialog.getByRole("button", { name: "Register" }).click();
		const refused = dialog.locator("li.refused");
		await refused.waitFor({ timeout: 30_000 });
		expect(await refused.textContent()).toMatch(/two-people\.jpg.*refused.*2 faces in the photo.*MULTIPLE_FACES/s);
		expect(await dialog.locator("li.accepted").textContent()).toMatch(/anna\.jpg.*accepted/s);
		await screenshot(page, "faces-refused");
		expect((await call(node, "/faces", { token: admin })).body.data).toEqual([]);
		await dialog.getByRole("button", { name: "Remove refused photos" }).click();
		await dialog.getByRole("button", { name: "Register" }).click();
		await page.getByRole("status").filter({ hasText: "Anna Lind registered with 1 photo" }).waitFor({ timeout: 30_000 });
		await page.getByRole("button", { name: "Anna Lind" }).waitFor();
		await screenshot(page, "faces");
		const profiles = (await call(node, "/faces", { token: admin })).body.data;
		expect(profiles).toEqual([expect.objectContaining({ employeeId: "EMP-001", name: "Anna Lind", imageCount: 1, status: "active", category: "employee" })]);
	});

	it("shows an embedding-only face (set through the face API's gallery/set, no photo) as a placeholder", async () => {
		let seed = 7;
		const v = Array.from({ length: 512 }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5);
		const norm = Math.hypot(...v);
		const res = await fetch(`${origin}/api/face-recognition/gallery/set`, {
			method: "POST",
			headers: { Authorization: `Bearer ${admin}`, "Content-Type": "application/json" },
			body: JSON.stringify({ gallery: { "EMP-090": { person_name: "Eve Embed", embeddings: [v.map(x => x / norm)] } } })
		});
		expect({ status: res.status, body: await res.json() }).toEqual({ status: 200, body: expect.objectContaining({ success: true, embeddings: 1 }) });
		const [eve] = (await call(node, "/faces?search=Eve", { token: admin })).body.data;
		expect((await call(node, `/faces/${eve.id}`, { token: admin })).body.data.images).toEqual([expect.objectContaining({ url: null })]);
		await page.goto(`${origin}/#/faces?search=Eve`); // a new route: the list is read again
		await page.getByRole("button", { name: "Eve Embed" }).click();
		await page.getByRole("img", { name: /No photo kept .*embedding only/ }).waitFor();
		expect(await page.locator("main img").count()).toBe(0);
		await screenshot(page, "faces-embedding-only");
	});

	it("filters attendance, pages it, and shows times in the browser's time zone", async () => {
		const at = new Date();
		at.setUTCHours(13, 7, 0, 0); // 13:07 UTC is 08:07 or 09:07 in New York
		const people = [
			{ personId: "P-1", employeeId: "EMP-001", name: "Anna Lind", department: "Math" },
			{ personId: "P-2", employeeId: "EMP-002", name: "Bea Berg", department: "Art" }
		];
		for (const [i, p] of people.entries())
			await node.broker.call("attendanceLogs.recordSighting", { detectionId: `d-${i}`, ...p, cameraId: 1, at: new Date(at.getTime() + i * 60_000).toISOString(), confidence: 0.93 });
		await page.goto(`${origin}/#/attendance`);
		await page.getByRole("cell", { name: "Bea Berg" }).waitFor();
		expect(await page.locator("tbody tr").count()).toBe(2);
		const local = new Intl.DateTimeFormat("en-GB", { timeStyle: "medium", timeZone: ZONE }).format(at);
		// One sighting: she came in and was last seen at that time.
		expect(await page.getByRole("cell", { name: local, exact: true }).count()).toBe(2);
		await page.getByLabel("Search").fill("Anna");
		await page.getByRole("button", { name: "Apply filters" }).click();
		await page.locator("tbody tr").nth(1).waitFor({ state: "detached" }); // the page's CSP forbids eval, so no string predicates
		expect(await page.locator("tbody tr").textContent()).toContain("Anna Lind");
		expect(page.url()).toContain("search=Anna");
		await page.getByLabel("Status").selectOption("late");
		await page.getByRole("button", { name: "Apply filters" }).click();
		await page.getByText("No attendance matches.").waitFor();
		await screenshot(page, "attendance");
		// Her history, from the log's link.
		await page.getByLabel("Status").selectOption("");
		await page.getByRole("button", { name: "Apply filters" }).click();
		await page.getByRole("link", { name: "Anna Lind" }).click();
		await page.getByRole("heading", { name: /Anna Lind/ }).waitFor();
		await screenshot(page, "history");
	});

	it("lets an operator export the filtered attendance as CSV and downloads the file with its rows", async () => {
		const at = new Date();
		at.setUTCHours(14, 0, 0, 0);
		const people = [
			{ personId: "P-11", employeeId: "EMP-011", name: "Cara Dahl", department: "Math" },
			{ personId: "P-12", employeeId: "EMP-012", name: "Cara Ek", department: "Art" },
			{ personId: "P-13", employeeId: "EMP-013", name: "Dan Falk", department: "Art" }
		];
		for (const [i, p] of people.entries())
			await node.broker.call("attendanceLogs.recordSighting", { detectionId: `x-${i}`, ...p, cameraId: 1, at: new Date(at.getTime() + i * 60_000).toISOString(), confidence: 0.9 });
		const operator = await accountOf(node, admin, "ROLE-OPERATOR", "operator@console.test");
		const other = await launch({ timezoneId: ZONE });
		try {
			const p = await other.newPage();
			await signIn(p, "operator@console.test", operator.password);
			await p.goto(`${origin}/#/attendance?search=Cara`);
			await p.getByRole("cell", { name: "Cara Ek" }).waitFor();
			await p.getByLabel("Format").selectOption("csv");
			const downloaded = p.waitForEvent("download", { timeout: 60_000 });
			await p.getByRole("button", { name: "Export", exact: true }).click();
			const file = await downloaded;
			expect(file.suggestedFilename()).toMatch(/\.csv$/);
			const text = fs.readFileSync((await file.path())!, "utf8");
			const lines = text.trim().split(/\r?\n/);
			expect(lines).toHaveLength(3); // the header and the two matching the search
			expect(lines[0]).toContain("Employee ID");
			expect(text).toContain("EMP-011");
			expect(text).toContain("Cara Ek");
			expect(text).not.toContain("Dan Falk");
			await p.getByText("(2 rows)").waitFor();
			await screenshot(p, "attendance-export");
		} finally {
			await other.close();
		}
	});

	it("shows alerts as they are raised (live channel), and acknowledges one", async () => {
		await node.broker.call("alerts.raise", { cause: "camera:1:offline", type: "camera_offline", level: "high", title: "Lobby is offline", description: "No frame for 60 s", cameraId: 1 });
		await page.goto(`${origin}/#/alerts`);
		await page.getByRole("cell", { name: /Lobby is offline/ }).waitFor();
		// Raised while the page is open: it appears without a reload.
		await node.broker.call("alerts.raise", { cause: "odoo:sync-failures", type: "odoo_sync_failed", level: "medium", title: "Odoo sync failing", description: "3 attempts failed" });
		await page.getByRole("cell", { name: /Odoo sync failing/ }).waitFor({ timeout: 5000 });
		await page.getByRole("row", { name: /Lobby is offline/ }).getByRole("button", { name: "Acknowledge" }).click();
		await page.getByRole("row", { name: /Lobby is offline/ }).getByText(/acknowledged by/).waitFor();
		await screenshot(page, "alerts");
		const [lobby] = (await call(node, "/alerts?type=camera_offline", { token: admin })).body.data;
		expect(lobby).toEqual(expect.objectContaining({ acknowledged: true, acknowledgedBy: ADMIN.email }));
	});

	it("shows the audit log with the console's own writes", async () => {
		await page.goto(`${origin}/#/audit`);
		await page.getByRole("cell", { name: "cameras.create" }).first().waitFor();
		await page.getByLabel("Action").fill("faces.create");
		await page.getByRole("button", { name: "Apply filters" }).click();
		await page.locator("tbody tr", { hasNotText: "faces.create" }).first().waitFor({ state: "detached" });
		await screenshot(page, "audit");
		for (const [path, heading] of [["settings", "Settings"], ["api", "API reference"], ["live", "Live view"]] as const) {
			await page.goto(`${origin}/#/${path}`);
			await page.getByRole("heading", { name: heading, exact: true }).waitFor();
			await screenshot(page, path);
		}
		expect(browser.pageErrors.filter(e => !/status of 4\d\d/.test(e))).toEqual([]);
	});

	it("shows system health (nodes, services, versions) and lets an administrator restart a service", async () => {
		await page.goto(`${origin}/#/system`);
		await page.getByRole("heading", { name: "System health" }).waitFor();
		const nodeRow = page.getByRole("table", { name: "Nodes" }).getByRole("row", { name: new RegExp(node.broker.nodeID) });
		await nodeRow.waitFor();
		expect(await nodeRow.textContent()).toMatch(/available.*gateway.*% of \d+ cores.*% of .*GiB/s);
		const detections = page.getByRole("table", { name: "Services" }).getByRole("row", { name: /^detections\b/ });
		expect(await detections.textContent()).toMatch(/detections\s*running\s*1 of 1/);
		const version = (await call(node, "/system/version", { token: admin })).body.data.version;
		await page.getByText(version, { exact: true }).first().waitFor();
		page.once("dialog", d => void d.accept());
		await detections.getByRole("button", { name: "Restart detections" }).click();
		await page.getByRole("status").filter({ hasText: "detections restarted on 1 node(s)." }).waitFor({ timeout: 60_000 });
		await screenshot(page, "system");
		const [entry] = (await call(node, "/audit?resource=service", { token: admin })).body.data;
		expect(entry).toEqual(expect.objectContaining({ resourceId: "detections", actor: ADMIN.email }));
	});

	it("creates an API key shown once, which the API accepts, and revokes it", async () => {
		await page.goto(`${origin}/#/api-keys`);
		await page.getByRole("heading", { name: "API keys" }).waitFor();
		await page.getByLabel("Key name").fill("door controller");
		await page.getByLabel("Role").selectOption("ROLE-OPERATOR");
		await page.getByRole("button", { name: "Create key" }).click();
		const key = (await page.getByLabel("The new key").textContent())!.trim();
		expect(key.length).toBeGreaterThan(20);
		const row = page.getByRole("row", { name: /door controller/ });
		await row.getByText("active").waitFor();
		// Keys are for programs: the face API takes them (the console's own API takes logins only).
		const galleryInfo = () => fetch(`${origin}/api/face-recognition/gallery/info`, { headers: { "X-API-Key": key } }).then(r => r.status);
		expect(await galleryInfo()).toBe(200);
		await screenshot(page, "api-keys");
		page.once("dialog", d => void d.accept());
		await row.getByRole("button", { name: "Revoke door controller" }).click();
		await row.getByText("revoked").waitFor();
		expect(await galleryInfo()).toBe(401);
		// Shown once: the page read again has only the prefix.
		await page.reload();
		await row.waitFor();
		expect(await page.getByText(key).count()).toBe(0);
		expect(await row.textContent()).toContain(key.slice(0, 12)); // rk_ and the prefix
	});

	it("offers a Viewer no write anywhere", async () => {
		const viewer = await accountOf(node, admin, "ROLE-VIEWER", "viewer@console.test");
		const other = await launch({ timezoneId: ZONE });
		try {
			const p = await other.newPage();
			await signIn(p, "viewer@console.test", viewer.password);
			const nav = await p.getByRole("navigation", { name: "Pages" }).textContent();
			expect(nav).not.toContain("Face register");
			expect(nav).not.toContain("Audit log");
			const writes = /^(Add|Edit|Delete|Enable|Disable|Test|Snapshot|Manual entry|Register|Remove|Archive|Save site settings|Acknowledge|Mute|Unmute|Restart|Move|Drain|Undrain)/;
			for (const path of ["", "cameras", "attendance", "settings", "live", "history", "alerts", "system"]) {
				await p.goto(`${origin}/#/${path}`);
				await p.locator("main h1").waitFor();
				await p.waitForLoadState("networkidle");
				const names = await p.locator("main button").allTextContents();
				expect({ path, offered: names.filter(n => writes.test(n.trim())) }).toEqual({ path, offered: [] });
			}
			await p.goto(`${origin}/#/cameras`);
			await p.getByRole("cell", { name: "Lobby", exact: true }).waitFor();
			await screenshot(p, "viewer-cameras");
			// A page the role may not open says so, and the API would refuse anyway.
			await p.goto(`${origin}/#/faces`);
			await p.getByRole("alert").filter({ hasText: "may not open" }).waitFor();
			expect((await call(node, "/cameras", { token: viewer.token, body: { name: "X", streamUrl: "rtsp://127.0.0.1:9/x" } })).status).toBe(403);
		} finally {
			await other.close();
		}
	});
});
