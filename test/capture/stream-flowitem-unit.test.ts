// Flow items (capture/stream/flowitem.ts): the counters, the final `tcp-conn`/`udp-conn` item
// and the periodic `tcp-flow`/`udp-flow` report, field by field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connMessage, FIRST_BYTES, FLOW_REPORT_S, FlowCounters, flowReport } from '../../capture/stream/flowitem';
import { PROTOCOLS } from '../../capture/item/protocols';

test('flowitem: constants', () => {
  assert.equal(FIRST_BYTES, 64);
  assert.equal(FLOW_REPORT_S, 60);
});

test('flowitem: counters count packets and payload per direction and keep the first bytes once', () => {
  const c = new FlowCounters(10, 20);
  assert.deepEqual([c.startSec, c.startNsec, c.repSec, c.repNsec], [10, 20, 10, 20]);
  const buf = Buffer.from('xxHELLOyy');
  c.add(0, buf, 2, 0); // an empty packet: counted, no bytes, no first bytes
  assert.deepEqual(c.packets, [1, 0]);
  assert.deepEqual(c.bytes, [0, 0]);
  assert.deepEqual(c.first, [null, null]);
  c.add(0, buf, 2, 5);
  buf.fill(0x30); // the reader reuses its buffers: the first bytes are a copy
  c.add(0, Buffer.from('later'), 0, 5);
  c.add(1, Buffer.alloc(200, 0x41), 10, 100);
  assert.deepEqual(c.packets, [3, 1]);
  assert.deepEqual(c.bytes, [10, 100]);
  assert.equal(c.first[0]!.toString(), 'HELLO');
  assert.equal(c.first[1]!.length, FIRST_BYTES);
  assert.equal(c.first[1]!.toString(), 'A'.repeat(FIRST_BYTES));
  const d = new FlowCounters(0, 0);
  d.add(1, Buffer.from('0123456789'), 3, 5); // 5 bytes from offset 3
  assert.equal(d.first[1]!.toString(), '34567');
});

test('flowitem: connMessage of a TCP flow: both sides, rates over the duration, state and end', () => {
  const c = new FlowCounters(100, 500_000_000);
  c.add(0, Buffer.from('ping'), 0, 4);
  c.add(0, Buffer.alloc(0), 0, 0);
  for (let i = 0; i < 5; i++) c.add(1, Buffer.from('pong!'), 0, 5);
  const m = connMessage('tcp', c, { sec: 102, nsec: 500_000_000 }, 'closed', 'fin');
  assert.equal(m.protocol, PROTOCOLS.tcpConn);
  assert.deepEqual(m.request, { packets: 2, bytes: 4, payload: Buffer.from('ping').toString('base64'), pps: 1, bps: 16, state: 'closed', end: 'fin', duration: 2_000_000 });
  assert.deepEqual(m.response, { packets: 5, bytes: 25, payload: Buffer.from('pong!').toString('base64'), pps: 3, bps: 100 });
  assert.equal(m.requestSize, 4);
  assert.equal(m.responseSize, 25);
  assert.deepEqual(m.requestTs, { sec: 100, nsec: 500_000_000 });
  assert.deepEqual(m.responseTs, { sec: 102, nsec: 500_000_000 });
});

test('flowitem: connMessage of a short UDP flow: rates over at least one second; no payload is ""', () => {
  const c = new FlowCounters(5, 0);
  c.add(0, Buffer.alloc(0), 0, 0);
  c.add(0, Buffer.alloc(0), 0, 0);
  c.add(0, Buffer.from('abc'), 0, 3);
  const m = connMessage('udp', c, { sec: 5, nsec: 50_000 }, 'refused', 'idle');
  assert.equal(m.protocol, PROTOCOLS.udpConn);
  assert.deepEqual(m.request, { packets: 3, bytes: 3, payload: 'YWJj', pps: 3, bps: 24, state: 'refused', end: 'idle', duration: 50 });
  assert.deepEqual(m.response, { packets: 0, bytes: 0, payload: '', pps: 0, bps: 0 });
});

