/**
 * Robustness of the issue-11 paths the older fuzz cases do not reach: compressed gRPC messages
 * (gzip/deflate/unknown encodings, the decompression budget), GraphQL GET queries and batches,
 * and the ICMP pairing and flow-item tables fed corrupted packets through the whole pipeline.
 * Real recorded traffic, mutated with a seeded PRNG: never a throw, never a hang, the item shape
 * kept, every packet still accounted in --stats.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Readable } from 'node:stream';
import { readFileSync } from 'node:fs';
import { recordRelay, collector, type Recorded, prng, mutate, turn } from './harness';
import { rounds } from '../hardening/fuzz-lib';
import { compressedGrpcScenario, startCompressingGrpcServer, startGrpcServer } from '../helpers/h2-traffic';
import { flowCapture, icmpCapture } from '../helpers/weblayer-captures';
import { outFile, readAll, writePcap } from '../capture/lib';
import { http2 } from '../../capture/dissectors/http2';
import { http as http1 } from '../../capture/dissectors/http';
import { runPipeline } from '../../capture/pipeline';
import { ReadableSource } from '../../capture/sources/file';
import type { L7Message } from '../../capture/types';
import type { GrpcMessage, HttpRequest, HttpResponse } from '../../capture/item/schema';

let grpcRecs: Recorded[] = [];
let gqlRecs: Recorded[] = [];

const GQL_REQUESTS: [string, string, string | undefined][] = [
  ['GET', `/graphql?query=${encodeURIComponent('query Q($a: Int) { a(x: $a) { b } }')}&operationName=Q`, undefined],
  ['GET', `/graphql?query=${encodeURIComponent('{ me }')}`, undefined],
  ['POST', '/graphql', JSON.stringify([{ query: 'query One { a }' }, { query: 'mutation Two { b }', operationName: 'Two' }])],
  ['POST', '/graphql', JSON.stringify({ query: 'subscription S { s }' })],
];

before(async () => {
  const js = await startGrpcServer();
  const cz = await startCompressingGrpcServer();
  try {
    // Every call through one relay at a time: the relay fronts one server.
    grpcRecs = [
      ...await recordRelay(js.port, async (p) => { await compressedGrpcScenario(p, p); }),
      ...await recordRelay(cz.port, async (p) => { await compressedGrpcScenario(p, p); }),
    ].filter((r) => r.transport === 'tcp' && r.chunks.length > 0);
  } finally {
    await js.close();
    await cz.close();
  }
  const server = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end('{"data":{}}')); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  try {
    gqlRecs = await recordRelay(port, async (p) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      for (const [method, path, body] of GQL_REQUESTS) {
        await new Promise<void>((res, rej) => {
          const r = http.request({ port: p, host: '127.0.0.1', method, path, agent, headers: body ? { 'content-type': 'application/json' } : {} }, (m) => { m.resume(); m.on('end', () => res()); });
          r.on('error', rej);
          r.end(body);
        });
      }
      agent.destroy();
    });
    gqlRecs = gqlRecs.filter((r) => r.transport === 'tcp' && r.chunks.length > 0);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});

function checkGrpc(list: GrpcMessage[] | undefined): void {
  if (!list) return;
  for (const m of list) {
    assert.equal(typeof m.compressed, 'boolean');
    assert.equal(typeof m.length, 'number');
    assert.equal(typeof m.data, 'string');
    if (m.undecoded !== undefined) assert.equal(typeof m.undecoded, 'string');
  }
}

function checkHttp(m: L7Message): void {
  const req = m.request as unknown as HttpRequest;
  const res = m.response as unknown as HttpResponse;
  assert.equal(typeof req.method, 'string');
  assert.equal(typeof res.status, 'number');
  if (req.grpc) assert.equal(typeof req.grpc.encoding, 'string');
  checkGrpc(req.grpc?.messages);
  checkGrpc(res.grpc?.messages);
  if (req.graphql) {
    assert.ok(Array.isArray(req.graphql.operations) && req.graphql.operations.length > 0);
    assert.equal(req.graphql.operationName, req.graphql.operations[0].operationName);
  }
}

/** Replays `recs` mutated (flips, cuts, gaps, re-chunking) through fresh parsers of `make`. */
async function fuzz(recs: Recorded[], make: typeof http2.tcp, rounds: number, seed: number, cap: number): Promise<{ msgs: number; gql: number; warnings: string[] }> {
  const rnd = prng(seed);
  let msgs = 0;
  let gql = 0;
  const warnings: string[] = [];
  for (let round = 0; round < rounds; round++) {
    await turn(round);
    const rec = recs[round % recs.length];
    const c = collector('tcp', cap);
    const p = make!(c.ctx);
    for (const ch of rec.chunks) {
      const r = rnd();
      if (r < 0.02) { p.gap(ch.dir, 1 + Math.floor(rnd() * 500), ch.ts); continue; }
      const bytes = r < 0.3 ? mutate(ch.bytes, rnd) : ch.bytes;
      const step = rnd() < 0.3 ? 1 + Math.floor(rnd() * 40) : bytes.length || 1;
      for (let i = 0; i < bytes.length; i += step) p.data(ch.dir, bytes.subarray(i, i + step), ch.ts);
    }
    p.end(null, { sec: 2e9, nsec: 0 }, rnd() < 0.5 ? 'fin' : 'rst');
    for (const m of c.msgs) {
      checkHttp(m);
      if ((m.request as unknown as HttpRequest).graphql) gql++;
    }
    assert.equal(c.warnings.filter((w) => w.includes('internal error')).length, 0, c.warnings.join('\n'));
    msgs += c.msgs.length;
    warnings.push(...c.warnings);
  }
  return { msgs, gql, warnings };
}

