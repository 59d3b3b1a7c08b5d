// Prints one closing line for a whole `make test` run from vitest's JSON reports:
// "tests: N passed, N failed" (and ", N skipped" when any were), then one line per test that passed
// only on its retry (the e2e project retries), with the first line of its first failure, and one line per
// test that failed, with the first line of each try's failure: the end of CI's output says what broke.
// Exit 1 when a report is missing.
import { readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
let skipped = 0;
const retried = [];
const failures = [];
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
      if (t.status === 'passed' && t.failureMessages?.length) retried.push({ name: t.fullName, why: firstLine(t.failureMessages[0]) });
      else if (t.status === 'failed') failures.push({ file: f.name.replace(/^.*\/test\//, 'test/'), name: t.fullName, why: (t.failureMessages ?? []).map(firstLine) });
}

/** The first line of a failure, without colour codes, at most 300 characters. */
function firstLine(message) {
  // eslint-disable-next-line no-control-regex
  return message.replace(/\u001b\[[0-9;]*m/g, '').split('\n')[0].slice(0, 300);
}
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}${retried.length ? ` (${retried.length} of those passed only on a retry)` : ''}`);
for (const r of retried) console.log(`  passed on a retry: ${r.name} — first try: ${r.why}`);
for (const f of failures) {
  console.log(`  FAILED: ${f.file} › ${f.name}`);
  f.why.forEach((w, i) => console.log(`    try ${i + 1}: ${w}`));
}
