/**
 * Face API, overall health (seed 001 `GET /health`): whether each part of the face API can
 * answer now. A part is true when what it needs is reachable: detection needs an inference
 * node, recognition also the gallery and the face profiles, analysis both. There is no GPU
 * and no VRAM manager here, so the seed's `vram_manager` is not reported.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../../config";
import { PUBLIC } from "../../lib/api/route-facts";
import type { GatewayMeta } from "../schema";

export async function faceApiParts(ctx: Context): Promise<{ inference: boolean; gallery: boolean; profiles: boolean }> {
	const ok = (p: Promise<unknown>) =>
		p.then(
			() => true,
			() => false
		);
	const [inference, gallery, profiles] = await Promise.all([
		ok(ctx.call("inference.info", {}, { timeout: 3000 })),
		ok(ctx.call("gallery.health", {}, { timeout: 3000 })),
		ok(ctx.call("faces.byIds", { ids: [] }, { timeout: 3000 }))
	]);
	return { inference, gallery, profiles };
}

export default function faceHealthService(_cfg: Config): ServiceSchema<{ family: string; resource: string }> {
	return {
		name: "faceHealth",
		settings: { family: "face", resource: "face-api" },
		actions: {
			health: {
				rest: "GET /health",
				permission: PUBLIC,
				openapi: { summary: "Face API health (seed 001): each service true when it can answer now", tags: ["face-api"] },
				async handler(ctx: Context<unknown, GatewayMeta>) {
					const p = await faceApiParts(ctx);
					const services = {
						face_detection: p.inference,
						face_recognition: p.inference && p.gallery && p.profiles,
						face_analysis: p.inference && p.gallery && p.profiles,
						anti_spoofing: p.inference
					};
					const all = Object.values(services).every(Boolean);
					const none = !Object.values(services).some(Boolean);
					if (none) ctx.meta.$statusCode = 503;
					return { status: all ? "healthy" : none ? "unhealthy" : "degraded", services, device: "cpu" };
				}
			}
		}
	};
}
