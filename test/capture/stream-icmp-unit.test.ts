// IcmpTable (capture/stream/icmp.ts): echo pairing with the round-trip time, duplicates,
// replies without a request, timeouts and capture end, error messages tied to the TCP/UDP flow
// they quote (and a UDP flow marked refused), conversations and their idle end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ECHO_TIMEOUT_S, IcmpTable } from '../../capture/stream/icmp';
import { TcpTable } from '../../capture/stream/tcp';
import { UdpTable } from '../../capture/stream/udp';
import { addrBytes, FakeHost, icmpD, raw, recorder, SYN, tcpD, udpD } from './stream-lib';

const C = '10.0.0.1';
const S = '10.0.0.2';
const C6 = 'fd00::1';
const S6 = 'fd00::2';

function setup() {
  const no = recorder({ detect: () => false });
  const host = new FakeHost([no.d]);
  const tcp = new TcpTable(host);
  const udp = new UdpTable(host);
  return { host, tcp, udp, icmp: new IcmpTable(host, tcp, udp) };
}

const echo = (type: number, id: number, seq: number, data = 'abcd') => Buffer.concat([Buffer.from([type, 0, 0, 0, id >> 8, id & 0xff, seq >> 8, seq & 0xff]), Buffer.from(data)]);
const ip4 = (proto: number, src: string, dst: string, ihl = 5) => {
  const h = Buffer.alloc(ihl * 4);
  h[0] = 0x40 | ihl;
  h[9] = proto;
  Buffer.from(addrBytes(src)).copy(h, 12);
  Buffer.from(addrBytes(dst)).copy(h, 16);
  return h;
};
const ip6 = (next: number, src: string, dst: string) => {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h[6] = next;
  Buffer.from(addrBytes(src)).copy(h, 8);
  Buffer.from(addrBytes(dst)).copy(h, 24);
  return h;
};
const ports = (sp: number, dp: number, extra = 4) => Buffer.concat([Buffer.from([sp >> 8, sp & 0xff, dp >> 8, dp & 0xff]), Buffer.alloc(extra)]);
/** An ICMP error quoting `quoted` (IP header + the start of its payload). */
const err = (type: number, code: number, quoted: Buffer) => Buffer.concat([Buffer.from([type, code, 0, 0, 0, 0, 0, 0]), quoted]);

/** The `original.stream` of an emitted item's request ('-' when it has no `original`). */
const quotedStream = (m: { request: Record<string, unknown> }) => (m.request.original as { stream: string } | null)?.stream ?? '-';

test('icmp: ECHO_TIMEOUT_S is 10 s', () => assert.equal(ECHO_TIMEOUT_S, 10));

test('icmp: a request and its reply make one item with the round-trip time', () => {
  const { host, icmp } = setup();
  icmp.packet(icmpD(C, S, echo(8, 7, 1)), raw(1, 500_000_123));
  assert.deepEqual(host.pendings, [['000000000000_icmp.pcap', { sec: 1, nsec: 500_000_123 }]]);
  icmp.packet(icmpD(S, C, echo(0, 7, 1, 'abcdef')), raw(2, 100_000_000));
  assert.equal(host.opened.length, 1);
  assert.deepEqual(host.opened[0].flow, { srcIp: C, srcPort: 0, dstIp: S, dstPort: 0, transport: 'icmp' });
  assert.equal(host.emitted.length, 1);
  const m = host.emitted[0].msg;
  assert.equal(m.protocol.name, 'icmp');
  assert.equal(m.protocol.version, '4');
  assert.deepEqual([m.request.type, m.request.id, m.request.seq, m.response.type], [8, 7, 1, 0]);
  assert.equal(m.response.rtt, 599_999.877);
  assert.deepEqual([m.requestSize, m.responseSize], [12, 14]);
  assert.deepEqual(m.requestTs, { sec: 1, nsec: 500_000_123 });
  assert.deepEqual(m.responseTs, { sec: 2, nsec: 100_000_000 });
  assert.equal(m.error, null);
  assert.deepEqual(host.pendings[1], ['000000000000_icmp.pcap', null]);
  assert.deepEqual(host.counts(), { icmp: 2 });
  assert.deepEqual(host.streamed, [
    ['000000000000_icmp.pcap', 1],
    ['000000000000_icmp.pcap', 2],
  ]);
});

