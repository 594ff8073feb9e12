// Prints one closing line, `N passed, N failed`, so CI logs show the count at a glance. It is
// written at process exit so that it follows jest's own summary.
export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const line = `${results.numPassedTests} passed, ${failed} failed`;
    process.once('exit', () => process.stdout.write(`\n${line}\n`));
  }
}
