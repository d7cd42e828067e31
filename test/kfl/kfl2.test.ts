import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileKfl2, lintKfl2, validateKfl2 } from '../../server/kfl/kfl2/index';
import { varsOf, VARIABLES } from '../../server/kfl/kfl2/variables';
import { QueryError } from '../../server/kfl/api';
import { dnsAnswered, dnsSample, httpSample } from './kfl2-fixtures';

const matches = (q: string, item: object) => compileKfl2(q).match(item as never);
const v = (item: object, name: string) => (varsOf(item as never) as unknown as Record<string, unknown>)[name];

function compileError(q: string): QueryError {
  try {
    compileKfl2(q);
  } catch (e) {
    assert.ok(e instanceof QueryError, `expected QueryError, got ${e}`);
    assert.equal(e.language, 'kfl2');
    assert.equal(e.message, `${e.line}:${e.col}: ${e.text}`);
    return e;
  }
  assert.fail(`query compiled: ${q}`);
}

test('variables of the 2023 Kubeshark HTTP item', () => {
  const it = httpSample();
  assert.equal(v(it, 'http'), true);
  assert.equal(v(it, 'dns'), false);
  assert.equal(v(it, 'grpc'), false);
  assert.equal(v(it, 'method'), 'POST');
  assert.equal(v(it, 'path'), '/license');
  assert.equal(v(it, 'url'), '/license');
  assert.equal(v(it, 'status_code'), 200n);
  assert.equal(v(it, 'http_version'), 'HTTP/1.1');
  assert.equal(v(it, 'protocol'), 'HTTP');
  assert.equal(v(it, 'src.ip'), '192.168.30.6');
  assert.equal(v(it, 'src.port'), 40612n);
  assert.equal(v(it, 'dst.port'), 8897n);
  assert.equal(v(it, 'src.name'), 'kubeshark-hub');
  assert.equal(v(it, 'dst.namespace'), 'kubeshark');
  assert.equal(v(it, 'node_name'), 'ip-192-168-4-120.us-east-2.compute.internal');
  assert.equal(v(it, 'node_ip'), '192.168.4.120');
  assert.equal(v(it, 'index'), 2n);
  assert.equal(v(it, 'stream'), '000000003722.pcap');
  assert.equal(v(it, 'elapsed_time'), 4000n); // elapsedTime 4 ms → µs
  assert.equal(v(it, 'request_body_size'), 16n);
  assert.equal(v(it, 'response_body_size'), 0n);
  assert.equal(v(it, 'request_headers_size'), 427n - 16n); // headersSize -1: wire size minus body
  assert.equal(v(it, 'response_headers_size'), 764n);
  const h = v(it, 'request.headers') as Map<string, string>;
  assert.equal(h.get('content-type'), 'application/json');
  assert.equal(h.get('Content-Type'), undefined);
  assert.equal(v(it, 'dns_questions') instanceof Array && (v(it, 'dns_questions') as []).length, 0);
});

test('variables of DNS items', () => {
  const seed = dnsSample();
  assert.equal(v(seed, 'dns'), true);
  assert.equal(v(seed, 'http'), false);
  assert.deepEqual(v(seed, 'dns_questions'), ['rabbitmq.sock-shop.svc.cluster.local']);
  assert.deepEqual(v(seed, 'dns_question_types'), ['AAAA']);
  assert.deepEqual(v(seed, 'dns_answers'), []); // the seed item has no `answers` at all
  assert.equal(v(seed, 'dns_request'), true);
  assert.equal(v(seed, 'dns_response'), true);
  assert.equal(v(seed, 'status_code'), 0n); // "No Error"
  assert.equal(v(seed, 'dns_total_size'), 382n);
  assert.equal(v(seed, 'dst.name'), 'kube-dns.kube-system');
  assert.equal(v(seed, 'method'), '');

  const it = dnsAnswered();
  assert.deepEqual(v(it, 'dns_answers'), ['example.com', '93.184.216.34']);
  assert.equal(v(it, 'status_code'), 3n); // NXDOMAIN
  assert.equal(v(it, 'dns_request_length'), 75n);
  assert.equal(v(it, 'dns_response_length'), 120n);
  assert.equal(v(it, 'local_process_name'), 'dig');
  assert.equal(v(it, 'remote_process_name'), '');
  assert.equal(v(it, 'capture_source'), 'libpcap');
});

