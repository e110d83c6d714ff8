/**
 * Prints the line CI reads: `N passed, N failed` (and skipped, when any). A suite that
 * fails to load counts as failed even though it has no test results.
 */
class SummaryReporter {
	onRunComplete(_contexts, results) {
		const failedSuites = results.testResults.filter(r => r.testExecError || (r.failureMessage && r.numFailingTests === 0)).length;
		const failed = results.numFailedTests + failedSuites;
		const skipped = results.numPendingTests + results.numTodoTests;
		process.stdout.write(`\n${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
		// What the suites left running (jest runs in band, in this process): named so a leak can be found;
		// the run then ends by forceExit rather than waiting on it.
		const left = process.getActiveResourcesInfo().filter(r => r !== "TTYWrap");
		if (left.length) process.stderr.write(`resources still active after the run: ${JSON.stringify(left.reduce((m, r) => ({ ...m, [r]: (m[r] ?? 0) + 1 }), {}))}\n`);
	}
}
module.exports = SummaryReporter;
