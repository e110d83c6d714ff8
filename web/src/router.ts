/**
 * Pages by the URL's hash (#/cameras?page=2): the gateway serves index.html at / only, so no
 * page path can ever shadow an API route, and a reload or a shared link lands on its page.
 */
import { useEffect, useState } from "react";

export interface Route {
	path: string;
	query: URLSearchParams;
}

function current(): Route {
	const h = window.location.hash.replace(/^#/, "") || "/";
	const [path, q] = h.split("?");
	return { path: path || "/", query: new URLSearchParams(q ?? "") };
}

export function useRoute(): Route {
	const [route, setRoute] = useState(current);
	useEffect(() => {
		const on = () => setRoute(current());
		window.addEventListener("hashchange", on);
		return () => window.removeEventListener("hashchange", on);
	}, []);
	return route;
}

export function navigate(path: string, query?: Record<string, string | number | undefined>): void {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== "") q.set(k, String(v));
	const s = q.toString();
	window.location.hash = s ? `${path}?${s}` : path;
}

export function href(path: string): string {
	return `#${path}`;
}
