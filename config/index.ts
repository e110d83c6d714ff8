/**
 * One typed configuration, read from the environment and validated at start-up.
 * Every later feature adds its variables here, so `.env.example` and the README table
 * stay the single list of knobs.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseCidrList, parseHostsMap, type Cidr } from "../lib/net/outbound";

export const ROLES = ["gateway", "actors", "inference", "storage"] as const;
export type Role = (typeof ROLES)[number];

export interface Config {
	nodeId: string;
	/** Moleculer namespace: nodes only see nodes of the same namespace on a transporter. */
	namespace: string;
	env: "development" | "production" | "test";
	/** Moleculer transporter; null runs everything in one process. */
	transporter: string | null;
	roles: Role[];
	host: string;
	/** Gateway HTTP port; 0 lets the OS choose (tests). */
	port: number;
	/** Prometheus endpoint port; null = off. */
	metricsPort: number | null;
	apiKey: string;
	/** Where the API key came from, for the start-up log. */
	apiKeySource: "env" | "file" | "generated";
	javaBackendUrl: string | null;
	similarityThreshold: number;
	scanInterval: number;
	maxSessions: number;
	logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace";
	logFormat: "json" | "pretty";
	dataDir: string;
	uploadsDir: string;
	modelsDir: string;
	/** Model manifest (config/models.json): the model set the inference engine runs. */
	modelsManifest: string;
	/** onnxruntime intraOpNumThreads per session on inference nodes. */
	inferenceThreads: number;
	/** Vision engines in worker threads (0: one engine on the event loop's thread). */
	inferenceWorkers: number;
	/**
	 * Niceness the inference worker threads add to the node's (Linux: per thread): when the
	 * cores are short, HTTP, the transporter and camera streams on the event loop go first.
	 */
	inferenceNice: number;
	/** Niceness this node's process adds at start: actors or inference nodes on a gateway's machine run behind it. */
	nodeNice: number;
	/** Requests an inference node queues behind the running one before answering INFERENCE_BUSY. */
	inferenceQueue: number;
	/** Horizontal-flip test-time augmentation for embeddings (two embedder runs per face). */
	inferenceFlip: boolean;
	/** The small-face detector pass (SMALL_FACES and SMALL_FACES_*; lib/vision/tiles.ts); null when off. */
	smallFaces: { scale: number; tileW: number; tileH: number; overlap: number; threshold: number } | null;
	/** Run the experimental liveness model in analyze by default. */
	livenessDefault: boolean;
	mongoUri: string | null;
	qdrantUrl: string | null;
	/** Largest JSON body the gateway accepts, in bytes. */
	maxBodyBytes: number;
	/** Callback outbox: poll period, retry backoff base and cap, give-up time after a session ends (ms). */
	callbackPollMs: number;
	callbackRetryBaseMs: number;
	callbackRetryMaxMs: number;
	callbackGiveUpMs: number;
	/** Time a stop waits for pending results to be delivered, ms. */
	stopFlushMs: number;
	/** Timeout for a broker call, ms. */
	requestTimeout: number;
	/** Cameras: give up opening a stream after this long, ms (spec: 10 s). */
	cameraConnectTimeout: number;
	/** Cameras: a stream that sends nothing for this long is disconnected, ms. */
	cameraReadTimeout: number;
	/** RTSP transport for cameras. */
	rtspTransport: "tcp" | "udp";
	/** Path on JAVA_BACKEND_URL where a camera is looked up; `{id}` is the camera id. */
	cameraLookupPath: string;
	/** Timeout of that lookup, ms. */
	cameraLookupTimeout: number;
	/** The blob store's folder without MongoDB: previews, snapshots, thumbnails, face images, exports. */
	blobsDir: string;
	/** Previews older than this are deleted, seconds. */
	previewMaxAge: number;
	/** At most this many previews are kept (newest first). */
	previewMaxFiles: number;
	/** Enrollment: width the sampled frames are scaled to before detection (aspect kept). */
	enrollFrameWidth: number;
	/** Enrollment: only the first this many seconds of a video are read. */
	enrollMaxSeconds: number;
	/** Enrollment: least combined face quality `generate` accepts (LOW_QUALITY_FACE below). */
	enrollMinQuality: number;
	/** Enrollment: decoder threads per video. */
	enrollDecodeThreads: number;
	/** Enrollment: decode on the calling thread with synchronous calls (lib/video/frame-source.ts `inline`). */
	enrollDecodeInline: boolean;
	/** Enrollment: never decode packets no sampled frame needs (lib/video/frame-source.ts `skipUnsampled`). */
	enrollDecodeSkipUnsampled: boolean;
	/** Largest video `embeddings/validate` accepts, bytes (spec: 50 MB). */
	maxUploadBytes: number;
	/** Ownership lease of a session's actors, ms: a dead owner's sessions move after at most this. */
	actorLeaseMs: number;
	/** How often an actors node looks for sessions without a live owner, ms. */
	placementIntervalMs: number;
	/** Where uploads are spooled while they are checked (always removed afterwards). */
	uploadsTmpDir: string;
	/** Console access tokens are signed with this (HS256); every node of a cluster needs the same. */
	jwtSecret: string;
	jwtSecretSource: "env" | "file" | "generated";
	/** The first administrator, created when there is no account yet. */
	adminEmail: string;
	/** Its password; generated and printed once when unset. */
	adminPassword: string | null;
	/** Console requests per minute per user and per address (0: unlimited). */
	rateLimitPerMinute: number;
	/** Largest JSON body of a console request, bytes. */
	consoleBodyBytes: number;
	/** Largest file the blob store keeps, bytes (one transporter message). */
	blobMaxBytes: number;
	/** Largest file the blob store keeps from a stream (exports), bytes. */
	blobStreamMaxBytes: number;
	/** Export files (and their jobs) expire this many days after they are made (fractions allowed). */
	exportTtlDays: number;
	/** Most logs one export may hold (more: the job fails with EXPORT_TOO_LARGE). */
	exportMaxRows: number;
	/** Lease of a running export job, ms: a dead node's export is taken up again after at most this. */
	exportLeaseMs: number;
	/** How often an export worker looks for waiting exports, ms (new ones are taken at once). */
	exportPollMs: number;
	/** Key sealing secrets at rest (camera credentials, Odoo and provider keys): 32 bytes. */
	secretsKey: Buffer;
	secretsKeySource: "env" | "file" | "generated";
	/** A monitored camera offline this long raises an alert, seconds. */
	cameraOfflineAlertS: number;
	/** At most one unknown-face alert per camera this often, seconds. */
	unknownFaceAlertS: number;
	/** A FUACS callback failing this many attempts in a row raises an alert. */
	callbackAlertAttempts: number;
	/** A live client over its buffer limit this long is disconnected, ms. */
	liveSlowClientMs: number;
	/** Socket.IO: messages queued for one client before it is skipped. */
	liveMaxBufferedMessages: number;
	/** /ws: bytes queued for one client before it is skipped. */
	liveMaxBufferBytes: number;
	/** Default seconds between samples of a monitored camera. */
	monitorSampleInterval: number;
	/** How often a monitor actor persists a camera's live state, ms (status changes at once). */
	monitorReportMs: number;
	/** Largest photo a face profile accepts, bytes (before it is re-encoded). */
	faceImageMaxBytes: number;
	/** Least distance between the eyes, source pixels, for a photo's face to be usable. */
	faceMinInterocularPx: number;
	/** Outbound-URL policy (lib/net/outbound.ts): ranges allowed despite the defaults. */
	outboundAllow: Cidr[];
	/** Ranges never opened (deny overrides allow). */
	outboundDeny: Cidr[];
	/** Static names resolved before DNS, name -> addresses (OUTBOUND_HOSTS). */
	outboundHosts: Record<string, string[]>;
	/** Retention: detections, their thumbnails and event logs (recognitions) older than this many days are deleted. */
	retentionDetectionsDays: number;
	/** The per-frame detection event log keeps at most this many events (its oldest go). */
	detectionEventsMax: number;
	/** How long a send-frame job waits for the camera's frame (ms). */
	sendFrameTimeoutMs: number;
	/** Retention: audit documents older than this many days are deleted. */
	retentionAuditDays: number;
	/** Retention: system metric samples older than this many days are deleted. */
	retentionMetricsDays: number;
	/** How often the retention task runs, ms (0: never on its own; POST /system/retention/run still works). */
	retentionEveryMs: number;
	/** Streaming recognition (/ws/recognize): frames analysed per second per connection, at most. */
	maxFrameRate: number;
	/** Streaming connections one gateway takes at once (0: the endpoint is off). */
	streamMaxConnections: number;
	/** A track's recognition log is written when its status changes and at most this often otherwise, ms (0: every face of every result). */
	recognitionLogIntervalMs: number;
	/** Odoo auto-sync period, ms (when autoSync is on in the Odoo settings); 0: never. */
	odooSyncIntervalMs: number;
	/** Attendance logs per Odoo batch (at most 100). */
	odooBatchSize: number;
	/** One JSON-RPC call to Odoo gives up after this long, ms. */
	odooTimeoutMs: number;
	/** Tries of an Odoo step whose failure may pass (network, 5xx, busy database). */
	odooRetryAttempts: number;
	/** First backoff between those tries, ms (doubled each time, jittered). */
	odooRetryBaseMs: number;
	odooRetryMaxMs: number;
	/** Sync runs failing in a row before the odoo:sync alert is raised. */
	odooAlertFailures: number;
	/** Employees whose logs go to Odoo side by side within a batch. */
	odooConcurrency: number;
	/** Logs one sync run takes at most (the rest wait for the next). */
	odooSyncMaxLogs: number;
	/** How often each node samples its CPU, memory, disk and network, ms (0: only at start). */
	healthSampleMs: number;
	/** Samples each node keeps in memory (GET /system/health/metrics history). */
	healthHistory: number;
	/** Keep every sample in the system metrics store too (retention: RETENTION_METRICS_DAYS). */
	healthPersist: boolean;
	/** How often gateways watch inference capacity and the stores for alerts, ms (0: off). */
	alertWatchMs: number;
	/** An inference node whose queue is this full (waiting / INFERENCE_QUEUE) raises inference saturated. */
	alertSaturation: number;
}

