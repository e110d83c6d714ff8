/**
 * The callback outbox (actors role): delivers persisted results to the Java backend. A result
 * is written as `pending` before anything is sent; the outbox claims due results with a lease,
 * posts them in batches (<= 100, 30 s timeout, 3 attempts), marks them delivered, or schedules
 * the next try with capped backoff. It gives up only a configurable time after the session
 * ended, marking them failed (audited, counted in metrics). `recognitionId` is the
 * idempotency key: a retry resends the same ids, never new results.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../config";
import { ATTEMPTS_PER_DELIVERY, backoffMs, MAX_BATCH, newBatchId, postBatch, REQUEST_TIMEOUT_MS, type CallbackResult } from "../lib/callbacks/delivery";
import { isoSeconds } from "../lib/time";
import { redactUrl } from "../lib/url";
import type { Implements } from "./schema";
import { auditRefusal, outboundPolicy, refusalOf } from "./outbound-guard";

interface Pending {
	recognitionId: string;
	slotId: number;
	sessionId?: string;
	userId: number;
	rollNumber: string;
	fullName: string;
	cameraId: number;
	similarity: number;
	recognizedAt: string | Date;
	embeddingVersion: number;
	attempts?: number;
}

/** What delivery reads of a session document. */
interface SessionSummary {
	roomId?: number | null;
	config?: { callbackUrl?: string };
	stoppedAt?: string | Date | null;
}

interface Settings {
	pollMs: number;
	retryBaseMs: number;
	retryMaxMs: number;
	giveUpMs: number;
}

interface Methods {
	schedule(delayMs: number): void;
	tick(): Promise<void>;
	deliverDue(slotId: number | undefined, budgetMs: number, immediate: boolean): Promise<void>;
	deliverBatch(slot: number, sessionId: string | undefined, batch: Pending[], attempts: number): Promise<void>;
	fail(batch: Pending[], error: string, giveUp: boolean, slotId: number): Promise<void>;
}

interface Vars {
	stopping: boolean;
	/** A delivery round is under way. */
	running?: boolean;
	timer?: NodeJS.Timeout;
}

