// Fuzz (issue 12): mutated replays of real Kafka, AMQP and MongoDB connections. Same rules as fuzz.test.ts:
// never throw, never hang, keep the item shape, flag what could not be read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collector, type Recorded, prng, mutate, replayMutated, turn } from './harness';
import { rounds } from '../hardening/fuzz-lib';
import type { L7Message } from '../../capture/types';
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import type { Dissector } from '../../capture/types';
import { kafka } from '../../capture/dissectors/kafka';
import { amqp } from '../../capture/dissectors/amqp';
import { mongodb } from '../../capture/dissectors/mongodb';


/** Real connections recorded by test/hardening/make-stream-corpus.ts (kafkajs, amqplib + RabbitMQ, the mongodb driver). */
function streams(name: string): Recorded[] {
  const raw = JSON.parse(readFileSync(`test/hardening/corpus/streams/${name}.json`, 'utf8')) as [0 | 1, string][][];
  let t = 0;
  return raw.map((conn) => ({ transport: 'tcp' as const, chunks: conn.map(([dir, hex]) => ({ dir, bytes: Buffer.from(hex, 'hex'), ts: { sec: 1_700_000_000, nsec: ++t } })) }));
}

const BINARY: [string, Dissector][] = [['kafka', kafka], ['amqp', amqp], ['mongodb', mongodb]];

for (const [name, d] of BINARY) {
  test(`${name}: 300 mutated replays of real connections never throw, never hang, and keep the item shape`, async () => {
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
    for (let round = 0, n = rounds(300); round < n; round++) {
      await turn(round);
      const rec = recs[round % recs.length];
      const c = collector('tcp', 4096);
      const p = d.tcp!(c.ctx);
      replayMutated(p, rec.chunks, rnd, { gap: 0.05, mutate: 0.4, maxGap: 3000, gapKinds: true, cut: 0.02 });
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
  for (let i = 0, n = rounds(5000); i < n; i++) {
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

// MongoDB OP_COMPRESSED: the real recordings with every message re-wrapped (zlib, or a snappy /
// zstd header around the raw bytes), then mutated: inflate errors, bad sizes and unknown
// compressors must end in flagged items, never a throw.
function compressAll(rec: Recorded): Recorded {
  const out: Recorded = { transport: 'tcp', chunks: [] };
  let n = 0;
  for (const dir of [0, 1] as const) {
    const all = Buffer.concat(rec.chunks.filter((c) => c.dir === dir).map((c) => c.bytes));
    const ts = rec.chunks.find((c) => c.dir === dir)?.ts ?? { sec: 1_700_000_000, nsec: 0 };
    for (let off = 0; off + 16 <= all.length; ) {
      const len = all.readInt32LE(off);
      if (len < 16 || off + len > all.length) break;
      const m = all.subarray(off, off + len);
      off += len;
      const c = [2, 2, 2, 1, 3][n++ % 5]; // zlib mostly; snappy and zstd now and then
      const data = c === 2 ? deflateSync(m.subarray(16)) : m.subarray(16);
      const h = Buffer.alloc(25);
      m.copy(h, 0, 0, 12);
      h.writeInt32LE(25 + data.length, 0);
      h.writeInt32LE(2012, 12);
      h.writeInt32LE(m.readInt32LE(12), 16);
      h.writeInt32LE(len - 16, 20);
      h[24] = c;
      out.chunks.push({ dir, bytes: Buffer.concat([h, data]), ts });
    }
  }
  // All requests, then all replies: pairing is by responseTo, so the order does not matter.
  return out;
}

test('mongodb OP_COMPRESSED: 200 mutated replays never throw, never hang; zlib decodes, snappy/zstd are flagged', async () => {
  const rnd = prng(2012);
  const recs = streams('mongodb').map(compressAll);
  let decoded = 0, flagged = 0, errors = 0;
  for (const rec of recs) {
    const c = collector();
    const p = mongodb.tcp!(c.ctx);
    for (const ch of rec.chunks) p.data(ch.dir, ch.bytes, ch.ts);
    p.end(null, { sec: 2e9, nsec: 0 }, 'fin');
    for (const m of c.msgs) {
      const q = m.request as { opCode?: string; command?: string };
      if (q.opCode?.startsWith('OP_COMPRESSED(') && q.command) decoded++;
      if (m.error?.msg.includes('not decoded')) flagged++;
    }
  }
  assert.ok(decoded >= 3 && flagged >= 1, `${decoded} decoded, ${flagged} flagged`);
  for (let round = 0, n = rounds(200); round < n; round++) {
    await turn(round);
    const rec = recs[round % recs.length];
    const c = collector('tcp', 4096);
    const p = mongodb.tcp!(c.ctx);
    for (const ch of rec.chunks) {
      const bytes = rnd() < 0.4 ? mutate(ch.bytes, rnd) : ch.bytes;
      const step = rnd() < 0.3 ? 1 + Math.floor(rnd() * 50) : bytes.length || 1;
      for (let i = 0; i < bytes.length; i += step) p.data(ch.dir, bytes.subarray(i, i + step), ch.ts);
      if (rnd() < 0.02) break;
    }
    p.end(null, { sec: 2e9, nsec: 0 }, 'rst');
    for (const m of c.msgs) {
      JSON.stringify(m.request);
      JSON.stringify(m.response);
      if (m.error) errors++;
    }
    assert.equal(c.warnings.filter((w) => w.includes('internal error')).length, 0, c.warnings.join('\n'));
    assert.equal(c.pendings[c.pendings.length - 1] ?? null, null, 'nothing left pending after the end');
  }
  assert.ok(errors > 30, `${errors} error items`);
});
