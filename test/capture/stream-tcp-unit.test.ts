// TcpTable (capture/stream/tcp.ts), driven with Decoded segments and a recording host: who is
// the client, in-order delivery, retransmissions and overlaps, held out-of-order segments, the
// three ways a hole is declared lost (ACK_GRACE, GAP_WAIT_S, the caps), snap-length cuts, FIN /
// RST / idle / end of capture, lingering closed connections, a new SYN on a live 4-tuple,
// failing parsers, detection, tcp-conn/tcp-flow items, the half-open cap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACK_GRACE, CLOSED_LINGER_S, flowOf, GAP_WAIT_S, MAX_HALF_OPEN, OOO_DIR_CAP, OOO_TOTAL_CAP, TCP_IDLE_S, TcpTable } from '../../capture/stream/tcp';
import type { Dissector } from '../../capture/types';
import { ACK, FakeHost, FIN, raw, recorder, RST, SYN, tcpD, udpD, type PktSpec } from './stream-lib';

const C = '10.0.0.1';
const S = '10.0.0.2';
const CP = 40000;
const SP = 80;
const ISN_C = 1000;
const ISN_S = 5000;

type Seg = Omit<PktSpec, 'src' | 'dst' | 'sp' | 'dp'>;

/** One connection's worth of helpers: c(…)/s(…) send from the client/server at time `t`. */
function setup(ds?: Dissector[], flowReportS = 60) {
  const rec = recorder();
  const host = new FakeHost(ds ?? [rec.d], flowReportS);
  const t = new TcpTable(host);
  const c = (seg: Seg, sec = 1, nsec = 0) => t.packet(tcpD({ src: C, dst: S, sp: CP, dp: SP, ...seg }), raw(sec, nsec));
  const s = (seg: Seg, sec = 1, nsec = 0) => t.packet(tcpD({ src: S, dst: C, sp: SP, dp: CP, ...seg }), raw(sec, nsec));
  return { rec, host, t, c, s, ev: () => rec.streams[0]?.ev ?? [] };
}

/** SYN, SYN-ACK, ACK: the client's next byte is ISN_C + 1, the server's ISN_S + 1. */
function handshake(x: ReturnType<typeof setup>, sec = 1) {
  x.c({ seq: ISN_C, flags: SYN }, sec);
  x.s({ seq: ISN_S, ack: ISN_C + 1, flags: SYN | ACK }, sec);
  x.c({ seq: ISN_C + 1, ack: ISN_S + 1, flags: ACK }, sec);
}
const c1 = ISN_C + 1;
const s1 = ISN_S + 1;

test('tcp: constants', () => {
  assert.deepEqual([TCP_IDLE_S, GAP_WAIT_S, OOO_DIR_CAP, OOO_TOTAL_CAP, CLOSED_LINGER_S, ACK_GRACE, MAX_HALF_OPEN], [60, 2, 1 << 20, 64 << 20, 10, 8, 65536]);
});

test('tcp: a whole connection: handshake, data both ways, FIN both ways', () => {
  const x = setup();
  handshake(x);
  x.c({ seq: c1, ack: s1, flags: ACK, payload: 'GET /' }, 2);
  x.s({ seq: s1, ack: c1 + 5, flags: ACK, payload: '200 OK' }, 3);
  x.c({ seq: c1 + 5, ack: s1 + 6, flags: ACK | FIN }, 4);
  assert.deepEqual(x.host.closedNames, []);
  x.s({ seq: s1 + 6, ack: c1 + 6, flags: ACK | FIN }, 5);
  x.c({ seq: c1 + 6, ack: s1 + 7, flags: ACK }, 5); // last ACK: lingers on the closed connection
  assert.deepEqual(x.host.opened.map((i) => [i.name, i.flow]), [['000000000000.pcap', { srcIp: C, srcPort: CP, dstIp: S, dstPort: SP, transport: 'tcp' }]]);
  assert.deepEqual(x.ev(), ['d0:GET /@2', 'd1:200 OK@3', 'e0:fin', 'e1:fin', 'e-:fin']);
  assert.deepEqual(x.host.closedNames, ['000000000000.pcap']);
  assert.deepEqual(x.host.counts(), { 'tcp/rec': 8 });
  assert.equal(x.host.streamed.length, 8);
  assert.deepEqual(x.host.emitted, []);
  assert.equal(x.rec.seen.length, 1);
});

test('tcp: no SYN seen: the lower port is the server, the first sender on a tie', () => {
  const cases: [number, number, boolean][] = [
    [40000, 80, true],
    [80, 40000, false],
    [81, 80, true],
    [80, 81, false],
    [5000, 5000, true],
  ];
  for (const [sp, dp, senderIsClient] of cases) {
    const x = setup();
    x.t.packet(tcpD({ src: S, dst: C, sp, dp, seq: 10, flags: ACK, payload: 'a' }), raw(1));
    x.t.packet(tcpD({ src: C, dst: S, sp: dp, dp: sp, seq: 20, flags: ACK, payload: 'b' }), raw(1));
    const want = senderIsClient ? { srcIp: S, srcPort: sp, dstIp: C, dstPort: dp, transport: 'tcp' } : { srcIp: C, srcPort: dp, dstIp: S, dstPort: sp, transport: 'tcp' };
    assert.deepEqual(x.host.opened[0].flow, want, `${sp}→${dp}`);
    assert.deepEqual(x.ev(), senderIsClient ? ['d0:a@1', 'd1:b@1'] : ['d1:a@1', 'd0:b@1'], `${sp}→${dp}`);
  }
});

test('tcp: a SYN makes its sender the client, a SYN-ACK its receiver, whatever the ports', () => {
  const a = setup();
  a.t.packet(tcpD({ src: S, dst: C, sp: 80, dp: 40000, seq: 1, flags: SYN }), raw(1));
  assert.deepEqual(a.host.opened[0].flow, { srcIp: S, srcPort: 80, dstIp: C, dstPort: 40000, transport: 'tcp' });
  const b = setup();
  b.t.packet(tcpD({ src: C, dst: S, sp: 40000, dp: 80, seq: 1, flags: SYN | ACK }), raw(1));
  assert.deepEqual(b.host.opened[0].flow, { srcIp: S, srcPort: 80, dstIp: C, dstPort: 40000, transport: 'tcp' });
});

