// Completions over hook scripts: item fields typed from the schema, protocol unions and their
// narrowing, aliases, helpers, and values observed in real traffic (the demo capture).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CompletionItemKind, type CompletionItem } from 'vscode-languageserver';
import { completions } from '../../server/lsp/features/index';
import type { Item } from '../../capture/item/schema';
import { observeDemo, type TestObserved } from './observed';
import { applyEdits, at, ctxOf } from './util';

let observed: TestObserved;
let items: Item[];
before(async () => {
  ({ observed, items } = await observeDemo());
});

const complete = (src: string, over = {}) => {
  const [t, o] = at(src);
  return completions(t, o, ctxOf(observed, over));
};
const labels = (cs: CompletionItem[]) => cs.map((c) => c.label);
const hook = (body: string) => `function onItemCaptured(data) {\n  ${body}\n}\n`;

test('data. offers every field a real item has, with kinds, types and schema docs', () => {
  const cs = complete(hook('data.|'));
  const real = new Set(items.flatMap((i) => Object.keys(i)));
  assert.ok(real.size > 10);
  for (const k of real) assert.ok(labels(cs).includes(k), `missing ${k}`);
  const elapsed = cs.find((c) => c.label === 'elapsedTime')!;
  assert.equal(elapsed.kind, CompletionItemKind.Field);
  assert.match(elapsed.detail!, /elapsedTime: number/);
  assert.match((elapsed.documentation as { value: string }).value, /milliseconds/);
  assert.ok(cs.every((c) => c.sortText), 'sortText on every item');
});

test('data.request. is the union of protocol shapes, each entry marked with its protocol', () => {
  const cs = complete(hook('var x = data.request.|'));
  const by = new Map(cs.map((c) => [c.label, c]));
  assert.equal(by.get('method')?.labelDetails?.description, 'http, amqp'); // an AMQP method has one too
  assert.match(by.get('method')!.detail!, /^\(http, amqp\)/);
  assert.equal(by.get('questions')?.labelDetails?.description, 'dns');
  assert.match(by.get('questions')!.detail!, /DnsQuestion\[\]/);
  const res = labels(complete(hook('data.response.|')));
  for (const k of ['status', 'content', 'answers', 'code']) assert.ok(res.includes(k), k);
});

test('the three narrowing forms (if on protocol.name, kfl.match, switch case) give DNS shapes only', () => {
  const forms = [
    hook('if (data.protocol.name === "dns") {\n    data.request.|\n  }'),
    hook('if (kfl.match("dns", data)) {\n    data.request.|\n  }'),
    hook('switch (data.protocol.name) {\n    case "http":\n      break;\n    case "dns":\n      data.request.|\n  }'),
    hook('if (data.protocol.name !== "dns") return;\n  data.request.|'),
    hook('if (data.protocol.name == "dns" && data.request.|'),
  ];
  for (const f of forms) assert.deepEqual(labels(complete(f)).sort(), ['opCode', 'questions'], f);
  // Narrowed to HTTP the other way round; outside the branch the union is back.
  assert.ok(labels(complete(hook('if ("http" === data.protocol.name) { data.response.| }'))).includes('status'));
  assert.ok(!labels(complete(hook('if ("http" === data.protocol.name) { data.response.| }'))).includes('answers'));
  assert.ok(labels(complete(hook('if (data.protocol.name === "dns") { }\n  data.request.|'))).includes('method'));
});

test('info. in onPacketCaptured gives the packet fields; a renamed parameter works too', () => {
  const [t, o] = at('function onPacketCaptured(info) {\n  total += info.|\n}');
  assert.deepEqual(labels(completions(t, o, ctxOf())).sort(), ['captureLength', 'fragmented', 'length', 'timestamp', 'truncated']);
  assert.ok(labels(complete('function onItemCaptured(item) { item.src.| }')).includes('processName'));
});

test('aliases: var r = data.request; r. (and chains of aliases, and array elements)', () => {
  assert.ok(labels(complete(hook('var r = data.request;\n  r.|'))).includes('headers'));
  assert.ok(labels(complete(hook('var r = data.request, q = r.questions;\n  q[0].|'))).includes('name'));
  assert.deepEqual(labels(complete(hook('var a = data.response.answers;\n  for (var i = 0; i < a.length; i++) a[i].|'))).slice(0, 3), ['name', 'type', 'class']);
  // A shadowing parameter is not the item.
  assert.deepEqual(complete(hook('[1].forEach(function (data) { data.| });')), []);
});

