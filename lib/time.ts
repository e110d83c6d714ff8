/** The spec's timestamp format, YYYY-MM-DDTHH:mm:SSZ (UTC, no milliseconds). */
export function isoSeconds(d: Date | number = new Date()): string {
	return new Date(d).toISOString().replace(/\.\d{3}Z$/, "Z");
}