test('tcp: pure ACKs and RSTs of unseen connections open nothing; a FIN, a SYN or data does', () => {
  const x = setup();
  x.c({ seq: 1, ack: 1, flags: ACK });
  x.c({ seq: 1, flags: RST });
  x.c({ seq: 1, flags: RST | ACK, payload: 'zz' });
  assert.equal(x.host.opened.length, 0);
  assert.deepEqual(x.host.counts(), { 'tcp/no-connection': 3 });
  assert.equal(x.host.streamed.length, 0);
  for (const flags of [FIN | ACK, SYN]) {
    const y = setup();
    y.c({ seq: 1, flags });
    assert.equal(y.host.opened.length, 1);
  }
  const z = setup();
  z.c({ seq: 1, payload: 'x' });
  assert.equal(z.host.opened.length, 1);
});

test('tcp: retransmissions and overlaps: each byte once, the first copy wins', () => {
  const x = setup();
  handshake(x);
  x.c({ seq: c1, flags: ACK, payload: 'abcd' });
  x.c({ seq: c1, flags: ACK, payload: 'abcd' }); // retransmission
  x.c({ seq: c1 + 2, flags: ACK, payload: 'CDEF' }); // overlap: EF new
  x.c({ seq: c1 - 1, flags: ACK, payload: 'X' }); // before the stream start
  x.c({ seq: c1, flags: ACK, payload: 'ABCDEFGH' }); // GH new
  assert.deepEqual(x.rec.streams[0].bytes, ['abcdEFGH', '']);
});

test('tcp: out-of-order segments are held and delivered in order once the hole fills', () => {
  const x = setup();
  handshake(x);
  x.c({ seq: c1 + 6, flags: ACK, payload: 'ghi' });
  x.c({ seq: c1 + 3, flags: ACK, payload: 'def' });
  x.c({ seq: c1 + 9, flags: ACK, payload: 'jk' });
  x.c({ seq: c1 + 3, flags: ACK, payload: 'de' }); // shorter duplicate of a held one
  x.c({ seq: c1 + 6, flags: ACK, payload: 'ghi' }); // exact duplicate
  assert.deepEqual(x.ev(), []);
  x.c({ seq: c1, flags: ACK, payload: 'abc' }, 1, 5);
  assert.deepEqual(x.ev(), ['d0:abc@1', 'd0:def@1', 'd0:ghi@1', 'd0:jk@1']);
  assert.equal(x.host.gaps, 0);
});

test('tcp: a longer copy of a held segment is held too; held overlaps are cut on delivery', () => {
  const x = setup();
  handshake(x);
  x.c({ seq: c1 + 2, flags: ACK, payload: 'cd' });
  x.c({ seq: c1 + 2, flags: ACK, payload: 'CDEF' });
  x.c({ seq: c1 + 3, flags: ACK, payload: 'x' }); // inside what is held: no new bytes
  x.c({ seq: c1, flags: ACK, payload: 'ab' });
  assert.deepEqual(x.rec.streams[0].bytes, ['abcdEF', '']);
});

test('tcp: sequence numbers wrap around 2^32', () => {
  const x = setup();
  const isn = 0xfffffffd;
  x.c({ seq: isn, flags: SYN });
  x.c({ seq: 0xfffffffe, flags: ACK, payload: 'ab' });
  x.c({ seq: 2, flags: ACK, payload: 'ef' }); // held across the wrap
  x.c({ seq: 0, flags: ACK, payload: 'cd' });
  assert.deepEqual(x.rec.streams[0].bytes, ['abcdef', '']);
  x.c({ seq: 0xffffffff, flags: ACK, payload: 'bcdefg' }); // overlap across the wrap: g new
  assert.deepEqual(x.rec.streams[0].bytes, ['abcdefg', '']);
  x.c({ seq: 5, flags: ACK | FIN });
  x.s({ seq: 77, flags: ACK | FIN });
  assert.deepEqual(x.ev().slice(-3), ['e0:fin', 'e1:fin', 'e-:fin']);
});

test('tcp: a hole is declared lost GAP_WAIT_S after the held segment arrived, one hole per packet', () => {
  const x = setup();
  handshake(x, 100);
  x.c({ seq: c1, flags: ACK, payload: 'a' }, 100);
  x.c({ seq: c1 + 4, flags: ACK, payload: 'efgh' }, 100, 500);
  x.s({ seq: s1, flags: ACK, payload: 'r' }, 101);
  x.c({ seq: c1 + 10, flags: ACK, payload: 'kl' }, 101);
  assert.deepEqual(x.ev(), ['d0:a@100', 'd1:r@101']);
  x.c({ seq: c1 + 20, flags: ACK, payload: 'uv' }, 102); // 2 s after the oldest held one
  assert.deepEqual(x.ev(), ['d0:a@100', 'd1:r@101', 'g0:3:lost', 'd0:efgh@100']);
  x.c({ seq: c1 + 40, flags: ACK, payload: 'xx' }, 103); // 'kl' is 2 s old now, 'uv' 1 s
  assert.deepEqual(x.ev().slice(4), ['g0:2:lost', 'd0:kl@101']);
  assert.equal(x.host.gaps, 2);
  x.s({ seq: s1 + 1, flags: ACK }, 104); // the other direction's packet does not fill this one
  assert.equal(x.host.gaps, 2);
  x.c({ seq: c1 + 1, flags: ACK }, 104); // an empty packet of this direction does
  assert.deepEqual(x.ev().slice(6), ['g0:8:lost', 'd0:uv@102']);
});

