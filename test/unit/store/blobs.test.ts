import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expiredBlobs, FileBlobStore, checkBlobName, type BlobInfo } from "../../../lib/store/blobs";

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
