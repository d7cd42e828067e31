// The HTTP dissector's caps (capture/dissectors/http-limits.ts), each from a crafted capture of
// hostile traffic that this test writes (issue #13, defects 9–12). They count work and memory
// (httpWork), never time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPipeline } from '../../capture/pipeline';
import { fileSource } from '../../capture/sources/file';
import { MAX_HELD_EXCHANGES, MAX_TRAILERS, httpWork } from '../../capture/dissectors/http-limits';
import type { Item } from '../../capture/item/schema';
import { outFile, tcpConversation, writePcap } from './lib';

async function run(segs: [0 | 1, Buffer][]): Promise<{ items: Item[]; warnings: Record<string, number> }> {
  const items: Item[] = [];
  httpWork.reset();
  const stats = await runPipeline(fileSource(writePcap(outFile('pcap'), tcpConversation(segs, { stepNs: 1_000_000 }))), { item: (i) => void items.push(i) });
  return { items, warnings: stats.warnings };
}

/** `data` cut into segments of `n` bytes. */
function split(dir: 0 | 1, data: Buffer, n: number): [0 | 1, Buffer][] {
  const out: [0 | 1, Buffer][] = [];
  for (let o = 0; o < data.length; o += n) out.push([dir, data.subarray(o, o + n)]);
  return out;
}
const B = (s: string) => Buffer.from(s, 'latin1');
const res = (i: Item) => i.response as { status?: number; headers?: Record<string, string> };
const req = (i: Item) => i.request as { path?: string };

test('defect 9: trailers are capped at 64 KiB; the message is kept, flagged and counted', async () => {
  // 2 MB of folded trailer lines (each < the 4 KiB line cap) once became one 2 MB header value.
  const fold = ' ' + 'x'.repeat(1000) + '\r\n';
  const trailer = Buffer.from('X-Trailer: start\r\n' + fold.repeat(2000) + '\r\n');
  const body = Buffer.concat([B('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n'), trailer]);
  const { items, warnings } = await run([[0, B('GET /t HTTP/1.1\r\n\r\n')], ...split(1, body, 1400), [0, B('GET /after HTTP/1.1\r\n\r\n')], [1, B('HTTP/1.1 204 No Content\r\n\r\n')]]);
  assert.equal(warnings['http: trailers over the 64 KiB cap: message cut'], 1);
  assert.deepEqual(items.map(req).map((r) => r.path), ['/t', '/after']);
  const headerBytes = JSON.stringify(res(items[0]).headers).length;
  assert.ok(headerBytes <= MAX_TRAILERS + 4096, `response headers hold ${headerBytes} bytes`);
  assert.match(items[0].error?.msg ?? '', /trailers over/);
});

test('defect 10: never-answered pipelined requests cost linear work and at most 256 held exchanges; responses still pair', async () => {
  const reqs = (from: number, n: number) => Buffer.from(Array.from({ length: n }, (_, i) => `GET /r${from + i} HTTP/1.1\r\nHost: x\r\n\r\n`).join(''));
  const work = async (n: number) => {
    const { items, warnings } = await run(split(0, reqs(0, n), 1400));
    assert.equal(items.length, n);
    assert.equal(warnings[`http: exchange emitted before its response: over the ${MAX_HELD_EXCHANGES} held exchanges cap`], n - MAX_HELD_EXCHANGES);
    assert.equal(httpWork.maxHeldExchanges, MAX_HELD_EXCHANGES + 1);
    return httpWork.pairingSteps + httpWork.headParses;
  };
  const w1 = await work(5000);
  const w4 = await work(20000);
  // Linear: 4x the requests, about 4x the work (it was quadratic: 16x).
  assert.ok(w4 <= w1 * 4.5, `work ${w1} → ${w4}`);
  // The responses of requests emitted early are skipped, so later ones pair right.
  const n = MAX_HELD_EXCHANGES + 10;
  const answers = Buffer.from(Array.from({ length: n }, (_, i) => `HTTP/1.1 200 OK\r\nContent-Length: ${String(i).length}\r\n\r\n${i}`).join(''));
  const { items } = await run([...split(0, reqs(0, n), 1400), ...split(1, answers, 1400)]);
  assert.equal(items.length, n);
  const answered = items.filter((i) => !i.error);
  assert.equal(answered.length, MAX_HELD_EXCHANGES);
  for (const i of answered) {
    const k = Number(req(i).path!.slice(2));
    assert.equal((i.response as { content?: { text?: string } }).content?.text, Buffer.from(String(k)).toString('base64'), `request ${k} got its own response`);
  }
});

test('defect 11: body previews held for unanswered requests are capped at 8 MiB per connection', async () => {
  const body = 'b'.repeat(60 * 1024);
  const posts = Buffer.from(Array.from({ length: 400 }, (_, i) => `POST /p${i} HTTP/1.1\r\nContent-Length: ${body.length}\r\n\r\n${body}`).join(''));
  const { items, warnings } = await run(split(0, posts, 1400));
  assert.equal(items.length, 400);
  assert.ok(httpWork.maxHeldBodyBytes <= 8 * 1024 * 1024 + 64 * 1024, `held ${httpWork.maxHeldBodyBytes}`);
  assert.ok(warnings['http: exchange emitted before its response: over the 8 MiB of held body previews cap'] > 250);
});

test('defect 12: a 63 KB head in 1-byte segments is buffered in linear bytes and parsed once', async () => {
  const head = Buffer.from('GET /big HTTP/1.1\r\n' + Array.from({ length: 630 }, (_, i) => `X-H${i}: ${'v'.repeat(90)}\r\n`).join('') + '\r\n');
  assert.ok(head.length > 60_000 && head.length < 64 * 1024);
  const { items, warnings } = await run([...split(0, head, 1), [1, B('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')]]);
  assert.deepEqual(warnings, {});
  assert.equal(items.length, 1);
  assert.equal(Object.keys((items[0].request as { headers: object }).headers).length, 630);
  // One attempt on the first byte, one when the request head is complete, one for the response
  // (it was one per segment: 63k parses).
  assert.equal(httpWork.headParses, 3);
  // Doubling storage: each byte copied a few times at most (it was head.length² / 2 ≈ 2 GB).
  assert.ok(httpWork.bytesBuffered <= 4 * head.length, `copied ${httpWork.bytesBuffered}`);
});