test('tcp: the wait is per direction, and a sweep fills every stale hole', () => {
  const x = setup();
  handshake(x, 100);
  x.c({ seq: c1, flags: ACK, payload: 'a' }, 100);
  x.c({ seq: c1 + 4, flags: ACK, payload: 'efgh' }, 100);
  x.s({ seq: s1, flags: ACK, payload: 'r' }, 105);
  assert.deepEqual(x.ev(), ['d0:a@100', 'd1:r@105']);
  x.s({ seq: s1 + 3, flags: ACK, payload: 'cd' }, 105);
  x.t.sweep(101);
  assert.deepEqual(x.ev(), ['d0:a@100', 'd1:r@105']);
  x.t.sweep(106);
  assert.deepEqual(x.ev(), ['d0:a@100', 'd1:r@105', 'g0:3:lost', 'd0:efgh@100']);
  x.t.sweep(107);
  assert.deepEqual(x.ev().slice(4), ['g1:2:lost', 'd1:cd@105']);
});

test('tcp: a hole the peer ACKed past is declared lost ACK_GRACE packets later', () => {
  const x = setup();
  handshake(x);
  x.c({ seq: c1, flags: ACK, payload: 'a' });
  x.c({ seq: c1 + 3, flags: ACK, payload: 'def' });
  x.s({ seq: s1, ack: c1 + 2, flags: ACK }); // ACK inside the hole: not past it
  x.s({ seq: s1, ack: c1 + 3, flags: ACK }); // ACKs the held segment's start: the hole was received
  for (let i = 1; i < ACK_GRACE; i++) x.s({ seq: s1, ack: c1 + 6, flags: ACK });
  assert.deepEqual(x.ev(), ['d0:a@1']);
  x.s({ seq: s1, ack: c1 + 6, flags: ACK });
  assert.deepEqual(x.ev(), ['d0:a@1', 'g0:2:lost', 'd0:def@1']);
});

test('tcp: ACK_GRACE for a hole in the server\'s direction, counted from the first ACK past it', () => {
  const x = setup();
  handshake(x);
  x.s({ seq: s1, flags: ACK, payload: 'a' });
  x.s({ seq: s1 + 2, flags: ACK, payload: 'cd' });
  x.c({ seq: c1, ack: s1 + 4, flags: ACK }); // past it
  x.c({ seq: c1, ack: s1 + 9, flags: ACK }); // further past: the count does not start again
  for (let i = 2; i < ACK_GRACE; i++) x.c({ seq: c1, ack: s1 + 4, flags: ACK });
  assert.deepEqual(x.ev(), ['d1:a@1']);
  x.c({ seq: c1, ack: s1 + 4, flags: ACK });
  assert.deepEqual(x.ev(), ['d1:a@1', 'g1:1:lost', 'd1:cd@1']);
});

test('tcp: an ACK past the hole without the ACK flag does not count; delivery resets the count', () => {
  const x = setup();
  handshake(x);
  x.c({ seq: c1, flags: ACK, payload: 'a' });
  x.c({ seq: c1 + 4, flags: ACK, payload: 'def' });
  for (let i = 0; i < ACK_GRACE + 2; i++) x.s({ seq: s1, ack: c1 + 7 }); // no ACK flag
  assert.deepEqual(x.ev(), ['d0:a@1']);
  // Now ACKed; then part of the hole arrives: a new, smaller hole, whose count starts again.
  x.s({ seq: s1, ack: c1 + 7, flags: ACK });
  x.c({ seq: c1 + 1, flags: ACK, payload: 'b' });
  for (let i = 0; i < ACK_GRACE; i++) x.s({ seq: s1, flags: ACK, ack: c1 + 2 }); // ACKs before the hole
  assert.deepEqual(x.ev(), ['d0:a@1', 'd0:b@1']);
  x.s({ seq: s1, ack: c1 + 7, flags: ACK });
  for (let i = 1; i < ACK_GRACE; i++) x.s({ seq: s1, flags: ACK, ack: c1 + 7 });
  assert.deepEqual(x.ev(), ['d0:a@1', 'd0:b@1']);
  x.s({ seq: s1, flags: ACK, ack: c1 + 7 });
  assert.deepEqual(x.ev(), ['d0:a@1', 'd0:b@1', 'g0:2:lost', 'd0:def@1']);
});

test('tcp: over OOO_DIR_CAP held bytes in a direction the hole is declared lost at once', () => {
  const x = setup();
  handshake(x);
  const big = Buffer.alloc(OOO_DIR_CAP / 2, 0x61);
  x.c({ seq: c1, flags: ACK, payload: 'a' });
  x.c({ seq: c1 + 10, flags: ACK, payload: big });
  x.c({ seq: c1 + 10 + big.length, flags: ACK, payload: big }); // exactly the cap: still held
  assert.deepEqual(x.host.warnings, []);
  x.c({ seq: c1 + 10 + 2 * big.length, flags: ACK, payload: 'z' });
  assert.deepEqual(x.host.warnings, ['tcp.out-of-order-cap']);
  assert.deepEqual(x.ev(), ['d0:a@1', 'g0:9:lost', `d0:${big.length}B@1`, `d0:${big.length}B@1`, 'd0:z@1']);
});

test('tcp: over OOO_TOTAL_CAP held bytes in all, holes are declared lost until half is left', () => {
  const x = setup();
  const piece = Buffer.alloc(OOO_DIR_CAP, 0x61); // at the per-direction cap, not over it
  const n = OOO_TOTAL_CAP / OOO_DIR_CAP;
  for (let i = 0; i < n; i++) {
    const sp = 20000 + i;
    x.t.packet(tcpD({ src: C, dst: S, sp, dp: SP, seq: 0, flags: SYN }), raw(1));
    x.t.packet(tcpD({ src: C, dst: S, sp, dp: SP, seq: 1, flags: ACK, payload: 'a' }), raw(1));
    x.t.packet(tcpD({ src: C, dst: S, sp, dp: SP, seq: 5, flags: ACK, payload: piece }), raw(1));
  }
  assert.deepEqual(x.host.warnings, []);
  x.t.packet(tcpD({ src: C, dst: S, sp: 30000, dp: SP, seq: 0, flags: SYN }), raw(1));
  x.t.packet(tcpD({ src: C, dst: S, sp: 30000, dp: SP, seq: 5, flags: ACK, payload: 'z' }), raw(1));
  assert.deepEqual(x.host.warnings, ['tcp.out-of-order-total-cap']);
  // Oldest connections first, until at most half the cap is held: n/2 + 1 holes.
  assert.equal(x.host.gaps, n / 2 + 1);
  assert.deepEqual(x.rec.streams.slice(0, n / 2 + 1).map((r) => r.ev[1]), new Array(n / 2 + 1).fill('g0:3:lost'));
  assert.deepEqual(x.rec.streams[n / 2 + 1].ev, ['d0:a@1']);
  assert.deepEqual(x.rec.streams[n - 1].ev, ['d0:a@1']);
});

