import type { Schema } from "mongoose";
import * as alert from "./alert.model";
import * as apiKey from "./api-key.model";
import * as attendance from "./attendance.model";
import * as attendanceLog from "./attendance-log.model";
import * as attendanceSighting from "./attendance-sighting.model";
import * as audit from "./audit.model";
import * as banner from "./banner.model";
import * as camera from "./camera.model";
import * as detection from "./detection.model";
import * as detectionEvent from "./detection-event.model";
import * as face from "./face.model";
import * as job from "./job.model";
import * as login from "./login.model";
import * as notification from "./notification.model";
import * as odooConfig from "./odoo-config.model";
import * as odooSyncLog from "./odoo-sync-log.model";
import * as preference from "./preference.model";
import * as recognition from "./recognition.model";
import * as recognitionLog from "./recognition-log.model";
import * as schedule from "./schedule.model";
import * as session from "./session.model";
import * as shift from "./shift.model";
import * as site from "./site.model";
import * as systemMetric from "./system-metric.model";
import * as user from "./user.model";

export interface ModelDefinition {
	modelName: string;
	schema: Schema;
}

/** Document collections by name; the db mixin picks the mongoose model from here. */
export const models = {
	sessions: session,
	recognitions: recognition,
	attendance,
	audit,
	cameras: camera,
	users: user,
	logins: login,
	api_keys: apiKey,
	preferences: preference,
	faces: face,
	detections: detection,
	detection_events: detectionEvent,
	attendance_logs: attendanceLog,
	attendance_sightings: attendanceSighting,
	shifts: shift,
	site,
	alerts: alert,
	notifications: notification,
	banner_messages: banner,
	jobs: job,
	schedules: schedule,
	system_metrics: systemMetric,
	recognition_logs: recognitionLog,
	odoo_config: odooConfig,
	odoo_sync_logs: odooSyncLog
} satisfies Record<
	string,
	ModelDefinition
>;
export type Collection = keyof typeof models;
