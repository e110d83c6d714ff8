import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The console is served by the gateway at / (services/gateway/console.ts): hashed files under
// /assets are cached for good, index.html never. `npm run dev` proxies the API to a local node.
const node = process.env.ROLLCALL_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
	plugins: [react()],
	base: "/",
	build: { outDir: "dist", assetsDir: "assets", sourcemap: false, target: "es2022", emptyOutDir: true },
	server: { proxy: { "/api": node, "/socket.io": { target: node, ws: true } } }
});
