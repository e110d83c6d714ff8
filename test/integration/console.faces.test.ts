/**
 * Face profiles and the gallery on a real broker with the real models, over real HTTP
 * multipart: real faces (the face-api sample photos, cropped), a profile made active and
 * searchable, photos refused by name and reason with nothing kept, photos added and removed,
 * archived profiles never matched, deletion leaving nothing searchable and no blob behind.
 */
import sharp from "sharp";
import { faceCrop, FACES } from "../support/face-video";
import { ADMIN, CONSOLE_ENV, call, login } from "../support/console";
import { startNode, type TestNode } from "../support/node";


describe("console: face profiles and the gallery", () => {
	let node: TestNode;
	let admin: string;
	const photos: Record<string, Buffer> = {};
	beforeAll(async () => {
		node = await startNode({ ...CONSOLE_ENV });
		admin = (await login(node, ADMIN.email, ADMIN.password)).accessToken;
		photos.anna = await faceCrop(FACES.anna);
		photos.annaAgain = await faceCrop(FACES.annaAgain);
		photos.bea = await faceCrop(FACES.bea);
		photos.cleo = await faceCrop(FACES.cleo);
		// Two people side by side: one photo, two faces.
		photos.pair = await sharp({ create: { width: 720, height: 360, channels: 3, background: "#777777" } })
			.composite([
				{ input: photos.bea, left: 0, top: 0 },
				{ input: photos.cleo, left: 360, top: 0 }
			])
			.jpeg()
			.toBuffer();
		photos.blank = await sharp({ create: { width: 400, height: 400, channels: 3, background: "#88aacc" } }).jpeg().toBuffer();
		// A face found, but too small to enrol: about 45 px wide (18 px between the eyes).
		photos.tiny = await sharp({ create: { width: 300, height: 300, channels: 3, background: "#555555" } })
			.composite([{ input: await sharp(photos.cleo).resize(90, 90).toBuffer(), left: 105, top: 105 }])
			.jpeg()
			.toBuffer();
	});
	afterAll(() => node?.stop());

	const form = (fields: Record<string, string>, files: [string, Buffer][]) => {
		const fd = new FormData();
		for (const [k, v] of Object.entries(fields)) fd.append(k, v);
		for (const [name, data] of files) fd.append("images", new Blob([new Uint8Array(data)], { type: "image/jpeg" }), name);
		return fd;
	};
	const post = async (route: string, fd: FormData) => {
		const res = await fetch(node.baseUrl + route, { method: "POST", headers: { Authorization: `Bearer ${admin}` }, body: fd });
		return { status: res.status, body: (await res.json()) as any };
	};
	const galleryCount = (profileId?: string) => node.broker.call<number, object>("gallery.count", profileId ? { profileId } : {});
	const uploadsLeft = async () => (await node.broker.call<{ name: string }[], object>("blobs.list", { kind: "upload" })).length;

	let anna: any;

	it("registers a person with two photos: active, and searchable in the gallery", async () => {
		const r = await post("/faces", form({ name: "Anna", employeeId: "EMP-001", department: "Math" }, [["anna.jpg", photos.anna], ["anna-again.jpg", photos.annaAgain]]));
		expect(r.status).toBe(201);
		anna = r.body.data;
		expect(anna).toEqual(expect.objectContaining({ employeeId: "EMP-001", name: "Anna", department: "Math", status: "active", imageCount: 2 }));
		expect(anna.images.map((i: any) => i.filename)).toEqual(["anna.jpg", "anna-again.jpg"]);
		expect(await galleryCount(anna.id)).toBe(2);
		// Her other photo's face finds her first.
		const probe = await node.broker.call<{ faces: { embedding: number[] }[] }, object>("inference.analyze", { image: photos.annaAgain });
		const [hit] = await node.broker.call<{ payload: { profileId: string; employeeId: string }; score: number }[], object>("gallery.search", { vector: probe.faces[0].embedding, limit: 1 });
		expect(hit.payload).toEqual(expect.objectContaining({ profileId: anna.id, employeeId: "EMP-001" }));
		expect(hit.score).toBeGreaterThan(0.9);
		// The photo is served to those who may read faces.
		const img = await fetch(node.baseUrl.replace(/\/api\/v1$/, "") + anna.images[0].url, { headers: { Authorization: `Bearer ${admin}` } });
		expect(img.status).toBe(200);
		expect(img.headers.get("content-type")).toBe("image/jpeg");
		expect(await uploadsLeft()).toBe(0);
	});

	it.each([
		["pair.jpg", "pair", "MULTIPLE_FACES"],
		["empty-wall.jpg", "blank", "NO_FACE_DETECTED"],
		["far-away.jpg", "tiny", "LOW_QUALITY_FACE"]
	])("refuses the whole request when %s has no single usable face (%s -> %s), naming it; nothing is kept", async (filename, key, code) => {
		const before = await galleryCount();
		const r = await post("/faces", form({ name: "Bea", employeeId: `EMP-${key}` }, [["bea.jpg", photos.bea], [filename, photos[key]]]));
		expect(r.status).toBe(400);
		expect(r.body.error.code).toBe(code);
		expect(r.body.error.message).toContain(filename);
		expect(r.body.error.details).toEqual([{ field: "images[1]", issue: expect.stringContaining(`${code}: ${filename}`) }]);
		expect(await galleryCount()).toBe(before);
		expect((await call(node, `/faces?search=EMP-${key}`, { token: admin })).body.data).toEqual([]);
		expect(await uploadsLeft()).toBe(0);
	});

	it("refuses files that are not images, by their bytes", async () => {
		const r = await post("/faces", form({ name: "X", employeeId: "EMP-X" }, [["photo.jpg", Buffer.from("%PDF-1.4 not a photo")]]));
		expect(r.status).toBe(400);
		expect(r.body.error.code).toBe("UNSUPPORTED_IMAGE_FORMAT");
	});

	it("adds and removes photos; the gallery follows", async () => {
		const add = await post(`/faces/${anna.id}/images`, form({}, [["anna-crop.jpg", await faceCrop(FACES.anna, { size: 300 })]]));
		expect(add.status).toBe(201);
		expect(add.body.data.imageCount).toBe(3);
		expect(await galleryCount(anna.id)).toBe(3);
		const listed = await call(node, `/faces/${anna.id}/images`, { token: admin });
		expect(listed.body.data).toHaveLength(3);
		const gone = listed.body.data[2];
		const del = await call(node, `/faces/${anna.id}/images/${gone.id}`, { method: "DELETE", token: admin });
		expect(del.status).toBe(204);
		expect(await galleryCount(anna.id)).toBe(2);
		const blob = await fetch(node.baseUrl.replace(/\/api\/v1$/, "") + gone.url, { headers: { Authorization: `Bearer ${admin}` } });
		expect(blob.status).toBe(404);
	});

	it("lists profiles with filters and paging; an archived profile is never matched", async () => {
		const bea = await post("/faces", form({ name: "Bea", employeeId: "EMP-002", department: "Art" }, [["bea.jpg", photos.bea]]));
		expect(bea.status).toBe(201);
		const pending = await post("/faces", form({ name: "Dan", employeeId: "EMP-003", department: "Art" }, []));
		expect(pending.body.data.status).toBe("pending");
		const art = await call(node, "/faces?department=Art&pageSize=1", { token: admin });
		expect(art.body.meta).toEqual({ page: 1, pageSize: 1, total: 2, totalPages: 2 });
		expect((await call(node, "/faces?status=pending", { token: admin })).body.data.map((p: any) => p.employeeId)).toEqual(["EMP-003"]);

		const probe = await node.broker.call<{ faces: { embedding: number[] }[] }, object>("inference.analyze", { image: photos.bea });
		const search = () => node.broker.call<{ payload: { profileId: string } }[], object>("gallery.search", { vector: probe.faces[0].embedding, limit: 5, minScore: 0.5 });
		expect((await search()).map(h => h.payload.profileId)).toContain(bea.body.data.id);
		const archived = await call(node, `/faces/${bea.body.data.id}`, { method: "PUT", token: admin, body: { archived: true, version: bea.body.data.version } });
		expect(archived.body.data.status).toBe("archived");
		expect((await search()).map(h => h.payload.profileId)).not.toContain(bea.body.data.id);
		const stale = await call(node, `/faces/${bea.body.data.id}`, { method: "PUT", token: admin, body: { name: "B", version: bea.body.data.version } });
		expect(stale.status).toBe(409);
	});

	it("deletes a profile with its embeddings and photos: nothing of it remains", async () => {
		const urls = anna.images.map((i: any) => i.url);
		const del = await call(node, `/faces/${anna.id}`, { method: "DELETE", token: admin });
		expect(del.status).toBe(204);
		expect(await galleryCount(anna.id)).toBe(0);
		const probe = await node.broker.call<{ faces: { embedding: number[] }[] }, object>("inference.analyze", { image: photos.anna });
		const hits = await node.broker.call<{ payload: { profileId: string } }[], object>("gallery.search", { vector: probe.faces[0].embedding, limit: 10 });
		expect(hits.map(h => h.payload.profileId)).not.toContain(anna.id);
		for (const u of urls) expect((await fetch(node.baseUrl.replace(/\/api\/v1$/, "") + u, { headers: { Authorization: `Bearer ${admin}` } })).status).toBe(404);
		expect((await call(node, `/faces/${anna.id}`, { token: admin })).status).toBe(404);
		const audit = await call(node, `/audit?action=faces.remove&resourceId=${anna.id}`, { token: admin });
		expect(audit.body.data[0]).toEqual(expect.objectContaining({ actor: ADMIN.email, severity: "warning", message: expect.stringMatching(/^Deleted Anna/) }));
	});
});
