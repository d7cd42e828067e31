/**
 * HTTP/2, gRPC and GraphQL items from real loopback captures (tcpdump on lo): Node's http2
 * client and server, @grpc/grpc-js client and server, nghttp and curl against nghttpd. Items
 * are compared with what the clients themselves saw.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { captureLoopback } from '../helpers/capture';
import {
  BIG_BODY, BIG_HEADER, GQL_QUERY, GRPC_FAIL_MESSAGE, UPGRADE_BODY, grpcScenario, h2Scenario, nghttpScenario, startGrpcServer, startH2Server,
  startH2cUpgradeServer, startNghttpd, upgradeScenario,
  type GrpcCall, type H2Exchange,
} from '../helpers/h2-traffic';
import { runPipeline } from '../../capture/pipeline';
import { fileSource } from '../../capture/sources/file';
import type { HttpItem, Item } from '../../capture/item/schema';
import { PROTOCOLS } from '../../capture/item/protocols';
import { compileKfl2 } from '../../server/kfl/kfl2';
import { http2, detectH2 } from '../../capture/dissectors/http2';
import { collector } from './harness';

interface Run { items: HttpItem[]; warnings: Record<string, number> }
async function itemsOf(file: string, lean = false): Promise<Run & { byProtocol: Record<string, number> }> {
  const items: Item[] = [];
  const st = await runPipeline(fileSource(file), { item: (i) => void items.push(i) }, { lean });
  return { items: items as HttpItem[], warnings: st.warnings, byProtocol: st.itemsByProtocol };
}

let node: Run, grpcRun: Run, ng: Run, up: Run;
let nodeSeen: H2Exchange[] = [], grpcSeen: GrpcCall[] = [], ngSeen: H2Exchange[] = [], upSeen: H2Exchange[] = [];
let nodeFile = '';

before(async () => {
  const s = await startH2Server();
  nodeFile = await captureLoopback(`tcp port ${s.port}`, async () => { nodeSeen = await h2Scenario(s.port); });
  await s.close();
  const g = await startGrpcServer();
  const gFile = await captureLoopback(`tcp port ${g.port}`, async () => { grpcSeen = await grpcScenario(g.port); });
  await g.close();
  const n = await startNghttpd();
  const nFile = await captureLoopback(`tcp port ${n.port}`, async () => { ngSeen = await nghttpScenario(n.port); });
  await n.close();
  const u = await startH2cUpgradeServer();
  const uFile = await captureLoopback(`tcp port ${u.port}`, async () => { upSeen = await upgradeScenario(u.port); });
  await u.close();
  node = await itemsOf(nodeFile);
  up = await itemsOf(uFile);
  grpcRun = await itemsOf(gFile);
  ng = await itemsOf(nFile);
});

const line = (i: HttpItem) => `${i.request.method} ${i.request.path} ${i.response.status}`;
const byPath = (r: Run, path: string) => r.items.find((i) => i.request.path === path)!;

test('Node http2: one item per stream, each with the method, path and status the client saw', () => {
  const got = node.items.filter((i) => i.request.path !== '/slow' && i.request.path !== '/pushed.css').map(line).sort();
  assert.deepEqual(got, nodeSeen.map((e) => `${e.method} ${e.path} ${e.status}`).sort());
  for (const i of node.items) {
    assert.equal(i.request.httpVersion, 'HTTP/2.0');
    assert.equal(i.response.httpVersion, i.response.status ? 'HTTP/2.0' : '');
  }
  assert.deepEqual(Object.keys(node.warnings), [], JSON.stringify(node.warnings));
});

test('Node http2: pseudo-headers kept, other names in canonical case, cookies, Set-Cookie', () => {
  const i = byPath(node, '/hello');
  assert.equal(i.protocol, PROTOCOLS.http2);
  assert.equal(i.request.headers[':method'], 'GET');
  assert.equal(i.request.headers[':path'], '/hello');
  assert.equal(i.request.headers[':scheme'], 'http');
  assert.match(i.request.headers[':authority'], /^127\.0\.0\.1:\d+$/);
  assert.equal(i.request.headers['User-Agent'], 'wirehook-test');
  assert.deepEqual(i.request.cookies, { c1: 'v1' });
  assert.equal(i.response.headers[':status'], '200');
  assert.equal(i.response.headers['Set-Cookie'], 'a=1,b=2');
  assert.deepEqual(i.response.cookies, { a: '1', b: '2' });
  assert.equal(i.response.statusText, 'OK');
  assert.equal(Buffer.from(i.response.content.text!, 'base64').toString(), 'hello h2');
  assert.equal(i.error, null);
  assert.ok(i.requestSize > 9 && i.responseSize > 9);
});

test('dst.name from :authority (port dropped) when nothing else names the server; Host after an h2c Upgrade', () => {
  assert.equal(byPath(node, '/echo').request.headers[':authority'], 'orders.test:8080');
  assert.equal(byPath(node, '/echo').dst.name, 'orders.test');
  assert.equal(byPath(node, '/hello').dst.name, '127.0.0.1');
  for (const i of grpcRun.items) assert.equal(i.dst.name, '127.0.0.1');
  for (const i of up.items) assert.equal(i.dst.name, '127.0.0.1', `${i.protocol.abbr} ${i.request.path}`);
});

test('Node http2: bodies (request, padded DATA, gzip, 100 kB over many frames) and trailers', () => {
  const echo = byPath(node, '/echo');
  assert.equal(echo.request.postData?.text, '{"hello":"world"}');
  assert.equal(echo.request.bodySize, 17);
  assert.equal(Buffer.from(echo.response.content.text!, 'base64').toString(), '{"hello":"world"}');
  const gz = byPath(node, '/gzip');
  assert.equal(Buffer.from(gz.response.content.text!, 'base64').toString(), 'compressed hello '.repeat(50));
  const big = byPath(node, '/big');
  assert.equal(big.response.bodySize, BIG_BODY.length);
  assert.equal(big.response.content.size, BIG_BODY.length);
  assert.ok(Buffer.from(big.response.content.text!, 'base64').equals(BIG_BODY.subarray(0, 64 * 1024)), 'preview = the first bodyCap bytes');
  assert.ok(big.responseSize > BIG_BODY.length, 'frame headers and padding counted');
  const tr = byPath(node, '/trailers');
  assert.equal(tr.response.headers['X-Checksum'], 'abc123', 'trailers merged into headers');
  assert.equal(Buffer.from(tr.response.content.text!, 'base64').toString(), 'body before trailers');
});

test('Node http2: a header block over CONTINUATION frames, a pushed stream, a client reset', () => {
  const bh = byPath(node, '/bigheader');
  assert.equal(bh.request.headers['X-Big'], BIG_HEADER);
  assert.ok(bh.requestSize > BIG_HEADER.length / 2);
  const pushed = byPath(node, '/pushed.css');
  assert.equal(pushed.request.method, 'GET');
  assert.equal(pushed.response.status, 200);
  assert.equal(Buffer.from(pushed.response.content.text!, 'base64').toString(), 'body { color: red }');
  const slow = byPath(node, '/slow');
  assert.deepEqual(slow.error, { type: 'connection', msg: 'stream reset by the client: CANCEL' });
  assert.equal(slow.response.status, 0);
});

test('GraphQL over HTTP/2: its own protocol entry, operation name and type from the body (POST) or the URL (GET)', () => {
  const q = byPath(node, '/graphql');
  assert.equal(q.protocol, PROTOCOLS.gql2);
  assert.deepEqual(q.request.graphql, { operationName: 'HeroName', operationType: 'query', batch: false, operations: [{ operationName: 'HeroName', operationType: 'query' }], source: 'body' });
  assert.equal(JSON.parse(q.request.postData!.text).query, GQL_QUERY);
  const get = node.items.find((i) => i.request.path === '/graphql' && i.request.method === 'GET')!;
  assert.equal(get.protocol, PROTOCOLS.gql2);
  assert.deepEqual(get.request.graphql, { operationName: 'HeroName', operationType: 'query', batch: false, operations: [{ operationName: 'HeroName', operationType: 'query' }], source: 'url' });
  assert.equal(get.request.queryString.query, GQL_QUERY);
});

test('gRPC: method, status and message from the trailers, messages as base64', () => {
  assert.equal(grpcRun.items.length, grpcSeen.length);
  for (const [k, call] of grpcSeen.entries()) {
    const i = grpcRun.items[k];
    assert.equal(i.protocol, PROTOCOLS.grpc);
    assert.equal(i.request.path, `/demo.Echo/${call.method}`);
    assert.equal(i.request.grpc?.service, 'demo.Echo');
    assert.equal(i.request.grpc?.method, call.method);
    assert.deepEqual(i.request.grpc?.messages.map((m) => Buffer.from(m.data, 'base64')), call.sent);
    assert.equal(i.response.grpc?.status, call.code);
    assert.deepEqual(i.response.grpc?.messages.map((m) => Buffer.from(m.data, 'base64')), call.received);
    assert.ok(i.response.grpc?.messages.every((m) => !m.compressed && m.length === Buffer.from(m.data, 'base64').length));
  }
  const fail = grpcRun.items[1];
  assert.equal(fail.response.grpc?.message, GRPC_FAIL_MESSAGE);
  assert.equal(fail.response.headers['Grpc-Status'], '5');
  assert.equal(fail.request.postData?.text, Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), Buffer.from('x')]).toString('base64'), 'request body as base64');
});

test('KFL2: http covers HTTP/2, grpc_method / grpc_status; legacy macros http2, grpc, gql', async () => {
  const count = (q: string, r: Run) => { const m = compileKfl2(q); return r.items.filter((i) => m.match(i)).length; };
  assert.equal(count('http', node), node.items.length);
  assert.equal(count('grpc && grpc_method == "Fail" && grpc_status == 5', grpcRun), 1);
  assert.equal(count('grpc && grpc_status != 0', grpcRun), 1);
  assert.equal(count('gql && gqlv2', node), 2);
  const { compileLegacy } = await import('../../server/kfl/legacy');
  const legacy = (q: string, r: Run) => { const m = compileLegacy(q); return r.items.filter((i) => m.match(i)).length; };
  assert.equal(legacy('http2', node), node.items.length - 2);
  assert.equal(legacy('gql', node), 2);
  assert.equal(legacy('grpc and response.headers["Grpc-Status"] == "5"', grpcRun), 1);
  assert.equal(legacy('http', node), 0, 'legacy http is HTTP/1.x only (Kubeshark)');
});

test('nghttpd with nghttp and curl clients (prior knowledge): items agree with the clients', () => {
  assert.deepEqual(ng.items.map(line), ngSeen.map((e) => `${e.method} ${e.path} ${e.status}`));
  assert.equal(byPath(ng, '/data.txt').response.content.size, 25000);
  assert.ok(ng.items.some((i) => i.request.headers['User-Agent']?.startsWith('curl/')));
});

test('h2c via HTTP/1.1 Upgrade (curl --http2, nghttp -u): the 101 item, then stream 1 answered in HTTP/2', () => {
  assert.equal(up.items.length, 2 * upSeen.length);
  for (const [k, seen] of upSeen.entries()) {
    const [h1, h2] = [up.items[2 * k], up.items[2 * k + 1]];
    assert.equal(h1.protocol, PROTOCOLS.http11);
    assert.equal(line(h1), `GET ${seen.path} 101`);
    assert.equal(h1.request.headers['Upgrade'], 'h2c');
    assert.equal(h2.protocol, PROTOCOLS.http2);
    assert.equal(line(h2), `${seen.method} ${seen.path} ${seen.status}`);
    assert.equal(h2.request.httpVersion, 'HTTP/1.1', 'the request was HTTP/1.1');
    assert.equal(h2.requestSize, 0, 'its bytes are in the 101 item');
    assert.equal(h2.response.headers[':status'], '200');
    assert.equal(Buffer.from(h2.response.content.text!, 'base64').toString(), UPGRADE_BODY);
    assert.equal(h2.src.port, h1.src.port);
    assert.ok(h2.timestamp >= h1.timestamp);
  }
  assert.deepEqual(Object.keys(up.warnings), [], JSON.stringify(up.warnings));
});

test('lean runs (items --quiet) count the same exchanges per protocol', async () => {
  const full = await itemsOf(nodeFile);
  const lean = await itemsOf(nodeFile, true);
  assert.deepEqual(lean.byProtocol, full.byProtocol);
});

test('detection: the preface claims, a prefix waits, anything else is refused on its first byte', () => {
  const pre = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
  assert.equal(detectH2(pre, 0), true);
  assert.equal(detectH2(pre.subarray(0, 10), 0), 'maybe');
  assert.equal(detectH2(Buffer.from('PRI * HTTP/1.1\r\n'), 0), false);
  assert.equal(detectH2(Buffer.from('GET / HTTP/1.1\r\n'), 0), false);
  // A server's SETTINGS first (it did not wait for the preface): undecided until the client speaks.
  assert.equal(detectH2(Buffer.from([0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100]), 1), 'maybe');
  assert.equal(detectH2(Buffer.from('HTTP/1.1 200 OK\r\n'), 1), false);
});

test('HPACK error or garbage after the preface: a warning and no crash', () => {
  const c = collector('tcp');
  const p = http2.tcp!(c.ctx);
  const ts = { sec: 1, nsec: 0 };
  p.data(0, Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), ts);
  // HEADERS on stream 1 whose block indexes entry 70 (the dynamic table is empty).
  p.data(0, Buffer.from([0, 0, 1, 1, 0x05, 0, 0, 0, 1, 0x80 | 70]), ts);
  p.end(null, ts, 'fin');
  assert.ok(c.warnings.some((w) => /HPACK/.test(w)), c.warnings.join('\n'));
  assert.equal(c.msgs.length, 0);
});
