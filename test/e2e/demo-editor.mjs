#!/usr/bin/env node
// `npm run demo:editor`: the extension in a real VS Code workbench you open in your browser
// (code-server 4.100.3 from the e2e cache), on a copy of examples/ (hooks + demo capture).
// Prints the URL; Ctrl+C stops it. PORT=8080 to choose the port (default 8765).
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const setup = spawnSync('bash', [join(repo, 'scripts/setup-e2e.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
if (setup.status !== 0) process.exit(setup.status ?? 1);
const cs = setup.stdout.trim().split('\n').pop();
const T = mkdtempSync(join(tmpdir(), 'wirehook-demo-'));
const ws = join(T, 'workspace');
cpSync(join(repo, 'examples'), ws, { recursive: true });
mkdirSync(join(T, 'ud', 'User'), { recursive: true });
writeFileSync(join(T, 'ud', 'User', 'settings.json'), JSON.stringify({ 'workbench.colorTheme': 'Default Dark Modern', 'telemetry.telemetryLevel': 'off', 'workbench.startupEditor': 'none',
  // A copy of our own examples in a temp folder: nothing to distrust, and Restricted Mode would run no hook.
  'security.workspace.trust.enabled': false }));
writeFileSync(join(T, 'cfg.yaml'), 'auth: none\n');
const port = Number(process.env.PORT ?? 8765);
// The extension host inherits this: the demo capture plays beside the hook once it is loaded
// (extension/authoring.ts playDemoOnStart).
const env = { ...process.env, WIREHOOK_DEMO_CAPTURE: join(ws, 'captures', 'demo.pcap'), XDG_CONFIG_HOME: join(T, 'config'), XDG_DATA_HOME: join(T, 'data'), XDG_CACHE_HOME: join(T, 'cache') };
const server = spawn(process.execPath, [join(cs, 'out/node/entry.js'), '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry',
  '--disable-update-check', '--user-data-dir', join(T, 'ud'), '--extensions-dir', join(T, 'ext'), '--config', join(T, 'cfg.yaml')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
const payload = [['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${port}${repo}`], ['openFile', `vscode-remote://127.0.0.1:${port}${join(ws, 'hooks', 'status-codes.js')}`]];
server.stdout.on('data', (d) => {
  if (/HTTP server listening/.test(d.toString())) {
    console.log(`Open http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
    console.log('It opens hooks/status-codes.js and plays captures/demo.pcap beside it. Ctrl+C stops.');
  }
});
const stop = () => {
  server.kill('SIGTERM');
  rmSync(T, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
server.on('exit', (c) => process.exit(c ?? 0));
