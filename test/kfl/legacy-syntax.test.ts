// Legacy KFL syntax: every example query of kubeshark-compat §8.8 compiles (or fails as
// documented), error messages and positions, and macro expansion edge cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QueryError } from '../../server/kfl/api';
import { compileLegacy, validateLegacy, expandMacros, lintLegacy, LEGACY_MACROS } from '../../server/kfl/legacy/index';

const EXAMPLES = [
  'http and response.status == 500',
  'http and response.status == r"4.*"',
  'http and response.status >= 400',
  'response.status == 201',
  'response.status > 300',
  'response.status > 300 and node.name == "ip-10-0-41-65.ec2.internal"',
  'response.status > 400 or error or icmp or tcp',
  '!error', '!icmp', '!tcp',
  'dns', 'http or dns', 'dns or http',
  'http and request.method == "GET" and request.path != "/example" and (request.query.a > 42 or request.headers["x"] == "y")',
  'http and request.path == "/catalogue"',
  'http and request.path != "/catalogue"',
  'http and request.headers["Accept"] == r"application/json.*"',
  'timestamp < datetime("10/28/2021, 9:13:02.905 PM")',
  'timestamp >= datetime("10/19/2021, 6:29:02.593 PM")',
  '(http and request.method == "PUT") or (amqp and request.queue.startsWith("test")) or (kafka and response.payload.errorCode == 2) or (redis and request.key == "example") or (grpc and request.headers[":path"] == r".*foo.*")',
  'dst.name == "carts.sock-shop"',
  'http and (request.query["x"] == response.headers["y"] or response.content.text.contains(request.query["x"]))',
  'request.path.startsWith("something")',
  'response.content.text.json().some.path == "somevalue"',
  'redact("request.path", "src.name")',
  'limit(100)',
  'request.headers["Authorization"] == r"Token.*" and src.ip != "192.168.49.2"',
  'http and request.headers["Authorization"] == r"Token w2Yd….*" and request.headers["User-Agent"] == r"influxdb-client-go/.*" and dst.namespace == ""',
  'dst.port==443 and dst.namespace==""',
  'dst.name==r"cata.*" or src.name==r"cata.*"',
  'gql and (src.name == "my-pod-name" or dst.name == "my-pod-name")',
  '(response.status == 500) and (request.headers["User-Agent"] == "kube-probe/1.27+") and (src.name == "kube-prometheus-stack-prometheus-node-exporter")',
  'src.namespace == r"something*"',
  'tcp and data.payload.startsWith("GET")',
  'http and request.method=="GET"',
  'request.command == "GET"', 'request.key == "key"',
  'request.method == "basic publish"', 'request.exchange == "exchange"', 'request.queue == "queue"',
  'src.ip == "…"', 'request.path == "/get"', 'request.method == "POST"',
  'request.opCode == Query', 'request.questions[0].name == "x"',
  'request.apiKeyName == "Produce"', 'request.payload.topics[0].topic == "t"',
  'request.versionMajor == 0 and request.versionMinor == 9',
];

test('legacy syntax: every §8.8 example compiles', () => {
  for (const q of EXAMPLES) assert.doesNotThrow(() => validateLegacy(q), q);
});

function errorOf(q: string): QueryError {
  try {
    compileLegacy(q);
  } catch (e) {
    assert.ok(e instanceof QueryError, `${q}: ${e}`);
    assert.equal(e.language, 'kfl');
    return e;
  }
  assert.fail(`expected ${q} to fail`);
}

test('legacy syntax: documented failures', () => {
  // dfir README: "===" is not KFL
  assert.match(errorOf('node==r"my-node.*" and src.namespace==="my-namespace"').message, /^1:39: unexpected token "=" — "===" is not KFL; write "=="/);
  // basenine's macro-definition syntax is not a query
  assert.equal(errorOf('http~proto.name == "http"').message, '1:5: unexpected token "~"');
  // three examples written on one line are not one query
  assert.match(errorOf('!error        !icmp        !tcp').message, /^1:15: unexpected token "!"/);
});

