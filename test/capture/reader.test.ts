// pcap/pcapng reader against captures made from real loopback traffic, checked against tshark.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { PcapReader, splitTs } from '../../capture/sources/pcap-reader';
import { mixCapture, outFile, readAll, sh, tsharkFields, writePcap } from './lib';
import { dnsQuery, untilAcked } from '../dissectors/harness';

/** tshark's epoch timestamps ("1700000000.123456789") → [sec, nsec]. */
function tsharkTimes(file: string): [number, number][] {
  return tsharkFields(file, ['frame.time_epoch']).map((l) => {
    const [s, f = '0'] = l.split('.');
    return [Number(s), Number(f.padEnd(9, '0').slice(0, 9))];
  });
}

async function times(file: string, chunk?: number): Promise<{ ts: [number, number][]; lens: number[]; links: number[] }> {
  const r = new PcapReader(file);
  const ts: [number, number][] = [];
  const lens: number[] = [];
  const links: number[] = [];
  for await (const b of r.read(createReadStream(file, chunk ? { highWaterMark: chunk } : {}))) {
    for (const p of b) {
      ts.push([p.tsSec, p.tsNsec]);
      lens.push(p.caplen);
      links.push(p.linkType);
      assert.equal(p.data.length, p.caplen);
    }
  }
  assert.equal(r.truncated, null);
  return { ts, lens, links };
}

test('pcap (µs) matches tshark frame for frame, whatever the chunk size', async () => {
  const { file } = await mixCapture();
  const want = tsharkTimes(file);
  const lens = tsharkFields(file, ['frame.cap_len']).map(Number);
  for (const chunk of [undefined, 7, 1000, 65536]) {
    const got = await times(file, chunk);
    assert.deepEqual(got.ts, want);
    assert.deepEqual(got.lens, lens);
  }
});

test('pcap with nanosecond timestamps (tcpdump --time-stamp-precision nano)', async () => {
  const { file } = await mixCapture({ nano: true });
  assert.equal(readFileSync(file).readUInt32LE(0), 0xa1b23c4d);
  const got = await times(file);
  assert.deepEqual(got.ts, tsharkTimes(file));
  assert.ok(got.ts.some(([, ns]) => ns % 1000 !== 0), 'some timestamp has sub-µs digits');
});

test('big-endian pcap, µs and ns, reads the same packets', async () => {
  const { file } = await mixCapture({ nano: true });
  const pkts = await readAll(file);
  for (const nano of [false, true]) {
    const be = writePcap(outFile('pcap'), pkts, 1, { be: true, nano });
    assert.equal(readFileSync(be).readUInt32BE(0), nano ? 0xa1b23c4d : 0xa1b2c3d4);
    const got = await times(be, 333);
    assert.deepEqual(got.ts, tsharkTimes(be));
    assert.equal(got.ts.length, pkts.length);
  }
});

test('pcapng from editcap (µs and ns resolution) matches tshark', async () => {
  for (const nano of [false, true]) {
    const { file } = await mixCapture({ nano });
    const ng = outFile('pcapng');
    sh('editcap', ['-F', 'pcapng', file, ng]);
    assert.equal(readFileSync(ng).readUInt32BE(0), 0x0a0d0d0a);
    const got = await times(ng, 4096);
    assert.deepEqual(got.ts, tsharkTimes(ng));
    assert.deepEqual(got.ts, tsharkTimes(file));
  }
});

test('pcapng with several interfaces of different link types, and several sections', async () => {
  const { file } = await mixCapture();
  const sll = outFile('pcap');
  // Same packets re-encapsulated as raw IP (Ethernet header chopped off): a second link type.
  sh('editcap', ['-C', '14', '-T', 'rawip', file, sll]);
  const merged = outFile('pcapng');
  sh('mergecap', ['-F', 'pcapng', '-w', merged, file, sll]);
  const got = await times(merged, 5000);
  assert.deepEqual(got.ts, tsharkTimes(merged));
  assert.deepEqual(new Set(got.links), new Set([1, 101]));
  // Concatenated pcapng files are one file with two sections.
  const a = outFile('pcapng');
  sh('editcap', ['-F', 'pcapng', file, a]);
  const two = outFile('pcapng');
  writeFileSync(two, Buffer.concat([readFileSync(a), readFileSync(merged)]));
  const got2 = await times(two, 3000);
  assert.equal(got2.ts.length, tsharkTimes(a).length + got.ts.length);
});

