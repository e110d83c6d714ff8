import { ConfigError, loadConfig } from "../../config";

const base = { API_KEY: "test-api-key-0123456789abcdef", DATA_DIR: "/tmp/rollcall-config-test" };

describe("camera configuration", () => {
	it("has the spec's defaults", () => {
		const cfg = loadConfig(base);
		expect(cfg.cameraConnectTimeout).toBe(10_000);
		expect(cfg.cameraReadTimeout).toBe(10_000);
		expect(cfg.rtspTransport).toBe("tcp");
		expect(cfg.cameraLookupPath).toBe("/api/v1/cameras/{id}");
		expect(cfg.cameraLookupTimeout).toBe(3000);
		expect(cfg.blobsDir).toBe("/tmp/rollcall-config-test/blobs");
		expect([cfg.previewMaxAge, cfg.previewMaxFiles]).toEqual([3600, 200]);
	});

	it("reads and validates the camera variables", () => {
		const cfg = loadConfig({ ...base, CAMERA_CONNECT_TIMEOUT: "5000", RTSP_TRANSPORT: "UDP", CAMERA_LOOKUP_PATH: "/cameras/{id}/detail", BLOBS_DIR: "/srv/blobs" });
		expect([cfg.cameraConnectTimeout, cfg.rtspTransport, cfg.cameraLookupPath, cfg.blobsDir]).toEqual([5000, "udp", "/cameras/{id}/detail", "/srv/blobs"]);
		for (const bad of [{ RTSP_TRANSPORT: "http" }, { CAMERA_CONNECT_TIMEOUT: "0" }, { CAMERA_LOOKUP_PATH: "/cameras" }, { CAMERA_LOOKUP_PATH: "http://evil/{id}" }, { CAMERA_LOOKUP_PATH: "/a/../{id}" }, { PREVIEW_MAX_FILES: "0" }])
			expect(() => loadConfig({ ...base, ...bad })).toThrow(ConfigError);
	});
});
