/**
 * The upgrade hand-off (capture/dissectors/upgrades.ts): after a 101 or a 2xx to CONNECT, the
 * parser registered for the token gets every remaining byte, both directions, in order,
 * including bytes the HTTP parser already held or buffered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { recordRelay, collector, type Recorded } from './harness';
import { http as httpDissector } from '../../capture/dissectors/http';
import { registerUpgrade, unregisterUpgrade, upgradeFor, type UpgradeExchange } from '../../capture/dissectors/upgrades';
import type { HttpResponse as Res } from '../../capture/item/schema';
import type { Direction, DissectorContext, TcpStreamParser, Timestamp } from '../../capture/types';

interface Seen { calls: string[]; bytes: [Buffer, Buffer]; exchange: UpgradeExchange | null; order: Direction[] }

/** A parser that records what it is handed. */
function recorder(seen: Seen) {
  return (_ctx: DissectorContext, ex: UpgradeExchange): TcpStreamParser => {
    seen.exchange = ex;
    return {
      data(dir, b) { seen.bytes[dir] = Buffer.concat([seen.bytes[dir], b]); seen.order.push(dir); seen.calls.push(`data ${dir} ${b.toString('latin1')}`); },
      gap(dir, n) { seen.calls.push(`gap ${dir} ${n}`); },
      end(dir, _ts, why) { seen.calls.push(`end ${dir} ${why}`); },
    };
  };
}
const fresh = (): Seen => ({ calls: [], bytes: [Buffer.alloc(0), Buffer.alloc(0)], exchange: null, order: [] });

function feed(chunks: [0 | 1, string][]) {
  const c = collector('tcp');
  const p = httpDissector.tcp!(c.ctx);
  let n = 0;
  for (const [dir, s] of chunks) p.data(dir, Buffer.from(s, 'latin1'), { sec: 100, nsec: ++n } as Timestamp);
  p.gap(1, 5, { sec: 150, nsec: 0 });
  p.end(null, { sec: 200, nsec: 0 }, 'fin');
  return c;
}

test('101: held client bytes, the tail after the 101 head and later bytes go to the registered parser, in order', () => {
  const seen = fresh();
  registerUpgrade('X-Test-Proto', recorder(seen));
  try {
    const c = feed([
      [0, 'GET /up HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: x-test-proto/2, other\r\nX-Extra: 1\r\n\r\nc1'],
      [0, 'c2'],
      [1, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: X-TEST-PROTO\r\nConnection: Upgrade\r\n\r\ns1'],
      [0, 'c3'],
      [1, 's2'],
    ]);
    assert.equal(c.msgs.length, 1, 'the upgrade exchange is one HTTP item');
    assert.equal((c.msgs[0].response as unknown as Res).status, 101);
    assert.deepEqual(c.warnings, []);
    assert.equal(seen.exchange?.token, 'x-test-proto');
    assert.equal(seen.exchange?.request?.line.url, '/up');
    assert.equal(seen.exchange?.request?.headers['X-Extra'], '1');
    assert.equal(seen.exchange?.response.line.status, 101);
    assert.deepEqual(seen.calls, ['data 0 c1', 'data 0 c2', 'data 1 s1', 'data 0 c3', 'data 1 s2', 'gap 1 5', 'end null fin']);
  } finally {
    unregisterUpgrade('x-test-proto');
  }
});

test('CONNECT 2xx looks up the token "connect"; nothing registered leaves a silent tunnel', () => {
  const seen = fresh();
  registerUpgrade('connect', recorder(seen));
  try {
    const c = feed([[0, 'CONNECT db:5432 HTTP/1.1\r\n\r\n'], [1, 'HTTP/1.1 200 OK\r\n\r\n\x16\x03'], [0, '\x16\x03\x01']]);
    assert.equal(c.msgs.length, 1);
    assert.deepEqual(seen.calls.slice(0, 2), ['data 1 \x16\x03', 'data 0 \x16\x03\x01']);
  } finally {
    unregisterUpgrade('connect');
  }
  assert.equal(upgradeFor('connect'), undefined);
  const plain = feed([[0, 'CONNECT db:5432 HTTP/1.1\r\n\r\n'], [1, 'HTTP/1.1 200 OK\r\n\r\n\x16\x03'], [0, 'GET /x HTTP/1.1\r\n\r\n']]);
  assert.equal(plain.msgs.length, 1);
  assert.deepEqual(plain.warnings, []);
});

test('a real WebSocket session (ws): the registered parser gets exactly the bytes after the handshake', async () => {
  const prev = upgradeFor('websocket');
  const seen = fresh();
  registerUpgrade('websocket', recorder(seen));
  try {
    const server = http.createServer();
    const wss = new WebSocketServer({ server });
    wss.on('connection', (s) => s.on('message', (m) => s.send(`echo ${m}`)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    let recs: Recorded[] = [];
    try {
      recs = await recordRelay(port, async (relay) => {
        const ws = new WebSocket(`ws://127.0.0.1:${relay}/chat`);
        await new Promise((r) => ws.once('open', r));
        for (const m of ['one', 'two', 'three']) {
          ws.send(m);
          await new Promise((r) => ws.once('message', r));
        }
        ws.close();
        await new Promise((r) => ws.once('close', r));
      });
    } finally {
      wss.close();
      server.close();
    }
    const rec = recs.find((r) => r.transport === 'tcp')!;
    const c = collector('tcp');
    const p = httpDissector.tcp!(c.ctx);
    for (const k of rec.chunks) p.data(k.dir, k.bytes, k.ts);
    p.end(null, rec.chunks[rec.chunks.length - 1].ts, 'fin');
    assert.equal(c.msgs.length, 1);
    assert.equal((c.msgs[0].response as unknown as Res).status, 101);
    assert.equal(seen.exchange?.request?.headers['Sec-Websocket-Key']?.length, 24);
    // Expected: each direction's bytes after its head (the request head ends the client's first
    // \r\n\r\n, the 101 head the server's).
    const all = (d: Direction) => Buffer.concat(rec.chunks.filter((k) => k.dir === d).map((k) => k.bytes));
    const after = (b: Buffer) => b.subarray(b.indexOf('\r\n\r\n') + 4);
    assert.ok(after(all(1)).length > 0 && after(all(0)).length > 0, 'frames flowed both ways');
    assert.deepEqual(seen.bytes[0], after(all(0)));
    assert.deepEqual(seen.bytes[1], after(all(1)));
    assert.equal(seen.calls[seen.calls.length - 1], 'end null fin');
  } finally {
    if (prev) registerUpgrade('websocket', prev);
    else unregisterUpgrade('websocket');
  }
});
