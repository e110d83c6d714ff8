/** Face API (seed 001) helpers for tests: the root of a node's face routes, multipart and JSON calls with a key or a token. */
import fs from "node:fs";
import sharp from "sharp";
import { FACES, SAMPLES } from "./face-video";
import { TEST_API_KEY, type TestNode } from "./node";

export const faceRoot = (node: TestNode) => node.baseUrl.replace(/\/api\/v1$/, "");

export const sample = (i: number) => fs.readFileSync(SAMPLES[i - 1]);

export interface Credential {
	key?: string;
	token?: string;
}

function authHeaders(c: Credential = { key: TEST_API_KEY }): Record<string, string> {
	const h: Record<string, string> = {};
	if (c.key) h["X-API-Key"] = c.key;
	if (c.token) h.Authorization = `Bearer ${c.token}`;
	return h;
}

export async function faceForm(node: TestNode, route: string, fields: Record<string, string>, files: [string, string, Buffer][], c?: Credential, method = "POST") {
	const fd = new FormData();
	for (const [k, v] of Object.entries(fields)) fd.append(k, v);
	for (const [field, name, data] of files) fd.append(field, new Blob([new Uint8Array(data)]), name);
	const res = await fetch(faceRoot(node) + route, { method, headers: authHeaders(c), body: fd });
	return { status: res.status, body: (await res.json()) as any };
}

export async function faceJson(node: TestNode, route: string, body?: unknown, c?: Credential, method?: string) {
	const headers = authHeaders(c);
	let payload: string | undefined;
	if (body !== undefined) {
		headers["Content-Type"] = "application/json";
		payload = JSON.stringify(body);
	}
	const res = await fetch(faceRoot(node) + route, { method: method ?? (payload ? "POST" : "GET"), headers, body: payload });
	const text = await res.text();
	return { status: res.status, body: text ? (JSON.parse(text) as any) : null };
}

export function iou(a: number[], b: number[]): number {
	const x1 = Math.max(a[0], b[0]),
		y1 = Math.max(a[1], b[1]),
		x2 = Math.min(a[2], b[2]),
		y2 = Math.min(a[3], b[3]);
	const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
	return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

/** One person's face cut from a demo photo (FACES in face-video.ts), with a margin around it: a photo of one face. */
export async function faceCrop(who: keyof typeof FACES, margin = 0.6): Promise<Buffer> {
	const f = FACES[who];
	const meta = await sharp(f.photo).metadata();
	const [x1, y1, x2, y2] = f.focus;
	const mw = (x2 - x1) * margin,
		mh = (y2 - y1) * margin;
	const left = Math.max(0, Math.round(x1 - mw)),
		top = Math.max(0, Math.round(y1 - mh));
	const width = Math.min(meta.width! - left, Math.round(x2 - x1 + 2 * mw)),
		height = Math.min(meta.height! - top, Math.round(y2 - y1 + 2 * mh));
	return sharp(f.photo).extract({ left, top, width, height }).jpeg({ quality: 92 }).toBuffer();
}
