/**
 * Property-based fuzzing of HTTP/2's wire decoders (capture/dissectors/hpack.ts,
 * http2-frames.ts): HPACK header blocks recorded from real Node http2 and gRPC traffic, mutated,
 * decode or throw HpackError only; random bytes through the frame reader never throw.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HpackDecoder, HpackError, huffmanDecode } from '../../capture/dissectors/hpack';
import { FrameReader, HEADERS, CONTINUATION, END_HEADERS, PADDED, PRIORITY_FLAG, type FrameSink } from '../../capture/dissectors/http2-frames';
import { recordRelay } from '../dissectors/harness';
import { startH2Server, h2Scenario, startGrpcServer, grpcScenario } from '../helpers/h2-traffic';
import { applyEdits, checkDeadline, edit, params, startClock } from './fuzz-lib';

/** Header block fragments per connection direction, in order (the dynamic table depends on it). */
let sequences: Buffer[][] = [];

function blocksOf(chunks: Buffer[], client: boolean): Buffer[] {
  const out: Buffer[] = [];
  let parts: Buffer[] = [];
  const sink: FrameSink = {
    frame: (type, flags, _sid, b, s, e) => {
      if (type !== HEADERS && type !== CONTINUATION) return;
      let p = s, end = e;
      if (type === HEADERS && flags & PADDED) end -= b[p++];
      if (type === HEADERS && flags & PRIORITY_FLAG) p += 5;
      parts.push(Buffer.from(b.subarray(p, end)));
      if (flags & END_HEADERS) { out.push(Buffer.concat(parts)); parts = []; }
    },
    dataStart: () => {}, data: () => {}, dataEnd: () => {}, broken: () => {},
  };
  const r = new FrameReader(client, sink);
  for (const c of chunks) r.feed(c, { sec: 0, nsec: 0 });
  return out;
}

before(async () => {
  const h = await startH2Server();
  const g = await startGrpcServer();
  try {
    const recs = [...await recordRelay(h.port, async (p) => { await h2Scenario(p); }), ...await recordRelay(g.port, async (p) => { await grpcScenario(p); })];
    for (const rec of recs.filter((r) => r.transport === 'tcp')) {
      for (const dir of [0, 1] as const) {
        const seq = blocksOf(rec.chunks.filter((c) => c.dir === dir).map((c) => c.bytes), dir === 0);
        if (seq.length) sequences.push(seq);
      }
    }
  } finally {
    await h.close();
    await g.close();
  }
  assert.ok(sequences.flat().length >= 10, `${sequences.flat().length} header blocks recorded`);
});

const decodeOrRefuse = (d: HpackDecoder, b: Buffer): 'ok' | 'refused' => {
  try {
    const fields = d.decode(b, 0, b.length);
    for (const f of fields) assert.ok(typeof f.name === 'string' && typeof f.value === 'string');
    return 'ok';
  } catch (e) {
    if (!(e instanceof HpackError)) throw e;
    return 'refused';
  }
};

test('HPACK: mutated real header block sequences decode or throw HpackError only', () => {
  let ok = 0;
  fc.assert(
    fc.property(fc.nat(), fc.nat(), fc.array(edit, { minLength: 1, maxLength: 6 }), (i, at, edits) => {
      const t0 = startClock();
      const seq = sequences[i % sequences.length];
      const k = at % seq.length;
      // One decoder through the whole direction: the mutated block meets a filled dynamic table.
      const d = new HpackDecoder();
      for (let j = 0; j < seq.length; j++) {
        const r = decodeOrRefuse(d, j === k ? applyEdits(seq[j], edits) : seq[j]);
        if (r === 'refused') break;
        if (j === k) ok++;
      }
      checkDeadline(t0, 'hpack');
    }),
    params(2000),
  );
  assert.ok(ok > 0, 'some mutated blocks still decode');
});

test('HPACK: unmutated sequences decode entirely (the recorded traffic is valid)', () => {
  for (const seq of sequences) {
    const d = new HpackDecoder();
    for (const b of seq) assert.equal(decodeOrRefuse(d, b), 'ok');
  }
});

test('Huffman and frame reader: any bytes never throw anything but HpackError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), fc.nat(50), (u, client, cut) => {
      const b = Buffer.from(u);
      try { huffmanDecode(b, 0, b.length); } catch (e) { if (!(e instanceof HpackError)) throw e; }
      const sink: FrameSink = { frame: () => {}, dataStart: () => {}, data: () => {}, dataEnd: () => {}, broken: () => {} };
      const r = new FrameReader(client, sink);
      r.feed(b.subarray(0, cut), { sec: 0, nsec: 0 });
      r.feed(b.subarray(cut), { sec: 0, nsec: 0 });
      r.gap(cut + 1, { sec: 0, nsec: 0 });
    }),
    params(3000),
  );
});
