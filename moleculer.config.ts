/**
 * Broker options, all derived from the validated configuration in config/.
 * `brokerOptions(cfg)` is what the start script, the REPL and the tests use.
 */
import type { BrokerOptions } from "moleculer";
import type { Config } from "./config";
import { jsonFormatter, prettyFormatter } from "./lib/log/json-formatter";
import { ParamsValidator } from "./lib/validation/validator";
// Registers the InferenceLoad strategy that inference actions name (every node may call them).
import "./lib/cluster/inference-strategy";

export function brokerOptions(cfg: Config): BrokerOptions {
	return {
		namespace: cfg.namespace,
		nodeID: cfg.nodeId,
		transporter: (cfg.transporter ?? undefined) as BrokerOptions["transporter"],
		// JSON mangles Buffers (frames, images); CBOR carries them as bytes.
		serializer: "CBOR",
		requestTimeout: cfg.requestTimeout,
		retryPolicy: { enabled: false },
		// scripts/start.ts handles SIGTERM/SIGINT itself: an actors node drains before it stops.
		skipProcessEventRegistration: true,
		heartbeatInterval: 2,
		heartbeatTimeout: 6,
		registry: { strategy: "RoundRobin", preferLocal: true },
		contextParamsCloning: false,
		// fastest-validator params; a coded rule's failure is the API's own error (lib/validation).
		validator: new ParamsValidator(),
		logger: {
			type: "Console",
			options: {
				level: cfg.logLevel,
				colors: cfg.logFormat === "pretty",
				moduleColors: cfg.logFormat === "pretty",
				formatter: cfg.logFormat === "pretty" ? prettyFormatter : jsonFormatter,
				objectPrinter: cfg.logFormat === "pretty" ? undefined : (o: unknown) => JSON.stringify(o)
			}
		},
		metrics:
			cfg.metricsPort === null
				? { enabled: false }
				: {
						enabled: true,
						reporter: [{ type: "Prometheus", options: { host: cfg.host, port: cfg.metricsPort, path: "/metrics" } }]
					},
		tracing: { enabled: false }
	};
}