test('legacy syntax: error messages and positions', () => {
  // kubeshark/scripts error_handling.js
  const e = errorOf('htt ??? a : p');
  assert.equal(e.message, '1:5: unexpected token "?"');
  assert.deepEqual([e.line, e.col, e.text], [1, 5, 'unexpected token "?"']);
  // positions are in the query as written (the macro before it is not counted expanded)
  assert.equal(errorOf('http and ?').message, '1:10: unexpected token "?"');
  assert.equal(errorOf('http and').message, '1:9: unexpected token "<EOF>"');
  assert.equal(errorOf('http and\n  request.method == ?').message, '2:21: unexpected token "?"');
  assert.equal(errorOf('()').message, '1:2: unexpected token ")"');
  assert.equal(errorOf(' ').message, '1:2: unexpected token "<EOF>"');
  assert.equal(errorOf('a.b(1').message, '1:6: unexpected token "<EOF>"');
  assert.equal(errorOf('a == "abc').message, '1:6: literal not terminated');
  assert.equal(errorOf('a == `abc').message, '1:6: literal not terminated');
  assert.equal(errorOf('a /* x').message, '1:3: comment not terminated');
  assert.match(errorOf('a == r"^4\\d\\d$"').message, /^1:10: invalid char escape — KFL strings accept only Go escapes/);
  assert.equal(errorOf('a == r"(?=x)"').message, '1:6: invalid regex r"(?=x)": invalid or unsupported Perl syntax: `(?=`');
  assert.equal(errorOf('a == r"(a"').message, '1:6: invalid regex r"(a": missing closing ): `(a`');
  assert.equal(errorOf('a == r"a{2,1}"').message, '1:6: invalid regex r"a{2,1}": invalid repeat count: `{2,1}`');
  assert.match(errorOf('request. == 1').message, /^1:1: invalid path "\.request\."/);
  assert.equal(errorOf('1e == 2').message, '1:1: exponent has no digits');
  // bad input gets an error, not a crash
  assert.equal(errorOf('('.repeat(100_000) + 'a' + ')'.repeat(100_000)).message, '1:1: query too deeply nested');
  for (const junk of ['\u0000', '"', "'", '`', '\\', '[', ']', '.', '..', '*', 'r"', 'a[', 'a[1', 'a["x"', 'a.json()[', 'f(a:', '!', '-', '😀']) {
    assert.throws(() => compileLegacy(junk), QueryError, JSON.stringify(junk));
  }
});

test('legacy syntax: hints for other languages', () => {
  assert.match(errorOf('http && dns').message, /^1:6: unexpected token "&" — legacy KFL writes "and"/);
  assert.match(errorOf('http || dns').message, /^1:6: unexpected token "\|" — legacy KFL writes "or"/);
  assert.match(errorOf('a !== 1').message, /^1:5: unexpected token "=" — "!==" is not KFL; write "!="/);
  assert.match(errorOf('a = 1').message, /^1:3: unexpected token "=" — compare with "=="/);
  assert.match(errorOf('request.method in ["GET"]').message, /^1:16: unexpected token "in" — legacy KFL has no "in"/);
  assert.match(errorOf('not request.path == "/"').message, /negates with "!"/);
  assert.match(errorOf('request.dnsName == "x"').message, /^1:12: unexpected token "Name" — the macro "dns" was expanded inside "dnsName".*\["dnsName"\]/);
});

