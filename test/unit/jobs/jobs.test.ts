/** Background jobs, the pure part: who reads a job, which jobs wait, progress, errors. */
import { ApiError } from "../../../lib/errors";
import { MAX_ATTEMPTS, isWaiting, jobError, jobView, mayRead, newJob, progressOf, readableQuery } from "../../../lib/jobs/jobs";

describe("jobs", () => {
	const now = new Date("2026-12-02T20:00:00Z");
	const job = newJob("JOB-1", "export", "U-1", { format: "csv" }, now);

	it("starts queued at 0% with no lease and no attempt", () => {
		expect(job).toEqual(expect.objectContaining({ status: "queued", progress: 0, attempts: 0, leaseOwner: null, leaseToken: 0, result: null, error: null }));
		expect(jobView(job)).toEqual(expect.objectContaining({ id: "JOB-1", kind: "export", userId: "U-1", status: "queued", createdAt: now.toISOString(), finishedAt: null }));
		expect(jobView(job)).not.toHaveProperty("leaseOwner");
		expect(MAX_ATTEMPTS).toBeGreaterThan(1);
	});

	it("is read by its owner and by administrators only", () => {
		expect(mayRead(job, { id: "U-1", permissions: ["attendance:read"] })).toBe(true);
		expect(mayRead(job, { id: "U-2", permissions: ["attendance:read", "attendance:export"] })).toBe(false);
		expect(mayRead(job, { id: "U-2", permissions: ["*"] })).toBe(true);
		// A system job (no owner) is nobody's but the administrators'.
		expect(mayRead({ userId: null }, { id: "U-1", permissions: ["system:read"] })).toBe(false);
		expect(readableQuery({ id: "U-1", permissions: [] })).toEqual({ userId: "U-1" });
		expect(readableQuery({ id: "U-9", permissions: ["*"] })).toEqual({});
	});

	it("waits while queued, or processing under a lease that ran out (a dead node's)", () => {
		const t = now.getTime();
		expect(isWaiting({ status: "queued" }, t)).toBe(true);
		expect(isWaiting({ status: "processing", leaseOwner: "n1", leaseUntil: t + 1000 }, t)).toBe(false);
		expect(isWaiting({ status: "processing", leaseOwner: "n1", leaseUntil: t }, t)).toBe(true);
		expect(isWaiting({ status: "processing", leaseOwner: "n1", leaseUntil: 0 }, t)).toBe(true);
		expect(isWaiting({ status: "completed", leaseOwner: null, leaseUntil: 0 }, t)).toBe(false);
		expect(isWaiting({ status: "failed" }, t)).toBe(false);
	});

	it("counts progress in whole percent within 0..100", () => {
		expect(progressOf(0, 100_000)).toBe(0);
		expect(progressOf(33_333, 100_000)).toBe(33);
		expect(progressOf(99_999, 100_000)).toBe(99);
		expect(progressOf(100_000, 100_000)).toBe(100);
		expect(progressOf(5, 0)).toBe(0);
		expect(progressOf(200, 100)).toBe(100);
	});

	it("keeps an error's code when it has one", () => {
		expect(jobError(new ApiError(400, "TOO_MANY_ROWS", "At most 1,000,000 rows"))).toEqual({ code: "TOO_MANY_ROWS", message: "At most 1,000,000 rows" });
		expect(jobError(Object.assign(new Error("disk full"), { code: "ENOSPC" }))).toEqual({ code: "ENOSPC", message: "disk full" });
		expect(jobError(new Error("boom"))).toEqual({ code: "JOB_FAILED", message: "boom" });
		expect(jobError("x".repeat(600)).message).toHaveLength(500);
	});
});
