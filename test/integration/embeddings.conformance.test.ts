/**
 * Conformance of the embedding store: the same suite runs against the embedded exact
 * index (always) and a real Qdrant (when QDRANT_URL is set), through the VectorStore
 * interface and through the `embeddings` service.
 */
import fs from "node:fs";
import path from "node:path";
import { EmbeddedVectorStore } from "../../lib/store/embedded-vectors";
import { QdrantVectorStore } from "../../lib/store/qdrant-vectors";
import type { SearchOptions, VectorFilter, VectorStore } from "../../lib/store/vectors";
import { startNode, tempDir } from "../support/node";

const D = 512;

/** Deterministic pseudo-random unit-ish vectors. */
function vec(seed: number): number[] {
	let x = seed * 2654435761 || 1;
	return Array.from({ length: D }, () => {
		x ^= x << 13;
		x ^= x >>> 17;
		x ^= x << 5;
		return ((x >>> 0) / 0xffffffff) * 2 - 1;
	});
}

function near(v: number[], eps: number, seed: number): number[] {
	const n = vec(seed);
	return v.map((x, i) => x + eps * n[i]);
}

type Backend = { name: string; make(dir: string, collection: string): VectorStore };
const backends: Backend[] = [{ name: "embedded exact index", make: dir => new EmbeddedVectorStore({ file: path.join(dir, "embeddings.vectors"), dimension: D }) }];
if (process.env.QDRANT_URL) backends.push({ name: "Qdrant", make: (_dir, collection) => new QdrantVectorStore({ url: process.env.QDRANT_URL!, collection, dimension: D }) });
else test.skip("Qdrant conformance: QDRANT_URL is not set, no Qdrant server to run against", () => undefined);

describe.each(backends)("embedding store: $name", backend => {
	const dir = tempDir();
	const collection = `conformance_${process.pid}_${Date.now()}`;
	let store: VectorStore;
	beforeAll(async () => {
		store = backend.make(dir, collection);
		await store.open();
	});
	afterAll(() => store?.close());

	it("upserts, finds the nearest first, filters by payload, and scores by cosine", async () => {
		await store.upsert(Array.from({ length: 50 }, (_, i) => ({ id: `student:${i}`, vector: vec(i + 1), payload: { userId: i, slotId: i < 25 ? 1 : 2, embeddingVersion: 1 } })));
		expect(await store.count()).toBe(50);
		expect(await store.count({ slotId: 1 })).toBe(25);
		const listed = await store.list({ slotId: 2 });
		expect(listed.map(p => p.id).sort()).toEqual(Array.from({ length: 25 }, (_, i) => `student:${i + 25}`).sort());
		expect(listed[0].vector).toHaveLength(D);
		const hits = await store.search(near(vec(8), 0.05, 999), { limit: 3 });
		expect(hits[0].id).toBe("student:7");
		expect(hits[0].payload.userId).toBe(7);
		expect(hits[0].score).toBeGreaterThan(0.99);
		expect(hits[0].score).toBeGreaterThanOrEqual(hits[1].score);
		const filtered = await store.search(vec(8), { limit: 5, filter: { slotId: 2 } });
		expect(filtered.every(h => h.payload.slotId === 2)).toBe(true);
		expect(filtered.map(h => h.id)).not.toContain("student:7");
		const self = await store.search(vec(3), { limit: 1, minScore: 0.999 });
		expect(self.map(h => h.id)).toEqual(["student:2"]);
	});

	it("ranks a filtered search as the unfiltered ranking restricted to the filter", async () => {
		for (const seed of [8, 31, 4242]) {
			const q = near(vec(seed), 0.5, seed + 1);
			const all = await store.search(q, { limit: 50 });
			expect(all).toHaveLength(50);
			for (const filter of [{ slotId: 2 }, { slotId: 1, embeddingVersion: 1 }, { embeddingVersion: 1 }] as VectorFilter[]) {
				const want = all.filter(h => Object.entries(filter).every(([k, v]) => h.payload[k] === v)).slice(0, 5);
				const got = await store.search(q, { limit: 5, filter });
				expect(got.map(h => h.id)).toEqual(want.map(h => h.id));
				got.forEach((h, i) => expect(h.score).toBeCloseTo(want[i].score, 5));
			}
			const floor = all[9].score;
			expect((await store.search(q, { limit: 50, minScore: floor })).map(h => h.id)).toEqual(all.filter(h => h.score >= floor).map(h => h.id));
		}
	});

	it("replaces on upsert of an existing id, and removes by id and by filter", async () => {
		await store.upsert([{ id: "student:7", vector: vec(1000), payload: { userId: 7, slotId: 1, embeddingVersion: 2 } }]);
		expect(await store.count()).toBe(50);
		const p = await store.get("student:7");
		expect(p?.payload.embeddingVersion).toBe(2);
		const hits = await store.search(vec(1000), { limit: 1 });
		expect(hits[0].id).toBe("student:7");
		expect(await store.remove(["student:7", "student:missing"])).toBe(1);
		expect(await store.get("student:7")).toBeNull();
		expect(await store.removeWhere({ slotId: 2 })).toBe(25);
		expect(await store.count()).toBe(24);
	});

	it("rejects vectors of the wrong dimension or with non-finite values", async () => {
		await expect(store.upsert([{ id: "x", vector: [1, 2, 3], payload: {} }])).rejects.toThrow(/512 dimensions/);
		await expect(store.search(Array(D).fill(Number.NaN), { limit: 1 })).rejects.toThrow(/non-finite/);
	});

	it("loses nothing across a restart", async () => {
		await store.close();
		store = backend.make(dir, collection);
		await store.open();
		expect(await store.count()).toBe(24);
		expect((await store.search(vec(3), { limit: 1 }))[0].id).toBe("student:2");
		expect(await store.get("student:7")).toBeNull();
	});
});

