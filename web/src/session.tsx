/** Who is signed in, what they may do, and their time zone, for every page. */
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { get, hasSession, onSessionChange, signOut } from "./api";
import { setTimeZone } from "./time";

export interface User {
	id: string;
	name: string;
	email: string;
	roleId: string;
	status: string;
}

interface Session {
	user: User;
	permissions: string[];
	/** The API's routes this node serves (from its OpenAPI document), to offer only pages that work. */
	routes: Set<string>;
	/** False until the OpenAPI document was read. */
	routesKnown: boolean;
	can(permission: string): boolean;
	has(route: string): boolean;
	reload(): Promise<void>;
	signOut(): Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
	const s = useContext(SessionContext);
	if (!s) throw new Error("useSession outside SessionProvider");
	return s;
}

/** True when the permission list grants `needed` ("*" grants everything, "cameras:*" every verb). */
export function grants(permissions: string[], needed: string): boolean {
	return permissions.includes("*") || permissions.includes(needed) || permissions.includes(`${needed.split(":")[0]}:*`);
}

export function SessionProvider({ children, signedOut }: { children: ReactNode; signedOut: ReactNode }) {
	const [state, setState] = useState<{ user: User; permissions: string[] } | null>(null);
	const [routes, setRoutes] = useState<Set<string> | null>(null);
	const [signedIn, setSignedIn] = useState(hasSession());
	const [error, setError] = useState<string | null>(null);

	const reload = useCallback(async () => {
		const [me, prefs] = await Promise.all([get<{ user: User; permissions: string[] }>("/auth/me"), get<{ timezone?: string; updatedAt?: string | null }>("/settings/preferences").catch(() => null)]);
		// A time zone the user chose; until then, the browser's own.
		setTimeZone(prefs?.data.updatedAt && prefs.data.timezone ? prefs.data.timezone : null);
		setState(me.data);
	}, []);

	useEffect(() => onSessionChange(setSignedIn), []);
	useEffect(() => {
		if (!signedIn) {
			setState(null);
			return;
		}
		setError(null);
		reload().catch(err => setError((err as Error).message));
		// Which routes exist is needed only for pages of later features: asked once, after the first paint.
		fetch("/api/v1/openapi.json")
			.then(r => (r.ok ? r.json() : { paths: {} }))
			.then((doc: { paths?: Record<string, Record<string, unknown>> }) => {
				const set = new Set<string>();
				for (const [p, ops] of Object.entries(doc.paths ?? {})) for (const m of Object.keys(ops)) set.add(`${m.toUpperCase()} ${p.replace(/^\/api\/v1/, "")}`);
				setRoutes(set);
			})
			.catch(() => setRoutes(new Set()));
	}, [signedIn, reload]);

	if (!signedIn) return <>{signedOut}</>;
	if (!state)
		return error ? (
			<main className="center">
				<p role="alert" className="error">
					{error}
				</p>
				<button onClick={() => void signOut()}>Sign in again</button>
			</main>
		) : (
			<main className="center" aria-busy="true">
				Loading…
			</main>
		);
	const session: Session = {
		...state,
		routes: routes ?? new Set(),
		routesKnown: routes !== null,
		can: (p: string) => grants(state.permissions, p),
		has: (r: string) => routes?.has(r) ?? false,
		reload,
		signOut
	};
	return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}