test('legacy syntax: lexing as text/scanner', () => {
  for (const q of ['a = = 1', 'a ! = 1', 'a > = 1', 'a < = 1', '// only a comment\nhttp', 'http /* c */ and dns', 'a == \'abc\'', 'a == `x\\d`', 'a == 0x1F', 'a == 1_000', 'a == .5e3', 'r == 1', 'and and and', 'a.b.*.c == 1', 'x.json()..y == 1', 'f(tag: 1, 2)', 'a["*"] == 1']) {
    assert.doesNotThrow(() => validateLegacy(q), q);
  }
  const doc = { a: 1, r: 1, and: true, k: 'abc', hex: 31, s: "'abc'" };
  assert.equal(compileLegacy('a = = 1').match(doc as never), true);
  assert.equal(compileLegacy('a ! = 2').match(doc as never), true);
  assert.equal(compileLegacy('hex == 0x1F').match(doc as never), true);
  assert.equal(compileLegacy('r == 1').match(doc as never), true);
  assert.equal(compileLegacy('and and and').match(doc as never), true);
  // single-quoted text keeps its quotes; escapes are not processed
  assert.equal(compileLegacy("k == 'abc'").match(doc as never), false);
  assert.equal(compileLegacy("s == 'abc'").match(doc as never), true);
  assert.equal(compileLegacy('q == "a\\nb"').match({ q: 'a\\nb' } as never), true);
  assert.equal(compileLegacy('q == "\\"hi\\";v=\\"1\\", "').match({ q: '\\"hi\\";v=\\"1\\", ' } as never), true);
});

test('legacy macros: expansion as Kubeshark does it', () => {
  assert.equal(expandMacros('http'), '(protocol.abbr == "HTTP")');
  assert.equal(expandMacros('http2'), '(protocol.abbr == "HTTP/2")');
  assert.equal(expandMacros('grpc or gql'), '(protocol.abbr == "gRPC") or (protocol.abbr == "GQL")');
  assert.equal(expandMacros('!amqp and kafka and redis'), '!(protocol.name == "amqp") and (protocol.name == "kafka") and (protocol.name == "redis")');
  // not inside double-quoted strings
  assert.equal(expandMacros('request.headers["http"] == "x-amqp-y"'), 'request.headers["http"] == "x-amqp-y"');
  assert.equal(expandMacros('http or request.headers["dns"] == "x"'), '(protocol.abbr == "HTTP") or request.headers["dns"] == "x"');
  // no escapes: an odd number of quotes after a macro hides it
  assert.equal(expandMacros('http and a == "x\\""'), 'http and a == "x\\""');
  // single quotes are not protected
  assert.equal(expandMacros("a == 'dns'"), 'a == \'(protocol.abbr == "DNS")\'');
  // textual, no word boundaries
  assert.equal(expandMacros('dnsName'), '(protocol.abbr == "DNS")Name');
  assert.equal(expandMacros('x.httpx'), 'x.(protocol.abbr == "HTTP")x');
  // https before http2 (same length), so its inner http2 expands too
  assert.equal(expandMacros('https'), '((tls == true) and ((protocol.abbr == "HTTP") or (protocol.abbr == "HTTP/2")))');
  // local macros replace standalone terms only
  assert.equal(expandMacros('!error'), '!(error.msg != "")');
  assert.equal(expandMacros('error.msg == "x" and response.payload.errorCode == 2'), 'error.msg == "x" and response.payload.errorCode == 2');
  assert.equal(expandMacros('tcp and data.payload.startsWith("GET")'), '(protocol.name == r"^tcp-(conn|flow)$") and data.payload.startsWith("GET")');
  assert.equal(expandMacros('wss or ws'), 'wss or (protocol.name == "ws")');
  assert.equal(expandMacros('tlsx or tls'), '(protocol.name == "tlsx") or (tls == true)');
  assert.equal(expandMacros('conn'), '(protocol.name == r"^(tcp|udp)-conn$")');
  assert.equal(expandMacros('request.connection == 1 and x.flow == 2'), 'request.connection == 1 and x.flow == 2');
  assert.equal(expandMacros(''), '');
  const required = ['http', 'http2', 'grpc', 'gql', 'dns', 'redis', 'kafka', 'amqp', 'tcp', 'udp', 'icmp', 'tls', 'tlsx', 'ws', 'error', 'ldap', 'radius', 'diameter', 'mongodb', 'mysql', 'postgresql', 'sctp', 'conn', 'flow', 'https'];
  for (const m of required) assert.equal(typeof LEGACY_MACROS[m], 'string', m);
  for (const m of required) assert.doesNotThrow(() => validateLegacy(m), m);
});

