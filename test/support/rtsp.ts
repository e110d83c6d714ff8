/**
 * A real RTSP server for tests and benches: GStreamer's gst-rtsp-server (Debian packages
 * python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-{base,good,bad,ugly} gstreamer1.0-x) run by
 * test/support/rtsp-server.py with the system python, on 127.0.0.1 and a free port.
 *
 *   const reason = rtspServerMissing();           // null when GStreamer is installed
 *   const server = await startRtspServer({ live: { "/live": { width: 640, height: 360 } } });
 *   server.url("/live"); await server.restart(); await server.stop();
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";

export const PYTHON = "/usr/bin/python3";
const SCRIPT = path.join(__dirname, "rtsp-server.py");

export interface LiveMount {
	width?: number;
	height?: number;
	fps?: number;
	/** Frames between key frames (default: one per second). */
	keyint?: number;
}

export interface RtspServerOptions {
	live?: Record<string, LiveMount>;
	/** mount -> absolute path of an H.264 MP4. */
	files?: Record<string, string>;
	/** Bitrate of live mounts, kbit/s. */
	bitrate?: number;
	port?: number;
}

export interface RtspServer {
	port: number;
	url(mount: string, credentials?: string): string;
	/** Kill the server and start it again on the same port (a camera reboot). */
	restart(downMs?: number): Promise<void>;
	/** Take the server away (kill it); `start()` brings it back on the same port. */
	kill(): Promise<void>;
	start(): Promise<void>;
	/** Freeze the server (SIGSTOP): connections stay open, packets stop; `resume()` thaws it. */
	pause(): void;
	resume(): void;
	stop(): Promise<void>;
}

let missing: string | null | undefined;

/** Why the RTSP server cannot run here, or null when it can. */
export function rtspServerMissing(): string | null {
	if (missing !== undefined) return missing;
	const probe = spawnSync(
		PYTHON,
		["-c", "import gi; gi.require_version('Gst','1.0'); gi.require_version('GstRtspServer','1.0'); from gi.repository import Gst, GstRtspServer; Gst.init(None); assert Gst.ElementFactory.find('x264enc'), 'x264enc (gstreamer1.0-plugins-ugly) missing'; assert Gst.ElementFactory.find('timeoverlay'), 'timeoverlay (gstreamer1.0-x) missing'"],
		{ encoding: "utf8", timeout: 20_000 }
	);
	missing =
		probe.status === 0
			? null
			: `GStreamer RTSP server unavailable (${(probe.stderr || probe.error?.message || "").trim().split("\n").pop()}); install: apt-get install -y python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-x`;
	return missing;
}

/** `describe` when the RTSP server can run; otherwise the suite is skipped, saying why. */
export function describeWithRtsp(name: string, fn: () => void): void {
	const reason = rtspServerMissing();
	if (reason) {
		// eslint-disable-next-line no-console
		console.warn(`SKIPPED "${name}": ${reason}`);
		describe.skip(name, fn);
	} else describe(name, fn);
}

export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.once("error", reject);
		srv.listen(0, "127.0.0.1", () => {
			const port = (srv.address() as net.AddressInfo).port;
			srv.close(() => resolve(port));
		});
	});
}

function canConnect(port: number): Promise<boolean> {
	return new Promise(resolve => {
		const s = net.connect({ host: "127.0.0.1", port });
		s.once("connect", () => {
			s.destroy();
			resolve(true);
		});
		s.once("error", () => resolve(false));
	});
}

function exited(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
	return new Promise(resolve => child.once("exit", () => resolve()));
}

async function killChild(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return;
	child.kill("SIGTERM");
	const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
	await exited(child);
	clearTimeout(timer);
}

export async function startRtspServer(opts: RtspServerOptions): Promise<RtspServer> {
	const reason = rtspServerMissing();
	if (reason) throw new Error(reason);
	const port = opts.port ?? (await freePort());
	const args = ["-u", SCRIPT, "serve", "--port", String(port), "--bitrate", String(opts.bitrate ?? 1500)];
	for (const [mount, m] of Object.entries(opts.live ?? {})) {
		const fps = m.fps ?? 25;
		args.push("--live", `${mount}=${m.width ?? 640}x${m.height ?? 360}@${fps}:${m.keyint ?? fps}`);
	}
	for (const [mount, file] of Object.entries(opts.files ?? {})) args.push("--file", `${mount}=${file}`);

	let child: ChildProcess | null = null;
	const start = async () => {
		const proc = spawn(PYTHON, args, { stdio: ["ignore", "pipe", "pipe"] });
		child = proc;
		let output = "";
		proc.stdout!.on("data", d => (output += d));
		proc.stderr!.on("data", d => (output += d));
		const deadline = Date.now() + 15_000;
		while (Date.now() < deadline) {
			if (proc.exitCode !== null) throw new Error(`RTSP server exited (${proc.exitCode}): ${output.trim()}`);
			if (output.includes("READY") && (await canConnect(port))) return;
			await new Promise(r => setTimeout(r, 50));
		}
		await killChild(proc);
		throw new Error(`RTSP server did not start on port ${port}: ${output.trim()}`);
	};
	const kill = async () => {
		child?.kill("SIGCONT");
		if (child) await killChild(child);
		child = null;
	};
	await start();
	return {
		port,
		url: (mount, credentials) => `rtsp://${credentials ? credentials + "@" : ""}127.0.0.1:${port}${mount}`,
		kill,
		start,
		pause: () => void child?.kill("SIGSTOP"),
		resume: () => void child?.kill("SIGCONT"),
		restart: async (downMs = 0) => {
			await kill();
			if (downMs > 0) await new Promise(r => setTimeout(r, downMs));
			await start();
		},
		stop: kill
	};
}

/** Encode an H.264 test clip with GStreamer (MP4, MOV, MKV or AVI by the file's extension). */
export function encodeClip(out: string, clip: { width?: number; height?: number; fps?: number; seconds?: number; keyint?: number; bitrate?: number; preset?: string } = {}): void {
	const reason = rtspServerMissing();
	if (reason) throw new Error(reason);
	const args = [SCRIPT, "encode", "--out", out];
	for (const k of ["width", "height", "fps", "seconds", "keyint", "bitrate", "preset"] as const) if (clip[k] !== undefined) args.push(`--${k}`, String(clip[k]));
	const r = spawnSync(PYTHON, args, { encoding: "utf8", timeout: 300_000 });
	if (r.status !== 0) throw new Error(`encoding ${out} failed: ${r.stderr || r.error?.message}`);
}
