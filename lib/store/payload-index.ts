/**
 * Row lists per payload value, for the payload fields that filters use: the embedded vector
 * index finds a session's or a profile's rows without reading every payload. A field's lists are
 * built on the first filter that names it (one pass over the payloads) and kept up to date from
 * then on; they live in memory only and are rebuilt from the payloads (so from the log) after a
 * restart. Values are compared as `matches` does (===), with NaN never matching.
 */
import type { Payload } from "./vectors";

type Value = Payload[string] | undefined;
/** One row, a few rows, or a set of many. */
type RowSet = number | number[] | Set<number>;

const SMALL = 32;

function sizeOf(s: RowSet | undefined): number {
	if (s === undefined) return 0;
	if (typeof s === "number") return 1;
	return Array.isArray(s) ? s.length : s.size;
}

export class PayloadIndex {
	private readonly fields = new Map<string, Map<Value, RowSet>>();

	/** `payloadOf(row)` for rows 0..rows()-1: the store's payloads, read when a field is first indexed. */
	constructor(
		private readonly payloadOf: (row: number) => Payload,
		private readonly rows: () => number
	) {}

	/** Fields indexed so far. */
	get indexedFields(): string[] {
		return [...this.fields.keys()];
	}

	/** How many rows have payload[field] === value. */
	size(field: string, value: Value): number {
		if (Number.isNaN(value)) return 0;
		return sizeOf(this.field(field).get(value));
	}

	/** The rows with payload[field] === value, in no particular order. */
	list(field: string, value: Value): number[] {
		if (Number.isNaN(value)) return [];
		const s = this.field(field).get(value);
		if (s === undefined) return [];
		if (typeof s === "number") return [s];
		return Array.isArray(s) ? s.slice() : [...s];
	}

	/** A row now holds this payload. */
	add(row: number, payload: Payload): void {
		for (const [field, values] of this.fields) insert(values, payload[field], row);
	}

	/** A row no longer holds this payload. */
	remove(row: number, payload: Payload): void {
		for (const [field, values] of this.fields) erase(values, payload[field], row);
	}

	/** Forgets every list (they are rebuilt on demand). */
	clear(): void {
		this.fields.clear();
	}

	private field(field: string): Map<Value, RowSet> {
		let values = this.fields.get(field);
		if (!values) {
			values = new Map();
			for (let row = 0, n = this.rows(); row < n; row++) insert(values, this.payloadOf(row)[field], row);
			this.fields.set(field, values);
		}
		return values;
	}
}

function insert(values: Map<Value, RowSet>, value: Value, row: number): void {
	const s = values.get(value);
	if (s === undefined) values.set(value, row);
	else if (typeof s === "number") values.set(value, [s, row]);
	else if (Array.isArray(s)) {
		s.push(row);
		if (s.length > SMALL) values.set(value, new Set(s));
	} else s.add(row);
}

function erase(values: Map<Value, RowSet>, value: Value, row: number): void {
	const s = values.get(value);
	if (s === undefined) return;
	if (typeof s === "number") {
		if (s === row) values.delete(value);
	} else if (Array.isArray(s)) {
		const i = s.indexOf(row);
		if (i < 0) return;
		s[i] = s[s.length - 1];
		s.pop();
		if (s.length === 1) values.set(value, s[0]);
	} else {
		s.delete(row);
		if (s.size === 0) values.delete(value);
	}
}
