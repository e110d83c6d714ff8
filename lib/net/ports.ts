/** Is a TCP port free to listen on? A start-up check, so a taken port stops a node with a clear line. */
import net from "node:net";

export function portFree(host: string, port: number): Promise<boolean> {
	return new Promise(resolve => {
		const srv = net.createServer();
		srv.once("error", () => resolve(false));
		srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
	});
}
