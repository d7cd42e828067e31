/**
 * gRPC messages compressed with grpc-encoding gzip / deflate (the prefix's compressed flag), from
 * a real loopback capture: @grpc/grpc-js clients with compression on, against a grpc-js server
 * (compressed requests) and a Node http2 gRPC server that compresses its answers (grpc-js servers
 * never do). Messages in the items are the message bytes the clients and servers saw; an unknown
 * encoding is said so, never guessed at.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { captureLoopback } from '../helpers/capture';
import { compressedGrpcScenario, GRPC_TEXT, GRPC_ZEROS, startCompressingGrpcServer, startGrpcServer, type CompressedCall } from '../helpers/h2-traffic';
import { runPipeline } from '../../capture/pipeline';
import { fileSource } from '../../capture/sources/file';
import type { HttpItem, Item } from '../../capture/item/schema';
import { PROTOCOLS } from '../../capture/item/protocols';
import { grpcMessages } from '../../capture/dissectors/grpc';

const CAP = 64 * 1024;
let items: HttpItem[] = [];
let calls: CompressedCall[] = [];
let warnings: Record<string, number> = {};
let jsPort = 0;

before(async () => {
  const js = await startGrpcServer();
  const cz = await startCompressingGrpcServer();
  jsPort = js.port;
  const file = await captureLoopback(`tcp port ${js.port} or tcp port ${cz.port}`, async () => { calls = await compressedGrpcScenario(js.port, cz.port); });
  await js.close();
  await cz.close();
  const out: Item[] = [];
  const st = await runPipeline(fileSource(file), { item: (i) => void out.push(i) }, { bodyCap: CAP });
  items = out as HttpItem[];
  warnings = st.warnings;
});

const b64 = (b: Buffer) => b.toString('base64');

test('every call is a gRPC item, in order, with the encoding each side announced', () => {
  assert.equal(items.length, calls.length);
  for (const [k, c] of calls.entries()) {
    const i = items[k];
    assert.equal(i.protocol, PROTOCOLS.grpc);
    assert.equal(Number(i.dst.port), c.port);
    assert.equal(i.request.grpc?.encoding, c.encoding);
    assert.equal(i.request.grpc?.messages[0].compressed, true, `call ${k} sent compressed`);
    assert.equal(i.response.grpc?.status, c.code);
    // grpc-js servers announce identity and never compress; the Node server answers in kind.
    assert.equal(i.response.grpc?.encoding, c.port === jsPort ? 'identity' : c.encoding);
  }
});

test('compressed requests and responses: data is the message bytes the peers saw, length the wire length', () => {
  const ok = calls.map((c, k) => [c, items[k]] as const).filter(([c]) => c.code === 0 && c.sent[0] !== GRPC_ZEROS);
  assert.equal(ok.length, 4);
  for (const [c, i] of ok) {
    const [m] = i.request.grpc!.messages;
    assert.equal(m.data, b64(c.sent[0]), `${c.encoding} request decompressed`);
    assert.ok(m.length < c.sent[0].length, 'length is the compressed size on the wire');
    assert.equal(m.undecoded, undefined);
    assert.equal(m.truncated, undefined);
    const [r] = i.response.grpc!.messages;
    assert.equal(r.data, b64(c.received[0]), `${c.encoding} response`);
    assert.equal(r.compressed, c.port !== jsPort);
  }
  assert.ok(ok.some(([c]) => c.encoding === 'deflate' && c.port !== jsPort), 'deflate both ways');
  assert.deepEqual(Object.keys(warnings).filter((w) => !w.startsWith('grpc:')), [], JSON.stringify(warnings));
});

test('a small message that inflates past the body cap: decompressed up to the cap, flagged truncated', () => {
  const k = calls.findIndex((c) => c.sent[0] === GRPC_ZEROS);
  assert.equal(calls[k].code, 0);
  const [m] = items[k].request.grpc!.messages;
  assert.ok(m.length < 2000, `compressed to ${m.length} bytes`);
  const data = Buffer.from(m.data, 'base64');
  assert.ok(data.length <= CAP && data.length > 0, `preview of ${data.length} bytes`);
  assert.ok(data.equals(GRPC_ZEROS.subarray(0, data.length)));
  assert.equal(m.truncated, true);
});

test('an unknown grpc-encoding: the wire bytes kept, said so in the message and in --stats', () => {
  const k = calls.findIndex((c) => c.encoding === 'snappy');
  const i = items[k];
  assert.equal(calls[k].code, 12, 'the grpc-js server refused it (UNIMPLEMENTED)');
  assert.equal(i.response.grpc?.status, 12);
  const [m] = i.request.grpc!.messages;
  assert.equal(m.compressed, true);
  assert.equal(m.data, b64(calls[k].sent[0]));
  assert.equal(m.undecoded, 'unknown grpc-encoding snappy');
  assert.deepEqual(warnings, { 'grpc: unknown grpc-encoding snappy': 1 });
});

test('grpcMessages: corrupt data, a flag without an encoding, the budget shared by a body', () => {
  const pack = (flag: number, b: Buffer) => { const h = Buffer.alloc(5); h[0] = flag; h.writeUInt32BE(b.length, 1); return Buffer.concat([h, b]); };
  const bad = pack(1, Buffer.from('definitely not gzip'));
  const seen: string[] = [];
  const [c] = grpcMessages(bad, bad.length, 'gzip', CAP, (w) => seen.push(w));
  assert.equal(c.undecoded, 'corrupt gzip data');
  assert.equal(c.data, b64(Buffer.from('definitely not gzip')));
  const [n] = grpcMessages(pack(1, Buffer.from('x')), 6, 'identity');
  assert.equal(n.undecoded, 'compressed message without a grpc-encoding');
  // Two messages of 40 kB each once inflated: together they stay within a 64 KiB budget.
  const z = zlib.gzipSync(Buffer.alloc(40_000, 7));
  const two = Buffer.concat([pack(1, z), pack(1, z)]);
  const ms = grpcMessages(two, two.length, 'gzip', CAP);
  const sizes = ms.map((m) => Buffer.from(m.data, 'base64').length);
  assert.equal(sizes[0], 40_000);
  assert.ok(sizes[0] + sizes[1] <= CAP, String(sizes));
  assert.equal(ms[1].truncated, true);
  assert.deepEqual(seen, ['corrupt gzip data']);
});
