// Bad input: truncated at every offset, random bytes, corrupted headers, absurd lengths. Each
// case ends in a clear CaptureError or skipped packets, never a crash, a hang or a lost packet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PcapReader } from '../../capture/sources/pcap-reader';
import { runPipeline } from '../../capture/pipeline';
import { ReadableSource } from '../../capture/sources/file';
import { Readable } from 'node:stream';
import { mixCapture, outFile, readAll, sh, writePcap } from './lib';

async function readBuf(buf: Buffer, chunk = 1 << 20): Promise<{ n: number; truncated: string | null; error: Error | null }> {
  const r = new PcapReader('f.pcap');
  let n = 0;
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunk) chunks.push(buf.subarray(i, i + chunk));
  try {
    for await (const b of r.read(chunks)) n += b.length;
  } catch (e) {
    return { n, truncated: r.truncated, error: e as Error };
  }
  return { n, truncated: r.truncated, error: null };
}

/** A small real capture: the first `k` packets of the mix. */
async function small(k: number, ng: boolean): Promise<Buffer> {
  const pkts = (await readAll((await mixCapture()).file)).slice(0, k);
  const f = writePcap(outFile('pcap'), pkts);
  if (!ng) return readFileSync(f);
  const g = outFile('pcapng');
  sh('editcap', ['-F', 'pcapng', f, g]);
  return readFileSync(g);
}

/** The blocks of a little-endian pcapng file: where each ends, and whether it holds a packet (EPB, SPB, old PB). */
function ngBlocks(buf: Buffer): { end: number; packet: boolean }[] {
  const out: { end: number; packet: boolean }[] = [];
  for (let o = 0; o + 12 <= buf.length; ) {
    const type = buf.readUInt32LE(o);
    const len = buf.readUInt32LE(o + 4);
    out.push({ end: o + len, packet: type === 6 || type === 3 || type === 2 });
    o += len;
  }
  return out;
}

test('a capture cut at every offset yields every complete packet, then reports the cut', async () => {
  for (const ng of [false, true]) {
    const buf = await small(8, ng);
    // Offsets where a record ends: reading the whole file tells us.
    const ends: number[] = [];
    const r = new PcapReader('f');
    for await (const b of r.read([buf])) for (const p of b) ends.push(p.offset + (ng ? 0 : 16 + p.caplen));
    for (let cut = 0; cut < buf.length; cut++) {
      const got = await readBuf(buf.subarray(0, cut), 97);
      const hdr = ng ? 0 : 24;
      if (cut < (ng ? 4 : hdr)) {
        assert.ok(got.error, `cut ${cut}: header error`);
        assert.equal(got.error!.name, 'CaptureError');
        continue;
      }
      if (ng) {
        // Every packet block that ends by the cut comes out, and a cut inside a block is said
        // (an error or a truncation notice); a cut at a block boundary is a clean end.
        const complete = ngBlocks(buf).filter((b) => b.packet && b.end <= cut).length;
        assert.equal(got.n, complete, `pcapng cut ${cut}: complete packets`);
        if (got.error) assert.match(got.error.message, /short pcapng section header|at byte/);
        const atBoundary = ngBlocks(buf).some((b) => b.end === cut);
        assert.equal(got.error !== null || got.truncated !== null, !atBoundary, `pcapng cut ${cut}: the cut reported`);
        continue;
      }
      const complete = ends.filter((e) => e <= cut).length;
      assert.equal(got.error, null, `cut ${cut}`);
      assert.equal(got.n, complete, `cut ${cut}: complete packets`);
      assert.equal(got.truncated !== null, !ends.includes(cut) && cut !== hdr, `cut ${cut}: truncation reported`);
    }
  }
});

test('bad magic, absurd record length, bad pcapng block length: CaptureError with the byte offset', async () => {
  const buf = await small(3, false);
  const bad = Buffer.from(buf);
  bad.writeUInt32BE(0x12345678, 0);
  let r = await readBuf(bad);
  assert.equal(r.error?.message, 'f.pcap: bad magic 0x12345678 (not a pcap or pcapng file) at byte 0');

  const abs = Buffer.from(buf);
  const second = 24 + 16 + abs.readUInt32LE(24 + 8);
  abs.writeUInt32LE(0xffffffff, second + 8);
  r = await readBuf(abs);
  assert.equal(r.n, 1, 'the packet before the bad record is kept');
  assert.equal(r.error?.message, `f.pcap: record length 4294967295 exceeds snaplen at byte ${second}`);

  const ng = Buffer.from(await small(3, true));
  const shbLen = ng.readUInt32LE(4);
  ng.writeUInt32LE(0x7ffffff0, shbLen + 4);
  r = await readBuf(ng);
  assert.match(r.error!.message, new RegExp(`block length 2147483632 exceeds .* at byte ${shbLen}$`));

  assert.match((await readBuf(Buffer.alloc(0))).error!.message, /empty input/);
});

test('random bytes and corrupted packets never crash or hang the pipeline', async () => {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  // Random files: an error or nothing, never an exception of another kind.
  for (let i = 0; i < 200; i++) {
    const b = Buffer.alloc(Math.floor(rnd() * 2000));
    for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
    if (i % 2 === 0 && b.length >= 4) b.writeUInt32LE(0xa1b2c3d4, 0);
    const r = await readBuf(b, 50);
    if (r.error) assert.equal(r.error.name, 'CaptureError');
  }
  // Valid pcap framing, random packet bytes: everything is decoded or skipped.
  const pkts = await readAll((await mixCapture()).file);
  for (const p of pkts) for (let j = 14; j < p.data.length; j += 1 + Math.floor(rnd() * 8)) p.data[j] = Math.floor(rnd() * 256);
  const f = writePcap(outFile('pcap'), pkts);
  const src = new ReadableSource('file/x', 'x', () => Readable.from([readFileSync(f)]));
  const stats = await runPipeline(src, {});
  assert.equal(stats.packets, pkts.length);
  assert.ok(stats.skipped > 0, 'some corrupted headers were skipped and counted');
});
