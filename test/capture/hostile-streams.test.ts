/**
 * Hostile streams of issue #13's proof not covered by http-caps.test.ts, each a crafted pcap
 * through the real pipeline: a huge window of data held behind a hole (the out-of-order caps),
 * and an endless chunked body. Each asserts the cut is counted and the work/memory meters stay
 * bounded (httpWork, never time), and that the traffic after it is still dissected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPipeline } from '../../capture/pipeline';
import { fileSource } from '../../capture/sources/file';
import { httpWork } from '../../capture/dissectors/http-limits';
import { OOO_DIR_CAP } from '../../capture/stream/tcp';
import type { Item } from '../../capture/item/schema';
import type { RawPacket } from '../../capture/types';
import { outFile, writePcap } from './lib';

/**
 * One TCP connection 10.0.0.1:port → 10.0.0.2:80 as Ethernet/IPv4 frames: handshake, `segs`,
 * FIN both ways. Segments whose index is in `drop` take their sequence space but are not written
 * (a hole the capture never saw).
 */
function conversation(segs: [0 | 1, Buffer][], drop = new Set<number>(), port = 40000, t0 = 1_700_000_000): RawPacket[] {
  const seq = [1000, 5000];
  let t = 0;
  const out: RawPacket[] = [];
  const frame = (dir: 0 | 1, flags: number, payload: Buffer, keep = true) => {
    const data = Buffer.alloc(54 + payload.length);
    data.writeUInt16BE(0x0800, 12);
    data[14] = 0x45;
    data.writeUInt16BE(40 + payload.length, 16);
    data[22] = 64;
    data[23] = 6;
    const [a, b] = dir === 0 ? [0x0a000001, 0x0a000002] : [0x0a000002, 0x0a000001];
    data.writeUInt32BE(a, 26);
    data.writeUInt32BE(b, 30);
    data.writeUInt16BE(dir === 0 ? port : 80, 34);
    data.writeUInt16BE(dir === 0 ? 80 : port, 36);
    data.writeUInt32BE(seq[dir] >>> 0, 38);
    data.writeUInt32BE(seq[1 - dir] >>> 0, 42);
    data[46] = 0x50;
    data[47] = flags;
    data.writeUInt16BE(65535, 48);
    payload.copy(data, 54);
    seq[dir] += payload.length + (flags & 0x03 ? 1 : 0);
    t++;
    if (keep) out.push({ linkType: 1, tsSec: t0 + Math.floor(t / 100_000), tsNsec: (t % 100_000) * 10_000, caplen: data.length, origLen: data.length, data, interfaceId: 0, offset: 0 });
  };
  const none = Buffer.alloc(0);
  frame(0, 0x02, none);
  frame(1, 0x12, none);
  frame(0, 0x10, none);
  segs.forEach(([dir, p], i) => frame(dir, 0x18, p, !drop.has(i)));
  frame(0, 0x11, none);
  frame(1, 0x11, none);
  return out;
}

function split(dir: 0 | 1, data: Buffer, n: number): [0 | 1, Buffer][] {
  const out: [0 | 1, Buffer][] = [];
  for (let o = 0; o < data.length; o += n) out.push([dir, data.subarray(o, o + n)]);
  return out;
}

async function run(pkts: RawPacket[]): Promise<{ items: Item[]; warnings: Record<string, number>; gaps: number }> {
  const items: Item[] = [];
  httpWork.reset();
  const stats = await runPipeline(fileSource(writePcap(outFile('pcap'), pkts)), { item: (i) => void items.push(i) });
  return { items, warnings: stats.warnings, gaps: stats.gaps };
}

const B = (s: string) => Buffer.from(s, 'latin1');
const path = (i: Item) => (i.request as { path?: string }).path;

test('a huge window behind a hole: out-of-order bytes held are capped per direction, the hole declared lost, the requests after it dissected', async () => {
  // A first request (the stream is found to be HTTP), a lost segment, then 4 MB of pipelined
  // GETs in 1400-byte segments, all held behind the hole.
  const filler = 'x'.repeat(1000);
  const reqs = Array.from({ length: 3600 }, (_, i) => `GET /w${i} HTTP/1.1\r\nX-Pad: ${filler}\r\n\r\n`).join('');
  const segs: [0 | 1, Buffer][] = [[0, B('GET /first HTTP/1.1\r\nHost: h\r\n\r\n')], [0, B('GET /lost HTTP/1.1\r\n\r\n')], ...split(0, B(reqs), 1400)];
  assert.ok(reqs.length > 3 * OOO_DIR_CAP, 'the held data would be several times the cap');
  const { items, warnings, gaps } = await run(conversation(segs, new Set([1])));
  assert.equal(path(items[0]), '/first');
  assert.ok(warnings['tcp.out-of-order-cap'] >= 1, JSON.stringify(warnings));
  assert.ok(gaps >= 1, 'the hole is a gap');
  // Nothing after the hole is lost for good: every request whose head lies past it is an item.
  const paths = new Set(items.map(path));
  const lost = Array.from({ length: 3600 }, (_, i) => `/w${i}`).filter((p) => !paths.has(p));
  assert.ok(lost.length <= 2, `requests lost: ${lost.length} (${lost.slice(0, 5).join(', ')})`);
  // Buffered bytes stay linear in the input (each byte copied a bounded number of times).
  assert.ok(httpWork.bytesBuffered <= 4 * reqs.length, `buffered ${httpWork.bytesBuffered} for ${reqs.length} bytes`);
});

test('an endless chunked body: the preview is capped, work stays linear, the exchange still comes out and the next one pairs', async () => {
  const chunk = 'c'.repeat(4000);
  const body = Array.from({ length: 5000 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join(''); // ~20 MB, never terminated by a 0 chunk
  const segs: [0 | 1, Buffer][] = [
    [0, B('GET /stream HTTP/1.1\r\nHost: h\r\n\r\n')],
    [1, B('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')],
    ...split(1, B(body), 1400),
  ];
  const { items } = await run(conversation(segs));
  assert.equal(items.length, 1);
  assert.equal(path(items[0]), '/stream');
  const content = (items[0].response as { status?: number; content?: { text?: string; size: number } });
  assert.equal(content.status, 200);
  const shown = Buffer.from(content.content?.text ?? '', 'base64').length;
  assert.ok(shown > 0 && shown <= 1 << 20, `preview of ${shown} bytes out of ~${body.length}`);
  // The body is not copied into buffers: buffered bytes are a small fraction of it.
  assert.ok(httpWork.bytesBuffered <= body.length / 10, `buffered ${httpWork.bytesBuffered} of ${body.length}`);
  assert.ok(httpWork.headParses <= 4, `head parses ${httpWork.headParses}`);
});
