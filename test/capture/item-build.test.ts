/**
 * Item building (capture/item/build.ts) field by field: the time string against Date's own
 * RFC 3339 for arbitrary instants (the per-second cache switching back and forth), elapsed time,
 * ids and entry files from the per-stream prefix cache (ports, worker and stream changes), and
 * the host's node info against the OS. Written after Stryker showed build.ts unpinned by the
 * tests that only serialize items.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname, networkInterfaces } from 'node:os';
import fc from 'fast-check';
import { buildItem, elapsedMs, localNode, rfc3339 } from '../../capture/item/build';
import { PROTOCOLS } from '../../capture/item/protocols';
import type { FlowAddr, L7Message } from '../../capture/types';
import { HTTP_SAMPLE } from '../runtime/fixture';

/** What the item's startTime means: Date's ISO string with all nine fractional digits. */
const iso = (sec: number, nsec: number) => new Date(sec * 1000).toISOString().slice(0, 19) + '.' + String(nsec).padStart(9, '0') + 'Z';

test('rfc3339 equals Date with nine fractional digits, for any instant and any order of seconds', () => {
  // Years 1970–9999; nanoseconds anywhere in the second, with the table digits' edges drawn often.
  const nsec = fc.oneof(fc.integer({ min: 0, max: 999_999_999 }), fc.constantFrom(0, 1, 9, 10, 999, 1000, 999_999, 1_000_000, 1_001_001, 999_999_999, 500_000_000));
  const sec = fc.oneof(fc.integer({ min: 0, max: 253_402_300_799 }), fc.integer({ min: 1_700_000_000, max: 1_700_000_003 }));
  fc.assert(fc.property(fc.array(fc.tuple(sec, nsec), { minLength: 1, maxLength: 6 }), (calls) => {
    for (const [s, n] of calls) assert.equal(rfc3339(s, n), iso(s, n));
  }), { numRuns: 2000 });
  // Same second twice, another second, back: the cached date part follows.
  assert.equal(rfc3339(1_700_000_000, 5), '2023-11-14T22:13:20.000000005Z');
  assert.equal(rfc3339(1_700_000_000, 123_456_789), '2023-11-14T22:13:20.123456789Z');
  assert.equal(rfc3339(1_700_000_001, 0), '2023-11-14T22:13:21.000000000Z');
  assert.equal(rfc3339(1_700_000_000, 999_999_999), '2023-11-14T22:13:20.999999999Z');
  assert.equal(rfc3339(0, 0), '1970-01-01T00:00:00.000000000Z');
});

test('rfc3339 writes an out-of-range fraction as its digits instead of indexing the table', () => {
  // A reader with a broken nanosecond field: nothing is read from outside the digit table.
  assert.equal(rfc3339(1_700_000_000, 1_000_000_000), '2023-11-14T22:13:20.1000000000Z');
  assert.equal(rfc3339(1_700_000_000, 12.5), '2023-11-14T22:13:20.0000012.5Z');
  assert.equal(rfc3339(1_700_000_000, -3), '2023-11-14T22:13:20.0000000-3Z');
});

