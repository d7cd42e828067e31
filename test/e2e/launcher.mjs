#!/usr/bin/env node
// A stand-in "VS Code executable" for @vscode/test-electron's runTests: it takes the same
// arguments (--extensionDevelopmentPath=, --extensionTestsPath=, a folder, …), starts
// code-server (a real VS Code 1.100.3 workbench + node extension host) and drives it with
// Debian's headless Chromium through playwright-core. The suite's pass/fail comes back from
// the workbench (window.codeAutomationExit) as this process's exit code.
//
// While the suite runs it may ask for things only the browser can do by logging
// `__e2e__:{"id":…,"op":…}`: screenshots and UI scenarios (ui.mjs). The answer is written to
// $WIREHOOK_E2E_OUT/acks/<id>.json, which the suite waits for (test/e2e/suite/harness.ts).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { format } from 'node:util';
import { chromium } from 'playwright-core';
import { runScenario } from './ui.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const args = process.argv.slice(2);
const opt = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const devPath = opt('extensionDevelopmentPath');
const testsPath = opt('extensionTestsPath');
const folder = args.find((a) => !a.startsWith('-'));
const trustOff = args.includes('--disable-workspace-trust') && process.env.WIREHOOK_E2E_TRUST !== '1';
const out = process.env.WIREHOOK_E2E_OUT ?? join(here, '.out');
const timeoutMs = Number(process.env.WIREHOOK_E2E_TIMEOUT_MS ?? 300_000);
if (!devPath || !testsPath) {
  console.error('launcher: needs --extensionDevelopmentPath= and --extensionTestsPath= (as runTests passes them)');
  process.exit(2);
}

function codeServerDir() {
  if (process.env.WIREHOOK_CODE_SERVER) return process.env.WIREHOOK_CODE_SERVER;
  const r = spawnSync('bash', [join(repo, 'scripts/setup-e2e.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error('scripts/setup-e2e.sh failed');
  return r.stdout.trim().split('\n').pop();
}

const t0 = Date.now();
const log = (...a) => console.log(`[launcher +${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
const T = mkdtempSync(join(tmpdir(), 'wirehook-e2e-'));
const ud = join(T, 'ud');
mkdirSync(join(ud, 'User'), { recursive: true });
mkdirSync(join(out, 'acks'), { recursive: true });
writeFileSync(join(ud, 'User', 'settings.json'), JSON.stringify({
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.colorTheme': 'Default Dark Modern',
  'security.workspace.trust.startupPrompt': 'never',
  'security.workspace.trust.untrustedFiles': 'open',
  'telemetry.telemetryLevel': 'off',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'update.mode': 'none',
  'window.dialogStyle': 'custom',
  'git.enabled': false,
}, null, 2));
writeFileSync(join(T, 'cfg.yaml'), 'auth: none\n');

let server;
let browser;
let finished = false;

async function finish(code, why) {
  if (finished) return;
  finished = true;
  log(`exit ${code}${why ? ` (${why})` : ''}`);
  try {
    await browser?.close();
  } catch {}
  // Only what we started: the code-server process group (spawned detached).
  if (server?.pid) {
    try {
      process.kill(-server.pid, 'SIGTERM');
    } catch {}
  }
  if (!process.env.WIREHOOK_E2E_KEEP) rmSync(T, { recursive: true, force: true });
  process.exit(code);
}

setTimeout(() => void finish(3, `global timeout ${timeoutMs} ms`), timeoutMs).unref();
process.on('SIGINT', () => void finish(130, 'SIGINT'));
process.on('SIGTERM', () => void finish(143, 'SIGTERM'));

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function startServer(csDir) {
  const port = await freePort();
  const env = { ...process.env, XDG_CONFIG_HOME: join(T, 'config'), XDG_DATA_HOME: join(T, 'data'), XDG_CACHE_HOME: join(T, 'cache') };
  const cmd = [join(csDir, 'out/node/entry.js'), '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check',
    '--disable-getting-started-override', '--user-data-dir', ud, '--extensions-dir', join(T, 'ext'), '--config', join(T, 'cfg.yaml')];
  if (trustOff) cmd.push('--disable-workspace-trust');
  server = spawn(process.execPath, cmd, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((res, rej) => {
    let buf = '';
    const onData = (d) => {
      const s = d.toString();
      if (process.env.WIREHOOK_E2E_VERBOSE) process.stderr.write(s);
      buf += s;
      const m = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(buf);
      if (m) res(Number(m[1]));
    };
    server.stdout.on('data', onData);
    server.stderr.on('data', onData);
    server.on('exit', (c) => rej(new Error(`code-server exited (${c}) before listening:\n${buf.slice(-2000)}`)));
  });
}

async function main() {
  const csDir = codeServerDir();
  const port = await startServer(csDir);
  log(`code-server on 127.0.0.1:${port} (workspace trust ${trustOff ? 'off' : 'on'})`);
  browser = await chromium.launch({
    executablePath: process.env.WIREHOOK_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    env: { ...process.env, XDG_CONFIG_HOME: join(T, 'chromium-config'), HOME: join(T, 'home') },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  // Clipboard rights: Copy as cURL is checked through the workbench's real clipboard.
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] });
  const remote = (p) => `vscode-remote://127.0.0.1:${port}${resolve(p)}`;
  // Requests from the suite are handled one at a time, in order.
  let queue = Promise.resolve();
  await page.exposeFunction('codeAutomationLog', (type, logArgs) => {
    const parts = Array.isArray(logArgs) ? logArgs : [logArgs];
    const text = format(...parts);
    const m = /__e2e__:(\{.*\})/.exec(text);
    if (m) {
      const req = JSON.parse(m[1]);
      queue = queue.then(() => handle(page, req));
      return;
    }
    (type === 'error' ? console.error : console.log)(text);
  });
  await page.exposeFunction('codeAutomationExit', (code) => void queue.then(() => finish(Number(code) || 0)));
  const payload = [
    ['extensionDevelopmentPath', remote(devPath)],
    ['extensionTestsPath', remote(testsPath)],
    ['skipWelcome', 'true'],
  ];
  const url = `http://127.0.0.1:${port}/?${folder ? `folder=${encodeURIComponent(resolve(folder))}&` : ''}payload=${encodeURIComponent(JSON.stringify(payload))}`;
  page.on('pageerror', (e) => process.env.WIREHOOK_E2E_VERBOSE && console.error('[page error]', e.message));
  log('opening the workbench');
  await page.goto(url);
}

async function handle(page, req) {
  let result;
  try {
    if (req.op === 'screenshot') {
      const path = join(out, `${req.name}.png`);
      if (req.settle) await page.waitForTimeout(req.settle); // paint settling only, never a test condition
      await page.screenshot({ path });
      result = { ok: true, path };
    } else if (req.op === 'ui') {
      result = { ok: true, value: await runScenario(page, req.name, req.args ?? {}) };
    } else {
      result = { ok: false, error: `unknown op ${req.op}` };
    }
  } catch (e) {
    result = { ok: false, error: String(e?.stack ?? e) };
  }
  writeFileSync(join(out, 'acks', `${req.id}.json`), JSON.stringify(result));
}

main().catch((e) => {
  console.error(e);
  void finish(1, 'launcher error');
});
