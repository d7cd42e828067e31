import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startDnsServer, dnsScenario, type DnsExchange } from '../helpers/traffic';
import { recordRelay, collector, replayTcp, replayUdp, dnsQuery as query, type Recorded } from './harness';
import { dns, detectDns } from '../../capture/dissectors/dns';
import { decodeMessage, DnsWireError, readName } from '../../capture/dissectors/dns-wire';
import type { DnsRequest, DnsResponse, DnsRR } from '../../capture/item/schema';
import type { L7Message, Timestamp } from '../../capture/types';

let recs: Recorded[] = [];
let sent: DnsExchange[] = [];

before(async () => {
  const srv = await startDnsServer();
  try {
    recs = await recordRelay(srv.port, async (port) => { sent = await dnsScenario(port); });
  } finally {
    await srv.close();
  }
});

type Tagged = L7Message & { transport: 'udp' | 'tcp' };

function all(split = 0): Tagged[] {
  const out: Tagged[] = [];
  for (const r of recs) {
    const c = collector(r.transport);
    if (r.transport === 'udp') replayUdp(dns.udp!(c.ctx), r);
    else replayTcp(dns.tcp!(c.ctx), r, split);
    assert.deepEqual(c.warnings, []);
    out.push(...c.msgs.map((m) => ({ ...m, transport: r.transport })));
  }
  return out;
}

const req = (m: L7Message) => m.request as unknown as DnsRequest;
const res = (m: L7Message) => m.response as unknown as DnsResponse;
const DIG_RCODE: Record<string, string> = { NOERROR: 'No Error', NXDOMAIN: 'Non-Existent Domain', SERVFAIL: 'Server Failure', REFUSED: 'Query Refused' };
const byQ = (msgs: L7Message[], name: string, type: string) => msgs.find((m) => req(m).questions[0]?.name === name && req(m).questions[0]?.type === type)!;

test('every query of the real scenario (dig over UDP/TCP, node resolver) pairs with its answer', () => {
  const msgs = all();
  assert.deepEqual(
    msgs.map((m) => ({ name: req(m).questions[0].name, type: req(m).questions[0].type, rcode: res(m).code, answerCount: res(m).answers.length, transport: m.transport })),
    sent.map((s) => ({ name: s.name, type: s.type, rcode: DIG_RCODE[s.rcode], answerCount: s.answerCount, transport: s.transport })),
  );
  for (const m of msgs) {
    assert.equal(m.error ?? null, null);
    assert.equal(m.protocol.layer4, m.transport);
    assert.equal(req(m).opCode, 'Query');
    assert.ok(m.requestSize >= 12 && m.responseSize >= 12);
    assert.ok(Array.isArray(res(m).authorities) && Array.isArray(res(m).additionals));
  }
});

test('TCP messages split at every byte give the same items', () => {
  assert.equal(JSON.stringify(all(1)), JSON.stringify(all()));
});

const rr = (over: Partial<DnsRR>): DnsRR => ({ name: '', type: '', class: 'IN', ttl: 0, ip: '<nil>', ns: '', cname: '', ptr: '', txts: '', soa: '', srv: '', mx: '', opt: '', uri: '', ...over });