test('every §9 sample query compiles, and they evaluate as the items say', () => {
  const http = httpSample(), dns = dnsSample(), dns2 = dnsAnswered();
  const samples: [string, boolean[]][] = [
    ['http && method == "GET" && status_code >= 400', [false, false, false]],
    ['http && method == "POST" && status_code < 400', [true, false, false]],
    ['dst.pod.namespace == "production"', [false, false, false]],
    ['dns && "rabbitmq.sock-shop.svc.cluster.local" in dns_questions', [false, true, false]],
    ['dns && "www.example.com" in dns_questions', [false, false, true]],
    ['grpc && grpc_status != 0', [false, false, false]],
    ['map_get(local_labels, "app", "") == "payments"', [false, false, false]],
    ['timestamp > now() - duration("5m")', [false, false, false]],
    ['http && url.matches(".*/lic.*")', [true, false, false]],
    ['conn && conn_state == "open" && conn_local_bytes > 1000000', [false, false, false]],
    ['tlsx && tlsx_cipher_suites.exists(s, s.contains("RC4"))', [false, false, false]],
    ['src.service.namespace != dst.service.namespace', [false, false, false]],
    ['capture_source == "ebpf_tls"', [false, false, false]],
    ['dns && dns_response && status_code != 0', [false, false, true]],
    ['http && status_code >= 500', [false, false, false]],
    ['request.headers["content-type"].matches("json")', [true, false, false]],
    ['elapsed_time > 5000000', [false, false, false]],
    ['redis && redis_type == "GET"', [false, false, false]],
    ['kafka && kafka_api_key_name == "PRODUCE"', [false, false, false]],
    ['amqp && amqp_method == "basic.publish"', [false, false, false]],
    ['src.name == "kubeshark-hub" || dst.namespace == "ns"', [true, false, false]],
    ['dst.port == 53 && udp == false', [false, true, true]],
  ];
  for (const [q, want] of samples) {
    const c = compileKfl2(q);
    assert.deepEqual([http, dns, dns2].map((it) => c.match(it)), want, q);
  }
});

test('absent variables take KFL2 defaults', () => {
  const dns = dnsSample();
  assert.ok(matches('method == "" && status_code == 0 && url == "" && request_body_size == 0', dns));
  assert.ok(matches('size(request.headers) == 0 && size(response.cookies) == 0', dns));
  assert.ok(matches('size(pods) == 0 && !kafka_request && tcp_payload == b""', dns));
  assert.ok(matches('size(dns_questions) == 0 && !dns_request', httpSample()));
  // a malformed item reads as absent rather than crashing
  assert.equal(matches('http', { protocol: null, request: 7 }), false);
  assert.ok(matches('method == "" && src.port == 0', { protocol: null, src: { port: 'x' } }));
  assert.equal(matches('http', null as never), false);
});

test('map_get and map access', () => {
  const http = httpSample();
  assert.ok(matches('map_get(request.headers, "user-agent", "") == "Go-http-client/1.1"', http));
  assert.ok(matches('map_get(request.headers, "x-missing", "dflt") == "dflt"', http));
  assert.ok(matches('"host" in request.headers && request.headers.host == "192.168.4.120:8897"', http));
  // a missing key with [] is a runtime error in CEL: no match, no throw
  assert.equal(matches('request.headers["x-missing"] == ""', http), false);
  assert.ok(matches('!(request.headers["x-missing"] == "") || true', http));
});

