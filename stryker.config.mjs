// Mutation testing (`npm run mutate`; not in CI: each mutant re-runs a test subset).
// The `command` runner has no per-test coverage, so every mutant runs the whole command:
// narrow both with the environment for a bounded run, e.g.
//   WIREHOOK_MUTATE=capture/stream/order.ts WIREHOOK_MUTATE_TESTS=capture/pipeline npm run mutate
// Tests that run the built CLI (dist/cli.js) fail in the sandbox, which has no dist/: leave them
// out of WIREHOOK_MUTATE_TESTS. Figures and how to read the report: docs/reliability.md.
// WIREHOOK_TESTS_ONE_PROCESS=1 in Stryker's environment makes scripts/run-tests.mjs import all the
// command's test files into one node process (no node + tsx start per file): about half the time
// per mutant for the unit-test sets. Per-file figures: node scripts/mutation-score.mjs [report].
const mutate = (process.env.WIREHOOK_MUTATE ?? 'capture/stream/**/*.ts,capture/item/**/*.ts,server/kfl/**/*.ts').split(',');
// The default: the capture, item, order and query tests that do not run dist/cli.js (filters are
// path fragments: kfl/kfl2 also takes kfl2-unit-*, kfl/legacy-unit every legacy-unit-* file).
const DEFAULT_TESTS = 'capture/tcp capture/decode capture/reader capture/pipeline capture/malformed capture/http-caps capture/hostile-streams capture/item-build capture/item-json capture/weblayer-l4 hardening/order-model hardening/fuzz-pipeline kfl/detect kfl/facade.test kfl/kfl2 kfl/legacy-eval kfl/legacy-lint kfl/legacy-items kfl/legacy-redact kfl/legacy-syntax capture/item-json-model kfl/legacy-model kfl/legacy-unit capture/stream-tcp-unit capture/stream-udp-unit capture/stream-icmp-unit capture/stream-key-unit capture/stream-detect-unit capture/stream-clock-unit capture/stream-flowitem-unit capture/stream-host-unit capture/order-unit';
const tests = (process.env.WIREHOOK_MUTATE_TESTS ?? DEFAULT_TESTS).split(/\s+/);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'command',
  commandRunner: { command: `node scripts/run-tests.mjs ${tests.join(' ')}` },
  mutate,
  // Test output, builds and reports stay out of the sandbox copy.
  ignorePatterns: ['test/.out', 'dist', 'reports', '.stryker-tmp', 'extension/out', '*.vsix'],
  concurrency: Number(process.env.WIREHOOK_MUTATE_CONCURRENCY ?? 1),
  // Runs are wall-clock bound on a shared machine: be generous before calling a mutant a timeout.
  timeoutFactor: 2,
  timeoutMS: 20000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
