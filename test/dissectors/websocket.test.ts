/**
 * WebSocket items from real `ws` client/server traffic on loopback, recorded with tcpdump:
 * without permessage-deflate, with it (context takeover) and with no context takeover either
 * way. Every message the client and server sent is one item, with its direction, opcode and
 * length; the fragmented message is one item of two frames; control frames are items; the
 * close frame carries its code and reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { itemsOf, wsCapture, type DeflateMode } from '../helpers/weblayer-captures';
import type { WsMessage } from '../../capture/item/schema';

const msgOf = (i: { request: unknown; response: unknown }) => {
  const r = i.request as WsMessage, s = i.response as WsMessage;
  return r.from ? r : s;
};

for (const mode of ['off', 'takeover', 'no-takeover'] as DeflateMode[]) {
  test(`WebSocket (${mode === 'off' ? 'no compression' : `permessage-deflate, ${mode}`}): one item per message, direction, opcode and length as sent`, async () => {
    const { file, sent } = await wsCapture(mode);
    const { items, stats } = await itemsOf(file);
    assert.equal(items[0].protocol.name, 'http', 'the upgrade request is an HTTP item');
    assert.equal((items[0].response as { status: number }).status, 101);
    assert.equal(items[0].dst.name, '127.0.0.1');
    const ws = items.filter((i) => i.protocol.name === 'ws');
    assert.ok(ws.every((i) => i.error === null), JSON.stringify(ws.filter((i) => i.error).map((i) => i.error)));
    // Per direction, in order: what the peers sent (client and server interleave on the wire).
    for (const from of ['client', 'server'] as const) {
      const got = ws.map(msgOf).filter((m) => m.from === from).map((m) => `${m.opcode} ${m.length}`);
      const want = sent.filter((m) => m.from === from).map((m) => `${m.opcode} ${m.length}`);
      assert.deepEqual(got, want, from);
    }
    // The side of the item that did not send is empty; the sender's side carries the message.
    for (const i of ws) {
      const m = msgOf(i);
      const other = (m === i.request ? i.response : i.request) as WsMessage;
      assert.equal(other.from, '');
      assert.equal(m === i.request ? i.responseSize : i.requestSize, 0);
      assert.equal(m.masked, m.from === 'client', 'client frames are masked, server frames not');
      assert.equal(i.stream, items[0].stream, 'same stream as the upgrade');
      assert.equal(i.dst.name, '127.0.0.1', 'dst.name from the upgrade request\'s Host, as on its 101 item');
    }
    const texts = ws.map(msgOf).filter((m) => m.opcode === 'text');
    assert.equal(texts[0].text, 'hello websocket');
    assert.equal(Buffer.from(texts[0].payload, 'base64').toString(), 'hello websocket');
    const frag = texts.filter((m) => m.text === 'part one, part two');
    assert.equal(frag.length, 2);
    assert.equal(frag.find((m) => m.from === 'client')!.frames, 2, 'the fragmented message came in two frames');
    const bin = ws.map(msgOf).find((m) => m.opcode === 'binary' && m.from === 'client')!;
    assert.deepEqual([...Buffer.from(bin.payload, 'base64')], [0, 1, 2, 3, 254, 255]);
    const close = ws.map(msgOf).filter((m) => m.opcode === 'close');
    assert.deepEqual(close.map((m) => [m.from, m.closeCode, m.text]), [['server', 4001, 'bye from server'], ['client', 4001, 'bye from server']]);
    const big = texts.find((m) => m.length === 70000)!;
    if (mode === 'off') assert.equal(big.wireLength, 70000);
    else {
      assert.ok(big.compressed && big.wireLength < 1000, `compressed on the wire: ${big.wireLength}`);
      // Control frames are never compressed.
      assert.ok(ws.map(msgOf).filter((m) => m.opcodeNumber >= 8).every((m) => !m.compressed));
    }
    // Context takeover: the repeat of an earlier message is shorter on the wire than the first.
    const hellos = texts.filter((m) => m.text === 'hello websocket' && m.from === 'client');
    assert.equal(hellos.length, 2);
    if (mode === 'takeover') assert.ok(hellos[1].wireLength < hellos[0].wireLength, `${hellos[1].wireLength} < ${hellos[0].wireLength}`);
    if (mode === 'no-takeover') assert.equal(hellos[1].wireLength, hellos[0].wireLength);
    assert.equal(Object.values(stats.packetsBy).reduce((a, b) => a + b, 0), stats.packets);
  });
}

test('WebSocket: a capture cut inside a frame flags that message, the rest of the stream still parses', async () => {
  const { collector } = await import('./harness');
  const { upgradeFor } = await import('../../capture/dissectors/upgrades');
  await import('../../capture/dissectors/websocket');
  const c = collector('tcp', 4096);
  const p = upgradeFor('websocket')!(c.ctx, { token: 'websocket', request: null, response: { line: { version: 'HTTP/1.1', status: 101, reason: 'Switching Protocols' } as never, headers: {} } });
  const ts = { sec: 1, nsec: 0 };
  // A server text frame of 10 bytes, of which 4 are lost, then a ping.
  p.data(1, Buffer.from([0x81, 10, 0x61, 0x62, 0x63]), ts);
  p.gap(1, 4, ts);
  p.data(1, Buffer.from([0x64, 0x65, 0x66, 0x89, 0x00]), ts);
  p.end(null, ts, 'fin');
  const msgs = c.msgs.map((m) => msgOf(m));
  assert.deepEqual(msgs.map((m) => [m.opcode, m.wireLength]), [['text', 10], ['ping', 0]]);
  assert.deepEqual(c.msgs.map((m) => m.error?.type ?? null), ['dissection', null]);
});
