/**
 * The CLI's doors, through the built CLI (node dist/cli.js, `npm run build` first): what a user
 * gets for no arguments, help, unknown commands, bad numeric flags, truncated and
 * multi-interface pcapng, unreadable files, invalid KFL and a script that throws at load.
 * Expected errors exit 2 with one `wirehook: …` line on stderr; internal errors exit 70.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { scenarioCapture } from '../helpers/capture';

const CLI = resolve('dist', 'cli.js');
const DEMO = resolve('examples', 'captures', 'demo.pcap');
const OUT = mkdtempSync(join(resolve('test', '.out'), 'doors-'));

function cli(args: string[], opts: { as?: string } = {}): { code: number | null; stdout: string; stderr: string } {
  const [cmd, argv] = opts.as ? ['runuser', ['-u', opts.as, '--', process.execPath, CLI, ...args]] : [process.execPath, [CLI, ...args]];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A usage error: exit 2, exactly one `wirehook: …` line on stderr matching `re`, nothing on stdout. */
function usageError(args: string[], re: RegExp): void {
  const r = cli(args);
  assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, /^wirehook: [^\n]+\n$/, `${args.join(' ')}: one line`);
  assert.match(r.stderr, re, args.join(' '));
  assert.equal(r.stdout, '', args.join(' '));
}

/** A value starting with a dash: parseArgs' own refusal (exit 2, a few lines naming the flag). */
function dashRefused(args: string[], flag: string): void {
  const r = cli(args);
  assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`^wirehook: Option '${flag}' argument is ambiguous\\.\\n`));
  assert.equal(r.stdout, '');
}

const script = (name: string, src: string): string => {
  const f = join(OUT, name);
  writeFileSync(f, src);
  return f;
};
const lines = (s: string) => s.split('\n').filter(Boolean);

test('no arguments: the usage and exit 2; --help / -h / help: the usage and exit 0', () => {
  const none = cli([]);
  assert.equal(none.code, 2);
  assert.match(none.stdout + none.stderr, /^usage: wirehook <command> \[options\]\n[\s\S]*\n  items {7}[\s\S]*\n  run {9}/);
  for (const h of ['--help', '-h', 'help']) {
    const r = cli([h]);
    assert.equal(r.code, 0, h);
    assert.equal(r.stdout, none.stdout + none.stderr, h);
    assert.equal(r.stderr, '', h);
  }
  for (const c of ['items', 'run']) {
    const r = cli([c, '--help']);
    assert.equal(r.code, 0, c);
    assert.match(r.stdout, /--pcap/, c);
  }
});

test('an unknown command or option is a usage error that says what to try', () => {
  usageError(['captur'], /^wirehook: unknown command 'captur' \(try 'wirehook --help'\)\n$/);
  usageError(['--pcap', DEMO], /^wirehook: unknown command '--pcap'/);
  usageError(['run', '--bogus'], /^wirehook: Unknown option '--bogus'/);
});

test('--duration: bad values are usage errors; a tiny one stops early and exits 0', () => {
  for (const v of ['x', '0', '1e3', '', ' 1', '0x10', 'Infinity', 'NaN']) usageError(['items', '--pcap', DEMO, '--duration', v], /--duration wants a positive number of seconds/);
  dashRefused(['items', '--pcap', DEMO, '--duration', '-1'], '--duration');
  usageError(['items', '--pcap', DEMO, '--duration'], /^wirehook: Option '-d, --duration <value>' argument missing\n$/);
  const all = lines(cli(['items', '--pcap', DEMO]).stdout).length;
  const some = cli(['items', '--pcap', DEMO, '--duration', '0.05']);
  assert.equal(some.code, 0, some.stderr);
  assert.ok(lines(some.stdout).length < all, `--duration 0.05 stops before the end (${lines(some.stdout).length} of ${all})`);
});

