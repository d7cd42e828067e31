/**
 * Property-based fuzzing of everything after the reader: link/IP/TCP/UDP decode
 * (capture/decode/), TCP reassembly (capture/stream/tcp.ts) and the HTTP and DNS dissectors,
 * driven through runPipeline with packets from real captures (demo.pcap and loopback traffic
 * recorded now) that are mutated at the packet level: duplicated, reordered, dropped, cut,
 * byte-flipped, and re-sent as overlapping TCP segments that carry different data.
 *
 * Properties: runPipeline resolves (an in-memory source has no input error to report); no
 * dissector throws (the stream tables catch that and warn `dissector.threw`) and HTTP's
 * internal-error guard never fires; output is bounded (items ≤ packets, item JSON within a
 * multiple of the input); the same input gives the same items twice; each input finishes
 * within DEADLINE_MS.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { runPipeline, type CaptureStats } from '../../capture/pipeline';
import type { Item } from '../../capture/item/schema';
import type { RawPacket } from '../../capture/types';
import { captureLoopback, scenarioCapture } from '../helpers/capture';
import { grpcScenario, h2Scenario, startGrpcServer, startH2Server } from '../helpers/h2-traffic';
import { DEMO, checkDeadline, corpus, memorySource, packetsOf, params, startClock } from './fuzz-lib';

const DB_SEED = 'test/hardening/corpus/pipeline/databases.pcap';

let seeds: RawPacket[][] = [];

before(async () => {
  const live = await scenarioCapture();
  // HTTP/2 and gRPC traffic recorded after the HTTP/1 + DNS scenario rides in the same seed.
  const h2 = await startH2Server();
  const g = await startGrpcServer();
  let h2File = '';
  try {
    h2File = await captureLoopback(`tcp port ${h2.port} or tcp port ${g.port}`, async () => { await h2Scenario(h2.port); await grpcScenario(g.port); });
  } finally {
    await h2.close();
    await g.close();
  }
  seeds = [await packetsOf(readFileSync(DEMO)), [...await packetsOf(readFileSync(live.file)), ...await packetsOf(readFileSync(h2File))]];
  seeds = [await packetsOf(readFileSync(DEMO)), await packetsOf(readFileSync(live.file))];
  // protocols II: real Redis, PostgreSQL and MySQL traffic (corpus/pipeline/databases.pcap).
  seeds.push(await packetsOf(readFileSync(DB_SEED)));
  for (const s of seeds) assert.ok(s.length > 20 && s.every((p) => p.linkType === 1), 'Ethernet seeds');
});

/** Offsets of an Ethernet/IPv4/TCP frame's TCP header and payload, or null. */
function tcpOf(d: Buffer): { tcp: number; payload: number; end: number } | null {
  if (d.length < 34 || d.readUInt16BE(12) !== 0x0800 || d[14] >> 4 !== 4 || d[23] !== 6) return null;
  const tcp = 14 + (d[14] & 15) * 4;
  if (tcp + 20 > d.length) return null;
  const payload = tcp + (d[tcp + 12] >> 4) * 4;
  const end = Math.min(d.length, 14 + d.readUInt16BE(16));
  return payload <= end ? { tcp, payload, end } : null;
}

type Op =
  | { k: 'dup'; i: number; to: number }
  | { k: 'swap'; i: number; j: number }
  | { k: 'drop'; i: number }
  | { k: 'flip'; i: number; at: number; v: number }
  | { k: 'cut'; i: number; at: number }
  | { k: 'overlap'; i: number; shift: number; x: number; to: number };

const idx = fc.nat();
const frac = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('dup' as const), i: idx, to: idx }),
  fc.record({ k: fc.constant('swap' as const), i: idx, j: idx }),
  fc.record({ k: fc.constant('drop' as const), i: idx }),
  { weight: 2, arbitrary: fc.record({ k: fc.constant('flip' as const), i: idx, at: frac, v: fc.integer({ min: 0, max: 255 }) }) },
  fc.record({ k: fc.constant('cut' as const), i: idx, at: frac }),
  { weight: 3, arbitrary: fc.record({ k: fc.constant('overlap' as const), i: idx, shift: fc.integer({ min: 0, max: 64 }), x: fc.integer({ min: 1, max: 255 }), to: idx }) },
);

function mutate(src: RawPacket[], ops: Op[]): RawPacket[] {
  const ps = src.map((p) => ({ ...p, data: Buffer.from(p.data) }));
  for (const o of ops) {
    if (ps.length === 0) break;
    const i = o.i % ps.length;
    const p = ps[i];
    if (o.k === 'dup') ps.splice(o.to % (ps.length + 1), 0, { ...p, data: Buffer.from(p.data) });
    else if (o.k === 'swap') { const j = o.j % ps.length; [ps[i], ps[j]] = [ps[j], ps[i]]; }
    else if (o.k === 'drop') ps.splice(i, 1);
    else if (o.k === 'flip') { if (p.data.length) p.data[Math.floor(o.at * p.data.length)] = o.v; }
    else if (o.k === 'cut') { p.data = p.data.subarray(0, Math.floor(o.at * p.data.length)); p.caplen = p.data.length; }
    else {
      // The next TCP segment with payload from i on, re-sent `shift` bytes earlier with different bytes.
      for (let k = 0; k < ps.length; k++) {
        const q = ps[(i + k) % ps.length];
        const t = tcpOf(q.data);
        if (!t || t.end === t.payload) continue;
        const d = Buffer.from(q.data);
        d.writeUInt32BE((d.readUInt32BE(t.tcp + 4) - Math.min(o.shift, t.end - t.payload)) >>> 0, t.tcp + 4);
        for (let b = t.payload; b < t.end; b++) d[b] ^= o.x;
        ps.splice(o.to % (ps.length + 1), 0, { ...q, data: d, caplen: d.length });
        break;
      }
    }
  }
  return ps;
}