test('icmp: ICMPv6 echo; a reply stamped before its request has rtt 0', () => {
  const { host, icmp } = setup();
  icmp.packet(icmpD(C6, S6, echo(128, 1, 9)), raw(5, 0));
  icmp.packet(icmpD(S6, C6, echo(129, 1, 9)), raw(4, 999_000_000));
  const m = host.emitted[0].msg;
  assert.equal(m.protocol.name, 'icmp');
  assert.equal(m.protocol.version, '6');
  assert.equal(m.response.rtt, 0);
  assert.deepEqual(host.counts(), { icmp6: 2 });
});

test('icmp: replies pair by sequence; the oldest outstanding request is what is pending', () => {
  const { host, icmp } = setup();
  icmp.packet(icmpD(C, S, echo(8, 7, 1)), raw(10));
  icmp.packet(icmpD(C, S, echo(8, 7, 2)), raw(11));
  icmp.packet(icmpD(S, C, echo(0, 7, 2)), raw(12));
  assert.deepEqual(host.pendings.map((p) => p[1]), [{ sec: 10, nsec: 0 }, { sec: 10, nsec: 0 }, { sec: 10, nsec: 0 }]);
  icmp.packet(icmpD(S, C, echo(0, 7, 1)), raw(13));
  assert.deepEqual(host.pendings[3][1], null);
  assert.deepEqual(host.emitted.map((e) => [e.msg.request.seq, e.msg.requestTs.sec, e.msg.responseTs!.sec]), [
    [2, 11, 12],
    [1, 10, 13],
  ]);
});

test('icmp: a duplicate request is counted, the first one kept', () => {
  const { host, icmp } = setup();
  icmp.packet(icmpD(C, S, echo(8, 7, 1)), raw(10));
  icmp.packet(icmpD(C, S, echo(8, 7, 1)), raw(11));
  icmp.packet(icmpD(S, C, echo(0, 7, 1)), raw(12));
  assert.deepEqual(host.warnings, ['icmp.duplicate-echo-request']);
  assert.equal(host.emitted.length, 1);
  assert.deepEqual(host.emitted[0].msg.requestTs, { sec: 10, nsec: 0 });
});

test('icmp: a reply without a captured request: empty request, pair-not-found, its sender is the server', () => {
  const { host, icmp } = setup();
  icmp.packet(icmpD(S, C, echo(0, 3, 4)), raw(20, 1));
  assert.deepEqual(host.opened[0].flow, { srcIp: C, srcPort: 0, dstIp: S, dstPort: 0, transport: 'icmp' });
  const m = host.emitted[0].msg;
  assert.deepEqual(m.error, { type: 'pair-not-found', msg: 'echo reply without a captured request' });
  assert.equal(m.request.type, -1);
  assert.equal(m.request.version, 4);
  assert.equal(m.protocol.version, '4');
  assert.deepEqual(m.requestTs, { sec: 20, nsec: 1 });
  assert.deepEqual(m.responseTs, { sec: 20, nsec: 1 });
  assert.equal(m.response.rtt, 0);
  assert.deepEqual(host.pendings, []); // nothing was owed
  const b = setup();
  b.icmp.packet(icmpD(S6, C6, echo(129, 3, 4)), raw(20));
  assert.equal(b.host.emitted[0].msg.protocol.version, '6');
});

