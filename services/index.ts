/**
 * Which services a node runs, by role. A cluster admin starts a node with
 * SERVICES=gateway|actors|inference|storage (comma-separated; all by default).
 */
import detectionEventsService from "./console/detection-events.service";
import detectionProviderService from "./console/detection-provider.service";
import detectionFramesService from "./detection-frames.service";
import { ServiceBroker, type ServiceSchema } from "moleculer";
import type { Config, Role } from "../config";
import { brokerOptions } from "../moleculer.config";
import apiService from "./gateway/api.service";
import healthService from "./health.service";
import nodeHealthService from "./node-health.service";
import apiKeysService from "./console/apikeys.service";
import authService from "./console/auth.service";
import developerService from "./console/developer.service";
import rolesService from "./console/roles.service";
import settingsService from "./console/settings.service";
import attendanceLogsService from "./console/attendance-logs.service";
import historyService from "./console/history.service";
import shiftsService from "./console/shifts.service";
import siteService from "./console/site.service";
import systemService from "./console/system.service";
import clusterService from "./console/cluster.service";
import usersService from "./console/users.service";
import { AuditMiddleware } from "../middlewares/audit.middleware";
import { PermissionsMiddleware } from "../middlewares/permissions.middleware";
import attendanceService from "./attendance.service";
import attendanceSightingsService from "./attendance-sightings.service";
import auditService from "./audit.service";
import alertsService from "./console/alerts.service";
import bannersService from "./console/banners.service";
import notificationsService from "./console/notifications.service";
import odooService from "./console/odoo.service";
import odooSyncLogsService from "./console/odoo-sync-logs.service";
import odooSyncService from "./odoo-sync.service";
import blobsService from "./blobs.service";
import facesService from "./console/faces.service";
import detectionsService from "./console/detections.service";
import detectionsLiveService from "./console/detections-live.service";
import recognitionLogsService from "./console/recognition-logs.service";
import galleryService from "./gallery.service";
import callbacksService from "./callbacks.service";
import camerasService from "./cameras.service";
import embeddingsService from "./embeddings.service";
import enrollmentService from "./enrollment.service";
import inferenceService from "./inference.service";
import jobsService from "./jobs.service";
import exportsService from "./console/exports.service";
import exportWorkerService from "./export-worker.service";
import schedulesService from "./schedules.service";
import retentionService from "./retention.service";
import systemMetricsService from "./system-metrics.service";
import metricsService from "./metrics.service";
import monitorsService from "./monitors.service";
import recognitionService from "./recognition.service";
import recognitionsService from "./recognitions.service";
import sessionsService from "./sessions.service";
import streamsService from "./streams.service";
import faceDetectionService from "./face-api/detection.service";
import faceHealthService from "./face-api/health.service";
import faceRecognitionService from "./face-api/recognition.service";
import faceAnalysisService from "./face-api/analysis.service";
import antiSpoofingService from "./face-api/anti-spoofing.service";

// Each factory types its own settings and methods; the broker takes any schema.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Factory = (cfg: Config) => ServiceSchema<any, any, any, any>;

export const SERVICES_BY_ROLE: Record<Role, Factory[]> = {
	storage: [
		sessionsService,
		recognitionsService,
		attendanceService,
		auditService,
		camerasService,
		embeddingsService,
		metricsService,
		usersService,
		authService,
		apiKeysService,
		settingsService,
		blobsService,
		galleryService,
		facesService,
		detectionsService,
		detectionEventsService,
		siteService,
		shiftsService,
		attendanceSightingsService,
		attendanceLogsService,
		historyService,
		systemService,
		alertsService,
		notificationsService,
		bannersService,
		jobsService,
		schedulesService,
		systemMetricsService,
		retentionService,
		exportsService,
		recognitionLogsService,
		odooService,
		odooSyncLogsService,
		nodeHealthService
	],
	// Every role runs its node's sampler (nodeHealth).
	inference: [inferenceService, nodeHealthService],
	actors: [recognitionService, monitorsService, streamsService, enrollmentService, callbacksService, exportWorkerService, odooSyncService, nodeHealthService, detectionFramesService],
	gateway: [apiService, healthService, clusterService, nodeHealthService, rolesService, developerService, detectionsLiveService, detectionProviderService, faceHealthService, faceDetectionService, faceRecognitionService, faceAnalysisService, antiSpoofingService]
};

/**
 * The services a node runs. With the embedded stores only the `storage` node holds them and
 * the others call it over the transporter; with MongoDB and Qdrant configured, every gateway
 * and actors node runs the store services itself, straight on the real servers (their state
 * is in the servers, and the actions that must be atomic are atomic there).
 */
export function servicesFor(cfg: Config): Factory[] {
	const out = new Set<Factory>();
	for (const role of cfg.roles) for (const factory of SERVICES_BY_ROLE[role]) out.add(factory);
	const sharedStores = !!cfg.mongoUri && !!cfg.qdrantUrl;
	if (sharedStores && cfg.roles.some(r => r === "gateway" || r === "actors")) for (const factory of SERVICES_BY_ROLE.storage) out.add(factory);
	return [...out];
}

/** A broker with the services of the configured roles, not yet started. */
export function createNode(cfg: Config): ServiceBroker {
	const broker = new ServiceBroker(brokerOptions(cfg));
	// Permissions inside, audit around them: a refused call is audited too.
	broker.middlewares.add(PermissionsMiddleware);
	broker.middlewares.add(AuditMiddleware);
	broker.middlewares.add(actorsStopFirst);
	broker.middlewares.add(gatewayListensLast);
	for (const factory of servicesFor(cfg)) broker.createService(factory(cfg));
	return broker;
}

/**
 * Moleculer stops all services at once. The session and camera actors must stop first, while
 * the stores they write their last frame's results to (and the inference they wait on) are
 * still there; cameras before their sessions.
 */
const actorsStopFirst = {
	name: "ActorsStopFirst",
	async stopping(broker: ServiceBroker) {
		const of = (kind: string) => broker.services.filter(s => (s.settings as { actor?: string })?.actor === kind);
		for (const kind of ["camera", "monitor", "session"]) await Promise.all(of(kind).map(s => broker.destroyService(s)));
	}
};

/**
 * A gateway opens its HTTP port only once every service of its node has started (inference
 * engines loaded, stores open), so its first answer is about a node that is up.
 */
const gatewayListensLast = {
	name: "GatewayListensLast",
	async started(broker: ServiceBroker) {
		for (const s of broker.services) {
			const svc = s as unknown as { listenWhenReady?: () => Promise<void> };
			if (typeof svc.listenWhenReady === "function") await svc.listenWhenReady();
		}
	}
};
