/** Times shown in the user's time zone: their preference once they set one, else the browser's. */
let zone: string = Intl.DateTimeFormat().resolvedOptions().timeZone;
const browserZone = zone;

export function setTimeZone(z: string | null): void {
	zone = z ?? browserZone;
	cache.clear();
}

export function timeZone(): string {
	return zone;
}

const cache = new Map<string, Intl.DateTimeFormat>();
function fmt(kind: "datetime" | "time" | "date"): Intl.DateTimeFormat {
	let f = cache.get(kind);
	if (!f) {
		const o: Intl.DateTimeFormatOptions = kind === "datetime" ? { dateStyle: "medium", timeStyle: "medium" } : kind === "time" ? { timeStyle: "medium" } : { dateStyle: "medium" };
		f = new Intl.DateTimeFormat(undefined, { ...o, timeZone: zone });
		cache.set(kind, f);
	}
	return f;
}

function parse(v: string | number | Date | null | undefined): Date | null {
	if (v === null || v === undefined || v === "") return null;
	const d = v instanceof Date ? v : new Date(v);
	return Number.isNaN(d.getTime()) ? null : d;
}

export function dateTime(v: string | number | Date | null | undefined): string {
	const d = parse(v);
	return d ? fmt("datetime").format(d) : "—";
}

export function timeOf(v: string | number | Date | null | undefined): string {
	const d = parse(v);
	return d ? fmt("time").format(d) : "—";
}

/** A calendar day (YYYY-MM-DD, a site day) as a date, without shifting it through a zone. */
export function day(v: string | null | undefined): string {
	if (!v) return "—";
	const [y, m, d] = v.split("-").map(Number);
	return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" }).format(Date.UTC(y, m - 1, d));
}

/** Today in the user's zone as YYYY-MM-DD. */
export function today(): string {
	return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
}

/** A `datetime-local` input's value (user's wall time) to an ISO instant, in the user's zone. */
export function localInputToIso(v: string): string {
	if (!v) return "";
	const [d, t] = v.split("T");
	const [y, mo, da] = d.split("-").map(Number);
	const [h, mi] = (t ?? "00:00").split(":").map(Number);
	// Find the instant whose wall time in `zone` is v: start from UTC, correct by the zone's offset twice (DST edges).
	let guess = Date.UTC(y, mo - 1, da, h, mi);
	for (let i = 0; i < 2; i++) guess = Date.UTC(y, mo - 1, da, h, mi) - offsetMs(guess);
	return new Date(guess).toISOString();
}

function offsetMs(at: number): number {
	const parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" }).formatToParts(at);
	const n = (t: string) => Number(parts.find(p => p.type === t)?.value);
	return Date.UTC(n("year"), n("month") - 1, n("day"), n("hour"), n("minute"), n("second")) - Math.floor(at / 1000) * 1000;
}