test('record rendering follows Kubeshark: ip/cname/mx/srv/ptr/ns/soa/txts/opt, unknown types as TYPEn', () => {
  const msgs = all();
  const Z = 'wirehook.test';
  assert.deepEqual(res(byQ(msgs, `a.${Z}`, 'A')).answers[0], rr({ name: `a.${Z}`, type: 'A', ttl: 300, ip: '10.0.0.1' }));
  assert.deepEqual(res(byQ(msgs, `a.${Z}`, 'AAAA')).answers.map((a) => a.ip), ['fd00::1', '2001:db8::1:0:0:2']);
  const chain = res(byQ(msgs, `www.${Z}`, 'A')).answers;
  assert.deepEqual(chain.map((a) => [a.type, a.cname || a.ip]), [['CNAME', `web.${Z}`], ['CNAME', `a.${Z}`], ['A', '10.0.0.1'], ['A', '10.0.0.2']]);
  assert.deepEqual(res(byQ(msgs, Z, 'MX')).answers.map((a) => a.mx), [`mail.${Z}`, `mail2.${Z}`]);
  assert.equal(res(byQ(msgs, `_http._tcp.${Z}`, 'SRV')).answers[0].srv, `a.${Z}`);
  assert.equal(res(byQ(msgs, '1.0.0.10.in-addr.arpa', 'PTR')).answers[0].ptr, `a.${Z}`);
  assert.deepEqual(res(byQ(msgs, Z, 'NS')).answers.map((a) => a.ns), [`ns1.${Z}`, `ns2.${Z}`]);
  assert.equal(res(byQ(msgs, Z, 'SOA')).answers[0].soa, `hostmaster.${Z}`);
  assert.equal(res(byQ(msgs, `txt.${Z}`, 'TXT')).answers[0].txts, ', v=spf1 -all, hello world, ');
  assert.deepEqual(res(byQ(msgs, Z, 'CAA')).answers[0], rr({ name: Z, type: 'CAA', ttl: 3600 }));
  assert.equal(res(byQ(msgs, `unk.${Z}`, 'TYPE65534')).answers[0].type, 'TYPE65534');
  const nx = res(byQ(msgs, `nx.${Z}`, 'A'));
  assert.equal(nx.code, 'Non-Existent Domain');
  // Same shape as the SOA authority in the Kubeshark DNS item quoted in shared/reference/network-hooks-seed.md.
  assert.deepEqual(nx.authorities[0], rr({ name: Z, type: 'SOA', ttl: 3600, soa: `hostmaster.${Z}` }));
  assert.deepEqual(Object.keys(nx.authorities[0]).sort(), ['class', 'cname', 'ip', 'mx', 'name', 'ns', 'opt', 'ptr', 'soa', 'srv', 'ttl', 'txts', 'type', 'uri']);
  const opt = nx.additionals[0];
  assert.equal(opt.type, 'OPT');
  assert.equal(opt.opt, ', NSID=776831');
  assert.equal(res(byQ(msgs, `fail.${Z}`, 'A')).code, 'Server Failure');
});

test('a truncated UDP answer and its TCP retry are two items', () => {
  const msgs = all().filter((m) => req(m).questions[0].name === 'big.wirehook.test');
  assert.deepEqual(msgs.map((m) => [m.transport, res(m).answers.length]), [['udp', 0], ['tcp', 40]]);
  assert.equal(msgs[1].protocol.layer4, 'tcp');
});

// ------------------------------------------------------------------ hand-built edge cases

function answerTo(q: Buffer, rcode = 0, ip?: number[]): Buffer {
  const r = Buffer.from(q);
  r.writeUInt16BE(0x8180 | rcode, 2);
  if (!ip) return r;
  r.writeUInt16BE(1, 6);
  const a = Buffer.alloc(16);
  a.writeUInt16BE(0xc00c, 0); a.writeUInt16BE(1, 2); a.writeUInt16BE(1, 4); a.writeUInt32BE(60, 6); a.writeUInt16BE(4, 10);
  Buffer.from(ip).copy(a, 12);
  return Buffer.concat([r, a]);
}

const ts = (sec: number, nsec = 0): Timestamp => ({ sec, nsec });

test('responses out of order are emitted as they complete, the older query pending; elapsed time comes from the real pair', () => {
  const c = collector('udp');
  const p = dns.udp!(c.ctx);
  const qa = query(1, 'a.example'), qb = query(2, 'b.example', 28);
  p.datagram(0, qa, ts(10));
  p.datagram(0, qb, ts(10, 5));
  p.datagram(1, answerTo(qb), ts(10, 7));
  // b does not wait for a (a lost answer would hold it 10 s); the flow still owes a's time, so
  // the pipeline's reorder buffer keeps a file in request order.
  assert.deepEqual(c.msgs.map((m) => req(m).questions[0].name), ['b.example']);
  assert.deepEqual(c.pendings.at(-1), ts(10));
  p.datagram(1, answerTo(qa, 0, [1, 2, 3, 4]), ts(10, 9));
  assert.deepEqual(c.msgs.map((m) => req(m).questions[0].name), ['b.example', 'a.example']);
  assert.deepEqual(c.msgs[1].responseTs, ts(10, 9));
  assert.equal(res(c.msgs[1]).answers[0].ip, '1.2.3.4');
  assert.equal(c.pendings.at(-1), null);
});

