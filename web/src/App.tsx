/** The console's frame: navigation offered by permission (and by what this node serves), and the page of the hash. */
import { lazy, Suspense, useEffect, type ComponentType, type LazyExoticComponent } from "react";
import { href, useRoute, type Route } from "./router";
import { useSession } from "./session";
import { timeZone } from "./time";
import { Dashboard } from "./pages/Dashboard";
import { Banners } from "./Banners";

interface Page {
	path: string;
	label: string;
	/** The permission the page's reads need (none: every signed-in user). */
	permission?: string;
	/** A route the page needs, for features a node may not serve yet. */
	route?: string;
	component: ComponentType<{ route: Route }> | LazyExoticComponent<ComponentType<{ route: Route }>>;
}

// Every page but the dashboard is its own chunk, fetched when first opened.
const PAGES: Page[] = [
	{ path: "/", label: "Dashboard", component: Dashboard },
	{ path: "/live", label: "Live view", permission: "cameras:read", route: "GET /detections/live", component: lazy(() => import("./pages/Live")) },
	{ path: "/attendance", label: "Attendance", permission: "attendance:read", component: lazy(() => import("./pages/Attendance")) },
	{ path: "/cameras", label: "Cameras", permission: "cameras:read", component: lazy(() => import("./pages/Cameras")) },
	{ path: "/faces", label: "Face register", permission: "faces:read", component: lazy(() => import("./pages/Faces")) },
	{ path: "/alerts", label: "Alerts", permission: "alerts:read", route: "GET /alerts", component: lazy(() => import("./pages/Alerts")) },
	{ path: "/system", label: "System health", permission: "system:read", route: "GET /system/health/services", component: lazy(() => import("./pages/System")) },
	{ path: "/audit", label: "Audit log", permission: "audit:read", component: lazy(() => import("./pages/Audit")) },
	{ path: "/history", label: "Person history", permission: "attendance:read", component: lazy(() => import("./pages/History")) },
	{ path: "/api-keys", label: "API keys", permission: "apikeys:read", route: "GET /api-keys", component: lazy(() => import("./pages/ApiKeys")) },
	{ path: "/settings", label: "Settings", component: lazy(() => import("./pages/Settings")) },
	{ path: "/api", label: "API reference", component: lazy(() => import("./pages/ApiReference")) }
];

export function App() {
	const session = useSession();
	const route = useRoute();
	const offered = PAGES.filter(p => (!p.permission || session.can(p.permission)) && (!p.route || session.has(p.route)));
	// null: a page whose route is not known yet (the OpenAPI document is on its way).
	const page = offered.find(p => p.path === route.path) ?? (!session.routesKnown && PAGES.some(p => p.path === route.path && (!p.permission || session.can(p.permission))) ? null : undefined);
	useEffect(() => {
		document.title = `${page?.label ?? "Rollcall"} · Rollcall`;
	}, [page]);
	const Component = page?.component;
	return (
		<div className="shell">
			<a className="skip" href="#main">
				Skip to content
			</a>
			<nav className="side" aria-label="Pages">
				<div className="brand">Rollcall</div>
				<ul>
					{offered.map(p => (
						<li key={p.path}>
							<a href={href(p.path)} aria-current={p.path === route.path ? "page" : undefined}>
								{p.label}
							</a>
						</li>
					))}
				</ul>
			</nav>
			<div className="main-col">
				<header className="top">
					<span className="muted">Times in {timeZone()}</span>
					<span className="who">
						{session.user.name} <span className="muted">({session.user.roleId.replace("ROLE-", "").toLowerCase()})</span>
					</span>
					<button onClick={() => void session.signOut()}>Sign out</button>
				</header>
				<Banners />
				<main id="main" tabIndex={-1}>
					{Component ? (
						<Suspense fallback={<p aria-busy="true">Loading…</p>}>
							<Component route={route} />
						</Suspense>
					) : page === null ? (
						<p aria-busy="true">Loading…</p>
					) : (
						<p role="alert" className="error">
							This page does not exist, or your role may not open it.
						</p>
					)}
				</main>
			</div>
		</div>
	);
}
