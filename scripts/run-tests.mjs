// Runs every test/**/*.test.ts with node's built-in runner (TypeScript through tsx).
// Node 20's --test takes no globs, so we list the files ourselves. Extra args are
// substrings that select test files, e.g. `node scripts/run-tests.mjs kfl`.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'fixtures' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
const filters = process.argv.slice(2);
const files = walk('test').sort().filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) { console.error('no test files matched'); process.exit(1); }
// WIREHOOK_TESTS_ONE_PROCESS=1: import every file into this one process instead of a node
// --test child per file (about half the time for a short set: no node + tsx start per file).
// For mutation runs of unit tests (stryker.config.mjs); a failing test still sets the exit code.
if (process.env.WIREHOOK_TESTS_ONE_PROCESS === '1') {
  const { pathToFileURL } = await import('node:url');
  const { resolve } = await import('node:path');
  const urls = files.map((f) => pathToFileURL(resolve(f)).href);
  const entry = `for (const u of ${JSON.stringify(urls)}) await import(u);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', entry], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
} else {
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
}
