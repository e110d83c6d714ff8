/**
 * Face API recognition (seed 001) on a real node with the real models, over real HTTP, on the
 * face-api demo photos: a person added through the face API is the console's face profile
 * (one gallery) and is recognised in another photo of her; compare tells the same woman's
 * two photos from two women; the gallery's get/set/clear/info round trip; clearing needs an
 * admin and a confirmation, and is audited; refusals carry codes.
 */
import { ADMIN, CONSOLE_ENV, call, login } from "../support/console";
import { faceCrop, faceForm, faceJson, sample } from "../support/face-api";
import { startNode, type TestNode } from "../support/node";

const R = "/api/face-recognition";

describe("face API: recognition", () => {
	let node: TestNode;
	let admin: string;
	let operatorKey: string;
	let anna: Buffer, annaAgain: Buffer, bea: Buffer, cleo: Buffer;
	beforeAll(async () => {
		node = await startNode({ ...CONSOLE_ENV, RATE_LIMIT_PER_MINUTE: "0" });
		admin = (await login(node, ADMIN.email, ADMIN.password)).accessToken;
		operatorKey = (await call(node, "/api-keys", { token: admin, body: { name: "face-app", roleId: "ROLE-OPERATOR" } })).body.data.key;
		[anna, annaAgain, bea, cleo] = await Promise.all([faceCrop("anna"), faceCrop("annaAgain"), faceCrop("bea"), faceCrop("cleo")]);
	});
	afterAll(() => node?.stop());

	const op = () => ({ key: operatorKey });
	const recognize = (img: Buffer, fields: Record<string, string> = {}) => faceForm(node, `${R}/recognize`, fields, [["file", "q.jpg", img]], op());

	it("answers its health and lists the recognition model from the manifest", async () => {
		const h = await faceJson(node, `${R}/health`, undefined, {});
		expect(h.status).toBe(200);
		expect(h.body).toEqual(expect.objectContaining({ status: "healthy", model: "arcface112-v1", gallery_available: true, profiles_available: true }));
		const m = await faceJson(node, `${R}/models/available`, undefined, op());
		expect(m.body.models).toEqual([expect.objectContaining({ name: "arcface112-v1", embedding_size: 512, embedding_version: 1 })]);
		const bad = await faceForm(node, `${R}/recognize`, { model_name: "facenet" }, [["file", "q.jpg", anna]], op());
		expect([bad.status, bad.body.code]).toEqual([400, "UNKNOWN_MODEL"]);
		expect(bad.body.detail).toContain("available: auto, default, arcface112-v1");
	});

	it("adds a person, who is the console's face profile, and recognises her in another photo", async () => {
		const added = await faceForm(node, `${R}/add-face`, { person_id: "emp-anna", person_name: "Anna", model_name: "arcface112-v1" }, [["file", "anna.jpg", anna]], op());
		expect(added.status).toBe(200);
		expect(added.body).toEqual(expect.objectContaining({ success: true, person_id: "emp-anna", person_name: "Anna", created: true, faces_in_person: 1, model_used: "arcface112-v1" }));
		expect(added.body.face_ids).toHaveLength(1);
		// The same profile the console shows: one gallery.
		const listed = await call(node, "/faces?search=emp-anna", { token: admin });
		expect(listed.body.data).toEqual([expect.objectContaining({ id: added.body.profile_id, employeeId: "emp-anna", name: "Anna", status: "active", imageCount: 1 })]);
		// Base64 (a data URL) for another woman.
		const beaAdded = await faceJson(node, `${R}/add-face-json`, { person_id: "emp-bea", person_name: "Bea", image_base64: `data:image/jpeg;base64,${bea.toString("base64")}` }, op());
		expect(beaAdded.status).toBe(200);
		expect(beaAdded.body.created).toBe(true);

		// Anna in her other photo, and in the whole group photo it comes from.
		const r = await recognize(annaAgain);
		expect(r.status).toBe(200);
		expect(r.body.face_count).toBe(1);
		const face = r.body.faces[0];
		expect(face).toEqual(expect.objectContaining({ has_identity: true, person_id: "emp-anna", identity_name: "Anna", match_reason: "match" }));
		expect(face.recognition_confidence).toBeGreaterThanOrEqual(0.85);
		expect(face.matches[0]).toEqual(expect.objectContaining({ person_id: "emp-anna", person_name: "Anna", match_type: "database" }));
		// Bea is a candidate far below.
		const beaMatch = face.matches.find((m: any) => m.person_id === "emp-bea");
		expect(beaMatch.similarity).toBeLessThan(0.75);
		const group = await recognize(sample(3));
		const named = group.body.faces.filter((f: any) => f.has_identity);
		expect(named.map((f: any) => f.person_id)).toEqual(["emp-anna"]);
		expect(group.body.identified_faces).toBe(1);
		// The people of another group photo were never added: nobody is named.
		const strangers = await recognize(sample(2));
		expect(strangers.body.face_count).toBeGreaterThanOrEqual(2);
		for (const f of strangers.body.faces) expect(f).toEqual(expect.objectContaining({ has_identity: false, person_id: null, identity_name: null, match_reason: "below-threshold" }));
		// Cleo is not Bea, but this embedder puts them at cosine ~0.40 (calibrated ~0.86, over
		// the 0.85 threshold): a look-alike pair the model confuses, told apart by a stricter threshold.
		const lookAlike = await recognize(cleo, { similarity_threshold: "0.9" });
		expect(lookAlike.body.faces[0]).toEqual(expect.objectContaining({ has_identity: false, match_reason: "below-threshold" }));
		expect(lookAlike.body.faces[0].matches[0].person_id).toBe("emp-bea");
		// A second photo of Anna extends her profile.
		const more = await faceForm(node, `${R}/add-face`, { person_id: "emp-anna", person_name: "Anna" }, [["file", "anna2.jpg", annaAgain]], op());
		expect(more.body).toEqual(expect.objectContaining({ created: false, faces_in_person: 2, profile_id: added.body.profile_id }));
		// Audited, as the console's registrations are.
		const audit = await call(node, "/audit?resource=face-api&action=faceRecognition.addFace", { token: admin });
		expect(audit.body.data.length).toBe(2);
		expect(audit.body.data[0]).toEqual(expect.objectContaining({ outcome: "success", resourceId: added.body.profile_id }));
		expect(JSON.stringify(audit.body.data)).not.toContain("/9j/");
	});

	it("refuses photos that are no single usable face, and requests without a person, with codes", async () => {
		const group = await faceForm(node, `${R}/add-face`, { person_id: "emp-group", person_name: "Group" }, [["file", "group.jpg", sample(1)]], op());
		expect([group.status, group.body.code]).toEqual([400, "MULTIPLE_FACES"]);
		const noId = await faceForm(node, `${R}/add-face`, { person_name: "Nobody" }, [["file", "anna.jpg", anna]], op());
		expect([noId.status, noId.body.code]).toEqual([400, "PERSON_ID_REQUIRED"]);
		const noFile = await faceForm(node, `${R}/add-face`, { person_id: "emp-x" }, [], op());
		expect([noFile.status, noFile.body.code]).toEqual([400, "FILE_REQUIRED"]);
		const badB64 = await faceJson(node, `${R}/add-face-json`, { person_id: "emp-x", image_base64: "%%% not base64 %%%" }, op());
		expect([badB64.status, badB64.body.code]).toEqual([400, "INVALID_BASE64"]);
		expect((await call(node, "/faces?search=emp-group", { token: admin })).body.data).toEqual([]);
		expect((await call(node, "/faces?search=emp-x", { token: admin })).body.data).toEqual([]);
	});

	it("compares two photos: the same woman is the same person, two women are not", async () => {
		const b64 = (b: Buffer) => b.toString("base64");
		const same = await faceJson(node, `${R}/compare`, { face1_image_base64: b64(anna), face2_image_base64: b64(annaAgain), model_name: "auto" }, op());
		expect(same.status).toBe(200);
		expect(same.body).toEqual(expect.objectContaining({ success: true, is_same_person: true, model_used: "arcface112-v1", threshold: 0.85 }));
		expect(same.body.similarity).toBeGreaterThan(0.9);
		expect(same.body.processing_time).toBeGreaterThan(0);
		expect(same.body.processing_time).toBeLessThan(30);
		for (const other of [bea, cleo]) {
			const diff = await faceJson(node, `${R}/compare`, { face1_image_base64: b64(anna), face2_image_base64: `data:image/jpeg;base64,${b64(other)}` }, op());
			expect(diff.body.is_same_person).toBe(false);
			expect(diff.body.similarity).toBeLessThan(0.75);
			expect(diff.body.cosine).toBeLessThan(same.body.cosine);
		}
		const broken = await faceJson(node, `${R}/compare`, { face1_image_base64: b64(anna), face2_image_base64: "not*base64" }, op());
		expect([broken.status, broken.body.code]).toEqual([400, "INVALID_BASE64"]);
		expect(broken.body.detail).toContain("face2_image_base64");
		const missing = await faceJson(node, `${R}/compare`, { face1_image_base64: b64(anna) }, op());
		expect([missing.status, missing.body.code]).toEqual([400, "IMAGE_REQUIRED"]);
	});

	it("extracts a unit 512-d embedding whose cosine matches compare's", async () => {
		const e1 = await faceForm(node, `${R}/extract-embedding`, {}, [["file", "a.jpg", anna]], op());
		const e2 = await faceForm(node, `${R}/extract-embedding`, {}, [["file", "b.jpg", annaAgain]], op());
		expect(e1.status).toBe(200);
		expect(e1.body).toEqual(expect.objectContaining({ dimension: 512, embedding_version: 1, model_used: "arcface112-v1" }));
		const norm = Math.hypot(...e1.body.embedding);
		expect(Math.abs(norm - 1)).toBeLessThan(1e-3);
		const cos = e1.body.embedding.reduce((s: number, x: number, i: number) => s + x * e2.body.embedding[i], 0);
		expect(cos).toBeGreaterThan(0.6);
		const none = await faceForm(node, `${R}/extract-embedding`, {}, [["file", "grey.jpg", await greyJpeg()]], op());
		expect([none.status, none.body.code]).toEqual([400, "NO_FACE_DETECTED"]);
	});

	it("registers several photos of one person at once, all or none", async () => {
		const ok = await faceForm(node, `${R}/register-multiple`, { person_id: "emp-cleo", person_name: "Cleo" }, [["files", "c1.jpg", cleo], ["files", "c2.jpg", await faceCrop("cleo", 0.4)]], op());
		expect(ok.status).toBe(200);
		expect(ok.body).toEqual(expect.objectContaining({ created: true, faces_in_person: 2 }));
		const mixed = await faceForm(node, `${R}/register-multiple`, { person_id: "emp-mixed" }, [["files", "ok.jpg", bea], ["files", "group.jpg", sample(1)]], op());
		expect([mixed.status, mixed.body.code]).toEqual([400, "MULTIPLE_FACES"]);
		expect((await call(node, "/faces?search=emp-mixed", { token: admin })).body.data).toEqual([]);
		expect((await recognize(cleo)).body.faces[0].person_id).toBe("emp-cleo");
	});

	it("round-trips the gallery: get, clear (admin, confirmed, audited), info, set back, recognise again", async () => {
		const info = await faceJson(node, `${R}/gallery/info`, undefined, op());
		expect(info.body).toEqual(expect.objectContaining({ total_persons: 3, active_persons: 3, total_faces: 5, faces_with_photo: 5, total_embeddings: 5, embedding_dimension: 512 }));
		const got = await faceJson(node, `${R}/gallery/get`, undefined, op());
		expect(got.status).toBe(200);
		expect(got.body).toEqual(expect.objectContaining({ total_persons: 3, embedding_version: 1, page: 1 }));
		expect(Object.keys(got.body.gallery).sort()).toEqual(["emp-anna", "emp-bea", "emp-cleo"]);
		expect(got.body.gallery["emp-anna"]).toEqual(expect.objectContaining({ person_name: "Anna", embedding_count: 2 }));
		expect(got.body.gallery["emp-anna"].embeddings[0].embedding).toHaveLength(512);
		const paged = await faceJson(node, `${R}/gallery/get?page=2&page_size=2&include_embeddings=false`, undefined, op());
		expect(Object.keys(paged.body.gallery)).toEqual(["emp-cleo"]);
		expect(paged.body.gallery["emp-cleo"].embeddings).toBeUndefined();

		// Clearing: refused without a confirmation, and to anyone but an admin.
		const unconfirmed = await faceJson(node, `${R}/gallery/clear`, undefined, { token: admin }, "DELETE");
		expect([unconfirmed.status, unconfirmed.body.code]).toEqual([400, "CONFIRMATION_REQUIRED"]);
		const operator = await faceJson(node, `${R}/gallery/clear?confirm=true`, undefined, op(), "DELETE");
		expect([operator.status, operator.body.code]).toEqual([403, "FORBIDDEN"]);
		expect((await faceJson(node, `${R}/gallery/info`, undefined, op())).body.total_persons).toBe(3);
		const cleared = await faceJson(node, `${R}/gallery/clear?confirm=true`, undefined, { token: admin }, "DELETE");
		expect(cleared.status).toBe(200);
		expect(cleared.body).toEqual(expect.objectContaining({ success: true, deleted_persons: 3, deleted_faces: 5 }));
		const empty = await faceJson(node, `${R}/gallery/info`, undefined, op());
		expect(empty.body).toEqual(expect.objectContaining({ total_persons: 0, total_embeddings: 0 }));
		expect((await call(node, "/faces", { token: admin })).body.data).toEqual([]);
		expect((await recognize(annaAgain)).body.faces[0].has_identity).toBe(false);
		const audit = (await call(node, "/audit?resource=face-api&action=faceRecognition.galleryClear", { token: admin })).body.data as any[];
		expect(audit.find(a => a.outcome === "success")).toEqual(expect.objectContaining({ actor: ADMIN.email, severity: "critical", message: expect.stringContaining("3 person(s)") }));
		expect(audit.find(a => a.outcome === "failure")).toEqual(expect.objectContaining({ context: expect.objectContaining({ code: "FORBIDDEN" }) }));

		// The document gallery/get gave is what gallery/set takes.
		const set = await faceJson(node, `${R}/gallery/set`, { embedding_version: got.body.embedding_version, gallery: got.body.gallery }, op());
		expect(set.status).toBe(200);
		expect(set.body).toEqual(expect.objectContaining({ persons: 3, created: 3, updated: 0, embeddings: 5 }));
		const back = await faceJson(node, `${R}/gallery/info`, undefined, op());
		expect(back.body).toEqual(expect.objectContaining({ total_persons: 3, total_faces: 5, faces_with_photo: 0, total_embeddings: 5 }));
		const again = await faceJson(node, `${R}/gallery/get`, undefined, op());
		expect(again.body.gallery["emp-anna"].embeddings.map((e: any) => e.embedding)).toEqual(got.body.gallery["emp-anna"].embeddings.map((e: any) => e.embedding));
		expect((await recognize(annaAgain)).body.faces[0]).toEqual(expect.objectContaining({ has_identity: true, person_id: "emp-anna" }));
		// Setting a person again replaces her embeddings.
		const one = await faceJson(node, `${R}/gallery/set`, { gallery: { "emp-bea": { person_name: "Bea B.", embeddings: [got.body.gallery["emp-bea"].embeddings[0].embedding] } } }, op());
		expect(one.body).toEqual(expect.objectContaining({ created: 0, updated: 1, embeddings: 1 }));
		expect((await call(node, "/faces?search=emp-bea", { token: admin })).body.data[0]).toEqual(expect.objectContaining({ name: "Bea B.", imageCount: 1 }));

		// A faulty document is refused whole, naming the faults.
		const bad = await faceJson(node, `${R}/gallery/set`, { gallery: { "emp-z": { embeddings: [[1, 2, 3]] }, "bad id!": { embeddings: [] } } }, op());
		expect([bad.status, bad.body.code]).toEqual([400, "INVALID_GALLERY"]);
		expect(bad.body.detail).toContain("emp-z");
		const version = await faceJson(node, `${R}/gallery/set`, { embedding_version: 7, gallery: got.body.gallery }, op());
		expect([version.status, version.body.code]).toEqual([400, "EMBEDDING_VERSION_MISMATCH"]);
		expect((await faceJson(node, `${R}/gallery/info`, undefined, op())).body.total_persons).toBe(3);
	});

	it("reports where the gallery lives", async () => {
		const s = await faceJson(node, `${R}/database/status`, undefined, op());
		expect(s.status).toBe(200);
		expect(s.body).toEqual(expect.objectContaining({ status: "connected", vector_store: expect.objectContaining({ backend: "embedded", reachable: true }), profile_store: expect.objectContaining({ backend: "nedb", reachable: true }) }));
	});
});

async function greyJpeg(): Promise<Buffer> {
	const sharp = (await import("sharp")).default;
	return sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 128, g: 128, b: 128 } } })
		.jpeg()
		.toBuffer();
}