test('tcp: held bytes leave both caps once delivered or dropped: only what is held at once counts', () => {
  // One direction holds 600 KB three times, each drained when its hole fills: 1.8 MB in all,
  // never over OOO_DIR_CAP at once.
  const x = setup();
  handshake(x);
  const part = Buffer.alloc(600 * 1024, 0x61);
  let next = c1;
  for (let i = 0; i < 3; i++) {
    x.c({ seq: next + 1, flags: ACK, payload: part });
    x.c({ seq: next, flags: ACK, payload: 'h' });
    next += 1 + part.length;
  }
  assert.deepEqual(x.host.warnings, []);
  assert.equal(x.host.gaps, 0);
  assert.equal(x.ev().length, 6);
  // 70 connections each hold 1 MB and are reset (held bytes dropped): 70 MB in all, never over
  // OOO_TOTAL_CAP at once.
  const y = setup();
  for (let i = 0; i < 70; i++) {
    const sp = 20000 + i;
    y.t.packet(tcpD({ src: C, dst: S, sp, dp: SP, seq: 0, flags: SYN }), raw(1));
    y.t.packet(tcpD({ src: C, dst: S, sp, dp: SP, seq: 5, flags: ACK, payload: Buffer.alloc(OOO_DIR_CAP, 0x61) }), raw(1));
    y.t.packet(tcpD({ src: S, dst: C, sp: SP, dp: sp, seq: 0, flags: RST }), raw(1));
  }
  assert.deepEqual(y.host.warnings, []);
  assert.equal(y.host.gaps, 0);
});

test('tcp: a FIN ends its direction only once every byte before it arrived', () => {
  const x = setup();
  handshake(x);
  x.c({ seq: c1, flags: ACK, payload: 'a' }, 2);
  x.c({ seq: c1 + 2, flags: ACK | FIN, payload: 'cd' }, 2);
  x.s({ seq: s1, flags: ACK | FIN }, 2);
  assert.deepEqual(x.ev(), ['d0:a@2', 'e1:fin']);
  x.c({ seq: c1 + 1, flags: ACK, payload: 'b' }, 3);
  assert.deepEqual(x.ev(), ['d0:a@2', 'e1:fin', 'd0:b@3', 'd0:cd@2', 'e0:fin', 'e-:fin']);
  assert.deepEqual(x.host.closedNames, ['000000000000.pcap']);
});

test('tcp: a FIN after a lost hole ends once the gap is declared; a retransmitted FIN changes nothing', () => {
  const x = setup();
  handshake(x, 10);
  x.c({ seq: c1, flags: ACK, payload: 'a' }, 10);
  x.c({ seq: c1 + 2, flags: ACK | FIN, payload: 'cd' }, 10);
  x.c({ seq: c1 + 9, flags: ACK | FIN }, 10); // a second FIN: the first one's sequence holds
  x.t.sweep(12);
  assert.deepEqual(x.ev(), ['d0:a@10', 'g0:1:lost', 'd0:cd@10', 'e0:fin']);
});

test('tcp: a snap-length cut is a known hole, told to the parser at once', () => {
  const x = setup();
  handshake(x);
  x.c({ seq: c1, flags: ACK, payload: 'abc', cut: 100 }, 2);
  x.c({ seq: c1 + 103, flags: ACK, payload: 'next' }, 3);
  assert.deepEqual(x.ev(), ['d0:abc@2', 'g0:100:snaplen', 'd0:next@3']);
  assert.equal(x.host.gaps, 0);
  // A retransmission of the cut packet changes nothing; a FIN counts the cut bytes.
  x.c({ seq: c1, flags: ACK, payload: 'abc', cut: 100 }, 4);
  x.c({ seq: c1 + 107, flags: ACK | FIN, payload: 'xy', cut: 5 }, 5);
  x.s({ seq: s1, flags: ACK | FIN }, 5);
  assert.deepEqual(x.ev(), ['d0:abc@2', 'g0:100:snaplen', 'd0:next@3', 'd0:xy@5', 'g0:5:snaplen', 'e0:fin', 'e1:fin', 'e-:fin']);
});

test('tcp: a held segment that was cut reports its cut when drained', () => {
  const x = setup();
  handshake(x);
  x.c({ seq: c1 + 2, flags: ACK, payload: 'cd', cut: 10 }, 2);
  x.c({ seq: c1 + 14, flags: ACK, payload: 'after' }, 2);
  x.c({ seq: c1, flags: ACK, payload: 'ab' }, 2);
  assert.deepEqual(x.ev(), ['d0:ab@2', 'd0:cd@2', 'g0:10:snaplen', 'd0:after@2']);
});

test('tcp: a packet whose payload was all cut still moves the stream on', () => {
  const x = setup();
  handshake(x);
  x.c({ seq: c1, flags: ACK, payload: 'a' }, 2);
  x.c({ seq: c1 + 1, flags: ACK, cut: 50 }, 2);
  x.c({ seq: c1 + 51, flags: ACK, payload: 'q' }, 2);
  assert.deepEqual(x.ev(), ['d0:a@2', 'g0:50:snaplen', 'd0:q@2']);
  // A cut that lies wholly before `next` (already covered) is no hole.
  x.c({ seq: c1 + 1, flags: ACK, cut: 10 }, 2);
  assert.deepEqual(x.ev(), ['d0:a@2', 'g0:50:snaplen', 'd0:q@2']);
});

