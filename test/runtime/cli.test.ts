// `wirehook run` end to end through the built dist/cli.js (run `npm run build` first), over a
// real loopback capture; pcap.path/snapshot files are read back with tshark.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, scenarioPcap, tmpName } from './fixture';

function run(args: string[], cwd?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'run', ...args], { encoding: 'utf8', cwd, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function script(name: string, src: string): string {
  const f = tmpName(name);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, src);
  return f;
}

test('run: console.log to stdout exactly, console.error and summary to stderr, query drives onItemQueried', async () => {
  const { file, http, dns } = await scenarioPcap();
  const hook = script('status.js', `// Status codes
var codes = {};
function onItemCaptured(data) {
  if (data.protocol.name !== 'http') return;
  codes[data.response.status] = (codes[data.response.status] || 0) + 1;
  console.log(data.request.method + ' ' + data.request.path + ' ' + data.response.status);
  if (data.response.status >= 500) console.error('server error on', data.request.path);
}
var packets = 0;
function onPacketCaptured(info) { packets++; }
function onItemQueried(data) { if (data.response.status >= 400) test.fail(data); else test.pass(data); }
`);
  const r = run([hook, '--pcap', file, '--query', 'http']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n').filter(Boolean);
  assert.deepEqual(lines, http.map((x) => `${x.method} ${x.url.replace(/\?.*$/, '')} ${x.status}`));
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('server error on'));
  assert.equal(errors.length, http.filter((x) => x.status >= 500).length);
  const failed = http.filter((x) => x.status >= 400).length;
  assert.match(r.stderr, new RegExp(`wirehook: ran 1 script\\(s\\) over ${http.length + dns.length} items, \\d+ packet infos, ${http.length} queried \\(${http.length - failed} passed, ${failed} failed\\)`));
  assert.match(r.stderr, /^wirehook: time in scripts: .*status\.js \d+(\.\d)? ms$/m);
});

test('run: a script that fails to load exits 2 with FILE:LINE:COL; a bad query exits 2', async () => {
  const { file } = await scenarioPcap();
  const bad = script('bad.js', 'function onItemCaptured(d) {\n  var x = ;\n}\n');
  const r = run([bad, '--pcap', file]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, `${bad}:2:11: SyntaxError: Unexpected token\n`);
  const ok = script('ok.js', 'function onItemCaptured(d) {}');
  const q = run([ok, '--pcap', file, '--query', 'http and (']);
  assert.equal(q.status, 2);
  assert.match(q.stderr, /^wirehook: query \d+:\d+: /);
  const none = run(['--pcap', file]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /^wirehook: give at least one hook script/);
  const missing = run([tmpName('nope.js'), '--pcap', file]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^wirehook: cannot read hook script .*nope\.js: ENOENT/);
});