export class ConfigError extends Error {
	constructor(
		readonly variable: string,
		reason: string
	) {
		super(`Invalid configuration: ${variable} ${reason}`);
		this.name = "ConfigError";
	}
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string): string | undefined {
	const v = env[name];
	return v === undefined || v.trim() === "" ? undefined : v.trim();
}

function int(env: Env, name: string, def: number, min: number, max: number): number {
	const raw = str(env, name);
	if (raw === undefined) return def;
	if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `must be an integer, got "${raw}"`);
	const n = Number(raw);
	if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
	return n;
}

function num(env: Env, name: string, def: number, min: number, max: number): number {
	const raw = str(env, name);
	if (raw === undefined) return def;
	const n = Number(raw);
	if (!Number.isFinite(n)) throw new ConfigError(name, `must be a number, got "${raw}"`);
	if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
	return n;
}

function oneOf<T extends string>(env: Env, name: string, def: T, allowed: readonly T[]): T {
	const raw = str(env, name)?.toLowerCase();
	if (raw === undefined) return def;
	if (!(allowed as readonly string[]).includes(raw))
		throw new ConfigError(name, `must be one of ${allowed.join(", ")}, got "${raw}"`);
	return raw as T;
}

function url(env: Env, name: string, schemes: string[]): string | null {
	const raw = str(env, name);
	if (raw === undefined) return null;
	let u: URL;
	try {
		u = new URL(raw);
	} catch {
		throw new ConfigError(name, `must be a URL, got "${raw}"`);
	}
	if (!schemes.includes(u.protocol.replace(/:$/, "")))
		throw new ConfigError(name, `must use ${schemes.join(" or ")}, got "${u.protocol}"`);
	return raw;
}