describe("embedded exact index: crash safety", () => {
	it("drops a torn record at the end of the log and keeps the rest", async () => {
		const dir = tempDir();
		const file = path.join(dir, "e.vectors");
		const a = new EmbeddedVectorStore({ file, dimension: D });
		await a.open();
		await a.upsert([{ id: "a", vector: vec(1), payload: {} }, { id: "b", vector: vec(2), payload: {} }]);
		await a.close();
		fs.appendFileSync(file, Buffer.from([200, 1, 0, 0, 1, 2, 3])); // a length header promising more than was written
		const b = new EmbeddedVectorStore({ file, dimension: D });
		await b.open();
		expect(await b.count()).toBe(2);
		await b.upsert([{ id: "c", vector: vec(3), payload: {} }]);
		await b.close();
		const c = new EmbeddedVectorStore({ file, dimension: D });
		await c.open();
		expect(await c.count()).toBe(3);
		await c.close();
	});
});

describe("embedded exact index: rebuilt from the log", () => {
	it("answers searches, filtered searches and counts after a crash exactly as before it", async () => {
		const dir = tempDir();
		const file = path.join(dir, "r.vectors");
		const a = new EmbeddedVectorStore({ file, dimension: D });
		await a.open();
		for (let i = 0; i < 300; i += 50) await a.upsert(Array.from({ length: 50 }, (_, j) => ({ id: `p${i + j}`, vector: vec(i + j + 1), payload: { slotId: (i + j) % 7, active: (i + j) % 5 !== 0 } })));
		await a.upsert([{ id: "p10", vector: vec(5000), payload: { slotId: 3, active: true } }]);
		await a.remove(["p11", "p12", "p299"]);
		const asked: SearchOptions[] = [{ limit: 5 }, { limit: 5, filter: { slotId: 3 } }, { limit: 5, filter: { active: true } }, { limit: 3, filter: { slotId: 3, active: false } }, { limit: 20, minScore: 0.05 }];
		const queries = [vec(5000), near(vec(40), 0.3, 1), vec(77777)];
		const before = await Promise.all(queries.flatMap(q => asked.map(o => a.search(q, o))));
		const counts = [await a.count(), await a.count({ slotId: 3 }), await a.count({ active: false })];
		// The crash: a batch cut off after its first record's header.
		fs.appendFileSync(file, Buffer.from([0x40, 0x08, 0, 0, 0xa4, 0x62]));
		const b = new EmbeddedVectorStore({ file, dimension: D });
		await b.open();
		expect(await Promise.all(queries.flatMap(q => asked.map(o => b.search(q, o))))).toEqual(before);
		expect([await b.count(), await b.count({ slotId: 3 }), await b.count({ active: false })]).toEqual(counts);
		expect((await b.search(vec(5000), { limit: 1 }))[0]).toEqual(expect.objectContaining({ id: "p10", payload: { slotId: 3, active: true } }));
		expect(await b.get("p11")).toBeNull();
		await b.close();
		await a.close();
	});
});

describe("embeddings service", () => {
	it("serves upsert, search, count and remove over the broker, with a clear error on bad vectors", async () => {
		const node = await startNode({ SERVICES: "storage" });
		try {
			await node.broker.call("embeddings.upsert", { points: [{ id: "s:1", vector: vec(1), payload: { userId: 1 } }, { id: "s:2", vector: Float32Array.from(vec(2)), payload: { userId: 2 } }] });
			const hits = await node.broker.call<any[], object>("embeddings.search", { vector: vec(2), limit: 1 });
			expect(hits[0]).toEqual(expect.objectContaining({ id: "s:2", payload: { userId: 2 } }));
			expect(await node.broker.call("embeddings.count", {})).toBe(2);
			await expect(node.broker.call("embeddings.upsert", { points: [{ id: "bad", vector: [1, 2] }] })).rejects.toMatchObject({ type: "INVALID_EMBEDDING", code: 400 });
			expect(await node.broker.call("embeddings.remove", { filter: { userId: 1 } })).toEqual({ removed: 1 });
		} finally {
			await node.stop();
		}
	});
});
