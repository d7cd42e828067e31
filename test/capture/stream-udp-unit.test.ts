// UdpTable (capture/stream/udp.ts), driven with Decoded datagrams and a recording host: who is
// the client, detection (claim, decline, 'maybe' up to 4 datagrams, throwing detectors and
// parsers), idle timeout, periodic flow reports, the udp-conn item and the --stats buckets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UDP_IDLE_S, UdpTable } from '../../capture/stream/udp';
import { FlowKeys } from '../../capture/stream/key';
import type { Dissector } from '../../capture/types';
import { FakeHost, raw, recorder, udpD } from './stream-lib';

const C = '10.0.0.1';
const S = '10.0.0.2';
const q = (payload: string, sp = 40000, dp = 53) => udpD({ src: C, dst: S, sp, dp, payload });
const r = (payload: string, sp = 53, dp = 40000) => udpD({ src: S, dst: C, sp, dp, payload });

function table(ds: Dissector[], flowReportS = 60, opts: { noStreamPacket?: boolean } = {}) {
  const host = new FakeHost(ds, flowReportS, opts);
  return { host, t: new UdpTable(host) };
}

test('udp: UDP_IDLE_S is 30 s', () => assert.equal(UDP_IDLE_S, 30));

test('udp: the first sender is the client; datagrams go to the claiming parser by direction', () => {
  const { d, streams, seen } = recorder();
  const { host, t } = table([d]);
  t.packet(q('query'), raw(1, 5));
  t.packet(r('answer'), raw(2, 6));
  t.packet(q('again'), raw(3));
  assert.deepEqual(host.opened.map((i) => i.flow), [{ srcIp: C, srcPort: 40000, dstIp: S, dstPort: 53, transport: 'udp' }]);
  assert.equal(host.opened[0].name, '000000000000_udp.pcap');
  assert.deepEqual(streams[0].ev, ['d0:query@1', 'd1:answer@2', 'd0:again@3']);
  assert.deepEqual(seen.map(String), ['query']); // detection on the first datagram only
  assert.deepEqual(host.streamed, [
    ['000000000000_udp.pcap', 1],
    ['000000000000_udp.pcap', 2],
    ['000000000000_udp.pcap', 3],
  ]);
  assert.equal(t.flows.size, 1);
});

test('udp: a datagram from a well-known port to an ephemeral one makes the receiver the client', () => {
  const cases: [number, number, boolean][] = [
    [53, 40000, false],
    [1023, 1024, false],
    [1024, 1024, true],
    [1023, 1023, true],
    [40000, 53, true],
    [1024, 80, true],
  ];
  for (const [sp, dp, senderIsClient] of cases) {
    const { d, streams } = recorder();
    const { host, t } = table([d]);
    t.packet(udpD({ src: S, dst: C, sp, dp, payload: 'x' }), raw(1));
    t.packet(udpD({ src: C, dst: S, sp: dp, dp: sp, payload: 'y' }), raw(2));
    const want = senderIsClient ? { srcIp: S, srcPort: sp, dstIp: C, dstPort: dp, transport: 'udp' } : { srcIp: C, srcPort: dp, dstIp: S, dstPort: sp, transport: 'udp' };
    assert.deepEqual(host.opened[0].flow, want, `${sp}→${dp}`);
    assert.deepEqual(streams[0].ev, senderIsClient ? ['d0:x@1', 'd1:y@2'] : ['d1:x@1', 'd0:y@2'], `${sp}→${dp}`);
  }
});