function name(env: Env, variable: string, def: string): string {
	const raw = str(env, variable);
	if (raw === undefined) return def;
	if (!/^[A-Za-z0-9_-]{1,64}$/.test(raw)) throw new ConfigError(variable, `must be letters, digits, - or _ (at most 64), got "${raw}"`);
	return raw;
}

function size(env: Env, name: string, def: number): number {
	const raw = str(env, name);
	if (raw === undefined) return def;
	const m = /^(\d+)\s*(b|kb|mb)?$/i.exec(raw);
	if (!m) throw new ConfigError(name, `must be a size such as 10mb, got "${raw}"`);
	const mult = { b: 1, kb: 1024, mb: 1024 * 1024 }[(m[2] ?? "b").toLowerCase() as "b" | "kb" | "mb"];
	const n = Number(m[1]) * mult;
	if (n < 1024) throw new ConfigError(name, `must be at least 1kb, got "${raw}"`);
	return n;
}

function roles(env: Env): Role[] {
	const raw = str(env, "SERVICES");
	if (raw === undefined || raw === "all") return [...ROLES];
	const list = raw.split(",").map(s => s.trim().toLowerCase()).filter(Boolean);
	for (const r of list)
		if (!(ROLES as readonly string[]).includes(r))
			throw new ConfigError("SERVICES", `has unknown role "${r}" (roles: ${ROLES.join(", ")}, or all)`);
	if (list.length === 0) throw new ConfigError("SERVICES", "must name at least one role");
	return [...new Set(list)] as Role[];
}