test('compressed gRPC: 300 mutated replays (gzip, deflate, snappy; small and normal body caps) never throw and keep the shape', async () => {
  assert.ok(grpcRecs.length >= 8, `${grpcRecs.length} connections recorded`);
  const small = await fuzz(grpcRecs, http2.tcp, rounds(150), 0x9e1f, 256);
  const normal = await fuzz(grpcRecs, http2.tcp, rounds(150), 0x9e20, 64 * 1024);
  assert.ok(small.msgs + normal.msgs > 200, `${small.msgs + normal.msgs} items`);
  const all = [...small.warnings, ...normal.warnings];
  assert.ok(all.some((w) => w.startsWith('grpc: ')), 'undecodable messages reached the warning path');
});

test('GraphQL GET and batched POSTs: 300 mutated replays never throw; what is still GraphQL keeps its shape', async () => {
  assert.ok(gqlRecs.length >= 1);
  const r = await fuzz(gqlRecs, http1.tcp, rounds(300), 0x6a1, 64 * 1024);
  assert.ok(r.msgs > 600, `${r.msgs} items`);
  assert.ok(r.gql > 300, `${r.gql} of them still GraphQL`);
});

test('ICMP pairing and flow items: corrupted packets of real captures through the pipeline, every packet accounted', async () => {
  const rnd = prng(0x1c3);
  for (const cap of [await icmpCapture(), await flowCapture()]) {
    const pkts = await readAll(cap.file);
    for (let round = 0; round < 20; round++) {
      const copy = pkts.map((p) => ({ ...p, data: Buffer.from(p.data) }));
      for (const p of copy) {
        // Past the link header: corrupt IP, ICMP/TCP/UDP headers and payloads alike.
        if (rnd() < 0.4) for (let j = 14; j < p.data.length; j += 1 + Math.floor(rnd() * 12)) if (rnd() < 0.3) p.data[j] = Math.floor(rnd() * 256);
      }
      const f = writePcap(outFile('pcap'), copy);
      const src = new ReadableSource('file/x', 'x', () => Readable.from([readFileSync(f)]));
      const st = await runPipeline(src, {}, { flowReportS: 1 });
      assert.equal(st.packets, pkts.length);
      assert.equal(Object.values(st.packetsBy).reduce((a, b) => a + b, 0), st.packets, JSON.stringify(st.packetsBy));
    }
  }
});
