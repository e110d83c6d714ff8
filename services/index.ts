/**
 * Which services a node runs, by role. A cluster admin starts a node with
 * SERVICES=gateway|actors|inference|storage (comma-separated; all by default).
 */
import { ServiceBroker, type ServiceSchema } from "moleculer";
import type { Config, Role } from "../config";
import { brokerOptions } from "../moleculer.config";
import apiService from "./api.service";
import attendanceService from "./attendance.service";
import auditService from "./audit.service";
import callbacksService from "./callbacks.service";
import camerasService from "./cameras.service";
import embeddingsService from "./embeddings.service";
import enrollmentService from "./enrollment.service";
import inferenceService from "./inference.service";
import metricsService from "./metrics.service";
import recognitionService from "./recognition.service";
import recognitionsService from "./recognitions.service";
import sessionsService from "./sessions.service";
import streamsService from "./streams.service";

type Factory = (cfg: Config) => ServiceSchema;

export const SERVICES_BY_ROLE: Record<Role, Factory[]> = {
	storage: [sessionsService, recognitionsService, attendanceService, auditService, camerasService, embeddingsService, metricsService],
	inference: [inferenceService],
	actors: [recognitionService, streamsService, enrollmentService, callbacksService],
	gateway: [apiService]
};

/** A broker with the services of the configured roles, not yet started. */
export function createNode(cfg: Config): ServiceBroker {
	const broker = new ServiceBroker(brokerOptions(cfg));
	for (const role of cfg.roles) for (const factory of SERVICES_BY_ROLE[role]) broker.createService(factory(cfg));
	return broker;
}