function lookupPath(env: Env): string {
	const raw = str(env, "CAMERA_LOOKUP_PATH") ?? "/api/v1/cameras/{id}";
	if (!raw.startsWith("/") || !raw.includes("{id}") || /\s|\/\/|\.\./.test(raw))
		throw new ConfigError("CAMERA_LOOKUP_PATH", `must be an absolute path containing {id}, got "${raw}"`);
	return raw;
}

function cidrs(env: Env, name: string): Cidr[] {
	try {
		return parseCidrList(str(env, name));
	} catch (err) {
		throw new ConfigError(name, `must be a comma-separated list of CIDRs (10.0.0.0/8, fe80::/10) or addresses: ${(err as Error).message}`);
	}
}

function hostsMap(env: Env, name: string): Record<string, string[]> {
	try {
		return parseHostsMap(str(env, name));
	} catch (err) {
		throw new ConfigError(name, `must be name=address[|address] pairs, comma-separated: ${(err as Error).message}`);
	}
}

/** SMALL_FACES and its plan: SMALL_FACES_SCALE, SMALL_FACES_TILE (WxH detector pixels, or "whole"), SMALL_FACES_OVERLAP, SMALL_FACES_THRESHOLD. */
export function smallFacesPlan(env: Env): Config["smallFaces"] {
	if (!bool(env, "SMALL_FACES", false)) return null;
	const scale = num(env, "SMALL_FACES_SCALE", 1 / 3, 0.05, 2);
	const tile = (str(env, "SMALL_FACES_TILE") ?? "640x480").toLowerCase();
	const m = /^(\d{2,4})x(\d{2,4})$/.exec(tile);
	if (tile !== "whole" && !m) throw new ConfigError("SMALL_FACES_TILE", `must be WIDTHxHEIGHT in detector pixels (e.g. 640x480) or whole, got "${tile}"`);
	const tileW = m ? Number(m[1]) : Infinity,
		tileH = m ? Number(m[2]) : Infinity;
	const overlap = int(env, "SMALL_FACES_OVERLAP", 64, 0, 1024);
	if (overlap >= Math.min(tileW, tileH)) throw new ConfigError("SMALL_FACES_OVERLAP", `must be smaller than the tile (${tile}), got ${overlap}`);
	return { scale, tileW, tileH, overlap, threshold: num(env, "SMALL_FACES_THRESHOLD", 0.7, 0.05, 0.99) };
}

function healthSampleMs(env: Env): number {
	const ms = int(env, "HEALTH_SAMPLE_MS", 60_000, 0, 24 * 3600_000);
	if (ms > 0 && ms < 100) throw new ConfigError("HEALTH_SAMPLE_MS", `must be 0 or at least 100, got ${ms}`);
	return ms;
}