test('run: env, recorded webhooks, jobs with --linger, metrics summary at exit', async () => {
  const { file } = await scenarioPcap();
  const envFile = tmpName('env.json');
  fs.writeFileSync(envFile, JSON.stringify({ WEBHOOK_URL: 'http://127.0.0.1:9/hook' }));
  const hook = script('mix.js', `var n = 0;
console.log(env.WEBHOOK_URL, env.EXTRA);
function onItemCaptured(data) { n++; if (n === 1) vendor.webhook('POST', env.WEBHOOK_URL, { first: data.id }); }
jobs.schedule('tick', '* * * * * *', function () { prometheus.metric('wh_items', 'items', 2, n); console.log('tick', n); }, 1);`);
  const r = run([hook, '--pcap', file, '--env', envFile, '--env', 'EXTRA=yes', '--linger', '1.5']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n').filter(Boolean);
  assert.equal(lines[0], 'http://127.0.0.1:9/hook yes');
  assert.match(lines[1], /^tick \d+$/);
  assert.match(r.stderr, /wirehook: .*mix\.js: vendor\.webhook recorded \(not sent\): POST http:\/\/127\.0\.0\.1:9\/hook \(\d+ bytes: \{"first":"[^"]+"\}\)/);
  assert.match(r.stderr, /1 network calls recorded, not sent/);
  assert.match(r.stderr, /wirehook: metrics at exit:\n {2}# HELP wh_items items\n {2}# TYPE wh_items gauge\n {2}wh_items \d+\n/);
});

test('run: pcap.path and pcap.snapshot write real pcaps that tshark reads back', async () => {
  const { file, http } = await scenarioPcap();
  const cwd = fs.mkdtempSync(tmpName('pcapcwd-'));
  const hook = script('pcap.js', `var streams = {};
function onItemCaptured(data) {
  if (data.protocol.name !== 'http' || streams[data.stream]) return;
  streams[data.stream] = pcap.path(data.stream);
  console.log('stream', data.stream, streams[data.stream]);
}
// Fires every second; the last run is during --linger, after the whole capture was processed.
jobs.schedule('snap', '* * * * * *', function () { if (Object.keys(streams).length) console.log('snapshot', pcap.snapshot(Object.keys(streams))); });`);
  const r = run([hook, '--pcap', file, '--linger', '2.2'], cwd);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n').filter(Boolean);
  const streamLines = lines.filter((l) => l.startsWith('stream '));
  assert.ok(streamLines.length >= 1);
  let total = 0;
  for (const l of streamLines) {
    const p = l.split(' ')[2];
    assert.ok(p.startsWith(path.join(fs.realpathSync(cwd), '.wirehook', 'files', 'pcaps')), p);
    // tshark decodes the stream file: every frame is TCP and some carry HTTP.
    const fields = execFileSync('tshark', ['-r', p, '-T', 'fields', '-e', 'tcp.stream', '-e', 'http.request.method'], { encoding: 'utf8' }).trim().split('\n');
    assert.ok(fields.length > 0);
    assert.equal(new Set(fields.map((f) => f.split('\t')[0])).size, 1, `one TCP connection per stream file: ${p}`);
    total += requestFrames(p);
  }
  const snap = lines.filter((l) => l.startsWith('snapshot ')).pop()!.slice(9);
  assert.match(snap, /\/\d+\.pcap$/);
  const inSnap = requestFrames(snap);
  assert.equal(inSnap, total);
  assert.ok(inSnap <= http.length && inSnap > 0);
  // Snapshot frames are in time order.
  const times = execFileSync('tshark', ['-r', snap, '-T', 'fields', '-e', 'frame.time_epoch'], { encoding: 'utf8' }).trim().split('\n').map(Number);
  assert.deepEqual(times, [...times].sort((a, b) => a - b));
});

/** Frames tshark decodes as HTTP requests. */
function requestFrames(file: string): number {
  return execFileSync('tshark', ['-r', file, '-Y', 'http.request', '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).length;
}

test('run: two scripts share this; --metrics-port serves /metrics while jobs run', async () => {
  const { file, http } = await scenarioPcap();
  const a = script('two-a.js', `// A
function onItemCaptured(d) { if (d.protocol.name === 'http') this.httpSeen = (this.httpSeen || 0) + 1; }
jobs.schedule('m', '* * * * * *', function () { prometheus.metric('wh_http_seen', 'HTTP items seen', 2, this.httpSeen || 0); });`);
  const b = script('two-b.js', `// B
var printed = false;
jobs.schedule('p', '* * * * * *', function () { if (!printed && this.httpSeen === ${http.length}) { printed = true; console.log('B sees', this.httpSeen); } });`);
  const child = spawn(process.execPath, [CLI, 'run', a, b, '--pcap', file, '--metrics-port', '0', '--linger', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', () => reject(new Error(`exited before serving metrics: ${stderr}`)));
  });
  // Poll until a job has published the count of the whole capture (the deadline is for a hang;
  // the CLI lingers 3 s after the capture, so the metric must show within that).
  let body = '';
  for (const t0 = Date.now(); !body.includes(`wh_http_seen ${http.length}`) && Date.now() - t0 < 20_000 && child.exitCode === null; ) {
    await new Promise((r) => setTimeout(r, 20));
    body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text().catch(() => body);
  }
  assert.match(body, /# TYPE wh_http_seen gauge\n/);
  assert.match(body, new RegExp(`wh_http_seen ${http.length}\\n`));
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  assert.equal(code, 0, stderr);
  assert.equal(stdout, `B sees ${http.length}\n`);
});

test('run --interface lo: hooks see live traffic, jobs fire during the capture, Ctrl-C exits 0', async () => {
  const { startHttpServer, httpScenario } = await import('../helpers/traffic');
  const { startLiveCli } = await import('../helpers/capture');
  const h = await startHttpServer();
  const hook = script('live.js', `var n = 0;
function onItemCaptured(d) { n++; console.log('item', d.request.method, d.response.status); }
jobs.schedule('tick', '* * * * * *', function () { console.log('tick'); });`);
  const live = await startLiveCli(['run', hook, '-i', 'lo', '-f', `tcp port ${h.port}`]);
  const sent = await httpScenario(h.port);
  // Wait (not a fixed time) until every item is printed and the once-a-second job has fired
  // during the capture; the deadline is for a hang.
  const want = sent.map((s) => `item ${s.method} ${s.status}`);
  for (const t0 = Date.now(); ; ) {
    const lines = live.out().split('\n');
    if (lines.includes('tick') && lines.filter((l) => l.startsWith('item ')).length >= want.length) break;
    assert.ok(Date.now() - t0 < 20_000, `no tick or not every item within 20 s: ${live.out()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const code = await live.interrupt();
  await h.close();
  const out = live.out();
  const err = live.err();
  assert.equal(code, 0, err);
  const lines = out.split('\n').filter(Boolean);
  assert.deepEqual(lines.filter((l) => l.startsWith('item ')), sent.map((s) => `item ${s.method} ${s.status}`));
  assert.ok(lines.filter((l) => l === 'tick').length >= 1, out);
  assert.match(err, new RegExp(`wirehook: ran 1 script\\(s\\) over ${sent.length} items`));
});

/** A running CLI whose output can be awaited (bounded: rejects after 20 s or when it exits). */
function startCli(args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  const poke = () => { for (const w of waiters.splice(0)) w(); };
  child.stdout.on('data', (d) => { out += d; poke(); });
  child.stderr.on('data', (d) => { err += d; poke(); });
  const closed = new Promise<number | null>((r) => child.on('close', (c) => { poke(); r(c); }));
  const until = (what: string, ok: () => boolean) => new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}\nstdout: ${out}\nstderr: ${err}`)), 20_000);
    const check = () => {
      if (ok()) { clearTimeout(t); resolve(); }
      else if (child.exitCode !== null) { clearTimeout(t); reject(new Error(`exited waiting for ${what}\nstderr: ${err}`)); }
      else waiters.push(check);
    };
    check();
  });
  return { out: () => out, err: () => err, until, interrupt: () => (child.kill('SIGINT'), closed) };
}

test('run --watch: an edit reloads the script and replays the finished file through it; a broken save keeps the old version', async () => {
  const { file, http, dns } = await scenarioPcap();
  const total = http.length + dns.length;
  const dir = fs.mkdtempSync(tmpName('watch-'));
  const hook = path.join(dir, 'w.js');
  fs.writeFileSync(hook, 'function onItemCaptured(d) { console.log("v1", d.protocol.name); }\n');
  const cli = startCli(['run', hook, '--pcap', file, '--watch']);
  const count = (prefix: string) => cli.out().split('\n').filter((l) => l.startsWith(prefix)).length;
  await cli.until('the end of the file', () => /capture done; still watching/.test(cli.err()));
  assert.equal(count('v1 '), total);
  fs.writeFileSync(hook, 'function onItemCaptured(d) { console.log("v2", d.src.port > 0); }\n');
  await cli.until('the replay', () => count('v2 ') === total);
  assert.match(cli.err(), new RegExp(`wirehook: reloaded ${hook}\\nwirehook: replaying ${total} items through ${hook}\\n`));
  assert.equal(count('v2 true'), total);
  // A broken save: the error with its place, and the previous version stays.
  fs.writeFileSync(hook, 'function onItemCaptured(d) {\n  console.log("v3" d);\n}\n');
  await cli.until('the load error', () => /not reloaded/.test(cli.err()));
  assert.match(cli.err(), new RegExp(`${hook}:2:\\d+: SyntaxError: [^\\n]+\\nwirehook: ${hook} not reloaded; the previous version keeps running\\n`));
  const code = await cli.interrupt();
  assert.equal(code, 0, cli.err());
  assert.equal(count('v3'), 0);
  assert.match(cli.err(), new RegExp(`wirehook: ran 1 script\\(s\\) over ${total} items`));
});

test('run: errors are counted one by one and grouped by place in the summary', async () => {
  const { file, http, dns } = await scenarioPcap();
  const hook = script('throws.js', 'function onItemCaptured(d) {\n  if (d.protocol.name === "dns") undefined.x;\n  else null.y;\n}\n');
  const r = run([hook, '--pcap', file]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stderr.split('\n');
  // One line for the first of each error, one with the count of the rest.
  assert.equal(lines.filter((l) => /throws\.js:2:\d+: onItemCaptured: TypeError/.test(l)).length, dns.length > 1 ? 2 : 1);
  if (dns.length > 1) assert.ok(lines.some((l) => l.endsWith(`(${dns.length - 1} more)`)), r.stderr);
  assert.match(r.stderr, new RegExp(`${http.length + dns.length} script errors \\((${http.length}|${dns.length}) at ${hook}:\\d+:\\d+, (${http.length}|${dns.length}) at ${hook}:\\d+:\\d+\\)`));
});

test('run --interface lo --watch: lines come while capturing; an edit reloads the script for the next items (no replay live)', async () => {
  const { startHttpServer, httpScenario } = await import('../helpers/traffic');
  const h = await startHttpServer();
  const dir = fs.mkdtempSync(tmpName('watch-live-'));
  const hook = path.join(dir, 'live.js');
  fs.writeFileSync(hook, 'function onItemCaptured(d) { console.log("v1", d.response.status); }\n');
  const cli = startCli(['run', hook, '-i', 'lo', '-f', `tcp port ${h.port}`, '--watch']);
  const count = (prefix: string) => cli.out().split('\n').filter((l) => l.startsWith(prefix)).length;
  try {
    await cli.until('the capture to start', () => /capturing on lo/.test(cli.err()) && /watching/.test(cli.err()));
    const first = await httpScenario(h.port);
    await cli.until('v1 lines during the capture', () => count('v1 ') === first.length);
    fs.writeFileSync(hook, 'function onItemCaptured(d) { console.log("v2", d.request.method); }\n');
    await cli.until('the reload', () => /wirehook: reloaded /.test(cli.err()));
    const second = await httpScenario(h.port);
    await cli.until('v2 lines', () => count('v2 ') === second.length);
    assert.deepEqual(cli.out().split('\n').filter((l) => l.startsWith('v2 ')), second.map((s) => `v2 ${s.method}`));
    assert.doesNotMatch(cli.err(), /replaying/);
  } finally {
    const code = await cli.interrupt();
    await h.close();
    assert.equal(code, 0, cli.err());
  }
});