test('tcp: a cut or lost hole before any byte was delivered is not a parser gap (detection starts after it)', () => {
  const x = setup();
  handshake(x);
  x.c({ seq: c1, flags: ACK, cut: 50 }, 2);
  x.c({ seq: c1 + 50, flags: ACK, payload: 'q' }, 2);
  assert.deepEqual(x.ev(), ['d0:q@2']);
  assert.equal(x.host.gaps, 0);
  const y = setup();
  handshake(y, 10);
  y.c({ seq: c1 + 3, flags: ACK, payload: 'q' }, 10);
  y.t.sweep(12);
  assert.deepEqual(y.ev(), ['d0:q@10']);
  assert.equal(y.host.gaps, 1); // counted all the same
});

test('tcp: a cut while detecting starts detection over from the bytes after it', () => {
  const seen: string[] = [];
  const rec = recorder({ detect: (f) => (seen.push(f.toString()), f.toString().startsWith('GET') ? true : 'maybe') });
  const x = setup([rec.d]);
  handshake(x);
  x.c({ seq: c1, flags: ACK, payload: 'xx', cut: 3 }, 2);
  x.c({ seq: c1 + 5, flags: ACK, payload: 'GET /' }, 3);
  assert.deepEqual(seen, ['xx', 'GET /']);
  assert.deepEqual(rec.streams[0].ev, ['d0:GET /@3']);
});

test('tcp: a lost hole while detecting also starts detection over', () => {
  const seen: string[] = [];
  const rec = recorder({ detect: (f) => (seen.push(f.toString()), f.toString().startsWith('GET') ? true : 'maybe') });
  const x = setup([rec.d]);
  handshake(x, 10);
  x.c({ seq: c1, flags: ACK, payload: 'xx' }, 10);
  x.c({ seq: c1 + 5, flags: ACK, payload: 'GET /' }, 10);
  x.t.sweep(12);
  assert.deepEqual(seen, ['xx', 'GET /']);
  assert.deepEqual(rec.streams[0].ev, ['d0:GET /@10']);
});

test('tcp: detection sees both directions; a claim replays everything seen so far', () => {
  const rec = recorder({ detect: (f, dir) => (dir === 1 && f.toString() === 'hello' ? true : 'maybe') });
  const x = setup([rec.d]);
  handshake(x);
  x.c({ seq: c1, flags: ACK, payload: 'hi' }, 2);
  x.s({ seq: s1, flags: ACK, payload: 'hel' }, 3);
  x.s({ seq: s1 + 3, flags: ACK, payload: 'lo' }, 4);
  x.c({ seq: c1 + 2, flags: ACK, payload: '!' }, 5);
  assert.deepEqual(rec.streams[0].ev, ['d0:hi@2', 'd1:hel@3', 'd1:lo@4', 'd0:!@5']);
});

test('tcp: an unclaimed connection is ignored, held bytes dropped, and ends as a tcp-conn item', () => {
  const rec = recorder({ detect: () => false });
  const x = setup([rec.d]);
  handshake(x, 100);
  x.c({ seq: c1 + 10, flags: ACK, payload: 'later' }, 100);
  x.c({ seq: c1, flags: ACK, payload: 'hello' }, 101, 7);
  x.c({ seq: c1 + 20, flags: ACK, payload: 'more' }, 102); // ignored: not held
  x.s({ seq: s1, flags: ACK, payload: 'ok' }, 103);
  assert.equal(rec.seen.length, 1);
  assert.equal(rec.streams.length, 0);
  x.c({ seq: c1 + 24, flags: ACK | FIN }, 104);
  x.s({ seq: s1 + 2, flags: ACK | FIN }, 104, 9);
  assert.equal(x.host.gaps, 0);
  assert.deepEqual(x.host.counts(), { 'tcp/flow': 9 });
  assert.equal(x.host.emitted.length, 1);
  const m = x.host.emitted[0].msg;
  assert.equal(m.protocol.name, 'tcp-conn');
  assert.deepEqual([m.request.state, m.request.end], ['closed', 'fin']);
  assert.deepEqual([m.request.packets, m.request.bytes, m.response.packets, m.response.bytes], [6, 14, 3, 2]);
  assert.deepEqual(m.requestTs, { sec: 100, nsec: 0 });
  assert.deepEqual(m.responseTs, { sec: 104, nsec: 9 });
});

test('tcp: RST: reset, or refused when the server answered a SYN with it; no held bytes are flushed', () => {
  const no = () => recorder({ detect: () => false }).d;
  const a = setup([no()]);
  a.c({ seq: ISN_C, flags: SYN }, 1);
  a.s({ seq: 0, ack: c1, flags: RST | ACK }, 1, 5);
  assert.deepEqual([a.host.emitted[0].msg.request.state, a.host.emitted[0].msg.request.end], ['refused', 'rst']);
  assert.deepEqual(a.host.emitted[0].msg.responseTs, { sec: 1, nsec: 5 });
  const b = setup([no()]);
  handshake(b);
  b.c({ seq: c1, flags: RST }, 2);
  assert.deepEqual([b.host.emitted[0].msg.request.state, b.host.emitted[0].msg.request.end], ['reset', 'rst']);
  const c = setup([no()]);
  c.c({ seq: ISN_C, flags: SYN }, 1);
  c.c({ seq: c1, flags: ACK, payload: 'x' }, 1);
  c.s({ seq: 0, flags: RST }, 1);
  assert.equal(c.host.emitted[0].msg.request.state, 'reset'); // bytes were sent
  const d = setup([no()]);
  d.s({ seq: ISN_S, flags: SYN | ACK }, 1);
  d.s({ seq: 0, flags: RST }, 1);
  assert.equal(d.host.emitted[0].msg.request.state, 'reset'); // no SYN seen
  const e = setup([no()]);
  e.c({ seq: ISN_C, flags: SYN }, 1);
  e.c({ seq: ISN_C, flags: SYN | ACK }, 1); // a SYN-ACK from the client is not the server's
  e.s({ seq: 0, flags: RST }, 1);
  assert.equal(e.host.emitted[0].msg.request.state, 'refused');
  // A claimed connection: the parser hears of it; held bytes are not delivered.
  const g = setup();
  handshake(g);
  g.c({ seq: c1, flags: ACK, payload: 'a' }, 2);
  g.c({ seq: c1 + 5, flags: ACK, payload: 'held' }, 2);
  g.s({ seq: s1, flags: RST }, 3);
  assert.deepEqual(g.ev(), ['d0:a@2', 'e-:rst']);
  assert.equal(g.host.gaps, 0);
  assert.deepEqual(g.host.counts(), { 'tcp/rec': 6 });
});

