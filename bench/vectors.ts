/**
 * Embedded exact index: upsert and query time over a gallery of N x 512 random unit
 * vectors, one thread. Usage: npm run bench:vectors -- [N=100000] [queries=50]
 */
import os from "node:os";
import path from "node:path";
import fs from "node:fs";
import { EmbeddedVectorStore } from "../lib/store/embedded-vectors";

async function main() {
	const n = Number(process.argv[2] ?? 100_000);
	const queries = Number(process.argv[3] ?? 50);
	const D = 512;
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rollcall-bench-vectors-"));
	const store = new EmbeddedVectorStore({ file: path.join(dir, "v.vectors"), dimension: D, sync: false });
	await store.open();
	const rand = () => Array.from({ length: D }, () => Math.random() * 2 - 1);
	const t0 = performance.now();
	const batch = 1000;
	for (let i = 0; i < n; i += batch)
		await store.upsert(Array.from({ length: Math.min(batch, n - i) }, (_, j) => ({ id: `p${i + j}`, vector: rand(), payload: { userId: i + j, slotId: (i + j) % 100 } })));
	const insertMs = performance.now() - t0;
	const qs = Array.from({ length: queries }, rand);
	await store.search(qs[0], { limit: 5 }); // warm-up
	let t = performance.now();
	for (const q of qs) await store.search(q, { limit: 5 });
	const perQuery = (performance.now() - t) / queries;
	t = performance.now();
	for (const q of qs) await store.search(q, { limit: 5, filter: { slotId: 7 } });
	const perFiltered = (performance.now() - t) / queries;
	t = performance.now();
	await store.close();
	const reopen = new EmbeddedVectorStore({ file: path.join(dir, "v.vectors"), dimension: D });
	await reopen.open();
	const reopenMs = performance.now() - t;
	await reopen.close();
	fs.rmSync(dir, { recursive: true, force: true });
	console.log(
		JSON.stringify({ gallery: n, dimension: D, insertSeconds: +(insertMs / 1000).toFixed(2), queryMs: +perQuery.toFixed(2), filteredQueryMs: +perFiltered.toFixed(2), reopenSeconds: +(reopenMs / 1000).toFixed(2), node: process.version, cpu: os.cpus()[0]?.model }, null, 1)
	);
}

void main();