test('udp: only dissectors with a udp parser are candidates; the first true claims', () => {
  const tcpOnly: Dissector = { name: 'tcponly', priority: 0, detect: () => true, tcp: () => ({ data() {}, gap() {}, end() {} }) };
  const no = recorder({ name: 'no', detect: () => false });
  const yes = recorder({ name: 'yes' });
  const late = recorder({ name: 'late' });
  const { host, t } = table([tcpOnly, no.d, yes.d, late.d]);
  t.packet(q('hi'), raw(1));
  assert.equal(no.seen.length, 1);
  assert.equal(yes.streams.length, 1);
  assert.equal(late.seen.length, 0);
  assert.deepEqual(yes.streams[0].ev, ['d0:hi@1']);
  t.endAll();
  assert.deepEqual(host.counts(), { 'udp/yes': 1 });
  assert.deepEqual(host.emitted, []); // claimed: no flow item
  assert.deepEqual(yes.streams[0].ev, ['d0:hi@1', 'e:eof@1']);
});

test('udp: detect is shown the datagram, its direction and the flow', () => {
  const got: unknown[] = [];
  const { d } = recorder({ detect: (first, dir, flow) => (got.push([first.toString(), dir, flow.srcPort]), false) });
  const { t } = table([d]);
  t.packet(r('resp'), raw(1)); // 53 → 40000: the receiver is the client, this is dir 1
  assert.deepEqual(got, [['resp', 1, 40000]]);
});

test('udp: declined flows are ignored for good, cheaply, and end as udp-conn items', () => {
  const no = recorder({ detect: () => false });
  const { host, t } = table([no.d]);
  t.packet(q('a'), raw(100, 1));
  t.packet(r('bb'), raw(101, 2));
  t.packet(q('ccc'), raw(102, 3));
  assert.equal(no.seen.length, 1);
  assert.equal(host.streamed.length, 3); // still written to the stream
  t.endAll();
  assert.equal(t.flows.size, 0);
  assert.deepEqual(host.counts(), { 'udp/flow': 3 });
  assert.deepEqual(host.warnings, []);
  assert.equal(host.emitted.length, 1);
  const m = host.emitted[0].msg;
  assert.equal(m.protocol.name, 'udp-conn');
  assert.deepEqual([m.request.packets, m.request.bytes, m.response.packets, m.response.bytes], [2, 4, 1, 2]);
  assert.deepEqual([m.request.state, m.request.end], ['open', 'capture-end']);
  assert.deepEqual(m.responseTs, { sec: 102, nsec: 3 });
  assert.deepEqual(host.closedNames, ['000000000000_udp.pcap']);
});

test("udp: 'maybe' gets up to 4 datagrams, then the flow is ignored", () => {
  const m = recorder({ detect: () => 'maybe' });
  const { t } = table([m.d]);
  for (let i = 0; i < 6; i++) t.packet(q(`p${i}`), raw(i));
  assert.deepEqual(m.seen.map(String), ['p0', 'p1', 'p2', 'p3']);
  // A 'maybe' then a claim on the third datagram: the parser gets that one on.
  const m2 = recorder({ detect: (f) => (f.toString() === 'p2' ? true : 'maybe') });
  const { t: t2 } = table([m2.d]);
  for (let i = 0; i < 4; i++) t2.packet(q(`p${i}`), raw(i));
  assert.deepEqual(m2.streams[0].ev, ['d0:p2@2', 'd0:p3@3']);
  // One candidate's 'maybe' keeps the flow even when another declines.
  const no = recorder({ name: 'no', detect: () => false });
  const m3 = recorder({ name: 'm', detect: (f) => (f.toString() === 'p1' ? true : 'maybe') });
  const { t: t3 } = table([m3.d, no.d]);
  t3.packet(q('p0'), raw(0));
  t3.packet(q('p1'), raw(1));
  assert.deepEqual(m3.streams[0].ev, ['d0:p1@1']);
  const { t: t4 } = table([no.d, m3.d]);
  t4.packet(q('p0'), raw(0));
  t4.packet(q('p1'), raw(1));
  assert.equal(m3.streams.length, 2);
});