test('tcp: packets of a closed connection go to its bucket until CLOSED_LINGER_S has passed', () => {
  const x = setup();
  handshake(x, 100);
  x.c({ seq: c1, flags: ACK, payload: 'a' }, 100);
  x.c({ seq: c1 + 1, flags: RST }, 100);
  x.s({ seq: s1, flags: ACK }, 105);
  x.s({ seq: s1, flags: ACK, payload: 'late' }, 105);
  assert.deepEqual(x.host.counts(), { 'tcp/rec': 7 });
  assert.equal(x.host.streamed.length, 7);
  assert.equal(x.host.opened.length, 1);
  x.t.sweep(110); // 10 s after the close: still lingers
  x.s({ seq: s1, flags: ACK, payload: 'z' }, 110);
  assert.equal(x.host.opened.length, 1);
  x.t.sweep(111);
  x.s({ seq: s1, flags: ACK, payload: 'z' }, 111);
  assert.equal(x.host.opened.length, 2);
});

test('tcp: a new SYN on a closed or live 4-tuple starts a new connection; a retransmitted SYN does not', () => {
  const x = setup();
  x.c({ seq: ISN_C, flags: SYN }, 1);
  x.c({ seq: ISN_C, flags: SYN }, 2); // retransmitted SYN: same connection
  assert.equal(x.host.opened.length, 1);
  x.c({ seq: c1, flags: ACK, payload: 'one' }, 2);
  x.c({ seq: ISN_C, flags: SYN }, 2); // the same SYN again after data (capture order): same connection
  assert.equal(x.host.opened.length, 1);
  x.c({ seq: 90000, flags: SYN }, 3); // a new SYN: the old connection ends
  assert.equal(x.host.opened.length, 2);
  assert.deepEqual(x.rec.streams[0].ev, ['d0:one@2', 'e-:timeout']);
  x.c({ seq: 90001, flags: ACK, payload: 'two' }, 3);
  assert.deepEqual(x.rec.streams[1].ev, ['d0:two@3']);
  x.c({ seq: 90004, flags: RST }, 4);
  x.c({ seq: 70000, flags: SYN | ACK }, 4); // a SYN-ACK on a closed connection: lingers
  assert.equal(x.host.opened.length, 2);
  x.c({ seq: 70000, flags: SYN }, 4);
  assert.equal(x.host.opened.length, 3);
  // A SYN-ACK on a live one, or a SYN for a half not started: same connection.
  const y = setup();
  y.s({ seq: 1, flags: ACK, payload: 'r' });
  y.c({ seq: 9, flags: SYN });
  y.s({ seq: 500, flags: SYN | ACK });
  assert.equal(y.host.opened.length, 1);
});

test('tcp: idle connections end after more than TCP_IDLE_S; the clock stepping back is clamped', () => {
  const x = setup();
  handshake(x, 100);
  x.c({ seq: c1, flags: ACK, payload: 'a' }, 100, 3);
  x.t.sweep(160);
  assert.deepEqual(x.ev(), ['d0:a@100']);
  x.t.sweep(161);
  assert.deepEqual(x.ev(), ['d0:a@100', 'e-:timeout']);
  assert.deepEqual(x.host.closedNames, ['000000000000.pcap']);
  x.c({ seq: c1 + 1, flags: ACK, payload: 'b' }, 162);
  assert.equal(x.host.opened.length, 2); // forgotten at once: a new stream
  const y = setup();
  handshake(y, 10_000);
  y.t.sweep(100);
  y.t.sweep(160);
  assert.deepEqual(y.host.closedNames, []);
  y.t.sweep(161);
  assert.deepEqual(y.host.closedNames, ['000000000000.pcap']);
});

test('tcp: timeout and end of capture flush held bytes first and end the parser', () => {
  const x = setup();
  handshake(x, 100);
  x.c({ seq: c1, flags: ACK, payload: 'a' }, 100);
  x.c({ seq: c1 + 2, flags: ACK, payload: 'cd' }, 100);
  x.s({ seq: s1 + 1, flags: ACK, payload: 'y' }, 100);
  x.t.endAll();
  assert.deepEqual(x.ev(), ['d0:a@100', 'g0:1:lost', 'd0:cd@100', 'g1:1:lost', 'd1:y@100', 'e-:eof']);
  assert.equal(x.t.conns.size, 0);
  const no = recorder({ detect: () => false });
  const y = setup([no.d]);
  y.c({ seq: 1, flags: ACK, payload: 'q' }, 50, 1);
  y.t.endAll();
  const m = y.host.emitted[0].msg;
  assert.deepEqual([m.request.state, m.request.end], ['open', 'capture-end']);
  assert.deepEqual(m.responseTs, { sec: 50, nsec: 1 });
  const z = setup([no.d]);
  z.c({ seq: 1, flags: ACK, payload: 'q' }, 50, 1);
  z.t.sweep(111);
  assert.deepEqual([z.host.emitted[0].msg.request.state, z.host.emitted[0].msg.request.end], ['open', 'idle']);
});

