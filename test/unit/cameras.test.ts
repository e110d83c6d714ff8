import { consoleId, ipOf, joinStreamUrl, lookupOf, nextCameraId, numberOfId, splitStreamUrl } from "../../lib/cameras/registry";

describe("camera registry rules", () => {
	it("gives every camera a console id from its number, and finds either", () => {
		expect(consoleId(7)).toBe("CAM-07");
		expect(consoleId(123)).toBe("CAM-123");
		expect(numberOfId("CAM-07")).toBe(7);
		expect(numberOfId("LOBBY-1")).toBeNull();
		expect(lookupOf("7")).toEqual({ cameraId: 7 });
		expect(lookupOf(7)).toEqual({ cameraId: 7 });
		expect(lookupOf("CAM-07")).toEqual({ _id: "CAM-07" });
		expect(nextCameraId([1, 2, 4])).toBe(3);
		expect(nextCameraId([])).toBe(1);
	});

	it("takes credentials out of a stream URL and puts them back only to connect", () => {
		const s = splitStreamUrl("rtsp://admin:p%40ss@10.0.0.7:554/stream1", ["rtsp"]);
		expect(s).toEqual({ url: "rtsp://10.0.0.7:554/stream1", credentials: { username: "admin", password: "p@ss" }, host: "10.0.0.7" });
		expect(joinStreamUrl(s.url, s.credentials)).toBe("rtsp://admin:p%40ss@10.0.0.7:554/stream1");
		expect(joinStreamUrl(s.url, null)).toBe(s.url);
		expect(() => splitStreamUrl("file:///etc/passwd", ["rtsp"])).toThrow(/scheme/);
		expect(() => splitStreamUrl("not a url", ["rtsp"])).toThrow();
		expect(ipOf("10.0.0.7")).toBe("10.0.0.7");
		expect(ipOf("cam.local")).toBeNull();
	});
});
