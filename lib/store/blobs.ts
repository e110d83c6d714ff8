/**
 * The blob store: snapshots, previews, thumbnails, face images, exports. One interface, two
 * implementations: a folder under DATA_DIR (FileBlobStore) and MongoDB GridFS
 * (GridFsBlobStore) when MONGO_URI is set. Names only, never paths: a name must match
 * BLOB_NAME, so no separator or dot-dot reaches the file system.
 *
 * Streams: `putStream` keeps what a stream carries, hashed and counted as it passes, never
 * whole in memory (at most `maxBytes`: BlobTooLargeError, nothing kept); `openStream` reads
 * one back as a stream. A blob being written is invisible until it is complete, and a new
 * write of a name replaces the old one only once it is complete.
 */
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

export const BLOB_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,150}(\.[a-z0-9]{1,8})?$/;
export const BLOB_KINDS = ["preview", "snapshot", "thumbnail", "face", "export", "upload"] as const;
export type BlobKind = (typeof BLOB_KINDS)[number];

export interface BlobInfo {
	name: string;
	kind: BlobKind;
	contentType: string;
	size: number;
	sha256: string;
	createdAt: string;
	/** ISO time after which the blob is gone (null: kept until removed). */
	expiresAt: string | null;
	/** Where the store keeps it: a file path, or gridfs://blobs/<name>. */
	location?: string;
}

export interface BlobMeta {
	kind: BlobKind;
	contentType: string;
	expiresAt?: Date | null;
}

export interface BlobStore {
	open(): Promise<void>;
	close(): Promise<void>;
	put(name: string, data: Buffer, meta: BlobMeta): Promise<BlobInfo>;
	/** Keep what the stream carries (at most maxBytes, else BlobTooLargeError and nothing kept). */
	putStream(name: string, source: Readable | AsyncIterable<Buffer | string>, meta: BlobMeta, maxBytes: number): Promise<BlobInfo>;
	get(name: string): Promise<{ info: BlobInfo; data: Buffer } | null>;
	/** A blob as a stream, or null when there is none (or it expired). */
	openStream(name: string): Promise<{ info: BlobInfo; stream: Readable } | null>;
	info(name: string): Promise<BlobInfo | null>;
	remove(name: string): Promise<boolean>;
	list(kind?: BlobKind): Promise<BlobInfo[]>;
}

export class BlobNameError extends Error {}

export class BlobTooLargeError extends Error {
	constructor(readonly maxBytes: number) {
		super(`A stored file is at most ${maxBytes} bytes`);
	}
}

/** Counts and hashes the bytes going through; past `maxBytes` it fails with BlobTooLargeError. */
export class BlobMeter extends Transform {
	size = 0;
	private readonly hash = crypto.createHash("sha256");
	constructor(private readonly maxBytes: number) {
		super();
	}
	override _transform(chunk: Buffer | string, _enc: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
		const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
		this.size += buf.length;
		if (this.size > this.maxBytes) return done(new BlobTooLargeError(this.maxBytes));
		this.hash.update(buf);
		done(null, buf);
	}
	/** The info of what went through (once the stream ended). */
	info(name: string, meta: BlobMeta, now = new Date()): BlobInfo {
		return { name, kind: meta.kind, contentType: meta.contentType, size: this.size, sha256: this.hash.digest("hex"), createdAt: now.toISOString(), expiresAt: meta.expiresAt ? meta.expiresAt.toISOString() : null };
	}
}

const sourceOf = (source: Readable | AsyncIterable<Buffer | string>) => source as AsyncIterable<Buffer | string>;

export function checkBlobName(name: unknown): string {
	if (typeof name !== "string" || !BLOB_NAME.test(name)) throw new BlobNameError(`Invalid blob name: ${String(name).slice(0, 80)}`);
	return name;
}

export function blobInfo(name: string, data: Buffer, meta: { kind: BlobKind; contentType: string; expiresAt?: Date | null }, now = new Date()): BlobInfo {
	return {
		name,
		kind: meta.kind,
		contentType: meta.contentType,
		size: data.length,
		sha256: crypto.createHash("sha256").update(data).digest("hex"),
		createdAt: now.toISOString(),
		expiresAt: meta.expiresAt ? meta.expiresAt.toISOString() : null
	};
}