async function run(pkts: RawPacket[]): Promise<{ items: Item[]; stats: CaptureStats }> {
  const items: Item[] = [];
  const stats = await runPipeline(memorySource(pkts), { item: (i) => void items.push(i) });
  return { items, stats };
}

/** Checks one input against the properties; returns its item count. */
async function check(pkts: RawPacket[]): Promise<number> {
  const t0 = startClock();
  const a = await run(pkts);
  const bad = Object.keys(a.stats.warnings).filter((w) => /dissector\.threw|internal error/.test(w));
  assert.deepEqual(bad, [], 'a dissector threw');
  assert.ok(a.items.length <= pkts.length, `${a.items.length} items from ${pkts.length} packets`);
  const json = JSON.stringify(a.items);
  const inBytes = pkts.reduce((n, p) => n + p.data.length, 0);
  assert.ok(json.length <= 256 * 1024 + 40 * inBytes, `item JSON ${json.length} bytes from ${inBytes} input bytes`);
  const b = await run(pkts);
  assert.equal(JSON.stringify(b.items), json, 'same input, same items');
  checkDeadline(t0, 'pipeline');
  return a.items.length;
}

test('pipeline: real captures with duplicated, reordered, cut, flipped and overlapping segments', async () => {
  let items = 0;
  let cases = 0;
  await fc.assert(
    fc.asyncProperty(fc.nat(), fc.array(op, { minLength: 1, maxLength: 12 }), async (s, ops) => {
      items += await check(mutate(seeds[s % seeds.length], ops));
      cases++;
    }),
    params(60),
  );
  // Mutated captures still carry exchanges: the dissectors were reached, not bypassed.
  assert.ok(items > cases, `${items} items over ${cases} inputs`);
});

test('pipeline: the unmutated seeds give their items (the harness reaches the dissectors)', async () => {
  for (const s of seeds) {
    const { items, stats } = await run(s);
    assert.ok(items.length >= 5, `${items.length} items`);
    const p = stats.itemsByProtocol;
    assert.ok((p.http > 0 && p.dns > 0) || (p.redis > 0 && p.postgresql > 0 && p.mysql > 0), JSON.stringify(p));
  }
});

test('pipeline: corpus inputs replay within the properties', async () => {
  for (const { name, bytes } of corpus('pipeline')) {
    await check(await packetsOf(bytes)).catch((e) => assert.fail(`${name}: ${(e as Error).message}`));
  }
});

// weblayer: WebSocket (deflate), TLS handshakes, ICMP and unclaimed flows through the same mutations.
test('pipeline: WebSocket, TLS, ICMP and flow captures, mutated, keep the properties', async () => {
  const { wsCapture, tlsCapture, icmpCapture, flowCapture } = await import('../helpers/weblayer-captures');
  const files = [(await wsCapture('takeover')).file, (await tlsCapture()).file, (await icmpCapture()).file, (await flowCapture()).file];
  const web = await Promise.all(files.map(async (f) => packetsOf(readFileSync(f))));
  let items = 0;
  await fc.assert(
    fc.asyncProperty(fc.nat(), fc.array(op, { minLength: 1, maxLength: 12 }), async (s, ops) => {
      items += await check(mutate(web[s % web.length], ops));
    }),
    params(40),
  );
  assert.ok(items > 40, `${items} items`);
  const kinds = new Set<string>();
  for (const s of web) for (const i of (await run(s)).items) kinds.add(i.protocol.name);
  assert.deepEqual([...kinds].sort(), ['http', 'icmp', 'tcp-conn', 'tlsx', 'udp-conn', 'ws']);
});

// ---------------------------------------------------------------- Kafka, AMQP 0-9-1, MongoDB (issue 12)
// Seeds: real sessions (kafkajs, amqplib + RabbitMQ, the mongodb driver) recorded by
// test/hardening/make-stream-corpus.ts into corpus/binary/.

test('pipeline: Kafka, AMQP and MongoDB captures, unmutated, give their items', async () => {
  for (const { name, bytes } of corpus('binary')) {
    const { items, stats } = await run(await packetsOf(bytes));
    const proto = name.replace(/\.pcap$/, '');
    assert.ok((stats.itemsByProtocol[proto] ?? 0) >= 5 && items.every((i) => i.protocol.name === proto), `${name}: ${JSON.stringify(stats.itemsByProtocol)}`);
    // (The AMQP session's passive declare of a missing queue is refused: a `connection` error, by design.)
    assert.ok(items.every((i) => i.error === null || i.error.type === 'connection'), `${name}: no dissection errors`);
  }
});

test('pipeline: Kafka, AMQP and MongoDB captures with duplicated, reordered, cut, flipped and overlapping segments', async () => {
  const binary = await Promise.all(corpus('binary').map(({ bytes }) => packetsOf(bytes)));
  assert.equal(binary.length, 3);
  let items = 0;
  let cases = 0;
  await fc.assert(
    fc.asyncProperty(fc.nat(), fc.array(op, { minLength: 1, maxLength: 12 }), async (s, ops) => {
      items += await check(mutate(binary[s % binary.length], ops));
      cases++;
    }),
    params(45),
  );
  assert.ok(items > cases, `${items} items over ${cases} inputs`);
});
