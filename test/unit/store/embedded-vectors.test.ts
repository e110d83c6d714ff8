/**
 * The embedded vector index answers exactly as a naive scan does: the same ids, in the same
 * order, with the same scores (the double-precision dot product of the stored, float32-normalised
 * vectors; equal scores by id), with and without filters and minScore, through replacements,
 * removals, compaction, reopening and a crash mid-write.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { EmbeddedVectorStore } from "../../../lib/store/embedded-vectors";
import { matches, normalizedCopy, VectorStoreError, type Payload, type SearchOptions, type VectorFilter, type VectorHit } from "../../../lib/store/vectors";

function rng(seed: number) {
	return () => {
		seed = (seed + 0x6d2b79f5) | 0;
		let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** What the store should hold: id -> normalised vector and payload. */
class Reference {
	points = new Map<string, { v: Float32Array; payload: Payload }>();
	constructor(readonly d: number) {}
	upsert(id: string, vector: ArrayLike<number>, payload: Payload) {
		this.points.set(id, { v: normalizedCopy(vector, this.d), payload: { ...payload } });
	}
	search(vector: ArrayLike<number>, opts: SearchOptions): VectorHit[] {
		const q = normalizedCopy(vector, this.d);
		const hits: VectorHit[] = [];
		for (const [id, p] of this.points) {
			if (!matches(p.payload, opts.filter)) continue;
			let s = 0;
			for (let j = 0; j < this.d; j++) s += q[j] * p.v[j];
			if (s >= (opts.minScore ?? -Infinity)) hits.push({ id, score: s, payload: p.payload });
		}
		hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
		return hits.slice(0, Math.max(1, Math.floor(opts.limit))).map(h => ({ ...h, score: Math.min(1, Math.max(-1, h.score)) }));
	}
}

function tmpFile(name: string) {
	return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rollcall-vectors-")), name);
}

