/** @type {import('jest').Config} */
module.exports = {
	testEnvironment: "<rootDir>/test/support/environment.js",
	setupFiles: ["<rootDir>/test/support/plain-console.js"],
	transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
	moduleFileExtensions: ["ts", "js", "json"],
	testMatch: ["<rootDir>/test/**/*.test.ts"],
	reporters: ["default", "<rootDir>/test/support/summary-reporter.js"],
	testTimeout: 60000,
	// Servers, brokers and child processes are stopped by each suite; this catches leaks.
	openHandlesTimeout: 5000
};
