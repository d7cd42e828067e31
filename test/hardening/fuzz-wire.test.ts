/**
 * Property-based fuzzing of the wire-level decoders, directly (cheap, so many cases per second):
 * the frame → IP → TCP/UDP decoder for every supported link type, IPv4 fragment reassembly, the
 * DNS message decoders, and HTTP's start-line/length parsers. Seeds are frames and DNS messages
 * from examples/captures/demo.pcap.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { PacketDecoder, Status } from '../../capture/decode/packet';
import { DnsWireError, decodeMessage, decodeMessageLean, looksLikeDns } from '../../capture/dissectors/dns-wire';
import { parseChunkSize, parseLength, parseRequestLine, parseStatusLine } from '../../capture/dissectors/http-wire';
import type { RawPacket } from '../../capture/types';
import { DEMO, applyEdits, checkDeadline, edit, packetsOf, params, startClock } from './fuzz-lib';

let frames: RawPacket[] = [];
let dnsMsgs: Buffer[] = [];

before(async () => {
  frames = await packetsOf(readFileSync(DEMO));
  const dec = new PacketDecoder(() => {});
  for (const f of frames) {
    if (dec.decode(f.linkType, f.data, f.tsSec) !== Status.L4 || dec.d.proto !== 17) continue;
    const m = Buffer.from(dec.d.payloadBuf.subarray(dec.d.payloadStart, dec.d.payloadEnd));
    if (looksLikeDns(m, 'whole')) dnsMsgs.push(m);
  }
  assert.ok(dnsMsgs.length >= 2, `${dnsMsgs.length} DNS messages in the seed`);
});

const LINKS = [0, 1, 101, 108, 113, 228, 229, 276, 12, 14, 0xffff];

/** The decoder's output, checked for staying inside the buffers it points into. */
function checkDecoded(dec: PacketDecoder, st: Status): void {
  assert.ok([Status.L4, Status.Other, Status.FragmentHeld, Status.Malformed, Status.Icmp].includes(st), `status ${st}`);
  if (st !== Status.L4) return;
  const d = dec.d;
  assert.ok(d.proto === 6 || d.proto === 17, `proto ${d.proto}`);
  assert.ok(d.payloadStart >= 0 && d.payloadStart <= d.payloadEnd && d.payloadEnd <= d.payloadBuf.length, `payload [${d.payloadStart}, ${d.payloadEnd}) of ${d.payloadBuf.length}`);
  const alen = d.ipVersion === 4 ? 4 : 16;
  assert.ok(d.srcOff >= 0 && d.srcOff + alen <= d.addrBuf.length && d.dstOff + alen <= d.addrBuf.length, 'addresses inside addrBuf');
  assert.ok(d.srcPort >= 0 && d.srcPort <= 65535 && d.dstPort >= 0 && d.dstPort <= 65535);
  assert.ok(d.cut >= 0);
}

test('decoder: mutated real frames under every link type never throw and stay inside their buffers', () => {
  fc.assert(
    fc.property(fc.nat(), fc.constantFrom(...LINKS), fc.array(edit, { maxLength: 6 }), fc.nat(64), (i, link, edits, pad) => {
      const f = frames[i % frames.length];
      const data = applyEdits(f.data, edits);
      // Decode in place from inside a bigger buffer too (the pipeline's decodeAt): nothing past `end` may be read.
      const buf = Buffer.concat([Buffer.alloc(pad, 0xee), data, Buffer.alloc(pad, 0xee)]);
      const dec = new PacketDecoder(() => {});
      const a = dec.decodeAt(link, buf, pad, pad + data.length, f.tsSec);
      checkDecoded(dec, a);
      const got = a === Status.L4 ? Buffer.from(dec.d.payloadBuf.subarray(dec.d.payloadStart, dec.d.payloadEnd)).toString('hex') : '';
      const dec2 = new PacketDecoder(() => {});
      const b = dec2.decode(link, data, f.tsSec);
      assert.equal(b, a, 'decodeAt inside a bigger buffer = decode of the frame alone');
      if (b === Status.L4) assert.equal(Buffer.from(dec2.d.payloadBuf.subarray(dec2.d.payloadStart, dec2.d.payloadEnd)).toString('hex'), got);
    }),
    params(3000),
  );
});

