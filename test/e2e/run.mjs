#!/usr/bin/env node
// `npm run test:e2e`: the extension's suite inside a real VS Code workbench.
// 1. installs (once) code-server 4.100.3 + Debian chromium via scripts/setup-e2e.sh;
// 2. bundles the mocha suite (test/e2e/suite) into test/e2e/.out/suite;
// 3. makes a workspace: hooks.js, completions.js and traffic.pcap (real loopback traffic:
//    examples/captures/demo.pcap, recorded from a real server and resolver);
// 4. runs it through @vscode/test-electron's runTests with vscodeExecutablePath = launcher.mjs,
//    twice: trusted (workspace trust off), then restricted (trust on, folder never trusted).
// Screenshots land in test/e2e/.out/*.png. Env: WIREHOOK_E2E_VERBOSE=1 shows code-server's
// output; WIREHOOK_E2E_PERF=<big.pcap> adds the speed figures; WIREHOOK_E2E_ONLY=trusted|restricted.
import { build } from 'esbuild';
import { runTests } from '@vscode/test-electron';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const out = join(here, '.out');
const t0 = Date.now();
const secs = () => ((Date.now() - t0) / 1000).toFixed(1);

if (!existsSync(join(repo, 'dist/extension.js'))) {
  console.error('run.mjs: dist/extension.js is missing; run `npm run build` first (npm run test:e2e does)');
  process.exit(1);
}
const setup = spawnSync('bash', [join(repo, 'scripts/setup-e2e.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
if (setup.status !== 0) process.exit(setup.status ?? 1);
const codeServer = setup.stdout.trim().split('\n').pop();
console.log(`[e2e ${secs()}s] code-server: ${codeServer}`);

rmSync(join(out, 'acks'), { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { index: join(here, 'suite/index.ts'), tests: join(here, 'suite/tests.ts') },
  outdir: join(out, 'suite'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'inline',
  external: ['vscode', 'mocha'],
  logLevel: 'warning',
});

const HOOKS = `// e2e hook script: one line per item
var n = 0;
function onItemCaptured(data) {
  n++;
  console.log("v1 " + data.protocol.abbr + " " + n + " " + count());
}
function count() {
  return n;
}
`;
// count() keeps "return n;" on line 8 for the broken-save test; fix the line numbers there if this changes.
// Valid code (completions are asked after "data.request."): a half-typed line was 4 syntax
// errors in the Problems view and a red file in the README pictures.
const COMPLETIONS = `function onItemCaptured(data) {
  var x = data.request.method;
  var ok = kfl.match("http", data);
}
`;

// Colours rows from onItemQueried (test.pass/fail), for the green/red rows check.
const MARKS = `function onItemQueried(data) {
  if (data.protocol.name !== "http") return;
  if (data.response.status >= 500) test.fail(data);
  else if (data.response.status < 300) test.pass(data);
}
`;

function workspace(name) {
  const dir = mkdtempSync(join(tmpdir(), `wirehook-e2e-${name}-`));
  writeFileSync(join(dir, 'hooks.js'), HOOKS);
  writeFileSync(join(dir, 'completions.js'), COMPLETIONS);
  writeFileSync(join(dir, 'marks.js'), MARKS);
  copyFileSync(join(repo, 'examples/captures/demo.pcap'), join(dir, 'traffic.pcap'));
  return dir;
}

async function run(kind) {
  const dir = workspace(kind);
  const t = Date.now();
  console.log(`[e2e ${secs()}s] ${kind} run in ${dir}`);
  try {
    const code = await runTests({
      vscodeExecutablePath: join(here, 'launcher.mjs'),
      extensionDevelopmentPath: repo,
      extensionTestsPath: join(out, 'suite/index.js'),
      launchArgs: [dir, `--user-data-dir=${join(dir, '.ud')}`, `--extensions-dir=${join(dir, '.ext')}`],
      extensionTestsEnv: {
        WIREHOOK_E2E_OUT: out,
        WIREHOOK_E2E_GREP: process.env.WIREHOOK_E2E_GREP ?? (kind === 'trusted' ? 'trusted workspace' : 'restricted workspace'),
        WIREHOOK_E2E_TRUST: kind === 'restricted' ? '1' : '0',
        WIREHOOK_CODE_SERVER: codeServer,
      },
    });
    console.log(`[e2e ${secs()}s] ${kind}: exit ${code} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    return code;
  } catch (e) {
    console.error(`[e2e ${secs()}s] ${kind}: failed: ${e?.message ?? e}`);
    return 1;
  } finally {
    if (!process.env.WIREHOOK_E2E_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

const only = process.env.WIREHOOK_E2E_ONLY;
let failed = 0;
for (const kind of ['trusted', 'restricted']) {
  if (only && only !== kind) continue;
  if ((await run(kind)) !== 0) failed++;
}
console.log(`[e2e ${secs()}s] done: ${failed ? `${failed} run(s) failed` : 'all runs passed'}; screenshots in ${out}`);
process.exit(failed ? 1 : 0);
