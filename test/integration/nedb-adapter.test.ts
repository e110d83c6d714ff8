/**
 * The embedded document store's updates in a real process: they print no deprecation warning
 * (moleculer-db's NeDB adapter wraps update in util.promisify around a promise, DEP0174, once
 * per update, which flooded the logs of a busy node).
 */
import { spawnSync } from "node:child_process";
import path from "node:path";

it("NeDB updates print no deprecation warning", () => {
	const r = spawnSync(process.execPath, ["--import", "tsx", path.join(__dirname, "../support/nedb-updates.ts")], { encoding: "utf8", timeout: 60_000 });
	expect(r.stdout).toContain("updates done");
	expect(r.stderr).not.toMatch(/DEP0174|promisify/);
});