/** A raw-IPv4 (link 228) UDP datagram fragment: payload bytes [off, off+len) of one datagram. */
function fragment(id: number, off8: number, more: boolean, payload: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length, 2);
  h.writeUInt16BE(id, 4);
  h.writeUInt16BE((more ? 0x2000 : 0) | (off8 & 0x1fff), 6);
  h[8] = 64; h[9] = 17;
  h.writeUInt32BE(0x7f000001, 12); h.writeUInt32BE(0x7f000002, 16);
  return Buffer.concat([h, payload]);
}

test('fragments: arbitrary overlapping, duplicated and out-of-order IPv4 fragments never throw and stay inside their buffers', () => {
  const frag = fc.record({ off8: fc.nat(40), len8: fc.integer({ min: 0, max: 40 }), more: fc.boolean(), fill: fc.nat(255), id: fc.nat(2) });
  fc.assert(
    fc.property(fc.array(frag, { minLength: 1, maxLength: 30 }), (fs) => {
      const t0 = startClock();
      const dec = new PacketDecoder(() => {});
      for (const f of fs) {
        const st = dec.decode(228, fragment(f.id, f.off8, f.more, Buffer.alloc(f.len8 * 8, f.fill)), 1);
        checkDecoded(dec, st);
        if (st === Status.L4) assert.equal(dec.d.fragmented, f.more || f.off8 > 0, 'fragmented says whether this packet was a fragment');
        else if (!f.more && f.off8 === 0 && f.len8 > 0) assert.fail(`an unfragmented UDP datagram gave status ${st}`);
      }
      checkDeadline(t0, 'fragments');
    }),
    params(1500),
  );
});

test('DNS: mutated real messages and noise throw only DnsWireError, and the lean decoder accepts exactly what the full one does', () => {
  const msg = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.nat(), fc.array(edit, { minLength: 1, maxLength: 6 })).map(([i, e]) => applyEdits(dnsMsgs[i % dnsMsgs.length], e, dnsMsgs[(i + 1) % dnsMsgs.length])) },
    // Compression pointers aimed anywhere (loops, forward, out of range) after a valid header.
    { weight: 2, arbitrary: fc.tuple(fc.nat(), fc.array(fc.tuple(fc.nat(), fc.nat(0x3fff)), { maxLength: 4 })).map(([i, ptrs]) => {
      const b = Buffer.from(dnsMsgs[i % dnsMsgs.length]);
      for (const [at, to] of ptrs) if (b.length > 14) b.writeUInt16BE(0xc000 | (to % b.length), 12 + (at % (b.length - 13)));
      return b;
    }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 600 }).map((u) => Buffer.from(u)) },
  );
  let accepted = 0;
  fc.assert(
    fc.property(msg, (b) => {
      const t0 = startClock();
      const outcome = (f: (b: Buffer) => unknown): string => {
        try {
          f(b);
          return 'ok';
        } catch (e) {
          if (!(e instanceof DnsWireError)) throw e;
          return 'refused';
        }
      };
      const full = outcome(decodeMessage);
      assert.equal(outcome(decodeMessageLean), full, 'lean and full decoders disagree');
      if (full === 'ok') {
        accepted++;
        assert.ok(JSON.stringify(decodeMessage(b)).length < 64 * 1024 + 200 * b.length, 'decoded size bounded');
      }
      for (const depth of ['header', 'questions', 'whole'] as const) assert.equal(typeof looksLikeDns(b, depth), 'boolean');
      checkDeadline(t0, 'dns');
    }),
    params(3000),
  );
  assert.ok(accepted > 0, 'some mutated messages still decode');
});

test('HTTP wire: start lines and length fields from any bytes never throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.string({ maxLength: 40 }), (u, s) => {
      const b = Buffer.from(u);
      for (const line of [Buffer.concat([Buffer.from('GET '), b]), Buffer.concat([Buffer.from('HTTP/1.1 '), b]), b]) {
        const r = parseRequestLine(line, 0, line.length);
        if (r) assert.equal(typeof r.method, 'string');
        const st = parseStatusLine(line, 0, line.length);
        if (st) assert.ok(Number.isInteger(st.status), `status ${st.status}`);
        assert.equal(typeof parseChunkSize(line, 0, line.length), 'number');
      }
      assert.equal(typeof parseLength(s), 'number');
    }),
    params(3000),
  );
});
