/**
 * Lean DNS decoding (DissectorContext.lean) must accept and refuse exactly what the full decoder
 * does, with the same error text, and give the matcher the same id/QR/opcode/rcode/first
 * question: run both over real recorded messages, hand-made ones that reach every record type
 * and the escaped-name paths, and many seeded mutations of them.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startDnsServer, dnsScenario } from '../helpers/traffic';
import { recordRelay, collector, replayTcp, replayUdp, type Recorded, prng } from './harness';
import { dns } from '../../capture/dissectors/dns';
import { decodeMessage, decodeMessageLean, DnsWireError, typeName, type DnsMessage } from '../../capture/dissectors/dns-wire';
import type { DissectorContext } from '../../capture/types';

let recs: Recorded[] = [];
/** Every DNS message of the recorded scenario (UDP datagrams, TCP messages without their prefix). */
let real: Buffer[] = [];

before(async () => {
  const srv = await startDnsServer();
  try {
    recs = await recordRelay(srv.port, async (port) => { await dnsScenario(port); });
  } finally {
    await srv.close();
  }
  for (const r of recs) {
    if (r.transport === 'udp') {
      for (const c of r.chunks) real.push(c.bytes);
      continue;
    }
    for (const dir of [0, 1]) {
      const b = Buffer.concat(r.chunks.filter((c) => c.dir === dir).map((c) => c.bytes));
      for (let p = 0; p + 2 <= b.length;) {
        const len = b.readUInt16BE(p);
        if (p + 2 + len > b.length) break;
        real.push(b.subarray(p + 2, p + 2 + len));
        p += 2 + len;
      }
    }
  }
});


/** Byte values that steer the decoder: label lengths, pointers, escapes, root, type numbers. */
const INTERESTING = [0, 1, 2, 3, 4, 6, 12, 15, 16, 28, 33, 41, 46, 63, 64, 92, 99, 0x80, 0xc0, 0xc1, 0xff, 0x20, 0x2e, 0x5c, 0x7f];

function mutate(b: Buffer, rnd: () => number): Buffer {
  const out = Buffer.from(b);
  const flips = 1 + Math.floor(rnd() * 3);
  for (let i = 0; i < flips && out.length; i++) {
    const at = Math.floor(rnd() * out.length);
    out[at] = rnd() < 0.5 ? INTERESTING[Math.floor(rnd() * INTERESTING.length)] : Math.floor(rnd() * 256);
  }
  const r = rnd();
  if (r < 0.1) return out.subarray(0, Math.floor(rnd() * out.length));
  if (r < 0.15) return Buffer.concat([out, Buffer.from([Math.floor(rnd() * 256), Math.floor(rnd() * 256)])]);
  return out;
}

type Outcome = { error: string } | { id: number; qr: boolean; opcode: number; rcode: number; qName: string | null; qType: number };

function outcome(decode: (b: Buffer) => DnsMessage, b: Buffer): Outcome {
  try {
    const m = decode(b);
    if (decode === decodeMessage) {
      // What pairing compares is the first question the items show.
      const q = m.questions[0];
      assert.equal(m.qName, q ? q.name : null);
      if (q) assert.equal(typeName(m.qType), q.type);
    }
    return { id: m.id, qr: m.qr, opcode: m.opcode, rcode: m.rcode, qName: m.qName, qType: m.qType };
  } catch (e) {
    if (!(e instanceof DnsWireError)) throw e;
    return { error: e.message };
  }
}

// Hand-made messages -------------------------------------------------------------------------

function header(id: number, flags: number, qd: number, an: number, ns = 0, ar = 0): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0); h.writeUInt16BE(flags, 2); h.writeUInt16BE(qd, 4); h.writeUInt16BE(an, 6); h.writeUInt16BE(ns, 8); h.writeUInt16BE(ar, 10);
  return h;
}

/** Wire labels of `name` (raw label bytes allowed via Buffer parts), ending with `tail` (root or a pointer). */
function labels(parts: (string | Buffer)[], tail: number[] = [0]): Buffer {
  return Buffer.concat([...parts.flatMap((l) => { const x = typeof l === 'string' ? Buffer.from(l, 'latin1') : l; return [Buffer.from([x.length]), x]; }), Buffer.from(tail)]);
}

function rr(name: Buffer, type: number, data: Buffer, cls = 1, ttl = 60): Buffer {
  const f = Buffer.alloc(10);
  f.writeUInt16BE(type, 0); f.writeUInt16BE(cls, 2); f.writeUInt32BE(ttl, 4); f.writeUInt16BE(data.length, 8);
  return Buffer.concat([name, f, data]);
}

const qtail = (type: number) => Buffer.from([type >> 8, type & 255, 0, 1]);
const ptr = (off: number) => [0xc0 | (off >> 8), off & 255];