test('icmp: conversations: one per address pair and echo identifier, one for all other messages', () => {
  const { host, icmp } = setup();
  icmp.packet(icmpD(C, S, echo(8, 1, 1)), raw(1));
  icmp.packet(icmpD(C, S, echo(8, 2, 1)), raw(1));
  icmp.packet(icmpD(S, C, echo(8, 1, 5)), raw(1)); // same pair and id, either way: same stream
  icmp.packet(icmpD(C, '10.0.0.3', echo(8, 1, 1)), raw(1));
  icmp.packet(icmpD(C, S, Buffer.from([13, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0])), raw(1)); // timestamp request
  icmp.packet(icmpD(S, C, Buffer.from([14, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0])), raw(1));
  icmp.packet(icmpD(C6, S6, echo(128, 1, 1)), raw(1));
  icmp.packet(icmpD(C, S, echo(8, 0, 1)), raw(1)); // echo identifier 0: not the non-echo conversation
  assert.equal(host.opened.length, 6);
  assert.deepEqual(host.streamed.map((s) => s[0].slice(10, 12)), ['00', '01', '00', '02', '03', '03', '04', '05']);
  // Other messages are items of their own with an empty response, requested at their time.
  const ts = host.emitted.filter((e) => e.msg.request.type === 13 || e.msg.request.type === 14);
  assert.equal(ts.length, 2);
  assert.equal(ts[0].msg.response.type, -1);
  assert.equal(ts[0].msg.responseTs, null);
  assert.equal(ts[0].msg.error, null);
  assert.equal(ts[0].msg.response.rtt, 0);
  assert.deepEqual(host.opened[3].flow.srcIp, C);
});

test('icmp: unanswered requests time out after ECHO_TIMEOUT_S, oldest first', () => {
  const { host, icmp } = setup();
  icmp.packet(icmpD(C, S, echo(8, 7, 1)), raw(100));
  icmp.packet(icmpD(C, S, echo(8, 7, 2)), raw(105));
  host.pendings.length = 0;
  icmp.sweep(109);
  assert.equal(host.emitted.length, 0);
  icmp.sweep(110);
  assert.equal(host.emitted.length, 1);
  const m = host.emitted[0].msg;
  assert.deepEqual(m.error, { type: 'timeout', msg: 'no echo reply within 10 s' });
  assert.equal(m.request.seq, 1);
  assert.equal(m.response.type, -1);
  assert.equal(m.response.version, 4);
  assert.equal(m.responseTs, null);
  assert.deepEqual(host.pendings.at(-1), ['000000000000_icmp.pcap', { sec: 105, nsec: 0 }]);
  icmp.sweep(115);
  assert.equal(host.emitted.length, 2);
  assert.deepEqual(host.pendings.at(-1), ['000000000000_icmp.pcap', null]);
  // A late reply now has no request.
  icmp.packet(icmpD(S, C, echo(0, 7, 1)), raw(116));
  assert.equal(host.emitted[2].msg.error!.type, 'pair-not-found');
});

test('icmp: idle conversations end after more than 60 s without a message (none owed)', () => {
  const { host, icmp } = setup();
  icmp.packet(icmpD(C, S, Buffer.from([13, 0, 0, 0, 0, 1, 0, 1])), raw(100));
  host.pendings.length = 0;
  icmp.sweep(160);
  assert.deepEqual(host.closedNames, []);
  assert.deepEqual(host.pendings, []); // nothing owed, nothing said
  icmp.sweep(161);
  assert.deepEqual(host.closedNames, ['000000000000_icmp.pcap']);
  icmp.packet(icmpD(C, S, Buffer.from([13, 0, 0, 0, 0, 1, 0, 1])), raw(200));
  assert.equal(host.opened.length, 2); // a new conversation
  // A clock stepped back: activity is clamped, the conversation still idles out.
  icmp.sweep(50);
  icmp.sweep(110);
  assert.equal(host.closedNames.length, 1);
  icmp.sweep(111);
  assert.equal(host.closedNames.length, 2);
});

test('icmp: a conversation that still owes a reply does not idle out', () => {
  const { host, icmp } = setup();
  icmp.packet(icmpD(C, S, echo(8, 7, 1)), raw(100));
  icmp.sweep(105);
  icmp.sweep(109);
  assert.deepEqual(host.closedNames, []);
  assert.equal(host.emitted.length, 0, 'not yet 10 s old');
  icmp.endAll();
  assert.deepEqual(host.emitted[0].msg.error, { type: 'pair-not-found', msg: 'no echo reply before the capture ended' });
  assert.deepEqual(host.closedNames, ['000000000000_icmp.pcap']);
});