test('flowitem: a last time before the start counts as zero seconds', () => {
  const c = new FlowCounters(50, 900_000_000);
  const m = connMessage('tcp', c, { sec: 50, nsec: 100_000_000 }, 'open', 'capture-end');
  assert.equal(m.request.duration, 0);
  // Sub-second parts count: 1.5 s → 1_500_000 µs, and 3 packets / 1.5 s round to 2.
  const d = new FlowCounters(10, 250_000_000);
  for (let i = 0; i < 3; i++) d.add(0, Buffer.from('x'), 0, 1);
  const n = connMessage('tcp', d, { sec: 11, nsec: 750_000_000 }, 'open', 'capture-end');
  assert.equal(n.request.duration, 1_500_000);
  assert.equal(n.request.pps, 2);
  assert.equal(n.request.bps, 16);
  // 7 µs and a half round up.
  const e = new FlowCounters(0, 0);
  assert.equal(connMessage('udp', e, { sec: 0, nsec: 7_500 }, 'open', 'capture-end').request.duration, 8);
});

test('flowitem: flowReport gives the counts since the last report and moves the mark', () => {
  const c = new FlowCounters(1000, 0);
  c.add(0, Buffer.from('aa'), 0, 2);
  c.add(1, Buffer.from('bbbb'), 0, 4);
  const r1 = flowReport('udp', c, { sec: 1010, nsec: 0 });
  assert.equal(r1.protocol, PROTOCOLS.udpFlow);
  assert.deepEqual(r1.request, { packets: 1, bytes: 2, payload: 'YWE=', pps: 0, bps: 2, state: 'open', end: 'report', duration: 10_000_000, totalPackets: 1, totalBytes: 2 });
  assert.deepEqual(r1.response, { packets: 1, bytes: 4, payload: 'YmJiYg==', pps: 0, bps: 3, totalPackets: 1, totalBytes: 4 });
  assert.equal(r1.requestSize, 2);
  assert.equal(r1.responseSize, 4);
  assert.deepEqual(r1.requestTs, { sec: 1000, nsec: 0 });
  assert.deepEqual(r1.responseTs, { sec: 1010, nsec: 0 });
  assert.deepEqual([c.repPackets, c.repBytes, c.repSec, c.repNsec], [[1, 1], [2, 4], 1010, 0]);
  for (let i = 0; i < 20; i++) c.add(0, Buffer.from('ccc'), 0, 3);
  c.add(1, Buffer.from('d'), 0, 1);
  const r2 = flowReport('tcp', c, { sec: 1012, nsec: 500_000_000 });
  assert.equal(r2.protocol, PROTOCOLS.tcpFlow);
  assert.deepEqual(r2.request, { packets: 20, bytes: 60, payload: 'YWE=', pps: 8, bps: 192, state: 'open', end: 'report', duration: 12_500_000, totalPackets: 21, totalBytes: 62 });
  assert.deepEqual(r2.response, { packets: 1, bytes: 1, payload: 'YmJiYg==', pps: 0, bps: 3, totalPackets: 2, totalBytes: 5 });
  assert.equal(r2.requestSize, 60);
  assert.equal(r2.responseSize, 1);
  assert.deepEqual(r2.requestTs, { sec: 1010, nsec: 0 });
  assert.deepEqual(r2.responseTs, { sec: 1012, nsec: 500_000_000 });
  assert.deepEqual([c.repPackets, c.repBytes, c.repSec, c.repNsec], [[21, 2], [62, 5], 1012, 500_000_000]);
  // The marks are copies: later counting does not move them.
  c.add(0, Buffer.from('e'), 0, 1);
  assert.deepEqual([c.repPackets, c.repBytes], [[21, 2], [62, 5]]);
});
