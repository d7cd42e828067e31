// Legacy KFL macro expansion, unit level (issue #13 mutation testing): the macro table, the
// processing order, textual vs standalone replacement, the quote-parity rule, origins and uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LEGACY_MACROS, TEXTUAL_MACROS, expandMacros, expandWithOrigins } from '../../server/kfl/legacy/macros';

test('macros: the table, exactly', () => {
  assert.deepEqual(LEGACY_MACROS, {
    http: 'protocol.abbr == "HTTP"',
    http2: 'protocol.abbr == "HTTP/2"',
    grpc: 'protocol.abbr == "gRPC"',
    gql: 'protocol.abbr == "GQL"',
    dns: 'protocol.abbr == "DNS"',
    redis: 'protocol.name == "redis"',
    kafka: 'protocol.name == "kafka"',
    amqp: 'protocol.name == "amqp"',
    https: 'tls and (http or http2)',
    tls: 'tls == true',
    error: 'error.msg != ""',
    tcp: 'protocol.name == r"^tcp-(conn|flow)$"',
    udp: 'protocol.name == r"^udp-(conn|flow)$"',
    icmp: 'protocol.name == "icmp"',
    tlsx: 'protocol.name == "tlsx"',
    ws: 'protocol.name == "ws"',
    ldap: 'protocol.name == "ldap"',
    radius: 'protocol.name == "radius"',
    diameter: 'protocol.name == "diameter"',
    mongodb: 'protocol.name == "mongodb"',
    mysql: 'protocol.name == "mysql"',
    postgresql: 'protocol.name == "postgresql"',
    sctp: 'protocol.name == "sctp"',
    conn: 'protocol.name == r"^(tcp|udp)-conn$"',
    flow: 'protocol.name == r"^(tcp|udp)-flow$"',
    tcp_conn: 'protocol.name == "tcp-conn"',
    udp_conn: 'protocol.name == "udp-conn"',
    tcp_flow: 'protocol.name == "tcp-flow"',
    udp_flow: 'protocol.name == "udp-flow"',
  });
  assert.deepEqual([...TEXTUAL_MACROS].sort(), ['amqp', 'dns', 'gql', 'grpc', 'http', 'http2', 'kafka', 'redis']);
});

test('macros: every macro alone expands to its parenthesised body', () => {
  // Bodies that mention no other macro (so nothing expands further).
  for (const [name, body] of Object.entries(LEGACY_MACROS)) {
    if (name === 'https' || name === 'tls') continue;
    assert.equal(expandMacros(name), `(${body})`, name);
  }
  // "tls" is standalone-only, so the "tls" field inside its own expansion stays.
  assert.equal(expandMacros('tls'), '(tls == true)');
  assert.equal(expandMacros(''), '');
  assert.equal(expandMacros('a == 1'), 'a == 1');
});

test('macros: longest first, https before http2, then alphabetical', () => {
  // http2 must go before http, or "http2" would become "(…HTTP…)2".
  assert.equal(expandMacros('http2'), '(protocol.abbr == "HTTP/2")');
  // https goes before http2 so the http2 and http inside its expansion are expanded too.
  assert.equal(
    expandMacros('https'),
    '((tls == true) and ((protocol.abbr == "HTTP") or (protocol.abbr == "HTTP/2")))',
  );
  assert.deepEqual(expandWithOrigins('https').uses.map((u) => u.macro), ['https', 'http2', 'http', 'tls']);
  // Same length: alphabetical (uses are recorded in processing order).
  assert.deepEqual(expandWithOrigins('redis or kafka or amqp').uses.map((u) => u.macro), ['kafka', 'redis', 'amqp']);
  assert.deepEqual(expandWithOrigins('udp_flow tcp_conn').uses.map((u) => u.macro), ['tcp_conn', 'udp_flow']);
  assert.deepEqual(expandWithOrigins('tlsx tls').uses.map((u) => u.macro), ['tlsx', 'tls']);
  assert.equal(expandMacros('tlsx or tls'), '(protocol.name == "tlsx") or (tls == true)');
  assert.equal(expandMacros('tcp_conn or conn or tcp'),
    '(protocol.name == "tcp-conn") or (protocol.name == r"^(tcp|udp)-conn$") or (protocol.name == r"^tcp-(conn|flow)$")');
});

