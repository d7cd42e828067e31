// Items: request order across streams, field shapes, and names learnt from DNS answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReorderBuffer } from '../../capture/stream/order';
import { buildItem, elapsedMs, rfc3339 } from '../../capture/item/build';
import { DnsNames } from '../../capture/names/dns';
import { PROTOCOLS } from '../../capture/item/protocols';
import type { Item } from '../../capture/item/schema';
import type { L7Message } from '../../capture/types';

test('reorder buffer releases in request order once no stream owes an earlier item', () => {
  const out: string[] = [];
  const rb = new ReorderBuffer<string>((s) => void out.push(s));
  rb.setPending(1, 10, 0); // stream 1 owes a request from t=10
  rb.push('s2@11', 11, 0);
  rb.push('s3@12', 12, 0);
  rb.release(12);
  assert.deepEqual(out, []);
  rb.push('s1@10', 10, 0);
  rb.setPending(1, 13, 0); // its next request started at 13
  rb.release(13);
  assert.deepEqual(out, ['s1@10', 's2@11', 's3@12']);
  rb.push('s2@14', 14, 0);
  rb.release(14);
  assert.deepEqual(out.length, 3, 'held behind stream 1 (13)');
  rb.setPending(1, null);
  rb.release(14);
  assert.deepEqual(out.at(-1), 's2@14');
  // Bounded: a stuck stream holds items at most MAX_WAIT_S of capture time.
  rb.setPending(9, 20, 0);
  rb.push('late', 21, 0);
  rb.release(25);
  assert.equal(out.at(-1), 's2@14');
  rb.release(40);
  assert.equal(out.at(-1), 'late');
});

test('item fields: id, stream, timestamps in ms and RFC 3339 ns, elapsed in ms', () => {
  const msg: L7Message = {
    protocol: PROTOCOLS.http11,
    request: { method: 'GET' },
    response: { status: 200 },
    requestSize: 10,
    responseSize: 20,
    requestTs: { sec: 1685869774, nsec: 306330792 },
    responseTs: { sec: 1685869774, nsec: 310830792 },
  };
  const flow = { srcIp: '10.0.0.1', srcPort: 40000, dstIp: '10.0.0.2', dstPort: 8080, transport: 'tcp' as const };
  const i = buildItem(msg, flow, '000000000042.pcap', 3, 'file/x.pcap', { name: 'h', ip: '' }, null, { name: 'api', processName: '', processId: 0 });
  assert.equal(i.id, 'file/x.pcap/000000000042.pcap-3');
  assert.equal(i.entryFile, '000000000042_pcap-3_entry.json');
  assert.equal(i.startTime, '2023-06-04T09:09:34.306330792Z');
  assert.equal(i.timestamp, 1685869774306);
  assert.equal(i.elapsedTime, 5);
  assert.deepEqual(i.src, { ip: '10.0.0.1', port: '40000', name: '', namespace: '', processName: '', processId: 0 });
  assert.equal(i.dst.name, 'api');
  assert.equal(i.error, null);
  assert.equal(rfc3339(0, 5), '1970-01-01T00:00:00.000000005Z');
  assert.equal(elapsedMs({ sec: 5, nsec: 0 }, { sec: 4, nsec: 0 }), 0);
  assert.equal(elapsedMs({ sec: 5, nsec: 0 }, null), 0);
});

test('DNS answers name addresses after the asked name, through CNAME chains', () => {
  const rr = (name: string, type: string, ip: string, cname = '') => ({ name, type, class: 'IN', ttl: 1, ip, ns: '', cname, ptr: '', txts: '', soa: '', srv: '', mx: '', opt: '', uri: '' });
  const item = {
    protocol: PROTOCOLS.dns,
    request: { opCode: 'Query', questions: [{ name: 'www.example.com', type: 'A', class: 'IN' }] },
    response: {
      code: 'No Error',
      answers: [rr('www.example.com', 'CNAME', '<nil>', 'edge.cdn.net'), rr('edge.cdn.net', 'A', '93.184.216.34'), rr('unrelated.org', 'A', '1.2.3.4')],
      authorities: [],
      additionals: [],
    },
  } as unknown as Item;
  const n = new DnsNames();
  n.learn(item);
  assert.equal(n.lookup('93.184.216.34'), 'www.example.com');
  assert.equal(n.lookup('1.2.3.4'), '', 'an answer outside the chain names nothing');
  assert.equal(n.lookup('8.8.8.8'), '');
});