test('udp: a throwing detector declines; a throwing parser factory or parser stops the flow with a warning', () => {
  const bad: Dissector = { name: 'bad', priority: 0, detect: () => { throw new Error('detector bug'); }, udp: () => ({ datagram() {}, end() {} }) };
  const ok = recorder({ name: 'ok' });
  const a = table([bad, ok.d]);
  a.t.packet(q('x'), raw(1));
  assert.equal(ok.streams.length, 1);
  assert.deepEqual(a.host.warnings, []);

  const mk = recorder({ name: 'mk', throwOn: 'make' });
  const b = table([mk.d]);
  b.t.packet(q('x'), raw(1));
  b.t.packet(q('y'), raw(2));
  assert.deepEqual(b.host.warnings, ['dissector.threw: boom in make']);
  assert.equal(mk.seen.length, 1); // ignored after the failure
  b.t.endAll();
  assert.deepEqual(b.host.counts(), { 'udp/mk': 2 }); // it claimed the flow: no flow item
  assert.deepEqual(b.host.emitted, []);

  const dg = recorder({ name: 'dg', throwOn: 'datagram' });
  const c = table([dg.d]);
  c.t.packet(q('x'), raw(1));
  c.t.packet(q('y'), raw(2));
  assert.deepEqual(dg.streams[0].ev, ['d0:x@1']);
  assert.deepEqual(c.host.warnings, ['dissector.threw: boom in datagram']);
  c.t.endAll();
  assert.deepEqual(dg.streams[0].ev, ['d0:x@1']); // no end() on a failed parser
  assert.deepEqual(c.host.counts(), { 'udp/dg': 2 });

  const en = recorder({ name: 'en', throwOn: 'end' });
  const e = table([en.d]);
  e.t.packet(q('x'), raw(1));
  e.t.endAll();
  assert.deepEqual(e.host.warnings, ['dissector.threw: boom in end']);
  assert.deepEqual(e.host.closedNames, ['000000000000_udp.pcap']);
});

test('udp: warnings quote non-Error throws and stop at 120 characters', () => {
  const long: Dissector = { name: 'l', priority: 0, detect: () => true, udp: () => ({ datagram() { throw 'x'.repeat(300); }, end() {} }) };
  const { host, t } = table([long]);
  t.packet(q('x'), raw(1));
  assert.equal(host.warnings[0], ('dissector.threw: ' + 'x'.repeat(300)).slice(0, 120));
  assert.equal(host.warnings[0].length, 120);
  const nul: Dissector = { name: 'n', priority: 0, detect: () => true, udp: () => ({ datagram() { throw null; }, end() {} }) };
  const b = table([nul]);
  b.t.packet(q('x'), raw(1));
  assert.deepEqual(b.host.warnings, ['dissector.threw: null']);
});

test('udp: flows end after more than UDP_IDLE_S of capture time; the parser gets the last time', () => {
  const rec = recorder();
  const { host, t } = table([rec.d]);
  t.packet(q('x'), raw(100, 7));
  t.sweep(100 + UDP_IDLE_S);
  assert.equal(t.flows.size, 1);
  assert.deepEqual(host.closedNames, []);
  t.sweep(101 + UDP_IDLE_S);
  assert.equal(t.flows.size, 0);
  assert.deepEqual(rec.streams[0].ev, ['d0:x@100', 'e:timeout@100']);
  assert.deepEqual(host.closedNames, ['000000000000_udp.pcap']);
  assert.deepEqual(host.counts(), { 'udp/rec': 1 });
  // A new datagram on the same 4-tuple is a new flow.
  t.packet(q('y'), raw(200));
  assert.equal(host.opened.length, 2);
});

