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
import { outFile, tcpConversation, writePcap } from './lib';

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
  const { items, warnings, gaps } = await run(tcpConversation(segs, { drop: new Set([1]), stepNs: 10_000 }));
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
  const { items } = await run(tcpConversation(segs, { stepNs: 10_000 }));
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