test('legacy macros: evaluation of the local choices', () => {
  const base = { protocol: { name: 'tcp-conn', abbr: 'TCP' }, tls: false, error: null as null | object };
  const m = (q: string, d: object) => compileLegacy(q).match(d as never);
  assert.equal(m('tcp', base), true);
  assert.equal(m('tcp', { protocol: { name: 'tcp-flow' } }), true);
  assert.equal(m('tcp', { protocol: { name: 'tcp' } }), false);
  assert.equal(m('udp', base), false);
  assert.equal(m('udp', { protocol: { name: 'udp-flow' } }), true);
  assert.equal(m('error', base), false);
  assert.equal(m('!error', base), true);
  assert.equal(m('error', { ...base, error: { type: 'timeout', msg: 'stream timed out' } }), true);
  assert.equal(m('error', { ...base, error: { type: 'timeout', msg: '' } }), false);
  assert.equal(m('error and error.type == "timeout"', { ...base, error: { type: 'timeout', msg: 'x' } }), true);
  assert.equal(m('tls', base), false);
  assert.equal(m('tls', { ...base, tls: true }), true);
  assert.equal(m('https', { ...base, tls: true, protocol: { abbr: 'HTTP' } }), true);
  assert.equal(m('https', { ...base, protocol: { abbr: 'HTTP' } }), false);
  assert.equal(m('conn', { protocol: { name: 'udp-conn' } }), true);
  assert.equal(m('flow', { protocol: { name: 'udp-conn' } }), false);
  // the missing response.status collapses the whole query, even through "or" (§8.3)
  assert.equal(m('response.status > 400 or error or icmp or tcp', base), false);
  assert.equal(m('(response.status > 400) or error or icmp or tcp', base), true);
});

test('legacy syntax: random token soup never crashes (QueryError or a query that never throws)', () => {
  const parts = ['http', 'dns', 'and', 'or', '!', '-', '==', '!=', '>=', '<', '(', ')', '[', ']', '[0]', '["k"]', '.', '..', '.*', ',', ':',
    'a', 'b.c', 'x.json()', '.xml()', 'startsWith("a")', 'redact("a")', 'limit(2)', 'now()', 'r"^a"', 'r"(a+)+"', '"s"', "'c'", '`r`',
    '1', '2.5', 'nil', 'true', 'false', '=', '&&', '"', '\\', 'datetime("1/2/2021, 3:04:05.000 PM")', 'seconds(-1)', 'error', 'tcp'];
  let seed = 12345;
  const rnd = (k: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % k;
  const docs = [{}, { a: 1, b: { c: 'a' }, k: [1], x: '{"a":[1,2]}' }, { protocol: { abbr: 'HTTP' }, a: [{ b: 1 }, null] }];
  let compiled = 0;
  for (let i = 0; i < 3000; i++) {
    const q = Array.from({ length: 1 + rnd(8) }, () => parts[rnd(parts.length)]).join(rnd(3) ? ' ' : '');
    let c;
    try {
      c = compileLegacy(q);
    } catch (e) {
      assert.ok(e instanceof QueryError, `${JSON.stringify(q)}: ${e}`);
      assert.match(e.message, /^\d+:\d+: \S/);
    }
    assert.doesNotThrow(() => lintLegacy(q), q);
    if (c) {
      compiled++;
      for (const d of docs) assert.equal(typeof c.match(d as never), 'boolean');
    }
  }
  assert.ok(compiled > 300, `only ${compiled} random queries compiled`);
});
