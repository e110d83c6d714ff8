/**
 * A real HTTP server on 127.0.0.1 playing the Java backend's callback endpoint: it records
 * every request (headers and JSON body) and answers with a status the test chooses, so
 * outages ("500 for a while, then 200") are real HTTP failures.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface CallbackRequest {
	headers: http.IncomingHttpHeaders;
	body: { slotId: number; roomId: number | null; batchId: string; results: Record<string, any>[] };
	status: number;
	at: number;
}

export interface JavaBackend {
	url: string;
	requests: CallbackRequest[];
	/** Status answered from now on. */
	answer(status: number): void;
	/** Results of the requests answered 2xx. */
	delivered(): Record<string, any>[];
	close(): Promise<void>;
}

export async function startJavaBackend(path = "/api/v1/attendance/recognition-result"): Promise<JavaBackend> {
	let status = 200;
	const requests: CallbackRequest[] = [];
	const server = http.createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on("data", c => chunks.push(c));
		req.on("end", () => {
			if (req.method !== "POST" || req.url !== path) {
				res.writeHead(404).end();
				return;
			}
			let body: CallbackRequest["body"];
			try {
				body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
			} catch {
				res.writeHead(400).end();
				return;
			}
			requests.push({ headers: req.headers, body, status, at: Date.now() });
			res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify({ ok: status < 300 }));
		});
	});
	await new Promise<void>(resolve => server.listen(0, "127.0.0.1", () => resolve()));
	const port = (server.address() as AddressInfo).port;
	return {
		url: `http://127.0.0.1:${port}${path}`,
		requests,
		answer: s => (status = s),
		delivered: () => requests.filter(r => r.status >= 200 && r.status < 300).flatMap(r => r.body.results),
		close: () => new Promise<void>(resolve => server.close(() => resolve()))
	};
}