test('DNS names: remote addresses take the latest answer; loopback keeps a name only while answers agree', () => {
  const answer = (q: string, ip: string) =>
    ({
      protocol: PROTOCOLS.dns,
      request: { opCode: 'Query', questions: [{ name: q, type: 'A', class: 'IN' }] },
      response: { code: 'No Error', answers: [{ name: q, type: 'A', class: 'IN', ttl: 1, ip, ns: '', cname: '', ptr: '', txts: '', soa: '', srv: '', mx: '', opt: '', uri: '' }], authorities: [], additionals: [] },
    }) as unknown as Item;
  const n = new DnsNames();
  n.learn(answer('a.example', '93.184.216.34'));
  n.learn(answer('b.example', '93.184.216.34'));
  assert.equal(n.lookup('93.184.216.34'), 'b.example');
  n.learn(answer('myapp.test', '127.0.0.1'));
  n.learn(answer('myapp.test', '127.0.0.1'));
  assert.equal(n.lookup('127.0.0.1'), 'myapp.test', 'one name for loopback is shown');
  n.learn(answer('other.test', '127.0.0.1'));
  assert.equal(n.lookup('127.0.0.1'), '', 'two names for loopback: unknown');
  n.learn(answer('myapp.test', '127.0.0.1'));
  assert.equal(n.lookup('127.0.0.1'), '', 'and it stays unknown');
});

test("detection by content: 'maybe' waits for more bytes, false drops a candidate, nothing claimed means ignored", async () => {
  const { mixCapture } = await import('./lib');
  const { runPipeline } = await import('../../capture/pipeline');
  const { fileSource } = await import('../../capture/sources/file');
  let claimed = 0;
  let declinedCalls = 0;
  const patient: import('../../capture/types').Dissector = {
    name: 'patient',
    priority: 1,
    // Claims HTTP streams, but only once it has seen a whole request head.
    detect: (first, dir) => {
      if (dir !== 0) return 'maybe';
      if (!first.subarray(0, 4).equals(Buffer.from('GET '))) return first.length < 4 ? 'maybe' : false;
      return first.includes('\r\n\r\n') ? true : 'maybe';
    },
    tcp: () => (claimed++, { data() {}, gap() {}, end() {} }),
  };
  const never: import('../../capture/types').Dissector = {
    name: 'never',
    priority: 0,
    detect: () => (declinedCalls++, false),
    tcp: () => assert.fail('never claims'),
    udp: () => assert.fail('never claims'),
  };
  const stats = await runPipeline(fileSource((await mixCapture()).file), {}, { dissectors: [patient, never] });
  assert.ok(claimed >= 3, `claimed ${claimed}`);
  assert.ok(declinedCalls > 0);
  // No dissector items: what nobody claimed is reported as flow items (tcp-conn/udp-conn) only.
  assert.deepEqual(Object.keys(stats.itemsByProtocol).filter((p) => !/^(tcp|udp)-conn$/.test(p)), []);
});

test('reorder buffer: a never-answered request does not pin superseded marks (bounded heap)', () => {
  const out: string[] = [];
  const rb = new ReorderBuffer<string>((s) => void out.push(s));
  rb.setPending(1, 10, 0); // stream 1: a request that is never answered
  // 100,000 exchanges on other streams, each owing then settling, as a dissector reports them.
  for (let i = 0; i < 100_000; i++) {
    const id = 2 + (i % 50);
    rb.setPending(id, 11 + i / 1000, 0);
    rb.setPending(id, 11 + i / 1000, 500);
    rb.push(`x${i}`, 11 + i / 1000, 0);
    rb.setPending(id, null);
    rb.release(11 + i / 1000);
  }
  assert.ok(rb.marksHeld < 2 * 51 + 1100, `marks held: ${rb.marksHeld}`);
  // Order is kept: stream 1 still owes t=10, so everything waited (until MAX_WAIT_S): the
  // items of the last 10 s of capture time are still held (a rebuild that lost stream 1's
  // mark let them all out).
  assert.equal(out[0], 'x0');
  assert.deepEqual(out, [...out].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))));
  assert.ok(rb.held >= 9_000 && rb.held <= 10_001, `held ${rb.held}`);
  // Its answer comes at last: it goes out before everything still held.
  const n = out.length;
  rb.push('answer', 10, 0);
  rb.setPending(1, null);
  rb.release(111);
  assert.equal(out[n], 'answer');
  assert.equal(out.length, 100_001);
});

test('reorder buffer: held items are bounded in bytes, not only in count', () => {
  const out: string[] = [];
  const rb = new ReorderBuffer<string>((s) => void out.push(s));
  rb.setPending(1, 10, 0);
  const MiB = 1024 * 1024;
  for (let i = 0; i < 100; i++) {
    rb.push(`big${i}`, 11, i, MiB); // 100 items of 1 MiB: far below MAX_HELD's count
    rb.release(11);
  }
  // At most MAX_HELD_BYTES (64 MiB) stay held; the oldest go out first, in order.
  assert.equal(rb.held, 64);
  assert.deepEqual(out, Array.from({ length: 36 }, (_, i) => `big${i}`));
  assert.equal(rb.bytesCapReleases, 36);
});
