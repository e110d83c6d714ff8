import { accrueUptime, alertDue, boundedSampleInterval, laterUptime, samplePhase, monitorFingerprint, RateMeter, resumeUptime, thumbnailDue, thumbnailName, uptimeShare, utcDay } from "../../../lib/cameras/monitor";

const T = Date.parse("2027-03-04T12:00:00.000Z");

describe("camera monitor state (pure)", () => {
	it("holds the sampling interval to its bounds, with the default for a missing or bad value", () => {
		expect(boundedSampleInterval(5, 1)).toBe(5);
		expect(boundedSampleInterval(undefined, 1)).toBe(1);
		expect(boundedSampleInterval(null, 2)).toBe(2);
		expect(boundedSampleInterval(0, 1)).toBe(1);
		expect(boundedSampleInterval(-3, 1)).toBe(1);
		expect(boundedSampleInterval(Number.NaN, 1)).toBe(1);
		expect(boundedSampleInterval("5", 1)).toBe(1);
		expect(boundedSampleInterval(0.01, 1)).toBe(0.2);
		expect(boundedSampleInterval(1e9, 1)).toBe(3600);
	});

	it("measures frames per second and kbit/s over a sliding window of wall time", () => {
		const m = new RateMeter(5000);
		expect(m.fps()).toBeNull();
		m.add(T, 0, 0);
		m.add(T + 500, 12, 62_500);
		// Less than a second of data: no figure yet.
		expect(m.fps()).toBeNull();
		// 25 packets/s of 12,500 bytes each: 25 fps, 2,500 kbit/s.
		for (let i = 1; i <= 20; i++) m.add(T + i * 1000, i * 25, i * 25 * 12_500);
		expect(m.fps()).toBe(25);
		expect(m.kbps()).toBe(2500);
		// The stream slows to 10 fps: after one window the old rate is gone.
		for (let i = 21; i <= 30; i++) m.add(T + i * 1000, 500 + (i - 20) * 10, 500 * 12_500 + (i - 20) * 10 * 12_500);
		expect(m.fps()).toBe(10);
		expect(m.kbps()).toBe(1000);
		// Nothing arrives any more: 0, not the last rate.
		for (let i = 31; i <= 40; i++) m.add(T + i * 1000, 600, 600 * 12_500);
		expect(m.fps()).toBe(0);
		expect(m.kbps()).toBe(0);
		m.reset();
		expect(m.fps()).toBeNull();
	});

	it("counts uptime of the UTC day, splitting at midnight and starting the new day from zero", () => {
		let u = resumeUptime({}, T);
		expect(u).toEqual({ day: "2027-03-04", onlineMs: 0, observedMs: 0 });
		u = accrueUptime(u, T, T + 60_000, true);
		u = accrueUptime(u, T + 60_000, T + 90_000, false);
		expect(u).toEqual({ day: "2027-03-04", onlineMs: 60_000, observedMs: 90_000 });
		expect(uptimeShare(u)).toBeCloseTo(2 / 3);
		// Nothing counted backwards.
		expect(accrueUptime(u, T + 90_000, T + 80_000, true)).toBe(u);
		// Across midnight: only the time after it counts, for the new day.
		const beforeMidnight = Date.parse("2027-03-04T23:59:50.000Z");
		const after = accrueUptime(u, beforeMidnight, beforeMidnight + 25_000, true);
		expect(after).toEqual({ day: "2027-03-05", onlineMs: 15_000, observedMs: 15_000 });
		expect(utcDay(beforeMidnight + 25_000)).toBe("2027-03-05");
	});

	it("resumes the day's uptime from the document only on the same day, never online beyond observed", () => {
		expect(resumeUptime({ uptimeDay: "2027-03-04", uptimeOnlineMs: 1000, uptimeObservedMs: 4000 }, T)).toEqual({ day: "2027-03-04", onlineMs: 1000, observedMs: 4000 });
		expect(resumeUptime({ uptimeDay: "2027-03-03", uptimeOnlineMs: 1000, uptimeObservedMs: 4000 }, T)).toEqual({ day: "2027-03-04", onlineMs: 0, observedMs: 0 });
		expect(resumeUptime({ uptimeDay: "2027-03-04", uptimeOnlineMs: 9000, uptimeObservedMs: 4000 }, T)).toEqual({ day: "2027-03-04", onlineMs: 4000, observedMs: 4000 });
		expect(resumeUptime({ uptimeDay: "2027-03-04", uptimeOnlineMs: null, uptimeObservedMs: -5 }, T)).toEqual({ day: "2027-03-04", onlineMs: 0, observedMs: 0 });
	});

	it("carries the account that has seen more of the same day", () => {
		const doc = { day: "2027-03-04", onlineMs: 1000, observedMs: 4000 };
		expect(laterUptime(doc, undefined)).toBe(doc);
		expect(laterUptime(doc, { day: "2027-03-04", onlineMs: 5000, observedMs: 9000 })).toEqual({ day: "2027-03-04", onlineMs: 5000, observedMs: 9000 });
		expect(laterUptime(doc, { day: "2027-03-04", onlineMs: 0, observedMs: 3000 })).toBe(doc);
		expect(laterUptime(doc, { day: "2027-03-03", onlineMs: 5000, observedMs: 9000 })).toBe(doc);
	});

	it("keeps a thumbnail at most every max(sampleInterval, 10 s)", () => {
		expect(thumbnailName(7)).toBe("thumb-cam-7.jpg");
		expect(thumbnailDue(null, T, 1)).toBe(true);
		expect(thumbnailDue(T, T + 9_999, 1)).toBe(false);
		expect(thumbnailDue(T, T + 10_000, 1)).toBe(true);
		expect(thumbnailDue(T, T + 10_000, 30)).toBe(false);
		expect(thumbnailDue(T, T + 30_000, 30)).toBe(true);
	});

	it("alerts an outage once, after its delay", () => {
		expect(alertDue(null, T, 1000)).toBe(false);
		const o = { since: T, alerted: false };
		expect(alertDue(o, T + 999, 1000)).toBe(false);
		expect(alertDue(o, T + 1000, 1000)).toBe(true);
		o.alerted = true;
		expect(alertDue(o, T + 60_000, 1000)).toBe(false);
	});

	it("restarts an actor only for what it opens: stream, credentials, interval; credentials only as a hash", () => {
		const doc = { streamType: "RTSP", streamUrl: "rtsp://10.0.0.5/live", sampleInterval: 5, name: "Hall" };
		const url = "rtsp://admin:s3cret@10.0.0.5/live";
		const base = monitorFingerprint(doc, url);
		expect(base).not.toContain("s3cret");
		expect(monitorFingerprint({ ...doc, name: "Hall 2" } as typeof doc, url)).toBe(base);
		expect(monitorFingerprint({ ...doc, sampleInterval: 1 }, url)).not.toBe(base);
		expect(monitorFingerprint({ ...doc, streamUrl: "rtsp://10.0.0.6/live" }, url)).not.toBe(base);
		expect(monitorFingerprint(doc, "rtsp://admin:other@10.0.0.5/live")).not.toBe(base);
	});

	it("spreads the sample instants of cameras 1..20 over the interval: no two within 0.1 s, every gap under 0.5 s", () => {
		const phases = Array.from({ length: 20 }, (_, i) => samplePhase(i + 1, 5)).sort((a, b) => a - b);
		for (const p of phases) expect(p > 0 && p <= 5).toBe(true);
		const gaps = phases.slice(1).map((p, i) => p - phases[i]);
		expect(Math.min(...gaps)).toBeGreaterThan(0.1);
		expect(Math.max(...gaps, phases[0], 5 - phases[19])).toBeLessThan(0.5);
		expect(samplePhase(7, 5)).toBe(samplePhase(7, 5)); // the same camera, the same instant
	});
});