test('icmp: after the clock steps back an outstanding request times out 10 s of the new clock later', () => {
  const { host, icmp } = setup();
  icmp.packet(icmpD(C, S, echo(8, 7, 1)), raw(10_000));
  icmp.sweep(100); // the clock stepped back: the wait starts over at 100
  icmp.sweep(109);
  assert.equal(host.emitted.length, 0, 'not yet 10 s after the step');
  icmp.sweep(110);
  assert.equal(host.emitted.length, 1);
  const m = host.emitted[0].msg;
  assert.deepEqual(m.error, { type: 'timeout', msg: 'no echo reply within 10 s' });
  assert.deepEqual(m.requestTs, { sec: 10_000, nsec: 0 }, 'the item keeps the time the request was captured at');
  icmp.sweep(160);
  assert.deepEqual(host.closedNames, [], 'idle for 60 s only after the step');
  icmp.sweep(161);
  assert.deepEqual(host.closedNames, ['000000000000_icmp.pcap']);
});

test('icmp: at the end every unanswered request is an item and every conversation closes', () => {
  const { host, icmp } = setup();
  icmp.packet(icmpD(C, S, echo(8, 7, 1)), raw(100));
  icmp.packet(icmpD(C, S, echo(8, 7, 2)), raw(100));
  icmp.packet(icmpD(C6, S6, echo(128, 7, 2)), raw(100));
  icmp.packet(icmpD(C, S, Buffer.from([13, 0, 0, 0, 0, 1, 0, 1])), raw(100));
  icmp.endAll();
  assert.deepEqual(host.emitted.filter((e) => e.msg.error).map((e) => [e.msg.request.seq, e.msg.error!.type, e.msg.response.version]), [
    [1, 'pair-not-found', 4],
    [2, 'pair-not-found', 4],
    [2, 'pair-not-found', 6],
  ]);
  assert.equal(host.closedNames.length, 3);
  icmp.endAll();
  assert.equal(host.closedNames.length, 3); // cleared
});

test('icmp: a port unreachable names the UDP flow it quotes and marks it refused', () => {
  const { host, udp, icmp } = setup();
  udp.packet(udpD({ src: C, dst: S, sp: 40000, dp: 9999, payload: 'x' }), raw(1));
  icmp.packet(icmpD(S, C, err(3, 3, Buffer.concat([ip4(17, C, S), ports(40000, 9999)]))), raw(2));
  const m = host.emitted[0].msg;
  assert.deepEqual(m.request.original, { transport: 'udp', srcIp: C, srcPort: 40000, dstIp: S, dstPort: 9999, stream: '000000000000_udp.pcap' });
  assert.equal(m.responseTs, null);
  assert.deepEqual(m.requestTs, { sec: 2, nsec: 0 });
  udp.endAll();
  assert.equal(host.emitted[1].msg.request.state, 'refused');
});

test('icmp: other unreachable codes name the flow but do not refuse it', () => {
  for (const [src, dst, msg] of [
    [S, C, err(3, 1, Buffer.concat([ip4(17, C, S), ports(40000, 9999)]))],
    [S, C, err(11, 3, Buffer.concat([ip4(17, C, S), ports(40000, 9999)]))],
    [S6, C6, err(1, 3, Buffer.concat([ip6(17, C6, S6), ports(40000, 9999)]))],
    [S6, C6, err(3, 3, Buffer.concat([ip6(17, C6, S6), ports(40000, 9999)]))], // ICMPv6 type 3 code 3 is no port unreachable
  ] as const) {
    const { host, udp, icmp } = setup();
    const v6 = src.includes(':');
    udp.packet(udpD({ src: v6 ? C6 : C, dst: v6 ? S6 : S, sp: 40000, dp: 9999, payload: 'x' }), raw(1));
    icmp.packet(icmpD(src, dst, msg), raw(2));
    assert.equal(quotedStream(host.emitted[0].msg), '000000000000_udp.pcap');
    udp.endAll();
    assert.equal(host.emitted[1].msg.request.state, 'open', `${msg[0]}/${msg[1]}`);
  }
});

