import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import crypto from "node:crypto";
import { Readable } from "node:stream";
import { BlobTooLargeError, expiredBlobs, FileBlobStore, checkBlobName, type BlobInfo } from "../../../lib/store/blobs";

describe("file blob store", () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rollcall-blobs-"));
	const store = new FileBlobStore(dir);
	beforeAll(() => store.open());

	it("keeps, reads, lists and removes blobs by name", async () => {
		const info = await store.put("snap-1.jpg", Buffer.from("jpeg bytes"), { kind: "snapshot", contentType: "image/jpeg" });
		expect(info).toEqual(expect.objectContaining({ name: "snap-1.jpg", kind: "snapshot", size: 10, expiresAt: null }));
		expect((await store.get("snap-1.jpg"))!.data.toString()).toBe("jpeg bytes");
		expect((await store.list("snapshot")).map(b => b.name)).toEqual(["snap-1.jpg"]);
		expect(await store.list("face")).toEqual([]);
		expect(await store.remove("snap-1.jpg")).toBe(true);
		expect(await store.get("snap-1.jpg")).toBeNull();
	});

	it("keeps a stream of any size without holding it, and reads it back as a stream", async () => {
		// 12 MB in 64 KB chunks made as they are read.
		const chunk = (i: number) => Buffer.alloc(64 * 1024, i % 251);
		let made = 0;
		const source = new Readable({
			read() {
				this.push(made < 192 ? chunk(made++) : null);
			}
		});
		const hash = crypto.createHash("sha256");
		for (let i = 0; i < 192; i++) hash.update(chunk(i));
		const info = await store.putStream("export-big.csv", source, { kind: "export", contentType: "text/csv", expiresAt: new Date(Date.now() + 60_000) }, 64 * 1024 * 1024);
		expect(info).toEqual(expect.objectContaining({ name: "export-big.csv", kind: "export", contentType: "text/csv", size: 192 * 64 * 1024, sha256: hash.digest("hex") }));
		expect(await store.info("export-big.csv")).toEqual(expect.objectContaining({ size: 192 * 64 * 1024 }));
		const opened = (await store.openStream("export-big.csv"))!;
		const back = crypto.createHash("sha256");
		let size = 0;
		for await (const c of opened.stream) {
			back.update(c as Buffer);
			size += (c as Buffer).length;
		}
		expect({ size, sha256: back.digest("hex") }).toEqual({ size: info.size, sha256: info.sha256 });
		// No temporary file is left beside it.
		expect(fs.readdirSync(dir).filter(n => n.startsWith("export-big.csv"))).toEqual(["export-big.csv", "export-big.csv.meta.json"]);
	});

	it("replaces a streamed blob only once the new one is complete, and keeps nothing of a failed or too large stream", async () => {
		await store.putStream("export-r.csv", Readable.from([Buffer.from("first")]), { kind: "export", contentType: "text/csv" }, 1024);
		const failing = new Readable({
			read() {
				this.destroy(new Error("sender died"));
			}
		});
		await expect(store.putStream("export-r.csv", failing, { kind: "export", contentType: "text/csv" }, 1024)).rejects.toThrow("sender died");
		expect((await store.get("export-r.csv"))!.data.toString()).toBe("first");
		await expect(store.putStream("export-r.csv", Readable.from([Buffer.alloc(600), Buffer.alloc(600)]), { kind: "export", contentType: "text/csv" }, 1024)).rejects.toBeInstanceOf(BlobTooLargeError);
		expect((await store.get("export-r.csv"))!.data.toString()).toBe("first");
		await store.putStream("export-r.csv", Readable.from(["second ", "version"]), { kind: "export", contentType: "text/csv" }, 1024);
		expect((await store.get("export-r.csv"))!.data.toString()).toBe("second version");
		expect(fs.readdirSync(dir).filter(n => n.endsWith(".tmp"))).toEqual([]);
		expect(await store.openStream("missing.csv")).toBeNull();
	});

	it("hides an expired blob at once", async () => {
		await store.put("old.jpg", Buffer.from("x"), { kind: "preview", contentType: "image/jpeg", expiresAt: new Date(Date.now() - 1) });
		expect(await store.get("old.jpg")).toBeNull();
	});

	it("refuses names that are paths", () => {
		for (const bad of ["../x", "a/b", ".hidden", "x..jpg", "", "a".repeat(200), "a\\b"]) expect(() => checkBlobName(bad)).toThrow();
		expect(checkBlobName("camera_preview_1729339200_ab12cd34_ef56ab78.jpg")).toBe("camera_preview_1729339200_ab12cd34_ef56ab78.jpg");
	});

	it("picks expired blobs and those beyond a kind's newest N", () => {
		const b = (name: string, kind: BlobInfo["kind"], created: number, expires: number | null = null): BlobInfo => ({ name, kind, contentType: "x", size: 1, sha256: "", createdAt: new Date(created).toISOString(), expiresAt: expires === null ? null : new Date(expires).toISOString() });
		const all = [b("p1", "preview", 1), b("p2", "preview", 2), b("p3", "preview", 3), b("s1", "snapshot", 1, 5), b("s2", "snapshot", 1)];
		expect(expiredBlobs(all, new Date(10), { preview: 2 }).sort()).toEqual(["p1", "s1"]);
	});
});