/** Which blobs go: expired ones, and of each kind those beyond its newest `maxPerKind`. */
export function expiredBlobs(all: readonly BlobInfo[], now: Date, maxPerKind: Partial<Record<BlobKind, number>>): string[] {
	const out = new Set<string>();
	for (const b of all) if (b.expiresAt && new Date(b.expiresAt).getTime() <= now.getTime()) out.add(b.name);
	for (const [kind, max] of Object.entries(maxPerKind)) {
		const ofKind = all.filter(b => b.kind === kind && !out.has(b.name)).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
		for (const b of ofKind.slice(max)) out.add(b.name);
	}
	return [...out];
}

/** Blobs as files: DATA_DIR/blobs/<name> and <name>.meta.json beside it (written last, so a blob without meta is incomplete). */
export class FileBlobStore implements BlobStore {
	constructor(private readonly dir: string) {}

	async open(): Promise<void> {
		await fs.promises.mkdir(this.dir, { recursive: true, mode: 0o750 });
	}

	async close(): Promise<void> {}

	private file(name: string): string {
		return path.join(this.dir, checkBlobName(name));
	}

	async put(name: string, data: Buffer, meta: { kind: BlobKind; contentType: string; expiresAt?: Date | null }): Promise<BlobInfo> {
		const file = this.file(name);
		const info = { ...blobInfo(name, data, meta), location: file };
		const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
		await fs.promises.writeFile(tmp, data, { mode: 0o640 });
		await fs.promises.rename(tmp, file);
		await fs.promises.writeFile(`${file}.meta.json`, JSON.stringify(info), { mode: 0o640 });
		return info;
	}

	async putStream(name: string, source: Readable | AsyncIterable<Buffer | string>, meta: BlobMeta, maxBytes: number): Promise<BlobInfo> {
		const file = this.file(name);
		const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
		const meter = new BlobMeter(maxBytes);
		try {
			await pipeline(sourceOf(source), meter, fs.createWriteStream(tmp, { mode: 0o640 }));
			const info = { ...meter.info(name, meta), location: file };
			// The old meta goes first: a reader never pairs it with the new bytes.
			await fs.promises.rm(`${file}.meta.json`, { force: true });
			await fs.promises.rename(tmp, file);
			await fs.promises.writeFile(`${file}.meta.json`, JSON.stringify(info), { mode: 0o640 });
			return info;
		} finally {
			await fs.promises.rm(tmp, { force: true });
		}
	}

	async openStream(name: string): Promise<{ info: BlobInfo; stream: Readable } | null> {
		const info = await this.info(name);
		if (!info) return null;
		try {
			const handle = await fs.promises.open(this.file(name), "r");
			return { info, stream: handle.createReadStream({ highWaterMark: 256 * 1024 }) };
		} catch {
			return null;
		}
	}

	async info(name: string): Promise<BlobInfo | null> {
		try {
			const info = JSON.parse(await fs.promises.readFile(`${this.file(name)}.meta.json`, "utf8")) as BlobInfo;
			if (info.expiresAt && new Date(info.expiresAt).getTime() <= Date.now()) return null;
			return info;
		} catch (err) {
			if (err instanceof BlobNameError) throw err;
			return null;
		}
	}

	async get(name: string): Promise<{ info: BlobInfo; data: Buffer } | null> {
		const info = await this.info(name);
		if (!info) return null;
		try {
			return { info, data: await fs.promises.readFile(this.file(name)) };
		} catch {
			return null;
		}
	}

	async remove(name: string): Promise<boolean> {
		const file = this.file(name);
		const existed = fs.existsSync(`${file}.meta.json`);
		await fs.promises.rm(`${file}.meta.json`, { force: true });
		await fs.promises.rm(file, { force: true });
		return existed;
	}

	async list(kind?: BlobKind): Promise<BlobInfo[]> {
		const names = (await fs.promises.readdir(this.dir).catch(() => [] as string[])).filter(n => n.endsWith(".meta.json"));
		const out: BlobInfo[] = [];
		for (const n of names) {
			try {
				const info = JSON.parse(await fs.promises.readFile(path.join(this.dir, n), "utf8")) as BlobInfo;
				if (!kind || info.kind === kind) out.push(info);
			} catch {
				/* a meta file being written: next sweep */
			}
		}
		return out;
	}
}

