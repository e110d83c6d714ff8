/**
 * Headless Chromium from Debian (/usr/bin/chromium, `.ci/run` installs it) driven by
 * playwright-core, with a fresh profile and the flags that keep it off the network (without
 * them Chromium floods a closed network with refused connections). Screenshots go to
 * test-artifacts/browser/ (not committed).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const ARTIFACTS = path.resolve(__dirname, "../../test-artifacts/browser");
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export function chromiumAvailable(): boolean {
	return fs.existsSync(CHROMIUM);
}

export interface Browser {
	context: BrowserContext;
	/** Errors the pages logged or threw (a test can assert there were none). */
	pageErrors: string[];
	newPage(): Promise<Page>;
	close(): Promise<void>;
}

export async function launch(opts: { timezoneId?: string; locale?: string } = {}): Promise<Browser> {
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), "rollcall-chromium-"));
	const context = await chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM,
		headless: true,
		args: FLAGS,
		timezoneId: opts.timezoneId,
		locale: opts.locale ?? "en-GB",
		viewport: { width: 1366, height: 900 },
		acceptDownloads: true
	});
	const pageErrors: string[] = [];
	const watch = (p: Page) => {
		p.on("pageerror", err => pageErrors.push(`pageerror: ${err.message}`));
		p.on("console", m => {
			if (m.type() === "error") pageErrors.push(`console: ${m.text()}`);
		});
	};
	context.pages().forEach(watch);
	context.on("page", watch);
	return {
		context,
		pageErrors,
		newPage: async () => context.pages()[0] ?? context.newPage(),
		close: async () => {
			await context.close().catch(() => undefined);
			fs.rmSync(profile, { recursive: true, force: true });
		}
	};
}

export async function screenshot(page: Page, name: string): Promise<void> {
	fs.mkdirSync(ARTIFACTS, { recursive: true });
	await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}