test('header names seen in traffic inside data.request.headers["…"], replacing the partial string', () => {
  const src = hook('var ua = data.request.headers["Us|"];');
  const cs = complete(src);
  assert.ok(labels(cs).includes('User-Agent'));
  assert.ok(labels(cs).includes('Host'));
  const ua = cs.find((c) => c.label === 'User-Agent')!;
  assert.equal(ua.kind, CompletionItemKind.Value);
  const [t] = at(src);
  assert.match(applyEdits(t, [ua.textEdit as never]), /data\.request\.headers\["User-Agent"\];/);
  // Through an alias, with single quotes, unterminated.
  const cs2 = complete(hook("var h = data.request.headers;\n  if (h['Con|"));
  const ct = cs2.find((c) => c.label === 'Content-Type')!;
  assert.ok(ct);
  assert.equal((ct.textEdit as { newText: string }).newText, 'Content-Type');
  // After `[` with no quote yet: quoted keys.
  assert.ok(labels(complete(hook('data.request.headers[|'))).includes('"Host"'));
});

test('protocol names, paths, hosts and DNS names seen in traffic after === "', () => {
  assert.deepEqual(labels(complete(hook('if (data.protocol.name === "|'))).sort(), ['amqp', 'dns', 'http', 'icmp', 'kafka', 'mongodb', 'mysql', 'postgresql', 'redis', 'tcp-conn', 'tcp-flow', 'tlsx', 'udp-conn', 'udp-flow', 'ws']);
  assert.ok(labels(complete(hook('if (data.request.path == "/api|") {}'))).includes('/api/users'));
  assert.ok(labels(complete(hook('if (data.request.headers["Host"] === "|'))).includes('127.0.0.1:8080'));
  assert.ok(labels(complete(hook('if (data.protocol.name === "dns" && data.request.questions[0].name === "|'))).includes('a.wirehook.test'));
  assert.ok(labels(complete(hook('switch (data.request.method) { case "|'))).includes('GET'));
});

test('helpers and env keys, with signatures in detail', () => {
  const top = complete('co|');
  for (const g of ['console', 'kfl', 'jobs', 'vendor', 'file', 'pcap', 'utils', 'hub', 'chatgpt', 'prometheus', 'env', 'test']) assert.ok(labels(top).includes(g), g);
  const hooks = top.filter((c) => c.label === 'onItemCaptured');
  assert.equal(hooks.length, 1, 'a hook skeleton at the top level');
  const kfl = complete('kfl.|');
  assert.deepEqual(labels(kfl), ['match', 'validate']);
  assert.equal(kfl[0].kind, CompletionItemKind.Method);
  assert.equal(kfl[0].detail, 'match(query: string, data: object): boolean');
  assert.deepEqual(labels(complete('vendor.s3.|')), ['put', 'clear']);
  assert.ok(labels(complete('console.|')).includes('log'));
  assert.deepEqual(labels(complete('var u = env.|', { envKeys: ['WEBHOOK_URL', 'ALERT_KFL'] })), ['WEBHOOK_URL', 'ALERT_KFL']);
});

test('half-typed code: mid-expression, unterminated strings, comments, unbalanced brackets', () => {
  assert.ok(labels(complete('function onItemCaptured(data) {\n  if (data.request.| && x) {\n')).includes('path'));
  assert.ok(labels(complete('function onItemCaptured(data) {\n  console.log("unterminated\n  data.src.|')).includes('ip'));
  assert.deepEqual(complete(hook('// data.|')), []);
  assert.deepEqual(complete(hook('var s = "data.|";')), []);
  assert.ok(labels(complete('function onItemCaptured(data) { foo(bar[ data.dst.|')).includes('port'));
});

test('narrowing without braces, in else branches, and for arrow-function hooks', () => {
  const dns = ['opCode', 'questions'];
  assert.deepEqual(labels(complete(hook('if (data.protocol.name === "dns") console.log(data.request.|'))).sort(), dns);
  assert.deepEqual(labels(complete(hook('if (data.protocol.name !== "dns") { return; } else { data.request.| }'))).sort(), dns);
  assert.ok(labels(complete(hook('if (data.protocol.name === "dns") x = 1;\n  data.request.|'))).includes('method'), 'after the statement: not narrowed');
  assert.ok(labels(complete('var onItemCaptured = (data) => {\n  data.dst.|\n};')).includes('name'));
});

test('inside kfl.match("…"): macros and item field paths for the word being typed', () => {
  const src = 'function onItemCaptured(data) { kfl.match("http and request.pa|';
  const cs = complete(src);
  const p = cs.find((c) => c.label === 'request.path')!;
  assert.equal(p.kind, CompletionItemKind.Field);
  const [t] = at(src);
  assert.equal(applyEdits(t, [p.textEdit as never]), 'function onItemCaptured(data) { kfl.match("http and request.path');
  assert.ok(!labels(cs).includes('http'), 'no macros after a dot');
  assert.ok(labels(complete('kfl.match("|')).includes('dns'));
});