test('pcapng if_tsresol (binary) and if_tsoffset options', async () => {
  // One section, one interface with tsresol 2^-10 and tsoffset 1000 s, one EPB.
  const opt = (code: number, v: Buffer) => {
    const h = Buffer.alloc(4);
    h.writeUInt16LE(code, 0);
    h.writeUInt16LE(v.length, 2);
    const pad = Buffer.alloc((4 - (v.length % 4)) % 4);
    return Buffer.concat([h, v, pad]);
  };
  const block = (type: number, body: Buffer) => {
    const len = 12 + body.length;
    const b = Buffer.alloc(len);
    b.writeUInt32LE(type, 0);
    b.writeUInt32LE(len, 4);
    body.copy(b, 8);
    b.writeUInt32LE(len, len - 4);
    return b;
  };
  const shb = block(0x0a0d0d0a, Buffer.from([0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
  const off = Buffer.alloc(8);
  off.writeBigInt64LE(1000n);
  const idbBody = Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 4, 0]), opt(9, Buffer.from([0x8a])), opt(14, off), Buffer.alloc(4)]);
  const idb = block(1, idbBody);
  const data = Buffer.alloc(60, 0xab);
  const epb = Buffer.alloc(20);
  const units = 5 * 1024 + 512; // 5.5 s in 1/1024 s units
  epb.writeUInt32LE(0, 0);
  epb.writeUInt32LE(0, 4);
  epb.writeUInt32LE(units, 8);
  epb.writeUInt32LE(60, 12);
  epb.writeUInt32LE(60, 16);
  const file = Buffer.concat([shb, idb, block(6, Buffer.concat([epb, data]))]);
  const r = new PcapReader('x.pcapng');
  const got = [];
  for await (const b of r.read([file])) got.push(...b);
  assert.equal(got.length, 1);
  assert.equal(got[0].tsSec, 1005);
  assert.equal(got[0].tsNsec, 500_000_000);
  assert.deepEqual(got[0].data, data);
});

test('64-bit timestamp split is exact for nanosecond values beyond 2^53', () => {
  const v = 1_763_900_000_123_456_789n;
  const r = splitTs(Number(v >> 32n), Number(v & 0xffffffffn), 1e9);
  assert.deepEqual({ ...r }, { sec: 1_763_900_000, nsec: 123_456_789 });
  const us = 1_763_900_000_654_321n;
  const r2 = splitTs(Number(us >> 32n), Number(us & 0xffffffffn), 1e6);
  assert.deepEqual({ ...r2 }, { sec: 1_763_900_000, nsec: 654_321_000 });
});