export default function callbacksService(cfg: Config): ServiceSchema<Settings, Methods, Vars> {
	return {
		name: "callbacks",
		settings: { pollMs: cfg.callbackPollMs, retryBaseMs: cfg.callbackRetryBaseMs, retryMaxMs: cfg.callbackRetryMaxMs, giveUpMs: cfg.callbackGiveUpMs },
		actions: {
			/** Deliver what is due now (called after a new result, and by the timer). */
			kick: {
				visibility: "public",
				handler() {
					this.schedule(0);
					return { scheduled: true };
				}
			},
			/** Deliver a slot's pending results now, waiting at most timeoutMs; returns what is left pending. */
			flush: {
				visibility: "public",
				params: { slotId: "number", timeoutMs: { type: "number", default: 10_000 } },
				async handler(ctx: Context<{ slotId: number; timeoutMs: number }>) {
					const deadline = Date.now() + ctx.params.timeoutMs;
					let pending = 0;
					while (Date.now() < deadline) {
						await this.deliverDue(ctx.params.slotId, deadline - Date.now(), true);
						pending = await ctx.call("recognitions.count", { query: { slotId: ctx.params.slotId, delivery: "pending" } });
						if (pending === 0) break;
						await new Promise(r => setTimeout(r, 200));
					}
					return { pending };
				}
			}
		},
		methods: {
			schedule(delayMs: number) {
				if (this.stopping) return;
				clearTimeout(this.timer);
				this.timer = setTimeout(() => void this.tick(), delayMs);
			},
			async tick() {
				if (this.running) return this.schedule(50);
				this.running = true;
				try {
					await this.deliverDue(undefined, 120_000, false);
				} catch (err) {
					// Storage not reachable yet (start-up) or any more (its node is gone): try again next round.
					const level = (err as { type?: string }).type === "SERVICE_NOT_FOUND" ? "debug" : "warn";
					this.logger[level]("Callback delivery round failed", { error: (err as Error).message });
				} finally {
					this.running = false;
					this.schedule(cfg.callbackPollMs);
				}
			},
			/**
			 * One round: claim due results a batch at a time (one slot, at most MAX_BATCH), post,
			 * record the outcome; until nothing is due or the budget is spent. The claim's lease
			 * outlasts a whole delivery (every attempt timing out, with its backoff), so no other
			 * outbox can claim a batch while it is still being sent.
			 */
			async deliverDue(slotId: number | undefined, budgetMs: number, immediate: boolean) {
				const deadline = Date.now() + budgetMs;
				const attempts = immediate ? 1 : ATTEMPTS_PER_DELIVERY;
				const leaseMs = attempts * REQUEST_TIMEOUT_MS + cfg.callbackRetryBaseMs * 2 ** attempts + 30_000;
				while (Date.now() < deadline && !this.stopping) {
					const batch: Pending[] = await this.broker.call("recognitions.claimDue", { owner: this.broker.nodeID, limit: MAX_BATCH, leaseMs, slotId });
					if (batch.length === 0) return;
					await this.deliverBatch(batch[0].slotId, batch[0].sessionId, batch, attempts);
				}
			},
			async deliverBatch(slot: number, sessionId: string | undefined, batch: Pending[], attempts: number) {
				// The results' own session (its callback URL, its end); results from before sessionId: the slot's newest.
				const [session] = await this.broker.call<(SessionSummary | undefined)[], object>("sessions.find", sessionId ? { query: { _id: sessionId }, limit: 1 } : { query: { slotId: slot }, sort: "-startedAt", limit: 1 });
				if (!session?.config?.callbackUrl) {
					await this.fail(batch, "session has no callback URL", true, slot);
					return;
				}
				const body = {
					slotId: slot,
					roomId: session.roomId ?? null,
					batchId: newBatchId(),
					results: batch.map(
						(r): CallbackResult => ({
							recognitionId: r.recognitionId,
							userId: r.userId,
							rollNumber: r.rollNumber,
							fullName: r.fullName,
							cameraId: r.cameraId,
							confidence: Math.round(r.similarity * 10000) / 10000,
							recognizedAt: isoSeconds(new Date(r.recognizedAt)),
							embeddingVersion: r.embeddingVersion
						})
					)
				};
				const outcome = await postBatch(session.config.callbackUrl, body, { apiKey: cfg.apiKey, policy: outboundPolicy(cfg), retryBaseMs: cfg.callbackRetryBaseMs, attempts });
				const ids = batch.map(r => r.recognitionId);
				if (outcome.ok) {
					await this.broker.call("recognitions.markDelivered", { ids });
					this.logger.info("Results delivered", { slotId: slot, batchId: body.batchId, results: ids.length, attempts: outcome.attempts });
					this.broker.broadcast("live.callback.delivered", { slotId: slot, batchId: body.batchId, recognitionIds: ids });
					// Delivered after failures: the slot's callback alert (if any) has passed.
					if (batch.some(r => (r.attempts ?? 0) > 0)) await this.broker.call("alerts.resolve", { cause: `callbacks:slot:${slot}` }).catch(() => undefined);
				} else {
					const stoppedAt = session.stoppedAt ? new Date(session.stoppedAt).getTime() : null;
					const giveUp = stoppedAt !== null && Date.now() - stoppedAt > cfg.callbackGiveUpMs;
					this.logger.warn("Callback delivery failed", { slotId: slot, url: redactUrl(session.config.callbackUrl), results: ids.length, error: outcome.error, giveUp });
					// Refused by the outbound policy (a redirect, a name now resolving elsewhere): audited on a batch's first failure and when given up.
					const refused = refusalOf(outcome.refusal);
					if (refused && (giveUp || batch.every(r => !r.attempts))) await auditRefusal(this.broker, null, refused, "callback", "config.callbackUrl", { slotId: slot, results: ids.length });
					await this.fail(batch, outcome.error ?? "failed", giveUp, slot);
				}
			},
			async fail(batch: Pending[], error: string, giveUp: boolean, slotId: number) {
				const attempts = Math.max(...batch.map(r => r.attempts ?? 0));
				const next = new Date(Date.now() + backoffMs(attempts, cfg.callbackRetryBaseMs, cfg.callbackRetryMaxMs));
				await this.broker.call("recognitions.markAttempt", { ids: batch.map(r => r.recognitionId), nextAttemptAt: next, error, failed: giveUp });
				// This many deliveries in a row failed: the backend should know before results are given up.
				if (attempts + 1 >= cfg.callbackAlertAttempts)
					await this.broker
						.call("alerts.raise", {
							cause: `callbacks:slot:${slotId}`,
							type: "callback_failing",
							level: giveUp ? "critical" : "high",
							title: `Results of slot ${slotId} not delivered`,
							description: `The callback failed ${attempts + 1} time(s) in a row: ${error}${giveUp ? "; results given up" : "; retrying with backoff"}`,
							details: { slotId, results: batch.length, attempts: attempts + 1, error, givenUp: giveUp }
						})
						.catch((err: Error) => this.logger.warn("Callback alert not raised", { slotId, error: err.message }));
				if (giveUp) {
					await this.broker.call("audit.record", { action: "callback.failed", slotId, details: { recognitionIds: batch.map(r => r.recognitionId), error } });
					this.broker.broadcast("live.callback.failed", { slotId, recognitionIds: batch.map(r => r.recognitionId), error });
				}
			}
		} satisfies Implements<Methods, Settings, Vars>,
		started() {
			this.stopping = false;
			this.schedule(cfg.callbackPollMs);
		},
		async stopped() {
			this.stopping = true;
			clearTimeout(this.timer);
			while (this.running) await new Promise(r => setTimeout(r, 20));
		}
	};
}
