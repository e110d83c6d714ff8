/**
 * Embedded exact index over a gallery of N x 512 random unit vectors, on the main thread:
 * bulk upsert, query (no filter), a filtered query over one session's points (1%: the row
 * lists), a filtered query over the gallery's active points (98%: a full scan checking the
 * filter on candidates), one upsert with fsync, reopen from the log and the first query after it.
 * Query figures are the mean and the median of `queries` queries, top 5; the results of three
 * queries are checked against a naive double-precision scan (`exact`); `rssMb` is the process's
 * resident memory with the gallery loaded.
 * Usage: npm run bench:vectors -- [N=100000] [queries=50]
 */
import os from "node:os";
import path from "node:path";
import fs from "node:fs";
import { EmbeddedVectorStore } from "../lib/store/embedded-vectors";
import { normalizedCopy, type VectorFilter, type VectorHit } from "../lib/store/vectors";

const D = 512;

function stats(ms: number[]) {
	const s = [...ms].sort((a, b) => a - b);
	return { mean: +(ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(2), median: +s[Math.floor(s.length / 2)].toFixed(2) };
}

async function main() {
	const n = Number(process.argv[2] ?? 100_000);
	const queries = Number(process.argv[3] ?? 50);
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rollcall-bench-vectors-"));
	const file = path.join(dir, "v.vectors");
	const store = new EmbeddedVectorStore({ file, dimension: D, sync: false });
	await store.open();
	const rand = () => Array.from({ length: D }, () => Math.random() * 2 - 1);
	const payload = (i: number) => ({ userId: i, slotId: i % 100, active: i % 50 !== 0 });
	const t0 = performance.now();
	const batch = 1000;
	for (let i = 0; i < n; i += batch) {
		const points = Array.from({ length: Math.min(batch, n - i) }, (_, j) => ({ id: `p${i + j}`, vector: rand(), payload: payload(i + j) }));
		await store.upsert(points);
	}
	const insertMs = performance.now() - t0;
	const qs = Array.from({ length: queries }, rand);
	const time = async (filter?: VectorFilter) => {
		await store.search(qs[0], { limit: 5, filter }); // warm-up (and the filter's row lists)
		const ms: number[] = [];
		for (const q of qs) {
			const t = performance.now();
			await store.search(q, { limit: 5, filter });
			ms.push(performance.now() - t);
		}
		return stats(ms);
	};
	const query = await time();
	const session = await time({ slotId: 7 });
	const active = await time({ active: true });
	const rssMb = Math.round(process.memoryUsage().rss / 2 ** 20);
	// Exactness: the store's top 5 against a naive double-precision scan of every point.
	let exact = true;
	const all = await store.list({}, n);
	for (const [qi, filter] of [[0, undefined], [1, { slotId: 7 }], [2, { active: true }]] as [number, VectorFilter | undefined][]) {
		const q = normalizedCopy(qs[qi], D);
		const ref = all
			.filter(p => !filter || Object.entries(filter).every(([k, v]) => p.payload[k] === v))
			.map(p => {
				let s = 0;
				for (let j = 0; j < D; j++) s += q[j] * p.vector[j];
				return { id: p.id, score: s };
			})
			.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
			.slice(0, 5);
		const got: VectorHit[] = await store.search(qs[qi], { limit: 5, filter });
		if (got.map(h => h.id).join() !== ref.map(h => h.id).join()) exact = false;
	}
	all.length = 0;
	await store.close();
	const synced = new EmbeddedVectorStore({ file, dimension: D, sync: true });
	let t = performance.now();
	await synced.open();
	const reopenMs = performance.now() - t;
	t = performance.now();
	await synced.search(qs[1], { limit: 5 });
	const firstQueryMs = performance.now() - t;
	const upserts: number[] = [];
	for (let i = 0; i < 20; i++) {
		t = performance.now();
		await synced.upsert([{ id: `p${i}`, vector: rand(), payload: payload(i) }]);
		upserts.push(performance.now() - t);
	}
	await synced.close();
	fs.rmSync(dir, { recursive: true, force: true });
	console.log(
		JSON.stringify(
			{
				gallery: n,
				dimension: D,
				insertSeconds: +(insertMs / 1000).toFixed(2),
				queryMs: query,
				sessionFilteredQueryMs: session,
				activeFilteredQueryMs: active,
				exact,
				upsertOneWithFsyncMs: stats(upserts),
				reopenSeconds: +(reopenMs / 1000).toFixed(2),
				firstQueryAfterReopenMs: +firstQueryMs.toFixed(2),
				rssMb,
				node: process.version,
				cpu: os.cpus()[0]?.model,
				cores: os.cpus().length,
				loadAverage: os.loadavg().map(l => +l.toFixed(2))
			},
			null,
			1
		)
	);
}

void main();