test('macros: Kubeshark macros are textual, local ones standalone', () => {
  assert.deepEqual(expandWithOrigins('dnsName'), {
    text: '(protocol.abbr == "DNS")Name',
    origin: [...new Array(24).fill(0), 3, 4, 5, 6, 7],
    uses: [{ macro: 'dns', start: 0, end: 3, insideIdent: true }],
  });
  assert.equal(expandMacros('xhttp'), 'x(protocol.abbr == "HTTP")');
  assert.deepEqual(expandWithOrigins('xhttp').uses, [{ macro: 'http', start: 1, end: 5, insideIdent: true }]);
  assert.equal(expandMacros('a.http'), 'a.(protocol.abbr == "HTTP")');
  assert.deepEqual(expandWithOrigins('a.http').uses, [{ macro: 'http', start: 2, end: 6, insideIdent: false }]);
  // Standalone only: not inside names, not as a field, not called, indexed or a key.
  for (const s of ['errorCode', 'x.tls', 'tls.x', 'tls(', 'tls[', 'tls:', 'tlstls', 'tls_x', 'x1tls', 'é tlsé', 'xtls', 'tlsé', 'tls٣', '٣tls']) {
    assert.equal(expandMacros(s), s, s);
    assert.deepEqual(expandWithOrigins(s).uses, [], s);
  }
  assert.equal(expandMacros('error'), '(error.msg != "")');
  assert.equal(expandMacros('tls)'), '(tls == true))');
  assert.equal(expandMacros('(tls)'), '((tls == true))');
  assert.equal(expandMacros('!tls'), '!(tls == true)');
  assert.equal(expandMacros('tls!'), '(tls == true)!');
  assert.equal(expandMacros('tls tls'), '(tls == true) (tls == true)');
  assert.equal(expandMacros('http http'), '(protocol.abbr == "HTTP") (protocol.abbr == "HTTP")');
  // A later standalone occurrence after a rejected one.
  assert.equal(expandMacros('tlsa tls'), 'tlsa (tls == true)');
  assert.deepEqual(expandWithOrigins('tlsa tls').uses, [{ macro: 'tls', start: 5, end: 8, insideIdent: false }]);
});

test('macros: only outside double-quoted strings (quote parity, no escapes)', () => {
  assert.equal(expandMacros('"tls"'), '"tls"');
  assert.equal(expandMacros('"http"'), '"http"');
  assert.equal(expandMacros('"a" tls "b"'), '"a" (tls == true) "b"');
  assert.equal(expandMacros('"http" http'), '"http" (protocol.abbr == "HTTP")');
  assert.equal(expandMacros('"x" http "'), '"x" http "');
  // An escaped quote still counts.
  assert.equal(expandMacros('"a\\"tls" '), '"a\\"tls" ');
  // Single quotes and backquotes do not protect.
  assert.equal(expandMacros("'tls'"), "'(tls == true)'");
  assert.equal(expandMacros('`x` dns'), '`x` (protocol.abbr == "DNS")');
});

test('macros: origins map the expanded text back to the source', () => {
  const e = expandWithOrigins('a and tls or b');
  assert.equal(e.text, 'a and (tls == true) or b');
  assert.equal(e.origin.length, e.text.length + 1);
  assert.deepEqual(e.origin, [0, 1, 2, 3, 4, 5, ...new Array(13).fill(6), 9, 10, 11, 12, 13, 14]);
  assert.deepEqual(e.uses, [{ macro: 'tls', start: 6, end: 9, insideIdent: false }]);
  // Nested: uses of macros inside an expansion point at the outer macro's start.
  const h = expandWithOrigins('x or https');
  assert.deepEqual(h.uses[0], { macro: 'https', start: 5, end: 10, insideIdent: false });
  assert.deepEqual(h.uses.slice(1).map((u) => [u.start, u.end]), [[5, 6], [5, 6], [5, 6]]);
  assert.ok(h.origin.slice(5, -1).every((o) => o === 5));
  assert.equal(h.origin[h.origin.length - 1], 10);
  assert.deepEqual(expandWithOrigins('').origin, [0]);
  assert.deepEqual(expandWithOrigins('tlsx.y').origin, [0, 1, 2, 3, 4, 5, 6]);
});