test('unanswered queries: timeout after 10 s of capture time, pair-not-found at the end', () => {
  const c = collector('udp');
  const p = dns.udp!(c.ctx);
  p.datagram(0, query(7, 'lost.example'), ts(100));
  p.datagram(0, query(8, 'ok.example'), ts(101));
  p.datagram(1, answerTo(query(8, 'ok.example')), ts(101, 1));
  assert.deepEqual(c.msgs.map((m) => req(m).questions[0].name), ['ok.example'], 'the answered one does not wait behind the older unanswered query');
  assert.deepEqual(c.pendings.at(-1), ts(100));
  p.datagram(0, query(9, 'late.example'), ts(112));
  assert.deepEqual(c.msgs.map((m) => [req(m).questions[0].name, m.error?.type ?? null]), [['ok.example', null], ['lost.example', 'timeout']]);
  p.end(ts(113), 'eof');
  assert.equal(c.msgs[2].error?.type, 'pair-not-found');
  assert.equal(res(c.msgs[2]).code, '');
  assert.deepEqual(res(c.msgs[2]).answers, []);
  assert.equal(c.msgs[2].responseTs, null);
});

test('a response without its query still yields an item built from its question', () => {
  const c = collector('udp');
  const p = dns.udp!(c.ctx);
  p.datagram(0, answerTo(query(3, 'orphan.example'), 3), ts(5));
  p.end(ts(6), 'eof');
  assert.equal(c.msgs.length, 1);
  assert.equal(req(c.msgs[0]).questions[0].name, 'orphan.example');
  assert.equal(res(c.msgs[0]).code, 'Non-Existent Domain');
  assert.equal(c.msgs[0].requestSize, 0);
});

test('malformed messages warn and never throw: loops, forward pointers, truncation, bad lengths', () => {
  const loop = query(1, 'x.example');
  loop.writeUInt16BE(0xc00c, 12); // the question name points at itself
  const fwd = Buffer.concat([query(1, 'x.example').subarray(0, 12), Buffer.from([0xc0, 0x20])]);
  const short = query(1, 'x.example').subarray(0, 20);
  const badA = answerTo(query(1, 'x.example'), 0, [1, 2, 3, 4]);
  badA.writeUInt16BE(5, badA.length - 6); // A rdlength 5 runs past the end
  for (const b of [loop, fwd, short, badA, Buffer.alloc(5), Buffer.alloc(0)]) {
    assert.throws(() => decodeMessage(b), DnsWireError);
    const c = collector('udp');
    const p = dns.udp!(c.ctx);
    p.datagram(0, b, ts(1));
    p.end(ts(2), 'eof');
    assert.equal(c.msgs.length, 0);
    assert.equal(c.warnings.length, 1);
  }
  // A name of 127 pointer hops is refused by the backwards-only rule, not by a stack.
  const chain = Buffer.alloc(12 + 2 * 200);
  for (let i = 0; i < 200; i++) chain.writeUInt16BE(0xc000 | (12 + 2 * (i + 1)), 12 + 2 * i);
  assert.throws(() => readName(chain, 12), DnsWireError);
});

