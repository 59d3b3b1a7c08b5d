// Prints one closing line for a whole `make test` run from vitest's JSON reports:
// "tests: N passed, N failed" (and ", N skipped" when any were), then one line per test that passed
// only on its retry (the e2e project retries once), with the first line of its first failure.
// Exit 1 when a report is missing.
import { readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
let skipped = 0;
const retried = [];
for (const file of process.argv.slice(2)) {
  let report;
  try {
    report = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    console.error(`test-summary: cannot read ${file}: ${err.message}`);
    process.exit(1);
  }
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + (report.numTodoTests ?? 0);
  // vitest keeps the errors of the tries that failed on a test that passed in the end.
  for (const f of report.testResults)
    for (const t of f.assertionResults)
      if (t.status === 'passed' && t.failureMessages?.length) retried.push({ name: t.fullName, why: t.failureMessages[0].split('\n')[0] });
}
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}${retried.length ? ` (${retried.length} of those passed only on a retry)` : ''}`);
for (const r of retried) console.log(`  passed on a retry: ${r.name} — first try: ${r.why}`);