describe.each([512, 24])("embedded vector index against a naive scan (dimension %i)", d => {
	const r = rng(d);
	const randVec = () => Array.from({ length: d }, () => r() * 2 - 1);
	const file = tmpFile("v.vectors");
	let store: EmbeddedVectorStore;
	const ref = new Reference(d);
	const queries: number[][] = [];
	const duplicates: string[] = [];
	const optionsToTry: SearchOptions[] = [
		{ limit: 1 },
		{ limit: 7 },
		{ limit: 1000 },
		{ limit: 5, filter: { slot: 3 } }, // a tenth of the points: row lists
		{ limit: 5, filter: { active: true } }, // most points: full scan, filter checked on candidates
		{ limit: 5, filter: { active: true, slot: 4 } },
		{ limit: 5, filter: { active: false, group: "g1" } },
		{ limit: 5, filter: { slot: 99 } }, // nothing
		{ limit: 5, filter: { slot: "3" } }, // type matters, as in matches()
		{ limit: 10, minScore: 0.2 },
		{ limit: 10, minScore: 0.9, filter: { active: true } }
	];

	async function expectSameAsReference(label: string) {
		for (const q of queries)
			for (const opts of optionsToTry) {
				const got = await store.search(q, opts);
				const want = ref.search(q, opts);
				if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${label}: ${JSON.stringify(opts)} differs:\n${JSON.stringify(got.map(h => [h.id, h.score]))}\n${JSON.stringify(want.map(h => [h.id, h.score]))}`);
			}
		expect(await store.count()).toBe(ref.points.size);
		for (const filter of [{ slot: 3 }, { active: true }, { active: false, group: "g1" }, { slot: 99 }] as VectorFilter[]) {
			const want = [...ref.points].filter(([, p]) => matches(p.payload, filter)).map(([id]) => id).sort();
			expect(await store.count(filter)).toBe(want.length);
			expect((await store.list(filter)).map(p => p.id).sort()).toEqual(want);
		}
	}

	beforeAll(async () => {
		store = new EmbeddedVectorStore({ file, dimension: d, sync: false });
		await store.open();
		const points: { id: string; vector: number[]; payload: Payload }[] = [];
		const base = randVec();
		for (let i = 0; i < 3000; i++) {
			let vector = randVec();
			if (i % 100 === 0) vector = base.slice(); // exact duplicates: equal scores, ordered by id
			else if (i % 100 === 1) vector = base.map(x => x * 3); // equal after normalising (or off by an ulp)
			else if (i % 100 === 2) vector = base.map((x, j) => (j === i % d ? x + 1e-7 : x)); // near-ties below float32's resolution
			if (i % 100 === 0) duplicates.push(`p${(i * 7919) % 3000}`);
			points.push({ id: `p${(i * 7919) % 3000}`, vector, payload: { slot: i % 10, active: i % 17 !== 0, group: i % 3 === 0 ? "g1" : "g2" } });
		}
		for (let i = 0; i < points.length; i += 500) await store.upsert(points.slice(i, i + 500));
		for (const p of points) ref.upsert(p.id, p.vector, p.payload);
		queries.push(base, base.map(x => -x), ...Array.from({ length: 6 }, randVec), points[5].vector);
	});
	afterAll(() => store.close());

	it("returns the exact ranking, ties and filters included", async () => {
		const top = (await store.search(queries[0], { limit: 100 })).map(h => h.id);
		// The 30 exact duplicates score the same: they come together, in id order.
		const at = duplicates.map(id => top.indexOf(id)).sort((a, b) => a - b);
		expect(at[0]).toBeGreaterThanOrEqual(0);
		expect(at[29] - at[0]).toBe(29);
		expect(top.slice(at[0], at[0] + 30)).toEqual([...duplicates].sort());
		await expectSameAsReference("fresh");
	});

	it("stays exact through replacements (payload and vector) and removals", async () => {
		const ids = [...ref.points.keys()];
		const replaced = ids.filter((_, i) => i % 11 === 0).map(id => ({ id, vector: randVec(), payload: { slot: 3, active: r() < 0.5, group: "g1" } }));
		await store.upsert(replaced);
		for (const p of replaced) ref.upsert(p.id, p.vector, p.payload);
		const removed = ids.filter((_, i) => i % 13 === 5);
		expect(await store.remove([...removed, removed[0], "nope"])).toBe(removed.length);
		for (const id of removed) ref.points.delete(id);
		expect(await store.removeWhere({ slot: 8, group: "g2" })).toBe([...ref.points].filter(([, p]) => p.payload.slot === 8 && p.payload.group === "g2").length);
		for (const [id, p] of [...ref.points]) if (p.payload.slot === 8 && p.payload.group === "g2") ref.points.delete(id);
		await expectSameAsReference("after updates");
	});

	it("answers the same after reopening", async () => {
		await store.close();
		store = new EmbeddedVectorStore({ file, dimension: d, sync: false });
		await store.open();
		await expectSameAsReference("reopened");
	});

	// The compaction does not depend on the dimension; the small one keeps the churn quick (under
	// Jest, typed arrays of the shared host realm are slow to fill from test code).
	if (d < 100)
		it("answers the same after a compaction, and after reopening the compacted log", async () => {
			// Enough churn to compact the log (more than twice the live points and 10,000 records).
			const ids = [...ref.points.keys()].slice(0, 500);
			const before = fs.statSync(file).size;
			const recordBytes = before / 3500; // at most: 3,000 points, then replacements and removals
			for (let round = 0; round < 22; round++) {
				const pts = ids.map(id => ({ id, vector: randVec(), payload: { slot: round % 10, active: true, group: "g2" } }));
				await store.upsert(pts);
				for (const p of pts) ref.upsert(p.id, p.vector, p.payload);
			}
			expect(fs.statSync(file).size).toBeLessThan(before + 5000 * recordBytes); // 11,000 records were appended
			await expectSameAsReference("compacted");
			await store.close();
			store = new EmbeddedVectorStore({ file, dimension: d, sync: false });
			await store.open();
			await expectSameAsReference("compacted and reopened");
		});
});

describe("embedded vector index: crash safety", () => {
	it("rebuilds matrix, ids and filter lists from the log when the last batch was torn at any byte", async () => {
		const d = 16;
		const r = rng(7);
		const randVec = () => Array.from({ length: d }, () => r() * 2 - 1);
		const file = tmpFile("c.vectors");
		const a = new EmbeddedVectorStore({ file, dimension: d });
		await a.open();
		const ref = new Reference(d);
		for (let i = 0; i < 200; i++) {
			const p = { id: `s${i}`, vector: randVec(), payload: { slot: i % 4 } };
			await a.upsert([p]);
			ref.upsert(p.id, p.vector, p.payload);
		}
		await a.remove(["s3", "s50"]);
		ref.points.delete("s3");
		ref.points.delete("s50");
		await a.search(randVec(), { limit: 3, filter: { slot: 1 } }); // the slot lists exist in memory before the crash
		await a.close();
		const committed = fs.readFileSync(file);
		const c = new EmbeddedVectorStore({ file, dimension: d });
		await c.open();
		await c.upsert([0, 1, 2].map(i => ({ id: `late${i}`, vector: randVec(), payload: { slot: 1 } })));
		await c.close();
		const full = fs.readFileSync(file);
		const q = randVec();
		for (const cut of [committed.length + 1, committed.length + 3, committed.length + 50, full.length - 1]) {
			fs.writeFileSync(file, full.subarray(0, cut));
			const b = new EmbeddedVectorStore({ file, dimension: d });
			await b.open();
			// The torn batch's complete records stay (a batch is not atomic), the torn one is gone.
			const late = (await b.list({ slot: 1 })).map(p => p.id).filter(id => id.startsWith("late"));
			const want = new Reference(d);
			want.points = new Map(ref.points);
			expect(await b.count()).toBe(ref.points.size + late.length);
			for (const id of late) want.points.set(id, { v: (await b.get(id))!.vector, payload: { slot: 1 } });
			for (const opts of [{ limit: 5 }, { limit: 5, filter: { slot: 1 } }, { limit: 5, filter: { slot: 2 } }]) expect(await b.search(q, opts)).toEqual(want.search(q, opts));
			expect(await b.count({ slot: 1 })).toBe([...want.points.values()].filter(p => p.payload.slot === 1).length);
			await b.upsert([{ id: "after", vector: randVec(), payload: { slot: 1 } }]);
			await b.close();
			const reread = new EmbeddedVectorStore({ file, dimension: d });
			await reread.open();
			expect(await reread.count()).toBe(want.points.size + 1);
			await reread.close();
		}
	});

	it("refuses a log of another dimension instead of truncating it", async () => {
		const file = tmpFile("d.vectors");
		const a = new EmbeddedVectorStore({ file, dimension: 16 });
		await a.open();
		await a.upsert([{ id: "x", vector: Array.from({ length: 16 }, (_, i) => i + 1), payload: {} }]);
		await a.close();
		const size = fs.statSync(file).size;
		await expect(new EmbeddedVectorStore({ file, dimension: 32 }).open()).rejects.toThrow(VectorStoreError);
		expect(fs.statSync(file).size).toBe(size);
	});
});
