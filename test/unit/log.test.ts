import { formatLogLine, prettyFormatter } from "../../lib/log/json-formatter";
import { secretEquals } from "../../lib/auth";
import { parseUrl, redactUrl } from "../../lib/url";

describe("structured logs", () => {
	it("writes one JSON object with timestamp, level, message and the context fields", () => {
		const line = JSON.parse(formatLogLine("info", ["Recognised", { slotId: 1, cameraId: 2, userId: 201 }], { nodeID: "n1", svc: "session" }, new Date("2024-10-19T08:00:00Z")));
		expect(line).toEqual({ timestamp: "2024-10-19T08:00:00.000Z", level: "info", message: "Recognised", nodeID: "n1", service: "session", slotId: 1, cameraId: 2, userId: 201 });
	});

	it("never writes credentials of URLs or secret fields", () => {
		const line = formatLogLine("warn", ["Camera rtsp://admin:pw@10.0.0.1/s failed", { rtspUrl: "rtsp://admin:pw@10.0.0.1/s", apiKey: "k" }]);
		expect(line).not.toContain("pw@");
		expect(line).not.toContain('"k"');
		expect(JSON.parse(line).rtspUrl).toBe("rtsp://***:***@10.0.0.1/s");
	});

	it("never writes credentials of percent-encoded URLs in query strings, nor in pretty logs", () => {
		const url = "/api/v1/cameras/capture-frame?rtspUrl=rtsp%3A%2F%2Fadmin%3As3cret%40cam.local%3A554%2Fs&format=file";
		const line = formatLogLine("debug", ["=> GET " + url, { url }]);
		expect(line).not.toContain("s3cret");
		expect(line).not.toContain("admin");
		expect(JSON.parse(line).url).toBe("/api/v1/cameras/capture-frame?rtspUrl=rtsp%3A%2F%2F***%3A***%40cam.local%3A554%2Fs&format=file");
		const pretty = prettyFormatter("warn", ["Camera rtsp://admin:s3cret@10.0.0.1/s failed", { rtspUrl: "rtsp://admin:s3cret@10.0.0.1/s", apiKey: "k" }], { nodeID: "n1", svc: "streams" }).join(" ");
		expect(pretty).not.toContain("s3cret");
		expect(pretty).not.toContain('"k"');
		expect(pretty).toContain("rtsp://***:***@10.0.0.1/s");
	});

	it("records an error's message and code", () => {
		const err = Object.assign(new Error("boom"), { type: "X_FAILED" });
		expect(JSON.parse(formatLogLine("error", ["Failed", err]))).toEqual(expect.objectContaining({ message: "Failed boom", error: "boom", errorCode: "X_FAILED" }));
	});
});

describe("secrets and URLs", () => {
	it("compares API keys exactly", () => {
		expect(secretEquals("abc", "abc")).toBe(true);
		expect(secretEquals("abd", "abc")).toBe(false);
		expect(secretEquals("abcd", "abc")).toBe(false);
		expect(secretEquals(undefined, "abc")).toBe(false);
		expect(secretEquals(["abc"], "abc")).toBe(false);
	});

	it("accepts only allowed schemes", () => {
		expect(parseUrl("rtsp://10.0.0.1:554/s", ["rtsp"])?.hostname).toBe("10.0.0.1");
		expect(parseUrl("file:///etc/passwd", ["rtsp", "http"])).toBeNull();
		expect(parseUrl("concat:a|b", ["rtsp", "http"])).toBeNull();
		expect(parseUrl("not a url", ["rtsp"])).toBeNull();
		expect(parseUrl(42, ["rtsp"])).toBeNull();
	});

	it("redacts credentials", () => {
		expect(redactUrl("rtsp://u:p@h/s")).toBe("rtsp://***:***@h/s");
		expect(redactUrl("rtsp://h/s")).toBe("rtsp://h/s");
	});
});
