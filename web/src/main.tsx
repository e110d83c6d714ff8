import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { Login } from "./pages/Login";
import { SessionProvider } from "./session";
import "./styles.css";

createRoot(document.getElementById("root")!).render(
	<StrictMode>
		<SessionProvider signedOut={<Login />}>
			<App />
		</SessionProvider>
	</StrictMode>
);
