/**
 * Look a camera up at the Java backend when Rollcall's own registry does not know it:
 * GET {javaBackendUrl}{path with {id}}, short timeout. Accepts the FUACS envelope
 * ({status, message, data: {...}}) or a bare object; a camera needs an rtspUrl.
 */
export interface CameraRecord {
	cameraId: number;
	name?: string;
	rtspUrl: string;
	roomId?: number;
}

export async function lookupCameraAt(
	baseUrl: string,
	pathTemplate: string,
	cameraId: number,
	timeoutMs: number,
	headers: Record<string, string> = {}
): Promise<CameraRecord | null> {
	const url = baseUrl.replace(/\/+$/, "") + pathTemplate.replace("{id}", encodeURIComponent(String(cameraId)));
	const res = await fetch(url, { headers: { Accept: "application/json", ...headers }, signal: AbortSignal.timeout(timeoutMs), redirect: "error" });
	if (res.status === 404) {
		await res.body?.cancel();
		return null;
	}
	if (!res.ok) {
		await res.body?.cancel();
		throw new Error(`camera lookup answered ${res.status}`);
	}
	const body = (await res.json()) as { data?: unknown } | null;
	const doc = (body && typeof body === "object" && "data" in body ? body.data : body) as Record<string, unknown> | null;
	if (!doc || typeof doc !== "object" || typeof doc.rtspUrl !== "string" || doc.rtspUrl.length === 0) return null;
	return {
		cameraId,
		name: typeof doc.name === "string" ? doc.name : undefined,
		rtspUrl: doc.rtspUrl,
		roomId: typeof doc.roomId === "number" ? doc.roomId : undefined
	};
}