test('elapsedMs: response minus request in whole milliseconds, rounded; 0 without a response or when negative', () => {
  assert.equal(elapsedMs({ sec: 10, nsec: 0 }, null), 0);
  assert.equal(elapsedMs({ sec: 10, nsec: 0 }, { sec: 10, nsec: 0 }), 0);
  assert.equal(elapsedMs({ sec: 10, nsec: 0 }, { sec: 11, nsec: 0 }), 1000);
  assert.equal(elapsedMs({ sec: 10, nsec: 900_000_000 }, { sec: 11, nsec: 100_000_000 }), 200);
  assert.equal(elapsedMs({ sec: 10, nsec: 0 }, { sec: 10, nsec: 1_499_999 }), 1);
  assert.equal(elapsedMs({ sec: 10, nsec: 0 }, { sec: 10, nsec: 1_500_000 }), 2);
  assert.equal(elapsedMs({ sec: 10, nsec: 0 }, { sec: 10, nsec: 400_000 }), 0);
  assert.equal(elapsedMs({ sec: 11, nsec: 0 }, { sec: 10, nsec: 0 }), 0, 'a response stamped before its request');
  assert.equal(elapsedMs({ sec: 10, nsec: 5_000_000 }, { sec: 10, nsec: 1_000_000 }), 0);
  // Away from exact half milliseconds: there the two float computations may round apart.
  const delta = fc.integer({ min: 0, max: 10 ** 12 }).filter((d) => Math.abs((d % 1e6) - 5e5) > 1000);
  fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: 999_999_999 }), delta, (s, n, dNs) => {
    const end = s * 1e9 + n + dNs;
    const res = { sec: Math.floor(end / 1e9), nsec: end % 1e9 };
    assert.equal(elapsedMs({ sec: s, nsec: n }, res), Math.round(dNs / 1e6));
  }), { numRuns: 500 });
});

const flow = (srcPort: number, dstPort: number): FlowAddr => ({ srcIp: '10.0.0.1', srcPort, dstIp: '10.0.0.2', dstPort, transport: 'tcp' });
const msg = (over: Partial<L7Message> = {}): L7Message => ({
  protocol: PROTOCOLS.http11,
  request: { method: 'GET' },
  response: { status: 200 },
  requestSize: 77,
  responseSize: 1234,
  requestTs: { sec: 1_700_000_000, nsec: 987_654_321 },
  responseTs: { sec: 1_700_000_001, nsec: 7_654_321 },
  ...over,
});

test('buildItem: every field of the Kubeshark item, from the message, the flow and the stream', () => {
  const node = { name: 'n1', ip: '192.0.2.7' };
  const m = msg();
  const it = buildItem(m, flow(40000, 8080), '000000000012.tcp', 3, 'w0', node, { name: 'client', processName: 'curl', processId: 42 }, null);
  assert.deepEqual(it, {
    id: 'w0/000000000012.tcp-3',
    index: 3,
    stream: '000000000012.tcp',
    worker: 'w0',
    node,
    protocol: PROTOCOLS.http11,
    tls: false,
    src: { ip: '10.0.0.1', port: '40000', name: 'client', namespace: '', processName: 'curl', processId: 42 },
    dst: { ip: '10.0.0.2', port: '8080', name: '', namespace: '', processName: '', processId: 0 },
    outgoing: false,
    timestamp: 1_700_000_000_987,
    startTime: '2023-11-14T22:13:20.987654321Z',
    request: m.request,
    response: m.response,
    requestSize: 77,
    responseSize: 1234,
    elapsedTime: 20,
    passed: false,
    failed: false,
    error: null,
    entryFile: '000000000012_tcp-3_entry.json',
  });
  assert.equal(it.request, m.request, 'the request object is the message\'s own (no copy)');
  const err = { type: 'pair-not-found', msg: 'no response' };
  const lone = buildItem(msg({ responseTs: null, error: err as L7Message['error'] }), flow(40000, 8080), '000000000012.tcp', 4, 'w0', node, null, { name: 'server', processName: 'node', processId: 7 });
  assert.equal(lone.elapsedTime, 0);
  assert.deepEqual(lone.error, err);
  assert.deepEqual(lone.src, { ip: '10.0.0.1', port: '40000', name: '', namespace: '', processName: '', processId: 0 });
  assert.deepEqual(lone.dst, { ip: '10.0.0.2', port: '8080', name: 'server', namespace: '', processName: 'node', processId: 7 });
});

