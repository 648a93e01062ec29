/**
 * Prints the closing line CI reads ("N passed, N failed") alone on its own line, after Jest's own
 * summary (hence at exit). Suites that fail to run count as failed tests.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const line = `${results.numPassedTests} passed, ${failed} failed\n`;
    process.once('exit', () => process.stderr.write(line));
  }
}

module.exports = SummaryReporter;
