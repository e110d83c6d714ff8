import { expiredPreviews, isPreviewName, nodeTag, previewName, previewNodeTag } from "../../../lib/video/previews";

describe("preview files", () => {
	it("names previews after the capture time, uniquely", () => {
		const name = previewName("9f86d081", new Date("2024-10-19T12:00:00Z"), () => "0a1b2c3d");
		expect(name).toBe("camera_preview_1729339200_9f86d081_0a1b2c3d.jpg");
		expect(isPreviewName(name)).toBe(true);
		expect(previewName("9f86d081")).not.toBe(previewName("9f86d081"));
		expect(isPreviewName(previewName(nodeTag("actors-1")))).toBe(true);
	});

	it("tags a preview with the node that holds it", () => {
		expect(nodeTag("actors-1")).toMatch(/^[0-9a-f]{8}$/);
		expect(nodeTag("actors-1")).toBe(nodeTag("actors-1"));
		expect(nodeTag("actors-1")).not.toBe(nodeTag("actors-2"));
		expect(previewNodeTag(previewName(nodeTag("actors-2")))).toBe(nodeTag("actors-2"));
	});

	it("serves names only: no paths, traversal, other files or look-alikes", () => {
		for (const bad of [
			"../camera_preview_1729339200_9f86d081_0a1b2c3d.jpg",
			"..%2Fcamera_preview_1729339200_9f86d081_0a1b2c3d.jpg",
			"camera_preview_1729339200_9f86d081_0a1b2c3d.jpg/..",
			"sub/camera_preview_1729339200_9f86d081_0a1b2c3d.jpg",
			"camera_preview_1729339200_9f86d081_0a1b2c3d.jpg\0.png",
			"camera_preview_1729339200_9f86d081_0A1B2C3D.jpg",
			"camera_preview_1729339200.jpg.exe",
			"api-key",
			"/etc/passwd",
			"",
			42,
			null
		])
			expect(isPreviewName(bad)).toBe(false);
	});

	it("expires previews by age and by count, newest kept, other files untouched", () => {
		const now = 1_000_000_000;
		const file = (i: number, ageS: number) => ({ name: `camera_preview_${1700000000 + i}_9f86d081_0000000${i}.jpg`, mtimeMs: now - ageS * 1000 });
		const files = [file(1, 10), file(2, 20), file(3, 30), file(4, 7200), { name: "api-key", mtimeMs: 0 }];
		expect(expiredPreviews(files, now, { maxAgeMs: 3600_000, maxFiles: 10 })).toEqual([file(4, 0).name]);
		expect(expiredPreviews(files, now, { maxAgeMs: 3600_000, maxFiles: 2 }).sort()).toEqual([file(3, 0).name, file(4, 0).name].sort());
		expect(expiredPreviews([], now, { maxAgeMs: 1, maxFiles: 1 })).toEqual([]);
	});
});
