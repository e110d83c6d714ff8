/** Console paging (seed 002): `page` from 1, `pageSize` up to 100; answers carry `meta`. */
export const pageParams = {
	page: { type: "number", integer: true, min: 1, max: 1_000_000, convert: true, default: 1 },
	pageSize: { type: "number", integer: true, min: 1, max: 100, convert: true, default: 20 }
} as const;

export interface PageParams {
	page: number;
	pageSize: number;
}

export function pageQuery(p: PageParams): { offset: number; limit: number } {
	return { offset: (p.page - 1) * p.pageSize, limit: p.pageSize };
}

export function paged<T>(rows: T[], total: number, p: PageParams) {
	return { rows, page: p.page, pageSize: p.pageSize, total, totalPages: Math.ceil(total / p.pageSize) };
}