test('run: bad numeric flags are usage errors naming the flag and the value', () => {
  const ok = script('ok.js', 'function onItemCaptured(d) {}');
  const cases: [string, string, string][] = [
    ['--timeout-ms', 'abc', '≥ 1'], ['--timeout-ms', '0', '≥ 1'], ['--timeout-ms', '1e3', '≥ 1'], ['--timeout-ms', '', '≥ 1'], ['--timeout-ms', '0.5', '≥ 1'],
    ['--memory-mb', '0', '≥ 1'], ['--memory-mb', 'lots', '≥ 1'], ['--memory-mb', '0.9', '≥ 1'],
    ['--metrics-port', 'http', '≥ 0'], ['--metrics-port', '80.5x', '≥ 0'],
    ['--linger', 'x', '≥ 0'], ['--linger', '5s', '≥ 0'],
  ];
  for (const [flag, v, min] of cases) usageError(['run', ok, '--pcap', DEMO, flag, v], new RegExp(`^wirehook: ${flag} wants a number ${min}, got '${v.replace('.', '\\.')}'\\n$`));
  for (const flag of ['--timeout-ms', '--memory-mb', '--metrics-port', '--linger']) dashRefused(['run', ok, '--pcap', DEMO, flag, '-5'], flag);
  usageError(['items', '--pcap', DEMO, '--count', '0'], /--count wants a positive whole number, got '0'/);
  usageError(['items', '--pcap', DEMO, '--count', '1.5'], /--count wants a positive whole number, got '1\.5'/);
});

test('run: a --metrics-port outside 0-65535 is a usage error (was: exit 70, a RangeError from listen())', () => {
  const ok = script('ok.js', 'function onItemCaptured(d) {}');
  usageError(['run', ok, '--pcap', DEMO, '--metrics-port', '70000'], /^wirehook: --metrics-port wants a number ≤ 65535, got '70000'\n$/);
  usageError(['run', ok, '--pcap', DEMO, '--memory-mb', '4096'], /--memory-mb wants a number ≤ 4095/);
  usageError(['run', ok, '--pcap', DEMO, '--timeout-ms', '2147483648'], /--timeout-ms wants a number ≤ 2147483647/);
});

test('run: a --linger too long for a timer is refused, not turned into 1 ms (was: setTimeout overflow, jobs stopped at once)', () => {
  const ok = script('ok.js', 'function onItemCaptured(d) {}');
  usageError(['run', ok, '--pcap', DEMO, '--linger', '99999999999999'], /^wirehook: --linger wants a number ≤ 2147483, got '99999999999999'\n$/);
  usageError(['run', ok, '--pcap', DEMO, '--linger', '2147484'], /--linger wants a number ≤ 2147483/);
});

test('internal errors exit 70 with "wirehook: internal error:" and the stack, nothing on stdout (reached today by a busy --metrics-port)', async () => {
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  const port = (busy.address() as net.AddressInfo).port;
  try {
    const ok = script('ok.js', 'function onItemCaptured(d) {}');
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((res) => {
      // Async spawn: the busy listener lives in this process and must keep accepting.
      const p = spawn(process.execPath, [CLI, 'run', ok, '--pcap', DEMO, '--metrics-port', String(port)]);
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d));
      p.stderr.on('data', (d: Buffer) => (stderr += d));
      p.on('close', (code) => res({ code, stdout, stderr }));
    });
    assert.equal(r.code, 70, r.stderr);
    assert.match(r.stderr, /^wirehook: internal error: Error: listen EADDRINUSE[^\n]*\n(\s+at [^\n]+\n)+$/);
    assert.equal(r.stdout, '');
  } finally {
    busy.close();
  }
});

test('truncated pcapng: every complete item is printed, one warning, exit 0; cut inside the section header: that warning and no items', async () => {
  const { file } = await scenarioCapture();
  const ng = join(OUT, 'mix.pcapng');
  execFileSync('editcap', ['-F', 'pcapng', file, ng]);
  const full = lines(cli(['items', '--pcap', ng]).stdout);
  assert.ok(full.length >= 10, `${full.length} items`);
  const bytes = readFileSync(ng);
  for (const keep of [bytes.length - 3, Math.floor(bytes.length * 0.6)]) {
    const cut = join(OUT, `cut-${keep}.pcapng`);
    writeFileSync(cut, bytes.subarray(0, keep));
    const r = cli(['items', '--pcap', cut]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^wirehook: warning: .*: truncated record at byte \d+ \(\d+ of \d+ bytes present\)\n$/);
    const got = lines(r.stdout);
    assert.ok(got.length > 0 && got.length <= full.length);
    // What is printed is what the full file gives for those exchanges (ids and all).
    const byId = new Map(full.map((l) => [JSON.parse(l).id as string, l]));
    for (const l of got) {
      const it = JSON.parse(l);
      if (byId.has(it.id) && !it.error) assert.equal(l, byId.get(it.id));
    }
  }
  const head = join(OUT, 'head.pcapng');
  writeFileSync(head, bytes.subarray(0, 20));
  const h = cli(['items', '--pcap', head]);
  assert.equal(h.code, 0, h.stderr);
  assert.match(h.stderr, /^wirehook: warning: .*head\.pcapng: truncated record at byte 0 \(20 of 108 bytes present\)\n$/);
  assert.equal(h.stdout, '');
});