function handMade(): { kinds: Buffer[]; long: Buffer[] } {
  const out: Buffer[] = [];
  const long: Buffer[] = [];
  const qname = labels(['www', 'sub', 'example']);
  const q = Buffer.concat([qname, qtail(1)]);
  const P = ptr(12);
  const txt = Buffer.concat([Buffer.from([5]), Buffer.from('hello'), Buffer.from([0]), Buffer.from([3]), Buffer.from('abc')]);
  const opt = Buffer.from([0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 3, 0, 0]);
  const soa = Buffer.concat([labels(['ns1'], P), labels(['host\\master.x'], P), Buffer.alloc(20)]);
  const datas: [number, Buffer][] = [
    [1, Buffer.from([10, 0, 0, 1, 5])], [28, Buffer.alloc(17, 1)], [5, labels(['web'], ptr(16))], [15, Buffer.concat([Buffer.from([0, 10]), labels(['mail'], P)])],
    [33, Buffer.concat([Buffer.from([0, 1, 0, 2, 0, 80]), labels(['srv'], ptr(20))])], [6, soa], [16, txt], [41, opt], [256, Buffer.from([0, 1, 0, 1, 0x68])],
  ];
  const records = [
    rr(Buffer.from(P), 1, Buffer.from([10, 0, 0, 1])),
    rr(Buffer.from(P), 28, Buffer.alloc(16, 1)),
    rr(Buffer.from(P), 5, labels(['web'], ptr(16))),
    rr(Buffer.from(ptr(16)), 2, labels(['ns1'], ptr(16))),
    rr(Buffer.from(P), 12, labels(['a b', 'c.d'], [0])),
    rr(Buffer.from(P), 15, Buffer.concat([Buffer.from([0, 10]), labels(['mail'], P)])),
    rr(Buffer.from(P), 33, Buffer.concat([Buffer.from([0, 1, 0, 2, 0, 80]), labels(['srv'], ptr(20))])),
    rr(Buffer.from(P), 6, soa),
    rr(Buffer.from(P), 16, txt),
    rr(Buffer.from(P), 99, txt),
    rr(Buffer.from(P), 256, Buffer.concat([Buffer.from([0, 1, 0, 1]), Buffer.from('https://x/')])),
    rr(Buffer.from(P), 257, Buffer.from([0, 5, 105, 115, 115, 117, 101])),
    rr(Buffer.from([0]), 41, opt, 1232, 0x01000000),
  ];
  // One answer of each kind, then all of them in one message split over the three sections.
  for (const r of records) out.push(Buffer.concat([header(7, 0x8180, 1, 1), q, r]));
  // Each kind with its data cut at every length (RDLENGTH saying so), alone and followed by another record.
  for (const [type, data] of datas) {
    for (let cut = 0; cut <= data.length; cut++) {
      const r = rr(Buffer.from(P), type, data.subarray(0, cut));
      long.push(Buffer.concat([header(7, 0x8180, 1, 1), q, r]));
      long.push(Buffer.concat([header(7, 0x8180, 1, 2), q, r, records[0]]));
    }
  }
  out.push(Buffer.concat([header(8, 0x8183, 1, 6, 3, 4), q, ...records]));
  // Two questions (the registry is used for the first one too), the second by pointer.
  out.push(Buffer.concat([header(9, 0x0100, 2, 0), q, Buffer.from(ptr(16)), qtail(28)]));
  out.push(Buffer.concat([header(9, 0x8180, 2, 1), q, labels(['v6'], ptr(16)), qtail(28), records[0]]));
  // No question at all, and a root-name question.
  out.push(Buffer.concat([header(10, 0x8180, 0, 1), rr(labels(['x']), 1, Buffer.from([1, 2, 3, 4]))]));
  out.push(Buffer.concat([header(11, 0x0100, 1, 0), Buffer.from([0]), qtail(2)]));
  // Escaped question names near the 255-byte limit, answered by a label and a pointer back to
  // them: the full decoder checks the length of a cached suffix by its text (escapes count 2 or
  // 4 characters), which the lean walker must reproduce.
  for (const fill of [0x01, 0x2e, 0x41]) {
    for (const n of [20, 50, 63]) {
      const qq = Buffer.concat([labels([Buffer.alloc(n, fill), 'example']), qtail(1)]);
      // Every prefix length (wire bytes before the pointer) from 2 to 250 crosses the limit.
      for (let pre = 2; pre <= 250; pre++) {
        const prefix: string[] = [];
        for (let left = pre; left > 0;) {
          const l = Math.min(63, left - 1 || 1);
          prefix.push('p'.repeat(l));
          left -= l + 1;
        }
        long.push(Buffer.concat([header(12, 0x8180, 1, 1), qq, rr(labels(prefix, ptr(12)), 1, Buffer.from([1, 1, 1, 1]))]));
        long.push(Buffer.concat([header(12, 0x8180, 1, 1), qq, rr(Buffer.from(ptr(12)), 5, labels(prefix, ptr(12)))]));
        // The same with the escaped name in a record (walked by the lean validator, not built).
        const a1 = rr(labels([Buffer.alloc(n, fill)], ptr(12)), 1, Buffer.from([1, 1, 1, 1]));
        long.push(Buffer.concat([header(12, 0x8180, 1, 2), q, a1, rr(labels(prefix, ptr(12 + q.length)), 1, Buffer.from([1, 1, 1, 1]))]));
      }
    }
  }
  // A pointer into a name's own labels, and one pointing forwards.
  out.push(Buffer.concat([header(13, 0x8180, 1, 1), labels(['a'], [0xc0, 12]), qtail(1), records[0]]));
  out.push(Buffer.concat([header(13, 0x8180, 1, 1), q, rr(Buffer.from(ptr(200)), 1, Buffer.from([1, 2, 3, 4]))]));
  return { kinds: out, long };
}

