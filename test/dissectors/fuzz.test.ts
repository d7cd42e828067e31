/**
 * Robustness: real recorded exchanges, mutated with a seeded PRNG (flipped bytes, cut chunks,
 * random gaps and re-chunking), must never make a dissector throw, hang, or hit its
 * internal-error guard, and whatever it emits must keep the item shape.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startHttpServer, httpScenario, startDnsServer, dnsScenario } from '../helpers/traffic';
import { recordRelay, collector, type Recorded, prng } from './harness';
import { http } from '../../capture/dissectors/http';
import { dns } from '../../capture/dissectors/dns';
import type { L7Message } from '../../capture/types';
// Kafka, AMQP 0-9-1, MongoDB (issue 12)
import { readFileSync } from 'node:fs';
import type { Dissector } from '../../capture/types';
import { kafka } from '../../capture/dissectors/kafka';
import { amqp } from '../../capture/dissectors/amqp';
import { mongodb } from '../../capture/dissectors/mongodb';

let httpRecs: Recorded[] = [];
let dnsRecs: Recorded[] = [];

before(async () => {
  const h = await startHttpServer();
  const d = await startDnsServer();
  try {
    httpRecs = await recordRelay(h.port, async (p) => { await httpScenario(p); });
    dnsRecs = await recordRelay(d.port, async (p) => { await dnsScenario(p); });
  } finally {
    await h.close();
    await d.close();
  }
});


function mutate(b: Buffer, rnd: () => number): Buffer {
  const out = Buffer.from(b);
  const flips = Math.floor(rnd() * 4);
  for (let i = 0; i < flips && out.length; i++) out[Math.floor(rnd() * out.length)] = Math.floor(rnd() * 256);
  if (rnd() < 0.1) return out.subarray(0, Math.floor(rnd() * out.length));
  return out;
}

function checkShape(m: L7Message, kind: 'http' | 'dns'): void {
  assert.ok(m.requestSize >= 0 && m.responseSize >= 0);
  assert.ok(m.requestTs && typeof m.requestTs.sec === 'number');
  const req = m.request as Record<string, unknown>;
  const res = m.response as Record<string, unknown>;
  if (kind === 'http') {
    assert.equal(typeof req.method, 'string');
    assert.ok(Array.isArray(req.pathSegments));
    assert.equal(typeof res.status, 'number');
    assert.equal(typeof (res.content as Record<string, unknown>).size, 'number');
  } else {
    assert.ok(Array.isArray(req.questions));
    for (const k of ['answers', 'authorities', 'additionals']) assert.ok(Array.isArray(res[k]));
  }
}

test('HTTP: 300 mutated replays of the real scenario never throw and keep the item shape', () => {
  const rnd = prng(0xc0ffee);
  let warned = 0;
  for (let round = 0; round < 300; round++) {
    const rec = httpRecs[round % httpRecs.length];
    const c = collector('tcp', 4096);
    const p = http.tcp!(c.ctx);
    for (const ch of rec.chunks) {
      const r = rnd();
      if (r < 0.05) { p.gap(ch.dir, 1 + Math.floor(rnd() * 3000), ch.ts); continue; }
      const bytes = r < 0.4 ? mutate(ch.bytes, rnd) : ch.bytes;
      const step = rnd() < 0.3 ? 1 + Math.floor(rnd() * 50) : bytes.length || 1;
      for (let i = 0; i < bytes.length; i += step) p.data(ch.dir, bytes.subarray(i, i + step), ch.ts);
    }
    p.end(null, { sec: 2e9, nsec: 0 }, rnd() < 0.5 ? 'fin' : 'rst');
    for (const m of c.msgs) checkShape(m, 'http');
    assert.equal(c.warnings.filter((w) => w.includes('internal error')).length, 0, c.warnings.join('\n'));
    warned += c.warnings.length;
  }
  assert.ok(warned > 50, `the mutations reached the error paths (${warned} warnings)`);
});

test('DNS: 300 mutated replays (UDP datagrams and TCP streams) never throw and keep the item shape', () => {
  const rnd = prng(0xdecaf);
  for (let round = 0; round < 300; round++) {
    const rec = dnsRecs[round % dnsRecs.length];
    const c = collector(rec.transport);
    if (rec.transport === 'udp') {
      const p = dns.udp!(c.ctx);
      for (const ch of rec.chunks) p.datagram(ch.dir, rnd() < 0.5 ? mutate(ch.bytes, rnd) : ch.bytes, ch.ts);
      p.end({ sec: 2e9, nsec: 0 }, 'eof');
    } else {
      const p = dns.tcp!(c.ctx);
      for (const ch of rec.chunks) {
        if (rnd() < 0.05) { p.gap(ch.dir, 7, ch.ts); continue; }
        const bytes = rnd() < 0.4 ? mutate(ch.bytes, rnd) : ch.bytes;
        for (let i = 0; i < bytes.length; i += 3) p.data(ch.dir, bytes.subarray(i, i + 3), ch.ts);
      }
      p.end(null, { sec: 2e9, nsec: 0 }, 'fin');
    }
    for (const m of c.msgs) checkShape(m, 'dns');
  }
});

test('pure noise is refused by detection and survives the parsers', () => {
  const rnd = prng(42);
  const flow = { srcIp: '127.0.0.1', srcPort: 1, dstIp: '127.0.0.1', dstPort: 2, transport: 'udp' as const };
  let claimed = 0;
  for (let i = 0; i < 2000; i++) {
    const b = Buffer.alloc(1 + Math.floor(rnd() * 300));
    for (let k = 0; k < b.length; k++) b[k] = Math.floor(rnd() * 256);
    if (http.detect(b, 0, { ...flow, transport: 'tcp' }) === true) claimed++;
    if (dns.detect(b, 0, flow) === true) claimed++;
    const c = collector('tcp');
    const p = http.tcp!(c.ctx);
    p.data(0, b, { sec: 1, nsec: 0 });
    p.data(1, b, { sec: 1, nsec: 1 });
    p.end(null, { sec: 2, nsec: 0 }, 'eof');
    assert.equal(c.msgs.length, 0);
  }
  assert.ok(claimed <= 2, `random bytes claimed ${claimed} times`);
});

// ---------------------------------------------------------------- Kafka, AMQP 0-9-1, MongoDB (issue 12)

/** Real connections recorded by test/hardening/make-stream-corpus.ts (kafkajs, amqplib + RabbitMQ, the mongodb driver). */
function streams(name: string): Recorded[] {
  const raw = JSON.parse(readFileSync(`test/hardening/corpus/streams/${name}.json`, 'utf8')) as [0 | 1, string][][];
  let t = 0;
  return raw.map((conn) => ({ transport: 'tcp' as const, chunks: conn.map(([dir, hex]) => ({ dir, bytes: Buffer.from(hex, 'hex'), ts: { sec: 1_700_000_000, nsec: ++t } })) }));
}

