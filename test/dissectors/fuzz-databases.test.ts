// Fuzz (issue 12): mutated replays of real Redis, PostgreSQL and MySQL connections. Same rules as fuzz.test.ts:
// never throw, never hang, keep the item shape, flag what could not be read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collector, type Recorded, prng, replayMutated, turn } from './harness';
import { rounds } from '../hardening/fuzz-lib';
import type { L7Message } from '../../capture/types';

// Seeds: test/hardening/corpus/pipeline/databases.pcap (real redis-cli/ioredis, psql/pg,
// mysql/mysql2 traffic; test/hardening/make-db-corpus.ts). Each connection is replayed mutated,
// re-chunked, with gaps and cut short; every dissector must keep its item shape, flag what it
// could not read, and never throw.
import { redis } from '../../capture/dissectors/redis';
import { postgresql } from '../../capture/dissectors/pgsql';
import { mysql } from '../../capture/dissectors/mysql';
import { connectionsOf } from './db-lib';
import type { Dissector } from '../../capture/types';

const DB_SEED = 'test/hardening/corpus/pipeline/databases.pcap';
const DB: [Dissector, (m: L7Message) => void][] = [
  [redis, (m) => { for (const s of [m.request, m.response]) for (const k of ['type', 'command', 'key', 'value', 'keyword']) assert.equal(typeof s[k], 'string'); }],
  [postgresql, (m) => { assert.equal(typeof m.request.query, 'string'); assert.ok(Array.isArray(m.request.parameters)); assert.equal(typeof m.response.rows, 'number'); assert.ok(Array.isArray(m.response.commandTags)); }],
  [mysql, (m) => { assert.equal(typeof m.request.command, 'string'); assert.ok(Array.isArray(m.request.parameters)); assert.equal(typeof m.response.errorCode, 'number'); assert.ok(Array.isArray(m.response.columns)); }],
];

test('Redis, PostgreSQL, MySQL: 300 mutated replays each of real connections never throw and keep the item shape', async () => {
  const conns = await connectionsOf(DB_SEED);
  for (const [d, shape] of DB) {
    const mine = conns.filter(({ conn }) => conn.chunks.length > 0 && d.detect(Buffer.concat(conn.chunks.filter((c) => c.dir === conn.chunks[0].dir).map((c) => c.bytes)).subarray(0, 4096), conn.chunks[0].dir, { srcIp: '', srcPort: 1, dstIp: '', dstPort: 2, transport: 'tcp' }) === true);
    assert.ok(mine.length >= 2, `${d.name}: ${mine.length} seed connections`);
    const rnd = prng(0xdb + d.priority);
    let emitted = 0, flagged = 0;
    for (let round = 0, n = rounds(300); round < n; round++) {
      await turn(round);
      const rec = mine[round % mine.length].conn;
      const c = collector('tcp');
      const p = d.tcp!(c.ctx);
      const stopAt = rnd() < 0.2 ? Math.floor(rnd() * rec.chunks.length) : rec.chunks.length;
      replayMutated(p, rec.chunks.slice(0, stopAt), rnd, { gap: 0.03, mutate: 0.3, maxGap: 100 });
      for (const m of c.msgs) {
        assert.ok(m.requestSize >= 0 && m.responseSize >= 0);
        shape(m);
        if (m.error) flagged++;
      }
      emitted += c.msgs.length;
      // Nothing stays owed after the end: the last pending() report is null.
      assert.equal(c.pendings.length === 0 ? null : c.pendings[c.pendings.length - 1], null, `${d.name}: stuck after end`);
    }
    assert.ok(emitted > 300 && flagged > 20, `${d.name}: ${emitted} items, ${flagged} flagged`);
  }
});

test('Redis, PostgreSQL, MySQL: detection refuses noise and costs a few comparisons for HTTP', () => {
  const rnd = prng(7);
  const flow = { srcIp: '127.0.0.1', srcPort: 1, dstIp: '127.0.0.1', dstPort: 2, transport: 'tcp' as const };
  let claimed = 0;
  for (let i = 0, n = rounds(3000); i < n; i++) {
    const b = Buffer.alloc(1 + Math.floor(rnd() * 300));
    for (let k = 0; k < b.length; k++) b[k] = Math.floor(rnd() * 256);
    for (const [d] of DB) for (const dir of [0, 1] as const) if (d.detect(b, dir, flow) === true) claimed++;
  }
  assert.ok(claimed <= 2, `random bytes claimed ${claimed} times`);
  for (const [d] of DB) for (const dir of [0, 1] as const) {
    assert.equal(d.detect(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), dir, flow), false);
    assert.equal(d.detect(Buffer.from('HTTP/1.1 200 OK\r\n\r\n'), dir, flow), false);
  }
});
