import { isPreviewName, nodeTag, previewName } from "../../../lib/video/previews";

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
		expect(previewName(nodeTag("actors-2"))).toContain(`_${nodeTag("actors-2")}_`);
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
});
