/**
 * Start a real Rollcall node (a ServiceBroker with the services of the given roles) for a
 * test, on a temporary DATA_DIR and an OS-chosen HTTP port, with metrics off.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import type { ServiceBroker } from "moleculer";
import { loadConfig, type Config } from "../../config";
import { createNode } from "../../services";

export const TEST_API_KEY = "test-api-key-0123456789abcdef";

export interface TestNode {
	broker: ServiceBroker;
	cfg: Config;
	/** http://127.0.0.1:PORT/api/v1 when the node runs the gateway. */
	baseUrl: string;
	dataDir: string;
	stop(): Promise<void>;
}

export function tempDir(prefix = "rollcall-test-"): string {
	return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function startNode(env: Record<string, string> = {}): Promise<TestNode> {
	const dataDir = env.DATA_DIR ?? tempDir();
	const cfg = loadConfig({
		NODE_ID: `test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
		PORT: "0",
		METRICS_PORT: "off",
		API_KEY: TEST_API_KEY,
		LOG_LEVEL: "warn",
		DATA_DIR: dataDir,
		...env
	});
	const broker = createNode(cfg);
	await broker.start();
	let baseUrl = "";
	const api = broker.getLocalService("api") as unknown as { server?: { address(): AddressInfo } } | undefined;
	if (api?.server) baseUrl = `http://127.0.0.1:${api.server.address().port}/api/v1`;
	return { broker, cfg, baseUrl, dataDir, stop: () => broker.stop() };
}

/** fetch with the test API key; returns status and parsed JSON body. */
export async function api(
	baseUrl: string,
	route: string,
	init: { method?: string; body?: unknown; key?: string | null; headers?: Record<string, string> } = {}
): Promise<{ status: number; body: any }> {
	const headers: Record<string, string> = { ...init.headers };
	if (init.key !== null) headers["X-API-Key"] = init.key ?? TEST_API_KEY;
	let body: string | undefined;
	if (init.body !== undefined) {
		headers["Content-Type"] = "application/json";
		body = typeof init.body === "string" ? init.body : JSON.stringify(init.body);
	}
	const res = await fetch(baseUrl + route, { method: init.method ?? (body ? "POST" : "GET"), headers, body });
	const text = await res.text();
	let parsed: unknown = text;
	try {
		parsed = JSON.parse(text);
	} catch {
		/* not JSON */
	}
	return { status: res.status, body: parsed };
}
