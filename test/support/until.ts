/** Poll `fn` every 200 ms until `ok` holds; fails naming `what` and the last value after timeoutMs. */
export async function until<T>(what: string, fn: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let last: T | undefined;
	while (Date.now() < deadline) {
		try {
			last = await fn();
			if (ok(last)) return last;
		} catch {
			/* not yet */
		}
		await new Promise(r => setTimeout(r, 200));
	}
	throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 400)}`);
}
