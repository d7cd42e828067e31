/**
 * The .vsix `npm run package` makes: built with the same vsce command line, listed, unpacked
 * outside the checkout (so nothing resolves from the repository's node_modules) and run: the
 * CLI with a hook script in the sandbox, and the language server over stdio playing the bundled
 * capture with a hook script open. A file missing from .vscodeignore's keep-list (the QuickJS
 * wasm, the live-capture addon, the tsserver plugin) fails here rather than on a user's machine.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { ListInterfaces, StartCapture } from '../../server/protocol';
import { startServer, uriOf, type LspClient } from '../lsp/client';

let tmp = '';
let ext = '';
let files: string[] = [];
let c: LspClient | undefined;
const capBuilt = fs.existsSync('node_modules/cap/build/Release/cap.node');

before(() => {
  assert.ok(fs.existsSync('dist/extension.js'), 'run `npm run build` first (npm test does)');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wirehook-vsix-'));
  const vsix = path.join(tmp, 'wirehook.vsix');
  // The flags of package.json's `package` script, with the output moved to the temp folder.
  const script = JSON.parse(fs.readFileSync('package.json', 'utf8')).scripts.package as string;
  const args = script.slice(script.indexOf('vsce package') + 'vsce '.length).split(/\s+/).filter(Boolean);
  const out = args.indexOf('--out');
  assert.ok(out > 0, `--out in ${script}`);
  args.splice(out, 2, '--out', vsix);
  execFileSync(process.execPath, [require.resolve('@vscode/vsce/vsce'), ...args], { stdio: 'pipe' });
  files = execFileSync('unzip', ['-Z1', vsix], { encoding: 'utf8' }).split('\n').filter(Boolean);
  execFileSync('unzip', ['-q', vsix, '-d', tmp]);
  ext = path.join(tmp, 'extension');
});

after(async () => {
  await c?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('the .vsix holds the bundles, the runtime dependencies and the examples, and no sources or tests', () => {
  const has = (f: string) => files.includes(`extension/${f}`);
  for (const f of ['package.json', 'readme.md', 'wirehook.d.ts', 'dist/extension.js', 'dist/server.js', 'dist/cli.js', 'dist/cmd-items.js', 'dist/cmd-run.js', 'dist/runtime-worker.js', 'dist/webview.js', 'dist/webview.css', 'dist/codicon.ttf', 'examples/captures/demo.pcap', 'examples/hooks/kfl-errors.js', 'node_modules/wirehook-tsserver-plugin/dist/index.js', 'node_modules/cap/package.json']) {
    assert.ok(has(f), `${f} in the .vsix`);
  }
  assert.ok(files.some((f) => /^extension\/node_modules\/@jitl\/quickjs-wasmfile-release-sync\/.*\.wasm$/.test(f)), 'the QuickJS wasm');
  // cap is optional (its build may fail where libpcap's headers are missing): packed when built.
  if (capBuilt) assert.ok(has('node_modules/cap/build/Release/cap.node'), 'the live-capture addon, built');
  const stray = files.filter((f) => /\.map$|\.ts$/.test(f) && !f.endsWith('wirehook.d.ts') && !f.includes('/node_modules/') || /^extension\/(test|capture|server|bench|scripts|\.ci)\//.test(f) || /stryker|\.gitignore$/.test(f));
  assert.deepEqual(stray, [], 'sources, source maps, tests and tooling stay out');
  // The README's pictures are linked relatively: the ones it shows must be there.
  const readme = fs.readFileSync(path.join(ext, 'readme.md'), 'utf8');
  const pics = [...readme.matchAll(/!\[[^\]]*\]\(([^)]+\.png)\)/g)].map((m) => m[1]);
  assert.ok(pics.length > 0, 'the README shows pictures');
  for (const p of pics) assert.ok(has(p), `${p} (shown by the README) in the .vsix`);
});

test('the unpacked CLI runs a bundled hook over the bundled capture (QuickJS from the .vsix)', () => {
  assert.ok(!fs.existsSync(path.join(tmp, 'node_modules')) && !fs.existsSync(path.join(os.tmpdir(), 'node_modules')), 'nothing above the unpacked extension to resolve from');
  const r = spawnSync(process.execPath, [path.join(ext, 'dist/cli.js'), 'run', path.join(ext, 'examples/hooks/kfl-errors.js'), '--pcap', path.join(ext, 'examples/captures/demo.pcap')], { cwd: tmp, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /ran 1 script\(s\) over \d+ items/);
  // kfl-errors.js prints each failed HTTP exchange (kfl.match in the sandbox): the demo has some.
  const lines = r.stdout.trim().split('\n').filter(Boolean);
  const want = spawnSync(process.execPath, ['dist/cli.js', 'run', 'examples/hooks/kfl-errors.js', '--pcap', 'examples/captures/demo.pcap'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
  assert.ok(lines.length > 0, `the hook printed nothing: ${r.stderr}`);
  assert.deepEqual(lines, want, 'the same lines as the build in the checkout');
});

test('the unpacked language server plays the bundled capture through an open hook script, and lists interfaces', async () => {
  const ws = fs.mkdtempSync(path.join(tmp, 'ws-'));
  const hook = path.join(ws, 'hook.js');
  const text = 'function onItemCaptured(data) {\n  console.log("seen " + data.protocol.name);\n}\n';
  fs.writeFileSync(hook, text);
  c = await startServer(ws, {}, path.join(ext, 'dist/server.js'));
  c.open(uriOf(hook), text);
  const r = await c.conn.sendRequest(StartCapture, { source: { pcap: path.join(ext, 'examples/captures/demo.pcap') } });
  assert.ok(r, 'startCapture answered');
  await c.until('the capture to finish', () => c!.states.some((s) => s.finished));
  await c.until('the hook console lines', () => c!.console.some((l) => l.text === 'seen http') && c!.console.some((l) => l.text === 'seen dns'));
  assert.equal(c.console.find((l) => l.text.startsWith('seen'))!.line, 2, 'lines carry the script line');
  const ifs = await c.conn.sendRequest(ListInterfaces);
  assert.equal(ifs.error, undefined);
  assert.ok(ifs.interfaces.some((i) => i.name === 'lo'), ifs.interfaces.map((i) => i.name).join(','));
  assert.equal(c.stderr().match(/Cannot find module/), null, c.stderr());
});

test('the unpacked CLI lists interfaces through the cap addon it holds, when the checkout built one', (t) => {
  if (!capBuilt) return t.skip('cap was not built here');
  const r = spawnSync(process.execPath, [path.join(ext, 'dist/cli.js'), 'interfaces', '--json'], { cwd: tmp, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const list = JSON.parse(r.stdout) as { name: string; via: string }[];
  assert.equal(list.find((i) => i.name === 'lo')?.via, 'libpcap', 'listed by libpcap through the packed addon, not by the tcpdump fallback');
});