test('udp: an idled-out unclaimed flow is "closed"/"idle"; a refused one "refused"', () => {
  const no = recorder({ detect: () => false });
  const { host, t } = table([no.d]);
  t.packet(q('x'), raw(100, 9));
  t.sweep(200);
  assert.equal(host.emitted.length, 1);
  assert.deepEqual([host.emitted[0].msg.request.state, host.emitted[0].msg.request.end], ['closed', 'idle']);
  assert.deepEqual(host.emitted[0].msg.responseTs, { sec: 100, nsec: 9 });
  t.packet(q('x'), raw(300));
  t.find(new FlowKeys().key(q('x')))!.refused = true;
  t.sweep(400);
  assert.deepEqual([host.emitted[1].msg.request.state, host.emitted[1].msg.request.end], ['refused', 'idle']);
  t.packet(q('x'), raw(500));
  t.find(new FlowKeys().key(r('x')))!.refused = true;
  t.endAll();
  assert.deepEqual([host.emitted[2].msg.request.state, host.emitted[2].msg.request.end], ['refused', 'capture-end']);
  assert.equal(t.find('nope'), undefined);
});

test('udp: a clock stepped back does not keep a flow alive forever', () => {
  const no = recorder({ detect: () => false });
  const { t } = table([no.d]);
  t.packet(q('x'), raw(10_000));
  t.sweep(100); // the clock jumped back: activity is clamped to now
  assert.equal(t.flows.size, 1);
  t.sweep(100 + UDP_IDLE_S);
  assert.equal(t.flows.size, 1);
  t.sweep(101 + UDP_IDLE_S);
  assert.equal(t.flows.size, 0);
});

test('udp: a long unclaimed flow reports itself every flowReportS, only when it saw traffic since', () => {
  const no = recorder({ detect: () => false });
  const { host, t } = table([no.d], 10);
  t.packet(q('a'), raw(1000));
  t.packet(q('b'), raw(1009));
  t.sweep(1009); // 9 s since the start: not yet
  assert.equal(host.emitted.length, 0);
  t.packet(q('c'), raw(1010, 5));
  t.sweep(1010); // 10 s: due
  assert.equal(host.emitted.length, 1);
  const rep = host.emitted[0].msg;
  assert.equal(rep.protocol.name, 'udp-flow');
  assert.deepEqual(rep.requestTs, { sec: 1000, nsec: 0 });
  assert.deepEqual(rep.responseTs, { sec: 1010, nsec: 5 });
  assert.equal(rep.request.packets, 3);
  t.sweep(1025); // due, but nothing since the last report: no report
  assert.equal(host.emitted.length, 1);
  t.packet(q('d'), raw(1026));
  t.sweep(1026); // 16 s since the last report, traffic since
  assert.equal(host.emitted.length, 2);
  assert.equal(host.emitted[1].msg.request.packets, 1);
  t.packet(q('e'), raw(1030));
  t.sweep(1035); // 9 s since: not yet
  assert.equal(host.emitted.length, 2);
});

test('udp: no periodic report for a claimed flow, nor for one still being detected', () => {
  const rec = recorder();
  const a = table([rec.d], 10);
  a.t.packet(q('a'), raw(1000));
  a.t.packet(q('b'), raw(1020));
  a.t.sweep(1020);
  assert.deepEqual(a.host.emitted, []);
  const m = recorder({ detect: () => 'maybe' });
  const b = table([m.d], 10);
  b.t.packet(q('a'), raw(1000));
  b.t.packet(q('b'), raw(1020));
  b.t.sweep(1020);
  assert.deepEqual(b.host.emitted, []);
  b.t.packet(q('c'), raw(1021));
  b.t.packet(q('d'), raw(1022)); // the fourth 'maybe': ignored from now on
  b.t.sweep(1022);
  assert.equal(b.host.emitted.length, 1);
});

test('udp: no periodic report for a flow whose claiming parser failed', () => {
  const dg = recorder({ throwOn: 'datagram' });
  const { host, t } = table([dg.d], 10);
  t.packet(q('a'), raw(1000));
  t.packet(q('b'), raw(1020));
  t.sweep(1020);
  assert.deepEqual(host.emitted, []);
});

test('udp: a host without streamPacket is fine', () => {
  const rec = recorder();
  const { t } = table([rec.d], 60, { noStreamPacket: true });
  t.packet(q('x'), raw(1));
  assert.deepEqual(rec.streams[0].ev, ['d0:x@1']);
});
