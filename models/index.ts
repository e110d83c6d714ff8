import type { Schema } from "mongoose";
import * as attendance from "./attendance.model";
import * as audit from "./audit.model";
import * as camera from "./camera.model";
import * as recognition from "./recognition.model";
import * as session from "./session.model";

export interface ModelDefinition {
	modelName: string;
	schema: Schema;
}

/** Document collections by name; the db mixin picks the mongoose model from here. */
export const models = { sessions: session, recognitions: recognition, attendance, audit, cameras: camera } satisfies Record<
	string,
	ModelDefinition
>;
export type Collection = keyof typeof models;
