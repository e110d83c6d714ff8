/**
 * A worker of one kind of background job (services/jobs.service.ts keeps the documents),
 * mixed into the service that owns the kind. Every node running that service is a worker:
 * a job is run by the node that claims its lease, renewed every third of `leaseMs` while it
 * runs; a node that dies leaves its job `processing` under a lease that runs out, and the
 * next poll of any worker takes it up again from the start (so a job's work must be
 * restartable: write its output under a name of the job and replace it).
 *
 * Use:
 *   mixins: [JobWorkerMixin({ kind: "export", leaseMs, pollMs, run(job, control) { ... } })]
 *   // elsewhere, to queue one:
 *   const job = await ctx.call("jobs.create", { kind: "export", userId, params });
 *
 * `run(job, control)` gets the claimed JobDoc (`job.params` as created) and a JobControl:
 * `control.progress(percent)` records progress (written with the lease renewal, at most
 * every `progressMs`, and broadcast as `progressEvent`), `control.signal` aborts when the
 * lease is lost (another node took the job over: stop writing), `control.token` is the
 * lease's fencing token. What `run` returns is the job's `result`; what it throws, its
 * `error` ({code, message}; an ApiError keeps its code). `expiresAt(job, result)` may date
 * the finished job for retention.
 *
 * Events: jobs are taken at once on `jobs.queued {id, kind}`, else at the next poll. When
 * `progressEvent` is set, the worker broadcasts `<progressEvent> {id, userId, kind, status,
 * progress, ...progressExtra(job, result)}` on start, on progress and at the end.
 */
import type { Service, ServiceSchema } from "moleculer";
import { jobError, type JobDoc } from "../lib/jobs/jobs";

export interface JobControl {
	token: number;
	signal: AbortSignal;
	progress(percent: number): Promise<void>;
}

interface Grant {
	token: number;
	leaseUntil: number;
	job: JobDoc;
}

export interface JobWorkerOptions {
	kind: string;
	leaseMs: number;
	pollMs: number;
	/** Jobs of this kind one node runs at once (default 1). */
	concurrency?: number;
	/** Least ms between two progress writes (default 500). */
	progressMs?: number;
	progressEvent?: string;
	progressExtra?(job: JobDoc, result: Record<string, unknown> | null): Record<string, unknown>;
	expiresAt?(job: JobDoc, result: Record<string, unknown>): Date | null;
	// eslint-disable-next-line @typescript-eslint/no-explicit-any
	run(this: any, job: JobDoc, control: JobControl): Promise<Record<string, unknown>>;
}

interface Running {
	job: JobDoc;
	token: number;
	abort: AbortController;
	renewTimer: NodeJS.Timeout;
	progress: number;
}

/** What the mixin keeps on its service (names prefixed so they meet no service's own). */
type WorkerThis = Service & {
	jobsRunning: Map<string, Running>;
	jobsTimer?: NodeJS.Timeout;
	jobsStopping: boolean;
	jobsTick(): Promise<void>;
	jobsTake(id: string): Promise<void>;
	jobsRun(grant: Grant): Promise<void>;
	jobsBroadcast(job: JobDoc, status: string, progress: number, result: Record<string, unknown> | null): void;
};