const BINARY: [string, Dissector][] = [['kafka', kafka], ['amqp', amqp], ['mongodb', mongodb]];

for (const [name, d] of BINARY) {
  test(`${name}: 300 mutated replays of real connections never throw, never hang, and keep the item shape`, () => {
    const recs = streams(name);
    assert.ok(recs.length > 0);
    // Unmutated first: the recordings dissect cleanly.
    let clean = 0;
    for (const rec of recs) {
      const c = collector();
      const p = d.tcp!(c.ctx);
      for (const ch of rec.chunks) p.data(ch.dir, ch.bytes, ch.ts);
      p.end(null, { sec: 2e9, nsec: 0 }, 'fin');
      clean += c.msgs.length;
      assert.deepEqual(c.warnings, []);
    }
    assert.ok(clean > 5, `${clean} items from the clean recordings`);
    const rnd = prng(name.length * 7919);
    let warned = 0, errors = 0;
    for (let round = 0; round < 300; round++) {
      const rec = recs[round % recs.length];
      const c = collector('tcp', 4096);
      const p = d.tcp!(c.ctx);
      for (const ch of rec.chunks) {
        const r = rnd();
        if (r < 0.05) { p.gap(ch.dir, 1 + Math.floor(rnd() * 3000), ch.ts, rnd() < 0.5 ? 'lost' : 'snaplen'); continue; }
        const bytes = r < 0.4 ? mutate(ch.bytes, rnd) : ch.bytes;
        const step = rnd() < 0.3 ? 1 + Math.floor(rnd() * 50) : bytes.length || 1;
        for (let i = 0; i < bytes.length; i += step) p.data(ch.dir, bytes.subarray(i, i + step), ch.ts);
        if (rnd() < 0.02) break; // cut the connection here
      }
      p.end(null, { sec: 2e9, nsec: 0 }, rnd() < 0.5 ? 'fin' : 'rst');
      for (const m of c.msgs) {
        assert.ok(m.requestSize >= 0 && m.responseSize >= 0);
        assert.equal(typeof m.request, 'object');
        assert.equal(typeof m.response, 'object');
        JSON.stringify(m.request); // serialisable (no BigInt, no cycles)
        JSON.stringify(m.response);
        if (m.error) errors++;
      }
      assert.equal(c.warnings.filter((w) => w.includes('internal error')).length, 0, c.warnings.join('\n'));
      assert.equal(c.pendings[c.pendings.length - 1] ?? null, null, 'nothing left pending after the end');
      warned += c.warnings.length;
    }
    assert.ok(warned + errors > 30, `the mutations reached the error paths (${warned} warnings, ${errors} error items)`);
  });
}

test('Kafka, AMQP, MongoDB detection: random bytes are refused within a few comparisons, never claimed', () => {
  const rnd = prng(7);
  const flow = { srcIp: '127.0.0.1', srcPort: 1, dstIp: '127.0.0.1', dstPort: 2, transport: 'tcp' as const };
  let claimed = 0, undecided = 0;
  for (let i = 0; i < 5000; i++) {
    const b = Buffer.alloc(16 + Math.floor(rnd() * 300));
    for (let k = 0; k < b.length; k++) b[k] = Math.floor(rnd() * 256);
    for (const [, d] of BINARY) {
      const r = d.detect(b, (i & 1) as 0 | 1, flow);
      if (r === true) claimed++;
      if (r === 'maybe') undecided++;
    }
  }
  assert.equal(claimed, 0);
  // Kafka's server side may stay undecided ('maybe') until the client speaks: ≤ 1 in 50 here.
  assert.ok(undecided < 5000 * 3 / 50, `${undecided} undecided`);
});