test('tcp: an unclaimed or empty connection reports itself every flowReportS while active', () => {
  const no = recorder({ detect: () => false });
  const x = setup([no.d], 10);
  x.c({ seq: 1, flags: ACK, payload: 'a' }, 1000);
  x.c({ seq: 2, flags: ACK, payload: 'b' }, 1009);
  x.t.sweep(1009);
  assert.equal(x.host.emitted.length, 0);
  x.c({ seq: 3, flags: ACK, payload: 'c' }, 1010, 4);
  x.t.sweep(1010);
  assert.equal(x.host.emitted.length, 1);
  assert.equal(x.host.emitted[0].msg.protocol.name, 'tcp-flow');
  assert.deepEqual(x.host.emitted[0].msg.responseTs, { sec: 1010, nsec: 4 });
  assert.equal(x.host.emitted[0].msg.request.packets, 3);
  x.t.sweep(1030); // nothing since
  assert.equal(x.host.emitted.length, 1);
  // Empty (handshake and ACKs only): reported too.
  const y = setup([no.d], 10);
  handshake(y, 1000);
  y.c({ seq: c1, flags: ACK }, 1010);
  y.t.sweep(1010);
  assert.equal(y.host.emitted.length, 1);
  // Claimed, or still detecting: not reported.
  const z = setup(undefined, 10);
  z.c({ seq: 1, flags: ACK, payload: 'a' }, 1000);
  z.c({ seq: 2, flags: ACK, payload: 'b' }, 1010);
  z.t.sweep(1010);
  const m = recorder({ detect: () => 'maybe' });
  const w = setup([m.d], 10);
  w.c({ seq: 1, flags: ACK, payload: 'a' }, 1000);
  w.c({ seq: 2, flags: ACK, payload: 'b' }, 1010);
  w.t.sweep(1010);
  assert.deepEqual([z.host.emitted.length, w.host.emitted.length], [0, 0]);
});

test('tcp: a throwing parser stops the connection\'s parsing with one warning; the connection still ends', () => {
  for (const what of ['data', 'gap', 'end', 'make'] as const) {
    const rec = recorder({ throwOn: what });
    const x = setup([rec.d]);
    handshake(x, 10);
    x.c({ seq: c1, flags: ACK, payload: 'a' }, 10);
    x.c({ seq: c1 + 3, flags: ACK, payload: 'b' }, 10);
    x.c({ seq: c1 + 4, flags: ACK | FIN, payload: 'c', cut: 2 }, 12); // drain after the wait: a gap, a cut
    x.s({ seq: s1, flags: ACK | FIN }, 12);
    x.c({ seq: c1 + 9, flags: ACK }, 12);
    assert.deepEqual(x.host.warnings, [`dissector.threw: boom in ${what}`], what);
    assert.deepEqual(x.host.closedNames, ['000000000000.pcap'], what);
    assert.deepEqual(x.host.counts(), { 'tcp/rec': 8 }, what);
    assert.deepEqual(x.host.emitted, [], what);
    const want = { data: ['d0:a@10'], gap: ['d0:a@10', 'g0:2:lost'], end: ['d0:a@10', 'g0:2:lost', 'd0:b@10', 'd0:c@12', 'g0:2:snaplen', 'e0:fin'], make: [] }[what];
    assert.deepEqual(rec.streams[0]?.ev ?? [], want, what);
  }
});

test('tcp: after a parser failed, held segments are not detected again', () => {
  const rec = recorder({ throwOn: 'data' });
  const x = setup([rec.d]);
  handshake(x);
  x.c({ seq: c1 + 1, flags: ACK, payload: 'b' });
  x.c({ seq: c1 + 2, flags: ACK, payload: 'c' });
  x.c({ seq: c1, flags: ACK, payload: 'a' }); // throws; 'b' and 'c' drain to a failed connection
  assert.equal(rec.seen.length, 1);
  assert.equal(rec.streams.length, 1);
  assert.deepEqual(rec.streams[0].ev, ['d0:a@1']);
  assert.deepEqual(x.host.warnings, ['dissector.threw: boom in data']);
});

test('tcp: a parser that throws while the detected bytes are replayed is a warning', () => {
  const rec = recorder({ throwOn: 'data', detect: (f) => (f.length >= 2 ? true : 'maybe') });
  const x = setup([rec.d]);
  x.c({ seq: 1, flags: ACK, payload: 'a' });
  x.c({ seq: 2, flags: ACK, payload: 'b' });
  x.c({ seq: 3, flags: ACK, payload: 'c' });
  assert.deepEqual(rec.streams[0].ev, ['d0:a@1']);
  assert.deepEqual(x.host.warnings, ['dissector.threw: boom in data']);
});

test('tcp: when flushing held bytes at the end completes both FINs, the connection ends once, as fin', () => {
  const x = setup();
  handshake(x, 10);
  x.c({ seq: c1, flags: ACK, payload: 'a' }, 10);
  x.c({ seq: c1 + 3, flags: ACK | FIN, payload: 'd' }, 10);
  x.s({ seq: s1, flags: ACK | FIN }, 10);
  x.t.endAll();
  assert.deepEqual(x.ev(), ['d0:a@10', 'e1:fin', 'g0:2:lost', 'd0:d@10', 'e0:fin', 'e-:fin']);
  assert.deepEqual(x.host.counts(), { 'tcp/rec': 6 });
  assert.deepEqual(x.host.closedNames, ['000000000000.pcap']);
  const no = recorder({ detect: () => false });
  const y = setup([no.d]);
  y.c({ seq: 1, flags: ACK | FIN }, 10);
  y.s({ seq: 1, flags: ACK | FIN }, 10);
  y.t.endAll();
  assert.equal(y.host.emitted.length, 1);
  assert.deepEqual([y.host.emitted[0].msg.request.state, y.host.emitted[0].msg.request.end], ['closed', 'fin']);
});

test('tcp: a parser that throws on the connection end is warned about once', () => {
  const rec = recorder({ throwOn: 'end' });
  const x = setup([rec.d]);
  x.c({ seq: 1, flags: ACK, payload: 'a' });
  x.t.endAll();
  assert.deepEqual(x.host.warnings, ['dissector.threw: boom in end']);
  assert.deepEqual(rec.streams[0].ev, ['d0:a@1', 'e-:eof']);
});

test('tcp: a snap-length gap the parser throws on is a warning', () => {
  const rec = recorder({ throwOn: 'gap' });
  const x = setup([rec.d]);
  x.c({ seq: 1, flags: ACK, payload: 'a', cut: 4 });
  x.c({ seq: 6, flags: ACK, payload: 'b' });
  assert.deepEqual(x.host.warnings, ['dissector.threw: boom in gap']);
  assert.deepEqual(rec.streams[0].ev, ['d0:a@1', 'g0:4:snaplen']);
});

