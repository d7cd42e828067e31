/**
 * Every script in examples/hooks loads and does what it says, over the items and packets of a
 * real loopback capture (jobs are run on demand instead of waiting for their cron).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readPcap } from '../../server/runtime/pcap';
import type { Item } from '../../capture/item/schema';
import { itemsOf, scenarioPcap } from './fixture';
import { harness } from './harness';

const DIR = path.resolve('examples/hooks');
const src = (f: string) => fs.readFileSync(path.join(DIR, f), 'utf8');

async function capture(): Promise<{ file: string; items: Item[]; http: Item[]; dns: Item[] }> {
  const { file } = await scenarioPcap();
  const items = itemsOf(file);
  return { file, items, http: items.filter((i) => i.protocol.name === 'http'), dns: items.filter((i) => i.protocol.name === 'dns') };
}

test('every example loads with a title and no errors', async () => {
  const h = await harness();
  for (const f of fs.readdirSync(DIR).filter((x) => x.endsWith('.js'))) {
    const r = h.rt.load(f, src(f));
    assert.ok(r.title.length > 3, `${f} has a title`);
  }
  assert.deepEqual(h.errors(), []);
  h.rt.close();
});

test('packet-byte-counter counts what tshark counts', async () => {
  const { file } = await capture();
  const h = await harness();
  h.rt.load('p.js', src('packet-byte-counter.js'));
  const { recs } = readPcap(file);
  const infos = new Float64Array(recs.length * 5);
  recs.forEach((r, i) => infos.set([r.sec, r.nsec, r.buf.readUInt32LE(8), r.buf.readUInt32LE(12), 0], i * 5));
  h.rt.packets(infos);
  h.rt.runJob('p.js', 'packet-byte-report');
  const lens = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.len'], { encoding: 'utf8' }).trim().split('\n').map(Number);
  assert.deepEqual(h.logs(), [`packets: ${lens.length}, bytes: ${lens.reduce((a, b) => a + b, 0)}`]);
  h.rt.close();
});

test('status-codes, periodic-report, top-talkers, latency-prometheus report over real items', async () => {
  const { items, http } = await capture();
  const h = await harness();
  for (const f of ['status-codes.js', 'periodic-report.js', 'top-talkers.js', 'latency-prometheus.js']) h.rt.load(f, src(f));
  h.rt.captured(items);
  h.rt.runJob('status-codes.js', 'status-report');
  h.rt.runJob('periodic-report.js', 'protocol-report');
  h.rt.runJob('top-talkers.js', 'top-talkers');
  h.rt.runJob('latency-prometheus.js', 'latency-publish');
  const codes: Record<string, number> = {};
  for (const i of http) codes[(i.response as { status: number }).status] = (codes[(i.response as { status: number }).status] ?? 0) + 1;
  assert.deepEqual(h.logs('status-codes.js'), [`status codes: ${Object.keys(codes).sort().map((k) => `${k}=${codes[k]}`).join(' ')}`]);
  const abbr: Record<string, number> = {};
  for (const i of items) abbr[i.protocol.abbr] = (abbr[i.protocol.abbr] ?? 0) + 1;
  assert.deepEqual(h.logs('periodic-report.js'), [`report: ${items.length} items ${JSON.stringify(abbr)}`]);
  const talkers = h.logs('top-talkers.js');
  assert.ok(talkers.length >= 1 && talkers.length <= 5);
  assert.match(talkers[0], /^1\. 127\.0\.0\.1 -> 127\.0\.0\.1:\d+ \d+ bytes$/);
  const lat = h.logs('latency-prometheus.js');
  assert.equal(lat.length, new Set(http.map((i) => `${(i.request as { method: string }).method} ${(i.request as { path: string }).path}`)).size);
  const metrics = h.rt.metrics.render();
  assert.match(metrics, /# TYPE http_status_codes gauge\n/);
  assert.match(metrics, /# TYPE http_latency_ms gauge\n/);
  assert.match(metrics, /report_runs_total 1\n/);
  assert.deepEqual(h.errors(), []);
  h.rt.close();
});

test('pass-fail marks queried items; kfl-errors reports the bad query and matches the good ones', async () => {
  const { items, http } = await capture();
  const h = await harness({ env: { ALERT_KFL: 'http and request.method == "POST"' } });
  h.rt.load('pf.js', src('pass-fail.js'));
  h.rt.load('k.js', src('kfl-errors.js'));
  const res = h.rt.queried(http, 'http');
  const bad = http.map((i) => (i.response as { status: number }).status >= 500);
  assert.deepEqual(res.map((r) => r.failed), bad);
  assert.deepEqual(res.map((r) => r.passed), bad.map((b) => !b));
  const errLines = h.events.filter((e) => e.type === 'log' && e.stream === 'error').map((e) => (e as { text: string }).text);
  assert.equal(errLines.length, 1);
  assert.match(errLines[0], /^invalid query "http and \?": 1:\d+: /);
  h.rt.captured(items);
  const matches = h.logs('k.js');
  const n500 = bad.filter(Boolean).length;
  const nPost = http.filter((i) => (i.request as { method: string }).method === 'POST').length;
  assert.equal(matches.filter((l) => l.startsWith('match [http and response.status >= 500]')).length, n500);
  assert.equal(matches.filter((l) => l.startsWith('match [http and request.method == "POST"]')).length, nPost);
  h.rt.close();
});

test('webhook records one call per server error; print-env prints env', async () => {
  const { items, http } = await capture();
  const h = await harness({ env: { WEBHOOK_URL: 'http://127.0.0.1:9/x' } });
  h.rt.load('w.js', src('webhook.js'));
  h.rt.load('e.js', src('print-env.js'));
  h.rt.captured(items);
  const net = h.events.filter((e) => e.type === 'network');
  assert.equal(net.length, http.filter((i) => (i.response as { status: number }).status >= 500).length);
  for (const e of net) assert.match((e as { summary: string }).summary, /^POST http:\/\/127\.0\.0\.1:9\/x \(\d+ bytes: \{"method":"[A-Z]+","path":"[^"]+","status":5\d\d,"client":"127\.0\.0\.1"\}\)$/);
  assert.deepEqual(h.logs('e.js'), ['{"WEBHOOK_URL":"http://127.0.0.1:9/x"}']);
  h.rt.close();
});

test('dns-top5: workers send counts with hub.action, the hub merges and prints the top 5', async () => {
  const { items, dns } = await capture();
  const h = await harness();
  h.rt.load('d.js', src('dns-top5.js'));
  h.rt.captured(items);
  h.rt.runJob('d.js', 'dns-top5-send');
  h.rt.captured(items);
  h.rt.runJob('d.js', 'dns-top5-send');
  const counts: Record<string, number> = {};
  for (const i of dns) for (const q of (i.request as { questions: { name: string }[] }).questions) counts[q.name] = (counts[q.name] ?? 0) + 2;
  const top = Object.keys(counts).sort((a, b) => counts[b] - counts[a] || (a < b ? -1 : 1)).slice(0, 5).map((n) => `${n} ${counts[n]}`);
  const hubLines = h.events.filter((e) => e.type === 'log' && e.role === 'hub').map((e) => (e as { text: string }).text);
  assert.equal(hubLines.length, 2);
  assert.equal(hubLines[1], `top DNS: ${top.join(', ')}`);
  h.rt.close();
});

test('services.js over the bundled services capture: a line per database, broker, gRPC, GraphQL and TLS call; failures on stderr', async () => {
  const items = itemsOf(path.resolve('examples/captures/services.pcap'));
  const h = await harness();
  h.rt.load('s.js', src('services.js'));
  h.rt.captured(items);
  const out = h.logs('s.js');
  const err = h.events.flatMap((e) => (e.type === 'log' && e.stream !== 'log' && e.script === 's.js' ? [e.text] : []));
  for (const abbr of ['PGSQL', 'MYSQL', 'REDIS', 'KAFKA', 'AMQP', 'MONGODB', 'TLSX', 'gRPC', 'GQL']) {
    assert.ok([...out, ...err].some((l) => l.startsWith(`${abbr} `)), `a ${abbr} line in ${JSON.stringify(out)}`);
  }
  // Exactly the failed calls the capture holds go to stderr, each with its code.
  const pgErr = items.filter((i) => i.protocol.name === 'postgresql' && (i.response as { errorCode: string }).errorCode).length;
  const myErr = items.filter((i) => i.protocol.name === 'mysql' && (i.response as { errorCode: number }).errorCode).length;
  const redisErr = items.filter((i) => i.protocol.name === 'redis' && (i.response as { type: string }).type === 'Error').length;
  const grpcErr = items.filter((i) => ((i.response as { grpc?: { status: number } }).grpc?.status ?? 0) !== 0).length;
  assert.ok(pgErr >= 1 && myErr >= 1 && redisErr >= 1 && grpcErr >= 1);
  assert.equal(err.length, pgErr + myErr + redisErr + grpcErr, err.join('\n'));
  assert.ok(err.some((l) => /^PGSQL SELECT \* FROM missing_table → 42P01 /.test(l)));
  assert.ok(err.some((l) => /^gRPC \/demo\.Echo\/Fail → 5 /.test(l)));
  assert.ok(out.some((l) => /^PGSQL SELECT pg_sleep\(0\.2\) → SELECT 1 \(\d+ ms, slow\)$/.test(l)), 'the slow query is flagged');
  assert.deepEqual(h.errors(), []);
  h.rt.close();
});