test('pcapng simple (SPB) and obsolete (OPB) packet blocks, big-endian section', async () => {
  const block = (type: number, body: Buffer) => {
    const len = 12 + body.length;
    const b = Buffer.alloc(len);
    b.writeUInt32BE(type, 0);
    b.writeUInt32BE(len, 4);
    body.copy(b, 8);
    b.writeUInt32BE(len, len - 4);
    return b;
  };
  const shb = block(0x0a0d0d0a, Buffer.from([0x1a, 0x2b, 0x3c, 0x4d, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
  const idb = block(1, Buffer.from([0, 101, 0, 0, 0, 0, 0x10, 0])); // raw IP, snaplen 4096
  const data = Buffer.alloc(40, 0x45);
  const spbBody = Buffer.alloc(4 + 40);
  spbBody.writeUInt32BE(60, 0); // wire length 60, 40 captured
  data.copy(spbBody, 4);
  const opb = Buffer.alloc(20 + 40);
  opb.writeUInt16BE(0, 0);
  opb.writeUInt32BE(0, 4);
  opb.writeUInt32BE(2_500_000, 8); // 2.5 s in µs
  opb.writeUInt32BE(40, 12);
  opb.writeUInt32BE(40, 16);
  data.copy(opb, 20);
  const file = Buffer.concat([shb, idb, block(3, spbBody), block(2, opb), block(0x0bad, Buffer.alloc(8))]);
  const r = new PcapReader('x.pcapng');
  const got = [];
  for await (const b of r.read([file])) got.push(...b);
  assert.equal(got.length, 2);
  assert.deepEqual([got[0].linkType, got[0].caplen, got[0].origLen], [101, 40, 60]);
  assert.deepEqual([got[1].tsSec, got[1].tsNsec, got[1].caplen], [2, 500_000_000, 40]);
  assert.equal(r.skippedBlocks, 1);
});

/**
 * Every way of cutting the input gives the same packets, offsets, batches and truncation notice:
 * chunks that are adjacent views of one buffer (no copy), separate buffers (the record spanning
 * a boundary is copied alone), and a mix of both (readAhead: several chunks per read).
 */
test('chunking never changes packets, offsets, batches or the truncation notice', async () => {
  const { file } = await mixCapture();
  const ng = outFile('pcapng');
  sh('editcap', ['-F', 'pcapng', file, ng]);
  for (const f of [file, ng]) {
    const whole = readFileSync(f);
    for (const cut of [whole.length, 30000, 29995]) {
      const buf = whole.subarray(0, cut);
      const sizes = cut > 30000 ? [997, 65536] : [1, 3, 16, 97, 1000, 4096, 65536];
      const ref: string[] = [];
      const ends: number[] = [];
      const r0 = new PcapReader(f);
      for await (const b of r0.read([buf])) {
        for (const p of b) {
          ref.push(`${p.offset} ${p.tsSec}.${p.tsNsec} ${p.caplen} ${p.data.toString('hex')}`);
          ends.push(p.offset + (f === ng ? buf.readUInt32LE(p.offset + 4) : 16 + p.caplen));
        }
      }
      assert.ok(ref.length > 10);
      for (const size of sizes) {
        for (const mode of ['views', 'copies', 'mixed']) {
          const chunks: Buffer[] = [];
          for (let i = 0; i < buf.length; i += size) {
            const v = buf.subarray(i, i + size);
            // mixed: runs of three adjacent views, then a separate buffer.
            chunks.push(mode === 'views' || (mode === 'mixed' && (i / size) % 4 !== 3) ? v : Buffer.from(v));
          }
          const r = new PcapReader(f);
          const got: string[] = [];
          let chunkEnd = 0;
          let k = 0;
          // One batch per chunk at most, holding exactly the records that end inside it.
          const it = r.read(chunks);
          const batches: number[] = [];
          for await (const b of it) {
            batches.push(b.length);
            for (const p of b) got.push(`${p.offset} ${p.tsSec}.${p.tsNsec} ${p.caplen} ${p.data.toString('hex')}`);
          }
          assert.deepEqual(got, ref, `${f} cut ${cut} size ${size} ${mode}`);
          const want: number[] = [];
          for (const c of chunks) {
            chunkEnd += c.length;
            let n = 0;
            while (k < ends.length && ends[k] <= chunkEnd) (n++, k++);
            if (n) want.push(n);
          }
          assert.deepEqual(batches, want, `${f} cut ${cut} size ${size} ${mode}: batches`);
          assert.equal(r.truncated, r0.truncated, `${f} cut ${cut} size ${size} ${mode}: truncation`);
        }
      }
    }
  }
});

test('packets point into their chunk: data is a lazy view of buf[off, off + caplen); spreads drop buf/off', async () => {
  const { file } = await mixCapture();
  const bytes = readFileSync(file);
  const r = new PcapReader(file);
  let n = 0;
  for await (const b of r.read([bytes])) {
    for (const p of b) {
      assert.ok(p.buf && p.off !== undefined);
      assert.ok(p.data.equals(p.buf.subarray(p.off, p.off + p.caplen)));
      assert.equal(p.data, p.data, 'one view, made once');
      assert.ok(bytes.subarray(p.offset + 16, p.offset + 16 + p.caplen).equals(p.data));
      // A copy with other bytes must not carry the old frame's place (the pipeline prefers buf).
      const copy = { ...p, data: Buffer.from('x') };
      assert.equal(copy.buf, undefined);
      assert.equal(copy.off, undefined);
      n++;
    }
  }
  assert.ok(n > 10);
});

/**
 * Real loopback traffic where bytes must outlive many reads: an HTTP request head and a DNS
 * message over TCP each sent in two halves, with 300 DNS exchanges over UDP in between.
 */
async function halvesCapture(): Promise<string> {
  const net = await import('node:net');
  const dgram = await import('node:dgram');
  const { startHttpServer, startDnsServer } = await import('../helpers/traffic');
  const { record } = await import('./lib');
  const web = await startHttpServer();
  const dns = await startDnsServer();
  try {
    return await record(`port ${web.port} or port ${dns.port}`, async () => {
      const connect = (port: number) => new Promise<import('node:net').Socket>((r) => { const s = net.connect(port, '127.0.0.1', () => r(s)); });
      const h = await connect(web.port);
      const t = await connect(dns.port);
      // A whole first message on each connection, so that the dissector (not detection, which
      // copies) holds the first half of the second one.
      const hFirst = new Promise((r) => h.once('data', r));
      h.write('GET /first HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await hFirst;
      const frame = (m: Buffer) => Buffer.concat([Buffer.from([0, m.length]), m]);
      const tFirst = new Promise((r) => t.once('data', r));
      t.write(frame(dnsQuery(6, 'first.example.test')));
      await tFirst;
      const head = `GET /split?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ${'p'.repeat(200)}\r\nConnection: close\r\n\r\n`;
      const framed = frame(dnsQuery(7, 'split.example.test'));
      h.write(head.slice(0, 60));
      t.write(framed.subarray(0, 9));
      await untilAcked(h); // the first halves are on the wire before the UDP exchanges
      await untilAcked(t);
      const u = dgram.createSocket('udp4');
      await new Promise<void>((r) => u.bind(0, '127.0.0.1', () => r()));
      for (let i = 0; i < 300; i++) {
        const answered = new Promise((r) => u.once('message', r));
        u.send(dnsQuery(100 + i, `between${i}.example.test`), dns.port, '127.0.0.1');
        await answered;
      }
      u.close();
      const done = (s: import('node:net').Socket) => new Promise((r) => { s.on('data', () => {}); s.on('close', r); });
      const hDone = done(h);
      const tAnswer = new Promise((r) => t.once('data', r));
      const tDone = done(t);
      h.write(head.slice(60));
      t.write(framed.subarray(9));
      await tAnswer; // the split DNS query answered
      t.end();
      await hDone; // Connection: close, after the answer
      await tDone;
    });
  } finally {
    await web.close();
    await dns.close();
  }
}

test('reused read buffers: items from small reads (a ring of three buffers) equal items from one read', async () => {
  const { ReadableSource, readAhead } = await import('../../capture/sources/file');
  const { runPipeline } = await import('../../capture/pipeline');
  const run = async (file: string, chunks: () => AsyncIterable<Buffer>) => {
    const items: string[] = [];
    const stats = await runPipeline(new ReadableSource('file/x', file, chunks), { item: (i) => void items.push(JSON.stringify(i)) });
    return { items, stats: { ...stats, elapsedMs: 0 } };
  };
  const halves = await halvesCapture();
  for (const file of [halves, (await mixCapture()).file, 'examples/captures/demo.pcap']) {
    const whole = readFileSync(file);
    const ref = await run(file, async function* () { yield whole; });
    assert.ok(ref.items.length > 10);
    if (file === halves) {
      assert.ok(ref.items.some((i) => i.includes('"url":"/split?x=1"')), 'the split HTTP request is an item');
      assert.ok(ref.items.some((i) => i.includes('"name":"split.example.test"')), 'the split DNS/TCP query is an item');
    }
    // Smaller than most loopback frames, a few frames, and several: every layout across reads.
    for (const size of [2048, 4096, 70 * 1024, 300 * 1024]) {
      const got = await run(file, () => readAhead(file, size));
      assert.deepEqual(got.stats, ref.stats, `${file} with ${size}-byte reads`);
      assert.deepEqual(got.items, ref.items, `${file} with ${size}-byte reads`);
    }
  }
});