test('protocols II: data.request narrows to the Redis, PostgreSQL and MySQL shapes', () => {
  const req = (proto: string) => labels(complete(hook(`if (data.protocol.name === "${proto}") { data.request.| }`)));
  for (const f of ['command', 'key', 'value', 'keyword', 'type']) assert.ok(req('redis').includes(f), `redis ${f}`);
  for (const f of ['query', 'parameters', 'statement', 'portal']) assert.ok(req('postgresql').includes(f), `postgresql ${f}`);
  for (const f of ['command', 'query', 'statementId', 'parameters']) assert.ok(req('mysql').includes(f), `mysql ${f}`);
  assert.ok(!req('redis').includes('questions') && !req('mysql').includes('portal'));
});

// issue 11 (HTTP/2, gRPC, GraphQL, WebSocket, TLS, ICMP, flow items): completions come from the
// schema, narrowed by protocol, with no list of their own.
test('protocols I: data.request/response narrow to the WebSocket, TLS, ICMP and flow shapes; gRPC and GraphQL fields complete', () => {
  const req = (proto: string, side = 'request') => labels(complete(hook(`if (data.protocol.name === "${proto}") { data.${side}.| }`)));
  for (const f of ['opcode', 'payload', 'masked', 'compressed', 'closeCode']) assert.ok(req('ws').includes(f), `ws ${f}`);
  for (const f of ['sni', 'alpn', 'ja3', 'ja4', 'cipherSuites']) assert.ok(req('tlsx').includes(f), `tlsx ${f}`);
  for (const f of ['certificates', 'cipherSuite', 'ja3sHash']) assert.ok(req('tlsx', 'response').includes(f), `tlsx response ${f}`);
  for (const f of ['typeCode', 'original', 'seq']) assert.ok(req('icmp').includes(f), `icmp ${f}`);
  // Shapes that extend another (IcmpResponse extends IcmpMessage): the inherited fields too.
  for (const f of ['rtt', 'typeCode']) assert.ok(req('icmp', 'response').includes(f), `icmp response ${f}`);
  for (const f of ['packets', 'bytes']) assert.ok(req('tcp-conn', 'response').includes(f), `tcp-conn response ${f}`);
  for (const f of ['state', 'packets', 'bytes', 'payload', 'duration']) assert.ok(req('tcp-conn').includes(f), `tcp-conn ${f}`);
  assert.ok(!req('tlsx').includes('questions') && !req('ws').includes('sni'));
  const grpc = labels(complete(hook('if (data.protocol.name === "http") { data.request.grpc.| }')));
  for (const f of ['service', 'method', 'encoding', 'messages']) assert.ok(grpc.includes(f), `grpc ${f}`);
  const msg = labels(complete(hook('data.response.grpc.messages[0].|')));
  for (const f of ['compressed', 'length', 'data', 'truncated', 'undecoded']) assert.ok(msg.includes(f), `grpc message ${f}`);
  const gql = labels(complete(hook('data.request.graphql.|')));
  for (const f of ['operationName', 'operationType', 'batch', 'operations', 'source']) assert.ok(gql.includes(f), `graphql ${f}`);
});

// Kafka, AMQP 0-9-1, MongoDB (issue 12)
test('data.request / data.response narrow to the Kafka, AMQP and MongoDB shapes', () => {
  const at2 = (proto: string, side: string) => labels(complete(hook(`if (data.protocol.name === "${proto}") { data.${side}.| }`)));
  for (const f of ['apiKeyName', 'apiKey', 'apiVersion', 'correlationID', 'clientID', 'payload', 'summary']) assert.ok(at2('kafka', 'request').includes(f), `kafka ${f}`);
  for (const f of ['correlationID', 'payload']) assert.ok(at2('kafka', 'response').includes(f), `kafka response ${f}`);
  for (const f of ['method', 'channel', 'properties', 'body', 'bodySize']) assert.ok(at2('amqp', 'request').includes(f), `amqp ${f}`);
  for (const f of ['opCode', 'command', 'collection', 'database', 'summary', 'document', 'sequences']) assert.ok(at2('mongodb', 'request').includes(f), `mongodb ${f}`);
  for (const f of ['ok', 'errmsg', 'code', 'documents', 'cursorID']) assert.ok(at2('mongodb', 'response').includes(f), `mongodb response ${f}`);
  assert.ok(!at2('kafka', 'request').includes('opCode') && !at2('mongodb', 'request').includes('apiKey'));
});