test('lean and full decoding agree on real messages and hand-made ones (every record type, escaped names near 255 bytes)', () => {
  const h = handMade();
  const all = [...real, ...h.kinds, ...h.long];
  assert.ok(real.length > 20, `recorded ${real.length} messages`);
  let errors = 0;
  for (const b of all) {
    const full = outcome(decodeMessage, b);
    assert.deepEqual(outcome(decodeMessageLean, b), full, b.toString('hex'));
    if ('error' in full) errors++;
  }
  // The hand-made set reaches both outcomes, including the 255-byte check on cached suffixes.
  assert.ok(errors > 0 && errors < all.length);
  assert.ok(all.some((b) => (outcome(decodeMessage, b) as { error?: string }).error === 'name longer than 255 bytes'));
});

test('type names are one-to-one (pairing compares type numbers)', () => {
  const names = new Set<string>();
  for (let t = 0; t < 65536; t++) names.add(typeName(t));
  assert.equal(names.size, 65536);
});

test('lean and full decoding agree on 60k seeded mutations: same error text or the same message', () => {
  const h = handMade();
  const base = [...real, ...h.kinds, ...h.long.filter((_, i) => i % 50 === 0)];
  const rnd = prng(0x1ea4);
  const seen = new Map<string, number>();
  for (let i = 0; i < 60_000; i++) {
    let b = base[Math.floor(rnd() * base.length)];
    const rounds = 1 + Math.floor(rnd() * 3);
    for (let k = 0; k < rounds; k++) b = mutate(b, rnd);
    const full = outcome(decodeMessage, b);
    const lean = outcome(decodeMessageLean, b);
    if (JSON.stringify(lean) !== JSON.stringify(full)) assert.deepEqual(lean, full, b.toString('hex'));
    const key = 'error' in full ? full.error : 'ok';
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  // The mutations reach success and every error the decoder has (TXT/EDNS/URI/MX/SRV/SOA included).
  assert.ok((seen.get('ok') ?? 0) > 1000);
  for (const e of ['name runs past the end of the message', 'truncated compression pointer', 'compression pointer does not point backwards',
    'unsupported label type', 'label runs past the end of the message', 'name longer than 255 bytes', 'truncated question',
    'truncated resource record', 'record data runs past the end of the message', 'A record with a bad length', 'AAAA record with a bad length',
    'name runs past its record', 'short MX record', 'short SRV record', 'SOA names run past the record', 'TXT string runs past the record',
    'EDNS option runs past the record', 'short URI record', 'message shorter than a DNS header']) {
    assert.ok(seen.has(e), `mutations never reached "${e}"`);
  }
});

test('the dissector in a lean run: same warnings and item counts, sizes and errors as a full run', () => {
  const rnd = prng(7);
  const lean = (c: ReturnType<typeof collector>) => { (c.ctx as { lean?: boolean }).lean = true; return c; };
  const run = (r: Recorded, isLean: boolean) => {
    const c = collector(r.transport);
    if (isLean) lean(c);
    if (r.transport === 'udp') replayUdp(dns.udp!(c.ctx as DissectorContext), r);
    else replayTcp(dns.tcp!(c.ctx as DissectorContext), r);
    return { warnings: c.warnings, items: c.msgs.map((m) => [m.requestSize, m.responseSize, m.requestTs, m.responseTs, m.error]) };
  };
  for (let round = 0; round < 200; round++) {
    for (const r of recs) {
      const m: Recorded = round === 0 ? r : { transport: r.transport, chunks: r.chunks.map((c) => ({ ...c, bytes: rnd() < 0.3 ? mutate(c.bytes, rnd) : c.bytes })) };
      assert.deepEqual(run(m, true), run(m, false));
    }
  }
});
