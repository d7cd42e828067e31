// `wirehook items` / `wirehook interfaces` through the built dist/cli.js (run `npm run build` first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { CLI, cli, mixCapture, outFile } from './lib';

const lines = (s: string) => s.split('\n').filter(Boolean).map((l) => JSON.parse(l));

test('items: NDJSON in request order, --stats on stderr, exit 0', async () => {
  const { file, http, dns } = await mixCapture();
  const r = cli(['items', '--pcap', file, '--stats']);
  assert.equal(r.code, 0, r.stderr);
  const items = lines(r.stdout);
  assert.equal(items.length, http + dns);
  const ts = items.map((i) => i.startTime);
  assert.deepEqual(ts, [...ts].sort(), 'request order');
  assert.match(r.stderr, /^wirehook: packets: \d+ \((\S+=\d+ ?)+\)$/m);
  assert.match(r.stderr, new RegExp(`^wirehook: items: ${http + dns} \\(http=${http} dns=${dns}\\)$`, 'm'));
  assert.match(r.stderr, /^wirehook: drops: n\/a \(file\)$/m);
  assert.match(r.stderr, /^wirehook: gaps: 0$/m);
  const i = items[0];
  assert.match(i.id, /^file\/[^/]+\.pcap\/000000000001\.pcap-0$/);
  assert.equal(i.entryFile, '000000000001_pcap-0_entry.json');
  assert.match(i.startTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  assert.equal(i.timestamp, Math.floor(Date.parse(i.startTime)));
  assert.equal(typeof i.src.port, 'string');
  assert.ok(items.some((x) => /_udp\.pcap-0$/.test(x.id)));
});

test('items: --count, --quiet, --query, stdin', async () => {
  const { file, http } = await mixCapture();
  const c = cli(['items', '--pcap', file, '--count', '5']);
  assert.equal(c.code, 0);
  assert.equal(lines(c.stdout).length, 5);
  const q = cli(['items', '--pcap', file, '--quiet', '--stats']);
  assert.equal(q.stdout, '');
  assert.match(q.stderr, /items: \d+/);
  const h = cli(['items', '--pcap', file, '--query', 'http']);
  assert.equal(h.code, 0, h.stderr);
  assert.equal(lines(h.stdout).length, http);
  const qc = cli(['items', '--pcap', file, '--query', 'dns', '-c', '2']);
  assert.deepEqual(lines(qc.stdout).map((i) => i.protocol.name), ['dns', 'dns']);
  const s = cli(['items', '--pcap', '-'], readFileSync(file));
  assert.equal(s.code, 0);
  assert.equal(lines(s.stdout).length, lines(cli(['items', '--pcap', file]).stdout).length);
  assert.match(lines(s.stdout)[0].id, /^file\/stdin\//);
});

test('items --quiet (lean: no items built) reports the same --stats as a full run, warnings included', async () => {
  const { file } = await mixCapture();
  // A damaged copy: every 7th packet's last 40 bytes scrambled, so dissectors warn.
  const bytes = readFileSync(file);
  let off = 24;
  for (let n = 0; off + 16 <= bytes.length; n++) {
    const incl = bytes.readUInt32LE(off + 8);
    const end = off + 16 + incl;
    if (n % 7 === 3) for (let i = Math.max(off + 16 + 54, end - 40); i < end && i < bytes.length; i++) bytes[i] = (bytes[i] * 31 + n) & 0xff;
    off = end;
  }
  const damaged = outFile('pcap');
  writeFileSync(damaged, bytes);
  for (const f of [file, damaged]) {
    const noTime = (s: string) => s.split('\n').filter((l) => !l.startsWith('wirehook: elapsed')).join('\n');
    const lean = cli(['items', '--pcap', f, '--quiet', '--stats']);
    const full = cli(['items', '--pcap', f, '--stats']);
    assert.equal(lean.code, 0, lean.stderr);
    assert.equal(noTime(lean.stderr), noTime(full.stderr));
    const counted = cli(['items', '--pcap', f, '--quiet', '--stats', '--count', '3']);
    assert.match(counted.stderr, /^wirehook: items: 3 /m);
  }
  assert.match(cli(['items', '--pcap', damaged, '--quiet', '--stats']).stderr, /warnings: /, 'the damaged copy makes dissectors warn');
});

test('items: bad usage and bad files exit 2 with one wirehook: line', async () => {
  const { file } = await mixCapture();
  const bad = outFile('pcap');
  writeFileSync(bad, Buffer.from('12345678abcdef000123456789abcdef', 'hex'));
  const cases: [string[], RegExp][] = [
    [['items'], /^wirehook: give --pcap FILE\|- or --interface IF\n$/],
    [['items', '--pcap', file, '--interface', 'lo'], /^wirehook: give either --pcap or --interface, not both\n$/],
    [['items', '--pcap', '/nonexistent/x.pcap'], /^wirehook: cannot read \/nonexistent\/x\.pcap: no such file\n$/],
    [['items', '--pcap', bad], /^wirehook: .*: bad magic 0x12345678 \(not a pcap or pcapng file\) at byte 0\n$/],
    [['items', '--pcap', file, '--count', 'x'], /^wirehook: --count wants a positive whole number, got 'x'\n$/],
    [['items', '--pcap', file, '--bogus'], /^wirehook: Unknown option '--bogus'\n$/],
    [['items', '--pcap', file, '--query', 'http and ('], /^wirehook: query \d+:\d+: .+\n$/],
    [['items', '--interface', 'no-such-if0'], /^wirehook: no capture interface 'no-such-if0' \(see 'wirehook interfaces'\)\n$/],
    [['items', '--interface', 'lo', '--filter', 'tcp port'], /^wirehook: bad --filter: .+\n$/],
  ];
  for (const [args, re] of cases) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
  }
});

test('items: a truncated file still prints every complete item, warns, exits 0', async () => {
  const { file } = await mixCapture();
  const buf = readFileSync(file);
  const cut = outFile('pcap');
  writeFileSync(cut, buf.subarray(0, buf.length - 10));
  const r = cli(['items', '--pcap', cut]);
  assert.equal(r.code, 0);
  assert.match(r.stderr, /^wirehook: warning: .*: truncated record at byte \d+ \(\d+ of \d+ bytes present\)\n$/);
  const full = lines(cli(['items', '--pcap', file]).stdout);
  assert.ok(lines(r.stdout).length >= full.length - 1);
});

test('items: a closed pipe (| head -n 1) ends quietly', async () => {
  const { file } = await mixCapture();
  // bash, for PIPESTATUS: the CLI's own exit status, not head's.
  const sh = spawn('bash', ['-c', `"${process.execPath}" "${CLI}" items --pcap "${file}" | head -n 1; echo "rc=\${PIPESTATUS[0]}"`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  sh.stdout.on('data', (d) => (out += d));
  sh.stderr.on('data', (d) => (err += d));
  await new Promise((r) => sh.on('close', r));
  assert.equal(out.split('\n').filter((l) => l.startsWith('{')).length, 1);
  assert.match(out, /^rc=0$/m, 'the CLI exits 0 when its reader goes away');
  assert.equal(err, '');
});

test('interfaces lists lo as up and loopback', () => {
  const r = cli(['interfaces']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^lo\s+\[up,loopback\]\s+127\.0\.0\.1/m);
  const j = JSON.parse(cli(['interfaces', '--json']).stdout);
  const lo = j.find((i: { name: string }) => i.name === 'lo');
  assert.equal(lo.loopback, true);
  assert.ok(lo.addresses.includes('127.0.0.1'));
});

test('items: live capture without privileges exits 2 and says how to fix it', { skip: process.getuid?.() !== 0 && 'needs root to drop to nobody' }, () => {
  for (const backend of ['tcpdump', 'cap']) {
    const r = spawnSync('runuser', ['-u', 'nobody', '--', 'env', `WIREHOOK_LIVE_BACKEND=${backend}`, process.execPath, CLI, 'items', '-i', 'lo', '-c', '1'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^wirehook: no permission to capture on lo: run as root, or grant the capability: setcap cap_net_raw,cap_net_admin=eip .*\n$/);
  }
});
