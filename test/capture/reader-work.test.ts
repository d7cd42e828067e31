// The pcap reader's work on records that span many chunks, counted (PcapReader.copiedBytes), not
// timed. A record delivered in small chunks used to be re-concatenated with every chunk:
// quadratic (a 4 MiB record in 1 KiB chunks copied ~8 GiB; two of them took 1.4–2.4 s, now
// 60–140 ms on the shared machine). The files are crafted here: records far above tcpdump's
// default snaplen (the header announces 16 MiB), in classic pcap and in pcapng.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PcapReader } from '../../capture/sources/pcap-reader';

const MiB = 1 << 20;

function fill(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed;
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; b[i] = x >>> 24; }
  return b;
}

/** Classic little-endian µs pcap, snaplen 16 MiB, Ethernet; one record per payload. */
function pcap(payloads: Buffer[]): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0); h.writeUInt16LE(2, 4); h.writeUInt16LE(4, 6);
  h.writeUInt32LE(16 * MiB, 16); h.writeUInt32LE(1, 20);
  const parts: Buffer[] = [h];
  payloads.forEach((p, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1_700_000_000 + i, 0); r.writeUInt32LE(i, 4); r.writeUInt32LE(p.length, 8); r.writeUInt32LE(p.length, 12);
    parts.push(r, p);
  });
  return Buffer.concat(parts);
}

/** pcapng: a section header, one Ethernet interface (snaplen 0 = none), one EPB per payload. */
function pcapng(payloads: Buffer[]): Buffer {
  const shb = Buffer.alloc(28);
  shb.writeUInt32LE(0x0a0d0d0a, 0); shb.writeUInt32LE(28, 4); shb.writeUInt32LE(0x1a2b3c4d, 8);
  shb.writeUInt16LE(1, 12); shb.writeInt32LE(-1, 16); shb.writeInt32LE(-1, 20); shb.writeUInt32LE(28, 24);
  const idb = Buffer.alloc(20);
  idb.writeUInt32LE(1, 0); idb.writeUInt32LE(20, 4); idb.writeUInt16LE(1, 8); idb.writeUInt32LE(0, 12); idb.writeUInt32LE(20, 16);
  const parts: Buffer[] = [shb, idb];
  payloads.forEach((p, i) => {
    const pad = (4 - (p.length % 4)) % 4;
    const blen = 32 + p.length + pad;
    const epb = Buffer.alloc(28);
    epb.writeUInt32LE(6, 0); epb.writeUInt32LE(blen, 4); epb.writeUInt32LE(0, 8);
    epb.writeUInt32LE(0, 12); epb.writeUInt32LE(i * 1000, 16); epb.writeUInt32LE(p.length, 20); epb.writeUInt32LE(p.length, 24);
    const tail = Buffer.alloc(pad + 4);
    tail.writeUInt32LE(blen, pad);
    parts.push(epb, p, tail);
  });
  return Buffer.concat(parts);
}

function chunks(b: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  // Separate allocations, as a socket or a file stream delivers them (no adjacent views).
  for (let i = 0; i < b.length; i += size) out.push(Buffer.from(b.subarray(i, i + size)));
  return out;
}

async function read(input: Buffer[]): Promise<{ datas: Buffer[]; copied: number; truncated: string | null }> {
  const r = new PcapReader('crafted');
  const datas: Buffer[] = [];
  for await (const batch of r.read(input)) for (const p of batch) datas.push(Buffer.from(p.data));
  return { datas, copied: r.copiedBytes, truncated: r.truncated };
}

const big = [fill(4 * MiB, 1), fill(100, 2), fill(MiB + 3, 3), fill(60, 4), fill(2 * MiB, 5)];
const small = [fill(256 * 1024, 6), fill(100, 7), fill(64 * 1024 + 3, 8)];

for (const [format, make] of [['pcap', pcap], ['pcapng', pcapng]] as const) {
  for (const [what, payloads, size] of [['4 MiB, 1 MiB and 2 MiB records in 1 KiB', big, 1024], ['256 KiB and 64 KiB records in 37-byte', small, 37]] as const) {
    test(`${format}: ${what} chunks give the packets of one read, copying bytes linear in their size`, async () => {
      const file = make(payloads);
      const total = payloads.reduce((n, p) => n + p.length, 0);
      const whole = await read([file]);
      assert.equal(whole.datas.length, payloads.length);
      whole.datas.forEach((d, i) => assert.ok(d.equals(payloads[i]), `packet ${i}`));
      assert.equal(whole.copied, 0, 'one buffer: nothing to join');
      const got = await read(chunks(file, size));
      assert.equal(got.truncated, null);
      assert.equal(got.datas.length, payloads.length);
      got.datas.forEach((d, i) => assert.ok(d.equals(payloads[i]), `packet ${i}, ${size}-byte chunks`));
      // Each spanning record is gathered by doubling (≤ 2× its size) and appended once: ≤ 4× in
      // all. Re-concatenating per chunk copied ~size²/(2 × chunk): 8 GiB for the 4 MiB record.
      assert.ok(got.copied <= 4 * total, `${size}-byte chunks: ${got.copied} bytes copied for ${total} bytes of records`);
    });
  }
}

test('a file cut inside a big record: the truncation notice, every earlier packet, bytes copied linear', async () => {
  const file = pcap(big).subarray(0, 24 + 16 + 4 * MiB + 16 + 100 + 16 + 300_000);
  const got = await read(chunks(file, 512));
  assert.equal(got.datas.length, 2);
  assert.match(got.truncated ?? '', /truncated record at byte \d+ \(300016 of 1048595 bytes present\)/);
  assert.ok(got.copied <= 4 * file.length, `${got.copied} bytes copied`);
});
