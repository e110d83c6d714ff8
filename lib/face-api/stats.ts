/**
 * Measured request times of one gateway, per key (endpoint and model): the last WINDOW
 * requests, summarised as count, mean and percentiles. Nothing here is estimated. Pure.
 */
const WINDOW = 1000;

export interface LatencySummary {
	requests: number;
	window: number;
	mean_ms: number | null;
	p50_ms: number | null;
	p95_ms: number | null;
	p99_ms: number | null;
	max_ms: number | null;
	images: number;
	faces: number;
	errors: number;
}

class Series {
	requests = 0;
	images = 0;
	faces = 0;
	errors = 0;
	private ring: number[] = [];
	private at = 0;
	add(ms: number) {
		if (this.ring.length < WINDOW) this.ring.push(ms);
		else this.ring[this.at] = ms;
		this.at = (this.at + 1) % WINDOW;
	}
	summary(): LatencySummary {
		const s = [...this.ring].sort((a, b) => a - b);
		const q = (p: number) => (s.length ? Math.round(s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] * 10) / 10 : null);
		return {
			requests: this.requests,
			window: s.length,
			mean_ms: s.length ? Math.round((s.reduce((a, b) => a + b, 0) / s.length) * 10) / 10 : null,
			p50_ms: q(0.5),
			p95_ms: q(0.95),
			p99_ms: q(0.99),
			max_ms: s.length ? Math.round(s[s.length - 1] * 10) / 10 : null,
			images: this.images,
			faces: this.faces,
			errors: this.errors
		};
	}
}

export class LatencyStats {
	private series = new Map<string, Series>();
	private of(key: string): Series {
		let s = this.series.get(key);
		if (!s) this.series.set(key, (s = new Series()));
		return s;
	}
	record(key: string, ms: number, counts: { images?: number; faces?: number } = {}): void {
		const s = this.of(key);
		s.requests++;
		s.images += counts.images ?? 1;
		s.faces += counts.faces ?? 0;
		s.add(ms);
	}
	failed(key: string): void {
		const s = this.of(key);
		s.requests++;
		s.errors++;
	}
	summary(): Record<string, LatencySummary> {
		return Object.fromEntries([...this.series].map(([k, s]) => [k, s.summary()]));
	}
}