test('tcp: warnings quote non-Error throws and stop at 120 characters', () => {
  const d: Dissector = { name: 'l', priority: 0, detect: () => true, tcp: () => ({ data() { throw 'y'.repeat(300); }, gap() {}, end() {} }) };
  const x = setup([d]);
  x.c({ seq: 1, flags: ACK, payload: 'a' });
  assert.equal(x.host.warnings[0], ('dissector.threw: ' + 'y'.repeat(300)).slice(0, 120));
  const n: Dissector = { name: 'n', priority: 0, detect: () => true, tcp: () => ({ data() { throw undefined; }, gap() {}, end() {} }) };
  const y = setup([n]);
  y.c({ seq: 1, flags: ACK, payload: 'a' });
  assert.deepEqual(y.host.warnings, ['dissector.threw: undefined']);
});

/** Connection #i's first packet (a SYN by default), from one reused Decoded (tens of thousands are sent). */
function synner(t: TcpTable): (i: number, flags?: number) => void {
  const d = tcpD({ src: C, dst: S, sp: 0, dp: 0, seq: 1 });
  const p = raw(1);
  return (i, flags = SYN) => {
    d.srcPort = 1024 + (i % 60000);
    d.dstPort = 1 + Math.floor(i / 60000);
    d.flags = flags;
    t.packet(d, p);
  };
}

test('tcp: over MAX_HALF_OPEN connections without payload, the oldest empty one is forgotten', () => {
  const x = setup();
  const syn = synner(x.t);
  for (let i = 0; i < 4; i++) syn(i);
  x.t.packet(tcpD({ src: C, dst: S, sp: 1024, dp: 1, seq: 2, flags: ACK, payload: 'data' }), raw(1)); // #0 carries data
  x.t.packet(tcpD({ src: C, dst: S, sp: 1025, dp: 1, seq: 2, flags: ACK, cut: 10 }), raw(1)); // #1 too, all cut
  syn(2, RST); // #2 is reset: closed, lingering, still without payload
  assert.deepEqual(x.host.closedNames, ['000000000002.pcap']);
  for (let i = 4; i < MAX_HALF_OPEN + 2; i++) syn(i);
  assert.deepEqual(x.host.warnings, []);
  assert.equal(x.t.conns.size, MAX_HALF_OPEN + 2);
  syn(MAX_HALF_OPEN + 2);
  assert.deepEqual(x.host.warnings, ['tcp.half-open-evicted']);
  // #2, the oldest empty one, went: already closed, so only forgotten.
  assert.equal(x.t.conns.size, MAX_HALF_OPEN + 2);
  assert.deepEqual(x.host.closedNames, ['000000000002.pcap']);
  assert.deepEqual(x.host.counts(), { 'tcp/flow': 2 });
  syn(MAX_HALF_OPEN + 3);
  // #3 went: closed now, its packet in its own bucket, no item.
  assert.deepEqual(x.host.warnings, ['tcp.half-open-evicted', 'tcp.half-open-evicted']);
  assert.deepEqual(x.host.closedNames, ['000000000002.pcap', '000000000003.pcap']);
  assert.deepEqual(x.host.counts(), { 'tcp/flow': 2, 'tcp/half-open-evicted': 1 });
  assert.equal(x.host.emitted.length, 1); // #2's tcp-conn item only
  assert.equal(x.t.conns.size, MAX_HALF_OPEN + 2);
  // A forgotten connection that carries data later is picked up as a new one.
  x.t.packet(tcpD({ src: C, dst: S, sp: 1027, dp: 1, seq: 2, flags: ACK, payload: 'late' }), raw(2));
  assert.equal(x.host.opened.at(-1)!.flow.srcPort, 1027);
  assert.equal(x.rec.streams.at(-1)!.ev[0], 'd0:late@2');
});

test('tcp: connections that end or get data leave the half-open count', () => {
  const x = setup();
  const syn = synner(x.t);
  for (let i = 0; i < 100; i++) syn(i);
  for (let i = 0; i < 100; i++) syn(i, RST); // closed (they linger)
  x.t.sweep(20); // forgotten
  assert.equal(x.t.conns.size, 0);
  for (let i = 100; i < MAX_HALF_OPEN + 100; i++) syn(i);
  assert.deepEqual(x.host.warnings, []);
  syn(MAX_HALF_OPEN + 100);
  assert.deepEqual(x.host.warnings, ['tcp.half-open-evicted']);
  x.t.endAll();
  syn(0);
  assert.deepEqual(x.host.warnings, ['tcp.half-open-evicted']); // the count started over
});

test('tcp: a host without streamPacket is fine', () => {
  const rec = recorder();
  const host = new FakeHost([rec.d], 60, { noStreamPacket: true });
  const t = new TcpTable(host);
  t.packet(tcpD({ src: C, dst: S, sp: CP, dp: SP, seq: 1, flags: ACK, payload: 'x' }), raw(1));
  t.packet(tcpD({ src: C, dst: S, sp: CP, dp: SP, seq: 2, flags: RST }), raw(1));
  t.packet(tcpD({ src: C, dst: S, sp: CP, dp: SP, seq: 2, flags: ACK }), raw(1));
  assert.deepEqual(rec.streams[0].ev, ['d0:x@1', 'e-:rst']);
});

test('tcp: flowOf orients a flow client → server and names the transport', () => {
  const d = tcpD({ src: C, dst: S, sp: 1, dp: 2 });
  assert.deepEqual(flowOf(d, true), { srcIp: C, srcPort: 1, dstIp: S, dstPort: 2, transport: 'tcp' });
  assert.deepEqual(flowOf(d, false), { srcIp: S, srcPort: 2, dstIp: C, dstPort: 1, transport: 'tcp' });
  assert.deepEqual(flowOf(udpD({ src: 'fd00::1', dst: 'fd00::2', sp: 3, dp: 4 }), true), { srcIp: 'fd00::1', srcPort: 3, dstIp: 'fd00::2', dstPort: 4, transport: 'udp' });
});