test('pcapng with two interfaces of different link types (mergecap): items of both, each as from its own file', async () => {
  const eth = await scenarioCapture();
  // tcpdump on `any` writes Linux cooked v2 (SLL2) frames: a second link type.
  const sll2 = await scenarioCapture({ iface: 'any' });
  const merged = join(OUT, 'two-ifaces.pcapng');
  execFileSync('mergecap', ['-F', 'pcapng', '-w', merged, eth.file, sll2.file]);
  const info = execFileSync('capinfos', ['-E', '-I', merged], { encoding: 'utf8' });
  assert.match(info, /Number of interfaces in file: 2/);
  const summary = (out: string) =>
    lines(out)
      .map((l) => JSON.parse(l))
      .map((i) => `${i.protocol.name} ${i.dst.port} ${i.request.method ?? ''} ${i.request.path ?? ''} ${i.response.status ?? ''} ${JSON.stringify(i.request.questions ?? '')}`)
      .sort();
  const a = cli(['items', '--pcap', eth.file]);
  const b = cli(['items', '--pcap', sll2.file]);
  const m = cli(['items', '--pcap', merged]);
  assert.equal(m.code, 0, m.stderr);
  assert.equal(m.stderr, '');
  const want = [...summary(a.stdout), ...summary(b.stdout)].sort();
  assert.ok(summary(a.stdout).length >= 10 && summary(b.stdout).length >= 10);
  assert.deepEqual(summary(m.stdout), want);
});

test('unreadable capture file and script: exit 2 with the reason', { skip: process.getuid?.() !== 0 && 'needs root to drop to nobody' }, () => {
  const dir = mkdtempSync(join('/tmp', 'wirehook-doors-'));
  chmodSync(dir, 0o755);
  const pcap = join(dir, 'secret.pcap');
  writeFileSync(pcap, readFileSync(DEMO));
  chmodSync(pcap, 0o600);
  const hook = join(dir, 'hook.js');
  writeFileSync(hook, 'function onItemCaptured(d) {}');
  chmodSync(hook, 0o600);
  try {
    const r = cli(['items', '--pcap', pcap], { as: 'nobody' });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^wirehook: cannot read .*secret\.pcap: (permission denied|EACCES)[^\n]*\n$/i);
    const s = cli(['run', hook, '--pcap', DEMO], { as: 'nobody' });
    assert.equal(s.code, 2, s.stderr);
    assert.match(s.stderr, /^wirehook: cannot read hook script .*hook\.js: EACCES\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  usageError(['items', '--pcap', '/tmp'], /^wirehook: cannot read \/tmp: is a directory\n$/);
});

test('invalid KFL in items and run: exit 2 with LINE:COL, nothing printed', () => {
  const ok = script('ok.js', 'function onItemCaptured(d) { console.log(1) }');
  for (const q of ['http and (', 'request.path ==', '"unterminated', 'response.status >>> 3']) {
    usageError(['items', '--pcap', DEMO, '--query', q], /^wirehook: query \d+:\d+: .+\n$/);
    usageError(['run', ok, '--pcap', DEMO, '--query', q], /^wirehook: query \d+:\d+: .+\n$/);
  }
});

test('a script that throws at load: exit 2 with FILE:LINE:COL and the message, no items run', () => {
  const cases: [string, RegExp][] = [
    ['// t\nthrow new Error("boom at load");\nfunction onItemCaptured(d) { console.log("ran") }', /^.*throws1\.js:2:\d+: Error: boom at load\n$/],
    ['function onItemCaptured(d) { console.log("ran") }\nnull.x;', /^.*throws2\.js:2:\d+: TypeError: cannot read property 'x' of null\n$/],
    ['function onItemCaptured(d) { console.log("ran") }\nthrow { notAnError: true };', /^.*throws3\.js(:\d+:\d+)?: .+\n$/],
  ];
  cases.forEach(([src, re], i) => {
    const f = script(`throws${i + 1}.js`, src);
    const r = cli(['run', f, '--pcap', DEMO]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, re);
    assert.equal(r.stdout, '');
  });
});
