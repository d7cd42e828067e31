/**
 * GraphQL over HTTP/1.1 (kubeshark-compat §6.8) from a real loopback capture: Node's http
 * server and client. (GraphQL over HTTP/2: test/dissectors/http2.test.ts.)
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { captureLoopback } from '../helpers/capture';
import { runPipeline } from '../../capture/pipeline';
import { fileSource } from '../../capture/sources/file';
import type { HttpItem, Item } from '../../capture/item/schema';
import { PROTOCOLS } from '../../capture/item/protocols';
import { graphqlOf } from '../../capture/dissectors/graphql';

/** [content-type, body]: what the client posts, in order. */
const BODIES: [string, string][] = [
  ['application/json', JSON.stringify({ query: 'mutation AddTodo($t: String!) { add(title: $t) { id } }', variables: { t: 'x' } })],
  ['application/json; charset=utf-8', JSON.stringify({ query: '{ todos { id title } }' })],
  // Several operations: operationName picks one.
  ['application/json', JSON.stringify({ query: 'query A { a } subscription B { b }', operationName: 'B' })],
  ['application/graphql', 'query Raw { raw }'],
  // Not GraphQL: a JSON "query" that does not parse, JSON without it, broken JSON, another type.
  ['application/json', JSON.stringify({ query: 'SELECT * FROM t' })],
  ['application/json', JSON.stringify({ q: 1 })],
  ['application/json', '{"query": '],
  ['text/plain', 'query X { x }'],
];

let items: HttpItem[] = [];
let lean: Record<string, number> = {};
let full: Record<string, number> = {};

before(async () => {
  const server = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end('{"data":{}}')); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const file = await captureLoopback(`tcp port ${port}`, async () => {
    for (const [type, body] of BODIES) {
      await new Promise<void>((res, rej) => {
        const r = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/graphql', agent, headers: { 'content-type': type } }, (m) => { m.resume(); m.on('end', () => res()); });
        r.on('error', rej);
        r.end(body);
      });
    }
    await new Promise((r) => setTimeout(r, 50));
    agent.destroy();
  });
  await new Promise<void>((r) => server.close(() => r()));
  const out: Item[] = [];
  full = (await runPipeline(fileSource(file), { item: (i) => void out.push(i) })).itemsByProtocol;
  lean = (await runPipeline(fileSource(file), {}, { lean: true })).itemsByProtocol;
  items = out as HttpItem[];
});

test('GraphQL over HTTP/1.1: GQL items with the operation name and type; other bodies stay HTTP', () => {
  assert.equal(items.length, BODIES.length);
  const ops = items.map((i) => (i.protocol === PROTOCOLS.gql11 ? i.request.graphql : i.protocol.abbr));
  assert.deepEqual(ops, [
    { operationName: 'AddTodo', operationType: 'mutation' },
    { operationName: '', operationType: 'query' },
    { operationName: 'B', operationType: 'subscription' },
    { operationName: 'Raw', operationType: 'query' },
    'HTTP', 'HTTP', 'HTTP', 'HTTP',
  ]);
  for (const i of items) assert.equal(i.request.postData?.text, BODIES[items.indexOf(i)][1]);
  assert.deepEqual(lean, full, 'lean runs count the same items');
});

test('graphqlOf: cheap refusals, never throws on odd bodies', () => {
  assert.equal(graphqlOf(undefined, '{"query":"{a}"}'), null);
  assert.equal(graphqlOf('application/json', ''), null);
  assert.equal(graphqlOf('application/json', '[{"query":"{a}"}]'), null, 'batches are not looked into');
  assert.equal(graphqlOf('application/json', '{"query":42}'), null);
  assert.equal(graphqlOf('application/json', '{"query":"fragment F on T { a }"}'), null, 'no operation');
  assert.deepEqual(graphqlOf('application/json', '{"query":"query Q { a }","operationName":"Nope"}'), { operationName: 'Q', operationType: 'query' });
});