test('names: cached texts, label lengths that are printable bytes, pointers into a name and into its own labels', () => {
  // Label lengths 46 ('.') and 47 ('/') are printable bytes: the name cache must not mistake them for text.
  const l46 = 'a'.repeat(46), l47 = 'b'.repeat(47);
  for (let round = 0; round < 2; round++) {
    assert.equal(decodeMessage(query(1, `${l46}.x`)).questions[0].name, `${l46}.x`);
    assert.equal(decodeMessage(query(1, `${l47}.x`)).questions[0].name, `${l47}.x`);
    assert.equal(decodeMessage(query(1, 'ab.c')).questions[0].name, 'ab.c');
    assert.equal(decodeMessage(query(1, 'a.bc')).questions[0].name, 'a.bc');
  }
  // Escaped bytes (a dot inside a label, a space) take the general path.
  const esc = query(1, 'a-b.example');
  esc[14] = 0x2e;
  assert.equal(decodeMessage(esc).questions[0].name, 'a\\.b.example');
  esc[14] = 0x20;
  assert.equal(decodeMessage(esc).questions[0].name, 'a\\032b.example');
  // Answers naming the question, a suffix of it (twice: the suffix is made once, then reused) and a CNAME target.
  const q = query(5, 'www.sub.example');
  const rr = (ptr: number, type: number, data: Buffer) => {
    const a = Buffer.alloc(12);
    a.writeUInt16BE(0xc000 | ptr, 0); a.writeUInt16BE(type, 2); a.writeUInt16BE(1, 4); a.writeUInt32BE(60, 6); a.writeUInt16BE(data.length, 10);
    return Buffer.concat([a, data]);
  };
  const r = Buffer.concat([answerTo(q), rr(12, 5, Buffer.from([4, 0x68, 0x6f, 0x73, 0x74, 0xc0, 16])), rr(16, 1, Buffer.from([1, 2, 3, 4])), rr(16, 1, Buffer.from([1, 2, 3, 5]))]);
  r.writeUInt16BE(3, 6);
  const m = decodeMessage(r);
  assert.deepEqual(m.answers.map((a) => [a.name, a.type, a.cname, a.ip]), [
    ['www.sub.example', 'CNAME', 'host.sub.example', '<nil>'],
    ['sub.example', 'A', '', '1.2.3.4'],
    ['sub.example', 'A', '', '1.2.3.5'],
  ]);
  // A pointer back into its own name's labels is followed, not served from the name cache, and then refused.
  const self = Buffer.concat([query(1, 'a').subarray(0, 14), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
  self.writeUInt16BE(1, 6);
  assert.throws(() => decodeMessage(Buffer.concat([self, rr(12, 1, Buffer.from([1, 2, 3, 4]))])), /does not point backwards/);
});

test('many queries in flight on one flow: answers in any order, retransmissions noticed', () => {
  const c = collector('udp');
  const p = dns.udp!(c.ctx);
  const names = Array.from({ length: 300 }, (_, i) => `h${i}.example`);
  names.forEach((n, i) => p.datagram(0, query(i * 37 % 65536, n), ts(1, i)));
  p.datagram(0, query(5 * 37, names[5]), ts(1, 400)); // retransmission
  p.datagram(0, query(5 * 37, 'other.example'), ts(1, 401)); // same id, another question: a new query
  for (let i = names.length - 1; i >= 0; i--) p.datagram(1, answerTo(query(i * 37 % 65536, names[i]), 0, [10, 0, i >> 8, i & 255]), ts(2, i));
  p.datagram(1, answerTo(query(5 * 37, names[5]), 0, [9, 9, 9, 9]), ts(2, 500)); // its query is answered already: a response-only item
  p.end(ts(3), 'eof');
  assert.deepEqual(c.warnings, ['dns: retransmitted query']);
  assert.equal(c.msgs.length, 302);
  // Emitted as answered (newest first here), each with its own answer.
  assert.deepEqual(c.msgs.slice(0, 300).map((m) => [req(m).questions[0].name, res(m).answers[0].ip]), names.map((n, i) => [n, `10.0.${i >> 8}.${i & 255}`]).reverse());
  assert.deepEqual(c.msgs.slice(300).map((m) => [req(m).questions[0].name, m.error?.type ?? null, m.requestSize]), [['h5.example', null, 0], ['other.example', 'pair-not-found', 31]]);
});

test('TCP: several messages per connection, ids matched, a gap stops that direction cleanly', () => {
  const frame = (m: Buffer) => { const l = Buffer.alloc(2); l.writeUInt16BE(m.length); return Buffer.concat([l, m]); };
  const c = collector('tcp');
  const p = dns.tcp!(c.ctx);
  const q1 = query(11, 'one.example'), q2 = query(12, 'two.example');
  p.data(0, Buffer.concat([frame(q1), frame(q2)]), ts(1));
  p.data(1, Buffer.concat([frame(answerTo(q2)), frame(answerTo(q1, 0, [9, 9, 9, 9]))]), ts(2));
  p.data(0, frame(query(13, 'three.example')).subarray(0, 5), ts(3));
  p.gap(0, 10, ts(3));
  p.data(0, frame(query(14, 'four.example')), ts(4));
  p.end(null, ts(5), 'fin');
  assert.deepEqual(c.msgs.map((m) => [req(m).questions[0].name, m.error?.type ?? null]), [['two.example', null], ['one.example', null]]);
  assert.equal(c.msgs[1].protocol.layer4, 'tcp');
  assert.equal(c.msgs[1].requestSize, q1.length);
  assert.ok(c.warnings.some((w) => w.includes('gap')));
});

test('detection: UDP by a cleanly decoding message, TCP by a length-prefixed plausible one', () => {
  const q = query(1, 'a.example');
  const framed = Buffer.concat([Buffer.from([0, q.length]), q]);
  const flowU = { srcIp: '127.0.0.1', srcPort: 1, dstIp: '127.0.0.1', dstPort: 2, transport: 'udp' as const };
  const flowT = { ...flowU, transport: 'tcp' as const };
  assert.equal(dns.detect(q, 0, flowU), true);
  assert.equal(dns.detect(answerTo(q, 0, [1, 1, 1, 1]), 1, flowU), true);
  assert.equal(dns.detect(framed, 0, flowT), true);
  assert.equal(detectDns(framed.subarray(0, 1), 'tcp'), 'maybe');
  assert.equal(detectDns(framed.subarray(0, 20), 'tcp'), 'maybe');
  assert.equal(dns.detect(framed.subarray(0, 20), 0, { ...flowT, dstPort: 53 }), true, 'port 53 raises confidence');
  assert.equal(dns.detect(Buffer.from('GET / HTTP/1.1\r\n\r\n'), 0, flowT), false);
  assert.equal(dns.detect(Buffer.from('GET / HTTP/1.1\r\n\r\n'), 0, flowU), false);
  assert.equal(dns.detect(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 0, flowT), false);
  assert.equal(dns.detect(Buffer.alloc(40), 0, flowU), false);
  assert.equal(dns.detect(Buffer.concat([q, Buffer.from('trailing')]), 0, flowU), true, 'trailing bytes after a valid message are tolerated');
});

test('pairing is linear in the messages however many queries go unanswered (work counted, not timed)', async () => {
  const { dnsPairingWork } = await import('../../capture/dissectors/dns');
  const N = 20_000;
  const c = collector('udp');
  const flow = dns.udp!(c.ctx);
  const ts = (i: number): Timestamp => ({ sec: 1_700_000_000, nsec: i * 1000 });
  const before = dnsPairingWork.entries;
  let messages = 0;
  // N queries in flight at once (as in a flood whose answers were dropped), distinct ids and names.
  for (let i = 0; i < N; i++, messages++) flow.datagram(0, query(i, `q${i}.flood.test`), ts(i));
  // Some are sent again: retransmissions, recognised as such.
  for (let i = 0; i < N; i += 1000, messages++) flow.datagram(0, query(i, `q${i}.flood.test`), ts(N + i));
  // Every odd one is answered, newest first (the worst order for a scan from the oldest).
  for (let i = N - 1; i > 0; i -= 2, messages++) flow.datagram(1, query(i, `q${i}.flood.test`, 1, 0x8180), ts(2 * N + i));
  flow.end(ts(3 * N), 'eof');
  const work = dnsPairingWork.entries - before;
  // One entry looked at per message here (each id has one open query): a scan of all
  // outstanding queries per message, as before, is ~N²/2 = 2×10⁸.
  assert.ok(work <= 2 * messages, `${work} entries looked at for ${messages} messages`);
  assert.equal(c.msgs.length, N);
  assert.equal(c.warnings.length, N / 1000);
  assert.ok(c.warnings.every((w) => w === 'dns: retransmitted query'));
  // Answered ones as they were answered, then the unanswered ones at the end, in query order.
  const order = [...Array.from({ length: N / 2 }, (_, k) => N - 1 - 2 * k), ...Array.from({ length: N / 2 }, (_, k) => 2 * k)];
  assert.deepEqual(c.msgs.map((m) => req(m).questions[0].name), order.map((i) => `q${i}.flood.test`));
  for (const m of c.msgs) {
    const i = Number(/^q(\d+)\./.exec(req(m).questions[0].name)![1]);
    if (i % 2) assert.ok(m.responseTs && !m.error, `q${i} answered`);
    else assert.equal(m.error?.type, 'pair-not-found', `q${i} unanswered`);
  }
});