/** Blobs in MongoDB GridFS (bucket `blobs`), one file per name; the latest upload of a name wins. */
export class GridFsBlobStore implements BlobStore {
	private client: import("mongodb").MongoClient | null = null;
	private bucket: import("mongodb").GridFSBucket | null = null;

	constructor(private readonly uri: string) {}

	async open(): Promise<void> {
		const { MongoClient, GridFSBucket } = await import("mongodb");
		this.client = new MongoClient(this.uri, { serverSelectionTimeoutMS: 5000 });
		await this.client.connect();
		this.bucket = new GridFSBucket(this.client.db(), { bucketName: "blobs" });
	}

	async close(): Promise<void> {
		await this.client?.close();
		this.client = null;
	}

	private get b(): import("mongodb").GridFSBucket {
		if (!this.bucket) throw new Error("blob store is not open");
		return this.bucket;
	}

	async put(name: string, data: Buffer, meta: { kind: BlobKind; contentType: string; expiresAt?: Date | null }): Promise<BlobInfo> {
		checkBlobName(name);
		const info = { ...blobInfo(name, data, meta), location: `gridfs://blobs/${name}` };
		const old = await this.b.find({ filename: name }).toArray();
		await new Promise<void>((resolve, reject) => {
			const up = this.b.openUploadStream(name, { metadata: info });
			up.once("finish", () => resolve());
			up.once("error", reject);
			up.end(data);
		});
		for (const f of old) await this.b.delete(f._id).catch(() => undefined);
		return info;
	}

	async putStream(name: string, source: Readable | AsyncIterable<Buffer | string>, meta: BlobMeta, maxBytes: number): Promise<BlobInfo> {
		checkBlobName(name);
		const old = await this.b.find({ filename: name }).toArray();
		const meter = new BlobMeter(maxBytes);
		// The metadata is known once the bytes are: the file is written under a provisional
		// one, then given its own (GridFS lists a file only once its upload finished).
		const up = this.b.openUploadStream(name, { metadata: { name, kind: meta.kind, contentType: meta.contentType, size: 0, sha256: "", createdAt: new Date().toISOString(), expiresAt: meta.expiresAt ? meta.expiresAt.toISOString() : null } });
		try {
			await pipeline(sourceOf(source), meter, up);
		} catch (err) {
			await this.b.delete(up.id).catch(() => undefined);
			throw err;
		}
		const info = { ...meter.info(name, meta), location: `gridfs://blobs/${name}` };
		await this.client!.db().collection("blobs.files").updateOne({ _id: up.id }, { $set: { metadata: info } });
		for (const f of old) await this.b.delete(f._id).catch(() => undefined);
		return info;
	}

	async openStream(name: string): Promise<{ info: BlobInfo; stream: Readable } | null> {
		const info = await this.info(name);
		if (!info) return null;
		return { info, stream: this.b.openDownloadStreamByName(name, { revision: -1 }) };
	}

	async info(name: string): Promise<BlobInfo | null> {
		checkBlobName(name);
		const [f] = await this.b.find({ filename: name }).sort({ uploadDate: -1 }).limit(1).toArray();
		const info = f?.metadata as BlobInfo | undefined;
		if (!info || (info.expiresAt && new Date(info.expiresAt).getTime() <= Date.now())) return null;
		return info;
	}

	async get(name: string): Promise<{ info: BlobInfo; data: Buffer } | null> {
		const info = await this.info(name);
		if (!info) return null;
		const chunks: Buffer[] = [];
		for await (const c of this.b.openDownloadStreamByName(name)) chunks.push(c as Buffer);
		return { info, data: Buffer.concat(chunks) };
	}

	async remove(name: string): Promise<boolean> {
		checkBlobName(name);
		const files = await this.b.find({ filename: name }).toArray();
		for (const f of files) await this.b.delete(f._id).catch(() => undefined);
		return files.length > 0;
	}

	async list(kind?: BlobKind): Promise<BlobInfo[]> {
		const files = await this.b.find(kind ? { "metadata.kind": kind } : {}).toArray();
		return files.map(f => f.metadata as BlobInfo).filter(Boolean);
	}
}

export function createBlobStore(cfg: { mongoUri: string | null; blobsDir: string }): BlobStore {
	return cfg.mongoUri ? new GridFsBlobStore(cfg.mongoUri) : new FileBlobStore(cfg.blobsDir);
}
