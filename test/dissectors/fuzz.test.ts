/**
 * Robustness: real recorded exchanges, mutated with a seeded PRNG (flipped bytes, cut chunks,
 * random gaps and re-chunking), must never make a dissector throw, hang, or hit its
 * internal-error guard, and whatever it emits must keep the item shape.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startHttpServer, httpScenario, startDnsServer, dnsScenario } from '../helpers/traffic';
import { recordRelay, collector, type Recorded, prng, mutate, replayMutated, turn } from './harness';
import { rounds } from '../hardening/fuzz-lib';
import { http } from '../../capture/dissectors/http';
import { dns } from '../../capture/dissectors/dns';
import { tlsx } from '../../capture/dissectors/tlsx';
import type { L7Message } from '../../capture/types';
import { http2 } from '../../capture/dissectors/http2';
import { startH2Server, h2Scenario, startGrpcServer, grpcScenario } from '../helpers/h2-traffic';

let httpRecs: Recorded[] = [];
let dnsRecs: Recorded[] = [];
let h2Recs: Recorded[] = [];

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
  const h2s = await startH2Server();
  const g = await startGrpcServer();
  try {
    h2Recs = [
      ...await recordRelay(h2s.port, async (p) => { await h2Scenario(p); }),
      ...await recordRelay(g.port, async (p) => { await grpcScenario(p); }),
    ].filter((r) => r.transport === 'tcp' && r.chunks.length > 0);
  } finally {
    await h2s.close();
    await g.close();
  }
});



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

test('HTTP: 300 mutated replays of the real scenario never throw and keep the item shape', async () => {
  const rnd = prng(0xc0ffee);
  let warned = 0;
  for (let round = 0, n = rounds(300); round < n; round++) {
    await turn(round);
    const rec = httpRecs[round % httpRecs.length];
    const c = collector('tcp', 4096);
    const p = http.tcp!(c.ctx);
    replayMutated(p, rec.chunks, rnd, { gap: 0.05, mutate: 0.4, maxGap: 3000 });
    for (const m of c.msgs) checkShape(m, 'http');
    assert.equal(c.warnings.filter((w) => w.includes('internal error')).length, 0, c.warnings.join('\n'));
    warned += c.warnings.length;
  }
  assert.ok(warned > 50, `the mutations reached the error paths (${warned} warnings)`);
});

test('DNS: 300 mutated replays (UDP datagrams and TCP streams) never throw and keep the item shape', async () => {
  const rnd = prng(0xdecaf);
  let messages = 0;
  assert.ok(dnsRecs.length > 0, 'recorded DNS conversations to mutate');
  for (let round = 0, n = rounds(300); round < n; round++) {
    await turn(round);
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
    messages += c.msgs.length;
  }
  // The shape was checked on many messages, not on none (unmutated rounds give theirs).
  assert.ok(messages >= 150, `${messages} DNS messages came out of 300 rounds`);
});

test('HTTP/2 and gRPC: 300 mutated replays never throw, never hang, and keep the item shape', async () => {
  assert.ok(h2Recs.length >= 2, 'Node http2 and gRPC connections recorded');
  const rnd = prng(0x5eed2);
  let warned = 0;
  for (let round = 0, n = rounds(300); round < n; round++) {
    await turn(round);
    const rec = h2Recs[round % h2Recs.length];
    const c = collector('tcp', 4096);
    const p = http2.tcp!(c.ctx);
    replayMutated(p, rec.chunks, rnd, { gap: 0.03, mutate: 0.3, maxGap: 3000 });
    for (const m of c.msgs) checkShape(m, 'http');
    assert.equal(c.warnings.filter((w) => w.includes('internal error')).length, 0, c.warnings.join('\n'));
    warned += c.warnings.length;
  }
  assert.ok(warned > 50, `the mutations reached the error paths (${warned} warnings)`);
});

test('pure noise is refused by detection and survives the parsers', () => {
  const rnd = prng(42);
  const flow = { srcIp: '127.0.0.1', srcPort: 1, dstIp: '127.0.0.1', dstPort: 2, transport: 'udp' as const };
  let claimed = 0;
  for (let i = 0, n = rounds(2000); i < n; i++) {
    const b = Buffer.alloc(1 + Math.floor(rnd() * 300));
    for (let k = 0; k < b.length; k++) b[k] = Math.floor(rnd() * 256);
    if (http.detect(b, 0, { ...flow, transport: 'tcp' }) === true) claimed++;
    if (dns.detect(b, 0, flow) === true) claimed++;
    if (http2.detect(b, 0, { ...flow, transport: 'tcp' }) === true || http2.detect(b, 1, { ...flow, transport: 'tcp' }) === true) claimed++;
    const c2 = collector('tcp');
    const p2 = http2.tcp!(c2.ctx);
    p2.data(0, Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), b]), { sec: 1, nsec: 0 });
    p2.data(1, b, { sec: 1, nsec: 1 });
    p2.end(null, { sec: 2, nsec: 0 }, 'eof');
    assert.equal(c2.warnings.filter((w) => w.includes('internal error')).length, 0);
    if (tlsx.detect(b, 0, { ...flow, transport: 'tcp' }) === true) claimed++;
    const c = collector('tcp');
    const p = http.tcp!(c.ctx);
    p.data(0, b, { sec: 1, nsec: 0 });
    p.data(1, b, { sec: 1, nsec: 1 });
    p.end(null, { sec: 2, nsec: 0 }, 'eof');
    assert.equal(c.msgs.length, 0);
  }
  assert.ok(claimed <= 2, `random bytes claimed ${claimed} times`);
});

// ------------------------------------------------------------------ weblayer: WebSocket, TLS, ICMP

test('WebSocket (through the HTTP upgrade) and TLS: 200 mutated replays each of real sessions never throw', async () => {
  const { startWsServer, wsScenario, startTlsServer, tlsScenario } = await import('../helpers/weblayer-traffic');
  const { tlsx } = await import('../../capture/dissectors/tlsx');
  await import('../../capture/dissectors/websocket');
  const w = await startWsServer('takeover');
  const t = await startTlsServer();
  let wsRecs: Recorded[] = [];
  let tlsRecs: Recorded[] = [];
  try {
    wsRecs = await recordRelay(w.port, async (p) => { await wsScenario(p, true); });
    tlsRecs = await recordRelay(t.port, async (p) => { await tlsScenario(p); });
  } finally {
    await w.close();
    await t.close();
  }
  assert.ok(wsRecs.length >= 1 && tlsRecs.length >= 4);
  const rnd = prng(0x5eed);
  let emitted = 0;
  for (const [recs, make] of [[wsRecs, http.tcp!], [tlsRecs, tlsx.tcp!]] as const) {
    for (let round = 0, n = rounds(200); round < n; round++) {
      await turn(round);
      const rec = recs[round % recs.length];
      const c = collector('tcp', 4096);
      const p = make(c.ctx);
      replayMutated(p, rec.chunks, rnd, { gap: 0.05, mutate: 0.4, maxGap: 3000 });
      for (const m of c.msgs) {
        assert.ok(m.requestSize >= 0 && m.responseSize >= 0);
        assert.ok(typeof m.request === 'object' && typeof m.response === 'object');
      }
      emitted += c.msgs.length;
    }
  }
  assert.ok(emitted > 400, `${emitted} items from the mutated replays`);
});

test('ICMP: random and truncated messages decode without throwing', async () => {
  const { parseIcmp } = await import('../../capture/dissectors/icmp');
  const rnd = prng(0x1c);
  for (let i = 0, n = rounds(5000); i < n; i++) {
    const b = Buffer.alloc(8 + Math.floor(rnd() * 80));
    for (let k = 0; k < b.length; k++) b[k] = Math.floor(rnd() * 256);
    if (rnd() < 0.5) b[0] = [3, 11, 1, 3, 4][Math.floor(rnd() * 5)]; // error types quote a datagram
    if (rnd() < 0.5) b[8] = rnd() < 0.5 ? 0x45 : 0x60;
    const m = parseIcmp(rnd() < 0.5 ? 4 : 6, b, 0, b.length);
    assert.equal(m.length, b.length);
    assert.equal(typeof m.typeCode, 'string');
  }
});