export function JobWorkerMixin(opts: JobWorkerOptions): Partial<ServiceSchema> {
	const { kind, leaseMs, pollMs } = opts;
	const concurrency = opts.concurrency ?? 1;
	const progressMs = opts.progressMs ?? 500;

	return {
		events: {
			"jobs.queued"(this: WorkerThis, ctx: { params: { id: string; kind: string } }) {
				if (ctx.params.kind === kind) void this.jobsTake(ctx.params.id);
			}
		},

		methods: {
			async jobsTick(this: WorkerThis) {
				if (this.jobsStopping || this.jobsRunning.size >= concurrency) return;
				try {
					const ids = await this.broker.call<string[], object>("jobs.waiting", { kind, limit: concurrency - this.jobsRunning.size });
					for (const id of ids) await this.jobsTake(id);
				} catch (err) {
					this.logger.warn("Jobs not polled", { kind, error: (err as Error).message });
				}
			},

			async jobsTake(this: WorkerThis, id: string) {
				if (this.jobsStopping || this.jobsRunning.size >= concurrency || this.jobsRunning.has(id)) return;
				let grant: Grant | null;
				try {
					grant = await this.broker.call<Grant | null, object>("jobs.claim", { id, nodeID: this.broker.nodeID, ttlMs: leaseMs });
				} catch (err) {
					this.logger.warn("Job not claimed", { kind, jobId: id, error: (err as Error).message });
					return;
				}
				// Claimed meanwhile by this node (the event and a poll at once): the first one runs it.
				if (!grant || this.jobsRunning.has(id) || this.jobsRunning.size >= concurrency) return;
				void this.jobsRun(grant);
			},

			async jobsRun(this: WorkerThis, grant: Grant) {
				const { job, token } = grant;
				const abort = new AbortController();
				const renew = (progress?: number) =>
					this.broker.call("jobs.renew", { id: job._id, nodeID: this.broker.nodeID, token, ttlMs: leaseMs, ...(progress === undefined ? {} : { progress }) }).catch((err: Error & { type?: string }) => {
						if (err.type === "LEASE_LOST") {
							this.logger.warn("Job lease lost: another node runs it now", { kind, jobId: job._id, token });
							abort.abort(err);
						} else this.logger.warn("Job lease not renewed", { kind, jobId: job._id, error: err.message });
					});
				const running: Running = { job, token, abort, progress: 0, renewTimer: setInterval(() => void renew(), Math.max(50, Math.floor(leaseMs / 3))) };
				this.jobsRunning.set(job._id, running);
				this.logger.info("Job started", { kind, jobId: job._id, attempt: job.attempts, token });
				this.jobsBroadcast(job, "processing", 0, null);
				let lastWrite = 0;
				const self = this;
				const control: JobControl = {
					token,
					signal: abort.signal,
					async progress(percent: number) {
						const p = Math.max(0, Math.min(100, Math.floor(percent)));
						if (p <= running.progress || abort.signal.aborted) return;
						running.progress = p;
						const now = Date.now();
						if (now - lastWrite < progressMs && p < 100) return;
						lastWrite = now;
						await renew(p);
						self.jobsBroadcast(job, "processing", p, null);
					}
				};
				try {
					const result = await opts.run.call(this, job, control);
					if (abort.signal.aborted) return;
					const expiresAt = opts.expiresAt?.(job, result);
					await this.broker.call("jobs.complete", { id: job._id, token, result, ...(expiresAt !== undefined ? { expiresAt } : {}) });
					this.logger.info("Job completed", { kind, jobId: job._id });
					this.jobsBroadcast(job, "completed", 100, result);
				} catch (err) {
					if (abort.signal.aborted || this.jobsStopping) return; // someone else's now, or handed back at stop
					const error = jobError(err);
					this.logger.warn("Job failed", { kind, jobId: job._id, ...error });
					try {
						await this.broker.call("jobs.fail", { id: job._id, token, error });
						this.jobsBroadcast(job, "failed", running.progress, null);
					} catch (e) {
						this.logger.warn("Job failure not recorded", { kind, jobId: job._id, error: (e as Error).message });
					}
				} finally {
					clearInterval(running.renewTimer);
					this.jobsRunning.delete(job._id);
					if (!this.jobsStopping) void this.jobsTick();
				}
			},

			jobsBroadcast(this: WorkerThis, job: JobDoc, status: string, progress: number, result: Record<string, unknown> | null) {
				if (!opts.progressEvent) return;
				this.broker.broadcast(opts.progressEvent, { id: job._id, userId: job.userId, kind, status, progress, ...(opts.progressExtra?.(job, result) ?? {}) });
			}
		},

		created(this: WorkerThis) {
			this.jobsRunning = new Map();
			this.jobsStopping = false;
		},

		async started(this: WorkerThis) {
			this.jobsTimer = setInterval(() => void this.jobsTick(), pollMs);
			// The first poll once the store is there (jobs left by a node that died before this one started).
			void this.waitForServices(["jobs"], 60_000)
				.then(() => this.jobsTick())
				.catch(() => undefined);
		},

		async stopped(this: WorkerThis) {
			this.jobsStopping = true;
			clearInterval(this.jobsTimer);
			// Hand running jobs back: another worker takes them up at once instead of after the lease.
			await Promise.all(
				[...this.jobsRunning.values()].map(async r => {
					r.abort.abort(new Error("node stopping"));
					clearInterval(r.renewTimer);
					await this.broker.call("jobs.release", { id: r.job._id, token: r.token }).catch(() => undefined);
				})
			);
		}
	} as unknown as Partial<ServiceSchema>;
}
