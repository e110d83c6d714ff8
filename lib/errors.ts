/**
 * API errors carry the HTTP status and the documented code (FUACS spec); the gateway
 * turns them into `{status, message, code}`. They are MoleculerClientErrors so they
 * cross the transporter intact and are never retried.
 */
import { Errors } from "moleculer";

export class ApiError extends Errors.MoleculerClientError {
	constructor(status: number, code: string, message: string, data?: unknown) {
		super(message, status, code, data);
		this.name = "ApiError";
	}
}

export const badRequest = (code: string, message: string, data?: unknown) => new ApiError(400, code, message, data);
export const notFound = (code: string, message: string) => new ApiError(404, code, message);
export const conflict = (code: string, message: string) => new ApiError(409, code, message);
export const serverError = (code: string, message: string) => new ApiError(500, code, message);