test('buildItem: the cached per-stream prefixes follow a change of ports, worker or stream, and survive the cache being cleared', () => {
  const node = { name: 'n', ip: '' };
  const a = buildItem(msg(), flow(1, 2), 's.udp', 0, 'w', node, null, null);
  assert.deepEqual([a.id, a.entryFile, a.src.port, a.dst.port], ['w/s.udp-0', 's_udp-0_entry.json', '1', '2']);
  // Same stream name, other ports (a reused name after a restart): the ports are the new ones.
  const b = buildItem(msg(), flow(3, 2), 's.udp', 1, 'w', node, null, null);
  assert.deepEqual([b.src.port, b.dst.port], ['3', '2']);
  const c = buildItem(msg(), flow(3, 4), 's.udp', 2, 'w', node, null, null);
  assert.deepEqual([c.src.port, c.dst.port], ['3', '4']);
  // Another worker: its own id prefix.
  const d = buildItem(msg(), flow(3, 4), 's.udp', 3, 'hub', node, null, null);
  assert.equal(d.id, 'hub/s.udp-3');
  // Only the first "." of the stream name becomes "_" in the entry file.
  const e = buildItem(msg(), flow(3, 4), 'a.b.c', 0, 'w', node, null, null);
  assert.equal(e.entryFile, 'a_b.c-0_entry.json');
  // Thousands of streams (the cache is cleared past its bound): every item still right.
  for (let i = 0; i < 5000; i++) {
    const it = buildItem(msg(), flow(i, 80), `st${i}.tcp`, i, 'w', node, null, null);
    if (it.id !== `w/st${i}.tcp-${i}` || it.src.port !== String(i) || it.entryFile !== `st${i}_tcp-${i}_entry.json`) assert.fail(`stream ${i}: ${it.id} ${it.src.port} ${it.entryFile}`);
  }
  const again = buildItem(msg(), flow(1, 2), 's.udp', 9, 'w', node, null, null);
  assert.deepEqual([again.id, again.src.port, again.dst.port], ['w/s.udp-9', '1', '2']);
});

test('localNode: this host\'s name and first non-internal IPv4 address, computed once', () => {
  const n = localNode();
  assert.equal(n.name, hostname());
  const v4 = Object.values(networkInterfaces()).flatMap((l) => l ?? []).filter((a) => a.family === 'IPv4' && !a.internal);
  assert.equal(n.ip, v4[0]?.address ?? '');
  assert.notEqual(n.ip, '127.0.0.1');
  assert.equal(localNode(), n, 'cached');
});

test('buildItem: the keys of a real Kubeshark 2023 item (shared/reference/samples), and only stated extras', () => {
  const it = buildItem(msg(), flow(1, 2), 's.tcp', 0, 'w', { name: 'n', ip: '' }, null, null);
  const sample = HTTP_SAMPLE as unknown as Record<string, Record<string, unknown>>;
  const keys = (o: object) => Object.keys(o).sort();
  // Ours adds the error and the entry file name (Kubeshark's entry files), nothing else.
  assert.deepEqual(keys(it).filter((k) => !(k in sample)), ['entryFile', 'error']);
  assert.deepEqual(keys(sample).filter((k) => !(k in it)), []);
  assert.deepEqual(keys(it.node), keys(sample.node));
  // Endpoints: the sample's, but for the Kubernetes objects (pod, endpointSlice) a local capture has not; plus the process.
  for (const side of ['src', 'dst'] as const) {
    const theirs = keys(sample[side]).filter((k) => k !== 'pod' && k !== 'endpointSlice');
    assert.deepEqual(keys(it[side]).filter((k) => !theirs.includes(k)), ['processId', 'processName'], side);
    assert.deepEqual(theirs.filter((k) => !(k in it[side])), [], side);
  }
  // The protocol entry: the sample's keys, plus layer3 (schema.ts: newer Kubeshark tables carry it).
  assert.deepEqual(keys(it.protocol).filter((k) => !(k in sample.protocol)), ['layer3']);
  assert.deepEqual(keys(sample.protocol).filter((k) => !(k in it.protocol)), []);
});
