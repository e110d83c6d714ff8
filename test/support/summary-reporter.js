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
	}
}
module.exports = SummaryReporter;
