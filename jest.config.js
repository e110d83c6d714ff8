/** @type {import('jest').Config} */
module.exports = {
	testEnvironment: "<rootDir>/test/support/environment.js",
	setupFiles: ["<rootDir>/test/support/plain-console.js"],
	transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
	moduleFileExtensions: ["ts", "js", "json"],
	testMatch: ["<rootDir>/test/**/*.test.ts"],
	reporters: ["default", "<rootDir>/test/support/summary-reporter.js"],
	testTimeout: 60000,
	// Servers, brokers and child processes are stopped by each suite; what is still active at
	// the end is listed by the summary reporter, and the run ends rather than waiting on it
	// (the whole suite once hung after its summary on a handle no single suite leaves).
	openHandlesTimeout: 5000,
	forceExit: true
};
