/**
 * Log lines of the nodes under test, as they are: one JSON line each on stderr, without
 * Jest's per-call source excerpt and stack (which made a warn ten lines long).
 */
const util = require("node:util");
for (const level of ["log", "info", "warn", "error", "debug"]) {
	console[level] = (...args) => process.stderr.write(util.format(...args) + "\n");
}