function bool(env: Env, name: string, def: boolean): boolean {
	const raw = str(env, name)?.toLowerCase();
	if (raw === undefined) return def;
	if (["1", "true", "yes", "on"].includes(raw)) return true;
	if (["0", "false", "no", "off"].includes(raw)) return false;
	throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

/**
 * Where the models live; separate from loadConfig so the install-time fetch script can use
 * it without an API key.
 */
export function modelLocation(env: Env, cwd: string): { modelsDir: string; modelsManifest: string } {
	return {
		modelsDir: path.resolve(cwd, str(env, "MODELS_DIR") ?? "onnx-models"),
		modelsManifest: path.resolve(cwd, str(env, "MODELS_MANIFEST") ?? path.join(__dirname, "models.json"))
	};
}

const API_KEY_FILE = "api-key";

/**
 * With no API_KEY, a development key is generated once and kept in DATA_DIR, so a
 * newcomer's `npm start` works and the key survives restarts.
 */
function apiKey(env: Env, dataDir: string, allowGenerate: boolean): { key: string; source: Config["apiKeySource"] } {
	const fromEnv = str(env, "API_KEY");
	if (fromEnv !== undefined) {
		if (fromEnv.length < 16) throw new ConfigError("API_KEY", "must be at least 16 characters");
		return { key: fromEnv, source: "env" };
	}
	const file = path.join(dataDir, API_KEY_FILE);
	if (fs.existsSync(file)) {
		const key = fs.readFileSync(file, "utf8").trim();
		if (key.length >= 16) return { key, source: "file" };
	}
	if (!allowGenerate) throw new ConfigError("API_KEY", "is required (no key in DATA_DIR either)");
	const key = crypto.randomBytes(24).toString("base64url");
	fs.mkdirSync(dataDir, { recursive: true });
	fs.writeFileSync(file, key + "\n", { mode: 0o600 });
	return { key, source: "generated" };
}

const SECRETS_KEY_FILE = "secrets-key";

/** SECRETS_KEY (32 bytes as 64 hex digits or base64), else one generated once into DATA_DIR. */
function secretsKey(env: Env, dataDir: string, allowGenerate: boolean): { key: Buffer; source: Config["secretsKeySource"] } {
	const parse = (raw: string) => (/^[0-9a-f]{64}$/i.test(raw) ? Buffer.from(raw, "hex") : Buffer.from(raw, "base64"));
	const fromEnv = str(env, "SECRETS_KEY");
	if (fromEnv !== undefined) {
		const key = parse(fromEnv);
		if (key.length !== 32) throw new ConfigError("SECRETS_KEY", "must be 32 bytes, as 64 hex digits or base64");
		return { key, source: "env" };
	}
	const file = path.join(dataDir, SECRETS_KEY_FILE);
	if (fs.existsSync(file)) {
		const key = parse(fs.readFileSync(file, "utf8").trim());
		if (key.length === 32) return { key, source: "file" };
	}
	const key = crypto.randomBytes(32);
	if (allowGenerate || fs.existsSync(dataDir)) {
		// The stores live in DATA_DIR: sealed values must open again after a restart.
		fs.mkdirSync(dataDir, { recursive: true });
		fs.writeFileSync(file, key.toString("hex") + "\n", { mode: 0o600 });
	}
	return { key, source: "generated" };
}

const JWT_SECRET_FILE = "jwt-secret";

/** Like the API key: JWT_SECRET, else one generated once into DATA_DIR (one-process start). */
function jwtSecret(env: Env, dataDir: string, allowGenerate: boolean): { secret: string; source: Config["jwtSecretSource"] } {
	const fromEnv = str(env, "JWT_SECRET");
	if (fromEnv !== undefined) {
		if (fromEnv.length < 32) throw new ConfigError("JWT_SECRET", "must be at least 32 characters");
		return { secret: fromEnv, source: "env" };
	}
	const file = path.join(dataDir, JWT_SECRET_FILE);
	if (fs.existsSync(file)) {
		const secret = fs.readFileSync(file, "utf8").trim();
		if (secret.length >= 32) return { secret, source: "file" };
	}
	if (!allowGenerate) {
		// Tests and tools without a secret get one for this process only.
		return { secret: crypto.randomBytes(32).toString("base64url"), source: "generated" };
	}
	const secret = crypto.randomBytes(48).toString("base64url");
	fs.mkdirSync(dataDir, { recursive: true });
	fs.writeFileSync(file, secret + "\n", { mode: 0o600 });
	return { secret, source: "generated" };
}

function email(env: Env, name: string, def: string): string {
	const raw = str(env, name) ?? def;
	if (!/^[^\s@]{1,64}@[^\s@]{1,190}$/.test(raw)) throw new ConfigError(name, `must be an email address, got "${raw}"`);
	return raw.toLowerCase();
}

function adminPassword(env: Env): string | null {
	const raw = env.ADMIN_PASSWORD;
	if (raw === undefined || raw === "") return null;
	if (raw.length < 10) throw new ConfigError("ADMIN_PASSWORD", "must be at least 10 characters");
	return raw;
}

export interface LoadOptions {
	/** Generate a development API key when none is set (npm start). */
	generateApiKey?: boolean;
	cwd?: string;
}

export function loadConfig(env: Env = process.env, opts: LoadOptions = {}): Config {
	const cwd = opts.cwd ?? process.cwd();
	const dir = (name: string, def: string) => path.resolve(cwd, str(env, name) ?? def);
	const dataDir = dir("DATA_DIR", "data");
	const nodeEnv = oneOf(env, "NODE_ENV", "production", ["development", "production", "test"] as const);
	const metricsRaw = str(env, "METRICS_PORT");
	const metricsPort =
		metricsRaw !== undefined && ["off", "false", "none"].includes(metricsRaw.toLowerCase())
			? null
			: int(env, "METRICS_PORT", 3030, 1, 65535);
	const key = apiKey(env, dataDir, opts.generateApiKey ?? false);
	const jwt = jwtSecret(env, dataDir, opts.generateApiKey ?? false);
	const secrets = secretsKey(env, dataDir, opts.generateApiKey ?? false);
	const transporter = url(env, "TRANSPORTER", ["nats", "tcp", "redis", "amqp", "mqtt"]);

	return {
		nodeId: str(env, "NODE_ID") ?? `${os.hostname()}-${process.pid}`,
		namespace: name(env, "NAMESPACE", "rollcall"),
		env: nodeEnv,
		transporter,
		roles: roles(env),
		host: str(env, "HOST") ?? "127.0.0.1",
		port: int(env, "PORT", 8000, 0, 65535),
		metricsPort,
		apiKey: key.key,
		apiKeySource: key.source,
		javaBackendUrl: url(env, "JAVA_BACKEND_URL", ["http", "https"]),
		similarityThreshold: num(env, "SIMILARITY_THRESHOLD", 0.85, 0, 1),
		scanInterval: int(env, "SCAN_INTERVAL", 5, 1, 3600),
		maxSessions: int(env, "MAX_SESSIONS", 10, 1, 10000),
		logLevel: oneOf(env, "LOG_LEVEL", "info", ["fatal", "error", "warn", "info", "debug", "trace"] as const),
		logFormat: oneOf(env, "LOG_FORMAT", nodeEnv === "development" ? "pretty" : "json", ["json", "pretty"] as const),
		dataDir,
		uploadsDir: dir("UPLOADS_DIR", path.join(dataDir, "uploads")),
		...modelLocation(env, cwd),
		inferenceThreads: int(env, "INFERENCE_THREADS", 1, 1, 64),
		// One engine per core: at 20 sessions x 2 cameras on 2 cores, one worker left scans
		// 2.4 s late (p50), two 0.4 s (bench:sessions).
		inferenceWorkers: int(env, "INFERENCE_WORKERS", Math.min(64, os.availableParallelism()), 0, 64),
		inferenceNice: int(env, "INFERENCE_NICE", 5, 0, 19),
		nodeNice: int(env, "NODE_NICE", 0, 0, 19),
		inferenceQueue: int(env, "INFERENCE_QUEUE", 16, 0, 10000),
		inferenceFlip: bool(env, "INFERENCE_FLIP", false),
		smallFaces: smallFacesPlan(env),
		livenessDefault: bool(env, "LIVENESS", false),
		mongoUri: url(env, "MONGO_URI", ["mongodb", "mongodb+srv"]),
		qdrantUrl: url(env, "QDRANT_URL", ["http", "https"]),
		maxBodyBytes: size(env, "MAX_BODY_SIZE", 10 * 1024 * 1024),
		requestTimeout: int(env, "REQUEST_TIMEOUT", 30000, 100, 600000),
		callbackPollMs: int(env, "CALLBACK_POLL_MS", 1000, 50, 600_000),
		callbackRetryBaseMs: int(env, "CALLBACK_RETRY_BASE_MS", 1000, 10, 600_000),
		callbackRetryMaxMs: int(env, "CALLBACK_RETRY_MAX_MS", 60_000, 10, 3_600_000),
		callbackGiveUpMs: int(env, "CALLBACK_GIVE_UP_MS", 24 * 3600_000, 0, 30 * 24 * 3600_000),
		stopFlushMs: int(env, "STOP_FLUSH_MS", 10_000, 0, 120_000),
		cameraConnectTimeout: int(env, "CAMERA_CONNECT_TIMEOUT", 10000, 100, 120000),
		cameraReadTimeout: int(env, "CAMERA_READ_TIMEOUT", 10000, 100, 120000),
		rtspTransport: oneOf(env, "RTSP_TRANSPORT", "tcp", ["tcp", "udp"] as const),
		cameraLookupPath: lookupPath(env),
		cameraLookupTimeout: int(env, "CAMERA_LOOKUP_TIMEOUT", 3000, 100, 60000),
		blobsDir: dir("BLOBS_DIR", path.join(dataDir, "blobs")),
		previewMaxAge: int(env, "PREVIEW_MAX_AGE", 3600, 1, 30 * 24 * 3600),
		previewMaxFiles: int(env, "PREVIEW_MAX_FILES", 200, 1, 100000),
		enrollFrameWidth: int(env, "ENROLL_FRAME_WIDTH", 640, 160, 4096),
		enrollMaxSeconds: int(env, "ENROLL_MAX_SECONDS", 60, 1, 3600),
		enrollMinQuality: num(env, "ENROLL_MIN_QUALITY", 0.7, 0, 1),
		enrollDecodeThreads: int(env, "ENROLL_DECODE_THREADS", 2, 1, 16),
		enrollDecodeInline: bool(env, "ENROLL_DECODE_INLINE", true),
		enrollDecodeSkipUnsampled: bool(env, "ENROLL_DECODE_SKIP_UNSAMPLED", true),
		maxUploadBytes: size(env, "MAX_UPLOAD_SIZE", 50 * 1024 * 1024),
		actorLeaseMs: int(env, "ACTOR_LEASE_MS", 10_000, 1000, 600_000),
		placementIntervalMs: int(env, "ACTOR_PLACEMENT_MS", 2000, 100, 60_000),
		uploadsTmpDir: dir("UPLOADS_TMP_DIR", path.join(os.tmpdir(), "rollcall-uploads")),
		jwtSecret: jwt.secret,
		jwtSecretSource: jwt.source,
		adminEmail: email(env, "ADMIN_EMAIL", "admin@rollcall.local"),
		adminPassword: adminPassword(env),
		rateLimitPerMinute: int(env, "RATE_LIMIT_PER_MINUTE", 600, 0, 10_000_000),
		consoleBodyBytes: size(env, "CONSOLE_MAX_BODY_SIZE", 1024 * 1024),
		// NATS carries at most 1 MB per message; a blob and its envelope fit in one.
		blobMaxBytes: size(env, "BLOB_MAX_SIZE", 900 * 1024),
		blobStreamMaxBytes: size(env, "BLOB_STREAM_MAX_SIZE", 1024 * 1024 * 1024),
		exportTtlDays: num(env, "EXPORT_TTL_DAYS", 7, 0.00001, 3650),
		exportMaxRows: int(env, "EXPORT_MAX_ROWS", 1_000_000, 1, 100_000_000),
		exportLeaseMs: int(env, "EXPORT_LEASE_MS", 15_000, 500, 600_000),
		exportPollMs: int(env, "EXPORT_POLL_MS", 5000, 50, 600_000),
		secretsKey: secrets.key,
		secretsKeySource: secrets.source,
		cameraOfflineAlertS: int(env, "CAMERA_OFFLINE_ALERT_S", 300, 1, 7 * 24 * 3600),
		unknownFaceAlertS: int(env, "UNKNOWN_FACE_ALERT_S", 60, 0, 24 * 3600),
		callbackAlertAttempts: int(env, "CALLBACK_ALERT_ATTEMPTS", 3, 1, 1000),
		liveSlowClientMs: int(env, "LIVE_SLOW_CLIENT_MS", 10_000, 100, 600_000),
		liveMaxBufferedMessages: int(env, "LIVE_MAX_BUFFERED_MESSAGES", 1000, 1, 1_000_000),
		liveMaxBufferBytes: size(env, "LIVE_MAX_BUFFER_BYTES", 1024 * 1024),
		monitorSampleInterval: num(env, "MONITOR_SAMPLE_INTERVAL", 1, 0.2, 3600),
		monitorReportMs: int(env, "MONITOR_REPORT_MS", 5000, 200, 600_000),
		faceImageMaxBytes: size(env, "FACE_IMAGE_MAX_SIZE", 10 * 1024 * 1024),
		faceMinInterocularPx: int(env, "FACE_MIN_INTEROCULAR_PX", 24, 8, 1000),
		outboundAllow: cidrs(env, "OUTBOUND_ALLOW"),
		outboundDeny: cidrs(env, "OUTBOUND_DENY"),
		outboundHosts: hostsMap(env, "OUTBOUND_HOSTS"),
		retentionDetectionsDays: int(env, "RETENTION_DETECTIONS_DAYS", 90, 1, 36_500),
		detectionEventsMax: int(env, "DETECTION_EVENTS_MAX", 200_000, 100, 100_000_000),
		sendFrameTimeoutMs: int(env, "SEND_FRAME_TIMEOUT_MS", 20_000, 1000, 600_000),
		retentionAuditDays: int(env, "RETENTION_AUDIT_DAYS", 365, 1, 36_500),
		retentionMetricsDays: int(env, "RETENTION_METRICS_DAYS", 30, 1, 36_500),
		retentionEveryMs: int(env, "RETENTION_EVERY_MS", 24 * 3600_000, 0, 366 * 24 * 3600_000),
		maxFrameRate: num(env, "MAX_FRAME_RATE", 5, 0.1, 60),
		streamMaxConnections: int(env, "STREAM_MAX_CONNECTIONS", 100, 0, 100_000),
		recognitionLogIntervalMs: int(env, "RECOGNITION_LOG_INTERVAL_MS", 5000, 0, 24 * 3600_000),
		odooSyncIntervalMs: int(env, "ODOO_SYNC_INTERVAL_MS", 30 * 60_000, 0, 7 * 24 * 3600_000),
		odooBatchSize: int(env, "ODOO_BATCH_SIZE", 100, 1, 100),
		odooTimeoutMs: int(env, "ODOO_TIMEOUT_MS", 15_000, 100, 120_000),
		odooRetryAttempts: int(env, "ODOO_RETRY_ATTEMPTS", 5, 1, 20),
		odooRetryBaseMs: int(env, "ODOO_RETRY_BASE_MS", 1000, 1, 600_000),
		odooRetryMaxMs: int(env, "ODOO_RETRY_MAX_MS", 30_000, 1, 3_600_000),
		odooAlertFailures: int(env, "ODOO_ALERT_FAILURES", 3, 1, 1000),
		odooConcurrency: int(env, "ODOO_CONCURRENCY", 4, 1, 32),
		odooSyncMaxLogs: int(env, "ODOO_SYNC_MAX_LOGS", 10_000, 1, 1_000_000),
		healthSampleMs: healthSampleMs(env),
		healthHistory: int(env, "HEALTH_HISTORY", 60, 1, 100_000),
		healthPersist: bool(env, "HEALTH_PERSIST", true),
		alertWatchMs: int(env, "ALERT_WATCH_MS", 15_000, 0, 3_600_000),
		alertSaturation: num(env, "ALERT_SATURATION", 0.8, 0.05, 1)
	};
}

let current: Config | null = null;

/** The process-wide configuration; loaded lazily so tests can set their env first. */
export function config(): Config {
	if (!current) current = loadConfig();
	return current;
}

/** Replace the process-wide configuration (tests, the start script). */
export function setConfig(c: Config): Config {
	current = c;
	return c;
}