test('timestamps and durations', () => {
  const http = httpSample(); // startTime 2023-06-04T09:09:34.306330792Z
  assert.ok(matches('timestamp == timestamp("2023-06-04T09:09:34.306330792Z")', http));
  assert.ok(matches('timestamp > timestamp("2023-06-04T09:09:34.306330791Z")', http));
  assert.ok(matches('timestamp - timestamp("2023-06-04T09:09:00Z") > duration("34s")', http));
  assert.ok(matches('timestamp - timestamp("2023-06-04T09:09:00Z") < duration("35s")', http));
  assert.ok(matches('timestamp < now() - duration("24h")', http));
  assert.ok(matches('timestamp.getFullYear() == 2023 && timestamp.getHours() == 9', http));
  // without startTime the ms timestamp is used
  const noStart = { ...http, startTime: '' };
  assert.ok(matches('timestamp == timestamp("2023-06-04T09:09:34.306Z")', noStart));
});

test('errors carry positions; unknown variables and type errors are compile-time', () => {
  let e = compileError('status == 500');
  assert.deepEqual([e.line, e.col], [1, 1]);
  assert.match(e.text, /undeclared reference to 'status'/);

  e = compileError('http && status_code == "500"');
  assert.deepEqual([e.line, e.col], [1, 21]);
  assert.match(e.text, /no matching overload for '_==_' applied to '\(int, string\)'/);

  e = compileError('http &&\n  src.foo == "x"');
  assert.deepEqual([e.line, e.col], [2, 3]);
  assert.match(e.text, /undeclared reference to 'src.foo'/);

  e = compileError('src == "x"');
  assert.match(e.text, /'src' \(a prefix of 'src.ip'/);

  e = compileError('stauts_code == 1');
  assert.match(e.text, /did you mean 'status_code'/);

  e = compileError('http && method == "GET');
  assert.deepEqual([e.line, e.col], [1, 19]);
  assert.match(e.text, /unterminated string/);

  e = compileError('http and dns');
  assert.deepEqual([e.line, e.col], [1, 6]);
  assert.match(e.text, /syntax error: unexpected 'and': KFL2 writes '&&'/);
  const syntax: [string, [number, number], RegExp][] = [
    ['http &&', [1, 6], /'&&' needs an expression after it/],
    ['(http ||\n dns', [1, 1], /'\(' is never closed/],
    ['http == true)', [1, 13], /unmatched '\)'/],
    ['dns_questions[1', [1, 14], /'\[' is never closed/],
    ['"a(" in dns_questions)', [1, 22], /unmatched '\)'/], // brackets inside strings do not count
    ['http = true', [1, 6], /'=' is not an operator: use '=='/],
    ['http === true', [1, 6], /'===' is not an operator/],
    ['http & dns', [1, 6], /use '&&'/],
    ['1 2', [1, 3], /unexpected '2'/],
  ];
  for (const [q, pos, re] of syntax) {
    const se = compileError(q);
    assert.deepEqual([se.line, se.col], pos, q);
    assert.match(se.text, re, q);
  }
  assert.match(compileError('nil == http').text, /CEL writes 'null'/);

  e = compileError('url.matches("(")');
  assert.deepEqual([e.line, e.col], [1, 13]);
  assert.match(e.text, /invalid regular expression/);

  e = compileError('timestamp > now() - duration("5 minutes")');
  assert.match(e.text, /invalid duration/);

  e = compileError('status_code + 1');
  assert.match(e.text, /boolean expression/);

  assert.match(compileError('method.size() > 1.5 && method.foo("x")').text, /undeclared reference to method 'foo'/);
  assert.match(compileError('dns_questions.exists(q, q > 1)').text, /no matching overload for '_>_'/);
  assert.match(compileError('status_code + 1.0 > 2.0').text, /no matching overload for '_\+_'/);
  assert.match(compileError('nosuch(1)').text, /undeclared reference to 'nosuch'/);
  assert.throws(() => validateKfl2('http ||'), QueryError);
  validateKfl2('http || dns');
});

test('empty query matches everything; macros and comprehensions type-check', () => {
  for (const q of ['', '   ', '\n']) assert.equal(compileKfl2(q).match(httpSample()), true);
  const dns = dnsAnswered();
  assert.ok(matches('dns_answers.exists(a, a.startsWith("93."))', dns));
  assert.ok(matches('dns_answers.all(a, a != "")', dns));
  assert.ok(matches('dns_answers.exists_one(a, a.contains("."))', dns) === false);
  assert.ok(matches('dns_answers.filter(a, a.matches("^[0-9.]+$")).size() == 1', dns));
  assert.ok(matches('dns_answers.map(a, size(a)).exists(n, n > 10)', dns));
  assert.ok(matches('request.headers.exists(k, k == "host")', httpSample()));
  assert.ok(matches('status_code == 200 ? method == "POST" : false', httpSample()));
  assert.ok(matches('status_code in [200, 204] && 0x1F == 31 && 3u > 2u && r"\\d" == "\\\\d"', httpSample()));
  assert.ok(matches("'''multi\nline''' != \"\" && b'x' != b''", httpSample()));
});

test('compile once, variables once: consecutive queries over one item share its variables', () => {
  const it = httpSample();
  // whole-map uses (not a constant key, which is looked up without building the map)
  const a = compileKfl2('http && size(request.headers) > 0');
  const b = compileKfl2('request.headers.exists(k, k == "user-agent")');
  assert.deepEqual(a.variables, ['http', 'request.headers']);
  assert.ok(a.match(it));
  const vars = varsOf(it);
  const headers = vars.c?.['request.headers'];
  assert.ok(headers instanceof Map);
  assert.equal(vars.c?.['response.headers'], undefined); // not read: not computed
  assert.ok(b.match(it));
  assert.equal(varsOf(it), vars);
  assert.equal(vars.c?.['request.headers'], headers); // built once, read by both
  // another item gets its own variables
  const other = dnsSample();
  assert.notEqual(varsOf(other), vars);
  assert.equal(a.match(other), false);
});

test('lint: upper-case header keys never match', () => {
  const lints = lintKfl2('http && request.headers["Content-Type"] == "application/json"');
  assert.equal(lints.length, 1);
  assert.deepEqual([lints[0].line, lints[0].col, lints[0].endCol], [1, 25, 39]);
  assert.equal(lints[0].fix?.text, '"content-type"');
  assert.deepEqual(lintKfl2('request.headers["content-type"] == "x"'), []);
  assert.equal(lintKfl2('map_get(response.headers, "X-Id", "") == ""').length, 1);
});

test('every declared variable has a computable value of its declared kind on both samples', () => {
  for (const it of [httpSample(), dnsSample(), dnsAnswered()]) {
    for (const [name, def] of Object.entries(VARIABLES)) {
      const val = v(it, name);
      const kind = typeof def.type === 'string' ? def.type : 'list' in def.type ? 'list' : 'map';
      const ok = {
        bool: typeof val === 'boolean', int: typeof val === 'bigint', string: typeof val === 'string',
        list: Array.isArray(val), map: val instanceof Map, bytes: val instanceof Uint8Array,
        timestamp: typeof val === 'object' && val !== null && 'seconds' in val,
      }[kind as 'bool'];
      assert.ok(ok, `${name}: ${String(val)} is not ${kind}`);
    }
  }
});

test('the closure compiler agrees with @bufbuild/cel on every query it takes', () => {
  const items = [httpSample(), dnsSample(), dnsAnswered(), { ...httpSample(), response: { status: 500, headers: { 'X-A': 'b' } } }, { protocol: null }];
  const queries = [
    'http && status_code == 500', 'dns && "x" in dns_questions', 'http && path.matches("^/lic")', 'http && status_code == 200.0',
    'request.headers["content-type"].contains("json")', 'request.headers["x-missing"] == "a" || http', 'request.headers["x-missing"] == "a" && false',
    'request.headers["x-missing"] == "a" || dns', '!(request.headers["x-missing"] == "a")', 'map_get(response.headers, "x-a", "") == "b"',
    '"host" in request.headers', 'status_code >= 400 && status_code < 600', 'elapsed_time > 3000.5', 'src.port > 40000 || dst.port == 53',
    'method.startsWith("PO") && !url.endsWith("x")', 'dns_response && status_code != 0', 'tls == false && udp != true', 'true && !false',
    'dns && "www.example.com" in dns_questions && "93.184.216.34" in dns_answers',
  ];
  for (const q of queries) {
    const fast = compileKfl2(q), cel = compileKfl2(q, { engine: 'cel' });
    assert.ok(fast.fast, `not taken by the closure compiler: ${q}`);
    assert.deepEqual(items.map((it) => fast.match(it as never)), items.map((it) => cel.match(it as never)), q);
  }
  // outside the subset: still compiled, by @bufbuild/cel
  for (const q of ['dns_answers.exists(a, a.startsWith("93."))', 'timestamp > now() - duration("5m")', 'size(method) > 2']) {
    assert.equal(compileKfl2(q).fast, false, q);
  }
});

test('malformed queries get a QueryError, never a crash; compiled ones never throw', () => {
  const deep = '('.repeat(5000) + 'http' + ')'.repeat(5000);
  assert.match(compileError(deep).text, /nested too deeply/);
  assert.match(compileError('\u0000').text, /unexpected character U\+0000/);
  // a deterministic token soup
  const toks = ['http', 'dns', 'status_code', 'src.ip', '"x"', "'y'", 'r"\\d"', '1', '2.5', '3u', '&&', '||', '!', '==', '!=', '<', 'in',
    '(', ')', '[', ']', '{', '}', ',', ':', '?', '.', 'matches(', 'size(', 'map_get(', 'request.headers', 'dns_questions', 'exists(', 'x', '"', '\\', '//'];
  let seed = 7;
  const rnd = (k: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) % k;
  const items = [httpSample(), dnsSample(), dnsAnswered(), {} as never];
  let compiled = 0;
  for (let n = 0; n < 3000; n++) {
    const q = Array.from({ length: 1 + rnd(8) }, () => toks[rnd(toks.length)]).join(rnd(2) ? ' ' : '');
    let c;
    try {
      c = compileKfl2(q);
    } catch (e) {
      assert.ok(e instanceof QueryError, `${JSON.stringify(q)} threw ${e}`);
      assert.match(e.message, /^\d+:\d+: ./);
      continue;
    }
    compiled++;
    for (const it of items) assert.equal(typeof c.match(it), 'boolean');
  }
  assert.ok(compiled > 5, `only ${compiled} of the soup compiled`);

  // random well-formed queries: both evaluators agree on every item
  const atoms = ['http', 'dns', 'status_code == 200', 'status_code >= 3', '"www.example.com" in dns_questions', 'path.matches("^/lic")',
    'request.headers["host"] == "192.168.4.120:8897"', 'request.headers["nope"] == "x"', 'map_get(request.headers, "accept-encoding", "") == "gzip"',
    'method.startsWith("PO")', 'src.port > 40000', 'dns_response', '"93.184.216.34" in dns_answers', 'true', 'false', 'elapsed_time < 4000.0'];
  const gen = (depth: number): string => {
    const r = rnd(depth > 3 ? 1 : 5);
    if (r === 0) return atoms[rnd(atoms.length)];
    if (r === 1) return `!(${gen(depth + 1)})`;
    if (r === 2) return `(${gen(depth + 1)})`;
    return `${gen(depth + 1)} ${r === 3 ? '&&' : '||'} ${gen(depth + 1)}`;
  };
  for (let n = 0; n < 400; n++) {
    const q = gen(0);
    const fast = compileKfl2(q), cel = compileKfl2(q, { engine: 'cel' });
    assert.ok(fast.fast, q);
    assert.deepEqual(items.map((it) => fast.match(it)), items.map((it) => cel.match(it)), q);
  }
});
