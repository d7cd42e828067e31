/**
 * GraphQL over HTTP/1.1 (kubeshark-compat §6.8) from a real loopback capture: Node's http
 * server and client; POST bodies (single requests and batches) and GET queries. (GraphQL over HTTP/2: test/dissectors/http2.test.ts.)
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
import { graphqlOf, graphqlOfUrl } from '../../capture/dissectors/graphql';

/** [content-type, body]: what the client posts, in order. */
const BODIES: [string, string][] = [
  ['application/json', JSON.stringify({ query: 'mutation AddTodo($t: String!) { add(title: $t) { id } }', variables: { t: 'x' } })],
  ['application/json; charset=utf-8', JSON.stringify({ query: '{ todos { id title } }' })],
  // Several operations: operationName picks one.
  ['application/json', JSON.stringify({ query: 'query A { a } subscription B { b }', operationName: 'B' })],
  ['application/graphql', 'query Raw { raw }'],
  // A batch (Apollo's batching link): one item, every operation listed.
  ['application/json', JSON.stringify([{ query: 'query One { a }' }, { query: 'query M { a } mutation Two { b }', operationName: 'Two' }, { query: '{ c }' }])],
  // Not GraphQL: a JSON "query" that does not parse, JSON without it, broken JSON, another type,
  // a batch with one element that is not a GraphQL request, an empty batch.
  ['application/json', JSON.stringify({ query: 'SELECT * FROM t' })],
  ['application/json', JSON.stringify({ q: 1 })],
  ['application/json', '{"query": '],
  ['text/plain', 'query X { x }'],
  ['application/json', JSON.stringify([{ query: '{ a }' }, { query: 'SELECT 1' }])],
  ['application/json', '[]'],
];

/** GET requests after the posts: the GraphQL-over-HTTP GET form, and a search `?query=` that is not GraphQL. */
const GETS = [
  `/graphql?query=${encodeURIComponent('query Hero($id: ID) { hero(id: $id) { name } } query Other { x }')}&operationName=Hero&variables=${encodeURIComponent('{"id":"1"}')}`,
  `/graphql?query=${encodeURIComponent('{ me { id } }')}`,
  '/search?query=shoes',
  `/graphql?query=${encodeURIComponent('{ a }')}&query=${encodeURIComponent('{ b }')}`,
];

let items: HttpItem[] = [];
let lean: Record<string, number> = {};
let full: Record<string, number> = {};

before(async () => {
  const server = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end('{"data":{}}')); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const send = (method: string, path: string, headers: Record<string, string>, body?: string) => new Promise<void>((res, rej) => {
    const r = http.request({ port, host: '127.0.0.1', method, path, agent, headers }, (m) => { m.resume(); m.on('end', () => res()); });
    r.on('error', rej);
    r.end(body);
  });
  const file = await captureLoopback(`tcp port ${port}`, async () => {
    for (const [type, body] of BODIES) await send('POST', '/graphql', { 'content-type': type }, body);
    for (const path of GETS) await send('GET', path, {});
    // The connection back in the agent's free pool (the last response fully handled), then closed.
    while (Object.values(agent.sockets).some((l) => l?.length)) await new Promise((r) => setImmediate(r));
    agent.destroy();
  });
  await new Promise<void>((r) => server.close(() => r()));
  const out: Item[] = [];
  full = (await runPipeline(fileSource(file), { item: (i) => void out.push(i) })).itemsByProtocol;
  lean = (await runPipeline(fileSource(file), {}, { lean: true })).itemsByProtocol;
  items = out as HttpItem[];
});

const one = (operationName: string, operationType: string, source = 'body') => ({ operationName, operationType, batch: false, operations: [{ operationName, operationType }], source });

test('GraphQL over HTTP/1.1: GQL items with the operation name and type; other bodies stay HTTP', () => {
  const posts = items.slice(0, BODIES.length);
  const ops = posts.map((i) => (i.protocol === PROTOCOLS.gql11 ? i.request.graphql : i.protocol.abbr));
  assert.deepEqual(ops, [
    one('AddTodo', 'mutation'),
    one('', 'query'),
    one('B', 'subscription'),
    one('Raw', 'query'),
    {
      operationName: 'One', operationType: 'query', batch: true, source: 'body',
      operations: [{ operationName: 'One', operationType: 'query' }, { operationName: 'Two', operationType: 'mutation' }, { operationName: '', operationType: 'query' }],
    },
    'HTTP', 'HTTP', 'HTTP', 'HTTP', 'HTTP', 'HTTP',
  ]);
  for (const [k, i] of posts.entries()) assert.equal(i.request.postData?.text, BODIES[k][1]);
  assert.deepEqual(lean, full, 'lean runs count the same items');
});

test('GraphQL GET: query and operationName from the URL; a search ?query= and a repeated query stay HTTP', () => {
  const gets = items.slice(BODIES.length);
  assert.deepEqual(gets.map((i) => i.request.method + ' ' + i.request.path), ['GET /graphql', 'GET /graphql', 'GET /search', 'GET /graphql']);
  assert.deepEqual(gets.map((i) => (i.protocol === PROTOCOLS.gql11 ? i.request.graphql : i.protocol.abbr)), [
    one('Hero', 'query', 'url'),
    one('', 'query', 'url'),
    'HTTP', 'HTTP',
  ]);
  assert.equal(gets[0].request.postData, undefined);
});

test('KFL over GraphQL items: batches and GETs are gql; their operations can be filtered', async () => {
  const { compileKfl2 } = await import('../../server/kfl/kfl2');
  const { compileLegacy } = await import('../../server/kfl/legacy');
  const n2 = (q: string) => { const m = compileKfl2(q); return items.filter((i) => m.match(i)).length; };
  const n1 = (q: string) => { const m = compileLegacy(q); return items.filter((i) => m.match(i)).length; };
  assert.equal(n2('gql && gqlv1'), 7);
  assert.equal(n1('gql'), 7);
  assert.equal(n1('gql and request.graphql.batch == true'), 1);
  assert.equal(n1('gql and request.graphql.operations[1].operationName == "Two"'), 1);
  assert.equal(n1('gql and request.graphql.source == "url"'), 2);
});

test('graphqlOf: cheap refusals, never throws on odd bodies', () => {
  assert.equal(graphqlOf(undefined, '{"query":"{a}"}'), null);
  assert.equal(graphqlOf('application/json', ''), null);
  assert.equal(graphqlOf('application/json', '[{"query":"{a}"}, 1]')?.batch, undefined, 'a batch with a non-request is not GraphQL');
  assert.equal(graphqlOf('application/json', '[{"query":"{a}"}]')?.batch, true);
  assert.equal(graphqlOf('application/json', '{"query":42}'), null);
  assert.equal(graphqlOf('application/json', '{"query":"fragment F on T { a }"}'), null, 'no operation');
  assert.deepEqual(graphqlOf('application/json', '{"query":"query Q { a }","operationName":"Nope"}'), one('Q', 'query'));
  assert.equal(graphqlOfUrl({ query: ['{a}', '{b}'] }), null);
  assert.equal(graphqlOfUrl({ query: '' }), null);
});