test('icmp: an ICMPv6 port unreachable refuses the UDP flow it quotes', () => {
  const { host, udp, icmp } = setup();
  udp.packet(udpD({ src: C6, dst: S6, sp: 40000, dp: 9999, payload: 'x' }), raw(1));
  icmp.packet(icmpD(S6, C6, err(1, 4, Buffer.concat([ip6(17, C6, S6), ports(40000, 9999)]))), raw(2));
  assert.equal(quotedStream(host.emitted[0].msg), '000000000000_udp.pcap');
  assert.equal(host.emitted[0].msg.protocol.version, '6');
  udp.endAll();
  assert.equal(host.emitted[1].msg.request.state, 'refused');
});

test('icmp: a quoted header with IP options is read past them', () => {
  const { host, udp, icmp } = setup();
  udp.packet(udpD({ src: C, dst: S, sp: 40000, dp: 9999, payload: 'x' }), raw(1));
  icmp.packet(icmpD(S, C, err(3, 3, Buffer.concat([ip4(17, C, S, 6), ports(40000, 9999, 0)]))), raw(2));
  assert.equal(quotedStream(host.emitted[0].msg), '000000000000_udp.pcap');
});

test('icmp: an error quoting a TCP connection names its stream', () => {
  const { host, tcp, icmp } = setup();
  tcp.packet(tcpD({ src: C, dst: S, sp: 40000, dp: 80, flags: SYN, seq: 1 }), raw(1));
  icmp.packet(icmpD(S, C, err(3, 3, Buffer.concat([ip4(6, C, S), ports(40000, 80)]))), raw(2));
  assert.equal(quotedStream(host.emitted[0].msg), '000000000000.pcap');
  // The quoted ports decide: another port is another (untracked) connection.
  icmp.packet(icmpD(S, C, err(3, 3, Buffer.concat([ip4(6, C, S), ports(40001, 80)]))), raw(3));
  assert.equal(quotedStream(host.emitted[1].msg), '');
});

test('icmp: untracked, port-less or non-TCP/UDP quotes name nothing', () => {
  const { host, tcp, udp, icmp } = setup();
  // Flows with ports 0 would match a quote whose ports were not read.
  udp.packet(udpD({ src: C, dst: S, sp: 0, dp: 0, payload: 'x' }), raw(1));
  udp.packet(udpD({ src: C6, dst: S6, sp: 0, dp: 0, payload: 'x' }), raw(1));
  tcp.packet(tcpD({ src: C, dst: S, sp: 0, dp: 0, seq: 1, flags: SYN }), raw(1));
  icmp.packet(icmpD(S, C, err(3, 3, Buffer.concat([ip4(17, C, S), Buffer.from([0, 0, 0])]))), raw(2)); // 3 bytes of ports: too short
  icmp.packet(icmpD(S, C, err(3, 3, Buffer.concat([ip4(17, C, S), Buffer.from([0, 0, 0, 0])]))), raw(3)); // exactly 4: read
  icmp.packet(icmpD(S, C, err(3, 3, Buffer.concat([ip4(17, C, '10.9.9.9'), ports(0, 0)]))), raw(4)); // untracked
  icmp.packet(icmpD(S, C, err(3, 2, Buffer.concat([ip4(1, C, S), ports(0, 0)]))), raw(5)); // quotes ICMP
  icmp.packet(icmpD(S6, C6, err(1, 4, Buffer.concat([ip6(17, C6, S6), Buffer.from([0, 0, 0])]))), raw(6)); // v6, too short
  assert.deepEqual(host.emitted.map((e) => quotedStream(e.msg)), ['', '000000000000_udp.pcap', '', '', '']);
  udp.endAll();
  assert.deepEqual(host.emitted.slice(-2).map((e) => e.msg.request.state), ['refused', 'open']); // by the second error only
});

test('icmp: a host without streamPacket is fine', () => {
  const host = new FakeHost([], 60, { noStreamPacket: true });
  const icmp = new IcmpTable(host, new TcpTable(host), new UdpTable(host));
  icmp.packet(icmpD(C, S, echo(8, 7, 1)), raw(1));
  icmp.endAll();
  assert.equal(host.emitted.length, 1);
});
