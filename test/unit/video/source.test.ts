import { resolveFile, resolveSource, resolveUrl } from "../../../lib/video/source";
import { VideoSourceError } from "../../../lib/video/errors";

function refused(fn: () => unknown): VideoSourceError {
	try {
		fn();
	} catch (err) {
		if (err instanceof VideoSourceError) return err;
		throw err;
	}
	throw new Error("expected INVALID_SOURCE");
}

describe("video source validation", () => {
	it("accepts rtsp, rtsps, http and https, with a protocol allow-list per kind", () => {
		expect(resolveUrl("rtsp://10.0.0.7:554/stream1")).toEqual(expect.objectContaining({ kind: "rtsp", protocols: "rtsp,rtsps,rtp,srtp,tcp,udp,tls" }));
		expect(resolveUrl("RTSPS://cam.local/live").kind).toBe("rtsp");
		expect(resolveUrl("https://cam.local/video.mp4")).toEqual(expect.objectContaining({ kind: "http", protocols: "http,https,tcp,tls" }));
		for (const raw of ["rtsp://h/x", "http://h/x"]) expect(resolveUrl(raw).protocols.split(",")).not.toContain("file");
	});

	it("refuses FFmpeg's other protocols and malformed URLs", () => {
		for (const raw of ["file:///etc/passwd", "concat:/a|/b", "subfile:,start,0,end,0,:/etc/passwd", "pipe:0", "data:,x", "tcp://h:1", "udp://h:1", "rtmp://h/x", "hls+http://h/x.m3u8", "crypto:/x", "/etc/passwd", "rtsp:///x", "", "x".repeat(3000)])
			expect(refused(() => resolveUrl(raw)).code).toBe("INVALID_SOURCE");
		expect(refused(() => resolveUrl(42)).code).toBe("INVALID_SOURCE");
	});

	it("never repeats credentials in an error or in what may be logged", () => {
		const err = refused(() => resolveUrl("ftp://admin:s3cret@cam/x"));
		expect(err.message).not.toContain("s3cret");
		expect(resolveUrl("rtsp://admin:s3cret@cam/x").display).toBe("rtsp://***:***@cam/x");
		expect(resolveUrl("rtsp://admin:s3cret@cam/x").input).toBe("rtsp://admin:s3cret@cam/x");
	});

	it("opens local files by absolute path only, as plain files of the video containers", () => {
		const f = resolveFile("/data/uploads/../uploads/a.mp4");
		expect(f).toEqual({ kind: "file", input: "/data/uploads/a.mp4", display: "a.mp4", protocols: "file", formats: expect.stringContaining("matroska") });
		expect(f.formats!.split(",")).toEqual(expect.arrayContaining(["mov", "mp4", "avi", "matroska"]));
		for (const bad of ["a.mp4", "concat:/a.mp4", "file:/a.mp4", "", "/a\0.mp4"]) expect(refused(() => resolveFile(bad)).code).toBe("INVALID_SOURCE");
		expect(resolveSource({ file: "/x/y.mkv" }).kind).toBe("file");
		expect(resolveSource({ url: "rtsp://h/y" }).kind).toBe("rtsp");
	});
});
