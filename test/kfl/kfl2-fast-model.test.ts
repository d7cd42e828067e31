/**
 * Model test of KFL2's closure compiler (server/kfl/kfl2/fast.ts): for many queries in (and just
 * outside) its subset, over HTTP and DNS items of several shapes, the fast path's answer must be
 * @bufbuild/cel's (`engine: 'cel'`, the general evaluator, taken as the model). Errors matter:
 * a failing sub-expression (missing header, missing map key) is CEL's error value, which `&&`/`||`
 * absorb only when the other side decides and which `!` keeps, so the queries nest atoms that fail
 * under `!`, `&&` and `||`. Each query also states whether the fast path must take it: a
 * shortcut broken towards "unsupported" keeps the answers and loses the speed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileKfl2 } from '../../server/kfl/kfl2/index';
import { compileFast, ERR } from '../../server/kfl/kfl2/fast';
import { LOOKUPS, MEMBERSHIP, READERS, VARIABLES } from '../../server/kfl/kfl2/variables';
import { compileRegex } from '../../server/kfl/kfl2/regex';
import { parse } from '@bufbuild/cel';
import { prng } from '../dissectors/harness';
import { dnsAnswered, dnsSample, httpSample } from './kfl2-fixtures';
import type { Item } from '../../capture/item/schema';

function items(): Item[] {
  const http = httpSample();
  // Headers in several spellings (the last wins in the lower-cased map), an array value, cookies,
  // a status that is a string.
  const h2 = structuredClone(http) as any;
  h2.request.method = 'GET';
  h2.request.path = '/api/v1/users';
  h2.request.url = '/api/v1/users?id=7';
  h2.request.headers = { 'X-Trace': 'a', 'x-trace': 'b', Accept: ['text/html', 'application/json'], 'Content-Type': 'text/plain' };
  h2.request.cookies = { session: 'abc', Theme: 'dark' };
  h2.response.status = '404';
  h2.response.headers = {};
  h2.response.cookies = { session: 'new' };
  h2.tls = true;
  h2.elapsedTime = 2.7;
  const h3 = structuredClone(http) as any;
  h3.request.headers = 'not a map';
  h3.response = {};
  h3.request.path = '';
  h3.request.method = 'DELETE';
  const h4 = structuredClone(http) as any;
  h4.response.status = 500;
  h4.request.bodySize = 0;
  h4.request.headers = { 'content-type': 'application/json', Host: 'example.com' };
  const dns2 = dnsAnswered() as any;
  const dns3 = structuredClone(dns2);
  dns3.request.questions = [{ name: 'a.example', type: 'AAAA', class: 'IN' }, { name: 'b.example', type: 'MX', class: 'IN' }, 'junk'];
  dns3.response.answers = [{ name: 'b.example', type: 'MX', ip: '<nil>', mx: 'mail.b.example' }];
  const dns4 = structuredClone(dns2);
  dns4.request = {};
  dns4.response = null;
  return [http, h2, h3, h4, dnsSample(), dns2, dns3, dns4];
}

/** Atoms the fast path takes (true) or leaves to CEL (false). */
const ATOMS: [string, boolean][] = [
  ['http', true], ['dns', true], ['tls', true], ['true', true], ['false', true],
  ['method == "POST"', true], ['method != "GET"', true], ['"GET" == method', true], ['path == ""', true],
  ['protocol == "HTTP"', true], ['protocol != "DNS"', true],
  ['status_code == 200', true], ['status_code != 404', true], ['status_code == 200.0', true], ['status_code == 404.0', true],
  ['status_code < 300', true], ['status_code <= 200', true], ['status_code > 200', true], ['status_code >= 404', true],
  ['status_code < 404.5', true], ['2.5 > status_code', true], ['status_code >= 200.0', true],
  ['elapsed_time > 3000', true], ['elapsed_time <= 2000', true], ['request_body_size == 16', true], ['request_body_size == 16.0', true],
  ['status_code == request_body_size', true], ['status_code > request_body_size', true],
  ['http == true', true], ['tls != false', true], ['dns == http', true],
  ['"content-type" in request.headers', true], ['"x-trace" in request.headers', true], ['"X-Trace" in request.headers', true],
  ['"accept" in request.headers', true], ['"date" in response.headers', true],
  ['request.headers["content-type"] == "application/json"', true], ['request.headers["x-trace"] == "b"', true],
  ['request.headers["accept"] == "text/html,application/json"', true],
  ['request.headers["missing"] == "x"', true], ['request.headers["missing"] != "x"', true],
  ['response.headers["content-length"] == "0"', true],
  ['request.cookies["session"] == "abc"', true], ['request.cookies["nope"] == "abc"', true], ['request.cookies["Theme"] != "light"', true],
  ['"session" in request.cookies', true], ['"session" in response.cookies', true], ['method in request.cookies', true],
  ['request.headers[method] == "x"', true], ['request.cookies[method] == "x"', true],
  ['map_get(request.headers, "content-type", "none") == "application/json"', true],
  ['map_get(request.headers, "missing", "none") == "none"', true],
  ['map_get(request.cookies, "session", "none") == "abc"', true], ['map_get(request.cookies, "x", "none") == "none"', true],
  ['map_get(request.cookies, method, path) == path', true],
  ['map_get(request.headers, method, "d") == "d"', true],
  ['"rabbitmq.sock-shop.svc.cluster.local" in dns_questions', true], ['"www.example.com" in dns_questions', true],
  ['"b.example" in dns_questions', true], ['"nope" in dns_questions', true], ['"" in dns_questions', true],
  ['"AAAA" in dns_question_types', true], ['"A" in dns_question_types', true], ['"MX" in dns_question_types', true],
  ['"93.184.216.34" in dns_answers', true], ['"example.com" in dns_answers', true], ['"mail.b.example" in dns_answers', true],
  ['path in dns_questions', true], ['src.name in namespaces', true], ['"kubeshark" in namespaces', true],
  ['path.contains("lic")', true], ['path.startsWith("/api")', true], ['path.endsWith("users")', true], ['path.contains("")', true],
  ['path.matches("^/l.*e$")', true], ['url.matches("id=[0-9]+")', true], ['method.contains(path)', true], ['path.startsWith(method)', true],
  ['request.headers["missing"].contains("x")', true], ['request.headers["missing"].startsWith("x")', true],
  ['request.headers["missing"].matches("x")', true], ['path.endsWith(request.headers["missing"])', true],
  ['request.headers["content-type"].startsWith("application/")', true],
  // the result types of the fast nodes, compared again
  ['(http && dns) == false', true], ['(http || dns) != true', true], ['!http == false', true], ['(status_code < 300) == true', true],
  ['(status_code >= 300) != tls', true], ['path.contains("l") == true', true], ['path.matches("^/") != false', true],
  ['("x-trace" in request.headers) == false', true], ['("a" in dns_questions) == false', true], ['(path in dns_questions) != true', true],
  ['("session" in request.cookies) == true', true], ['(method == "GET") == (path == "")', true],
  // outside the subset: CEL plans these
  ['method < "Z"', false], ['path > ""', false], ['size(path) > 3', false], ['path in ["/license", "/x"]', false],
  ['request.headers.host == "x"', false], ['path.matches(method)', false], ['dns_questions.exists(q, q == "b.example")', false],
  ['status_code == 200u', false], ['request.headers == request.cookies', false], ['timestamp > timestamp("2020-01-01T00:00:00Z")', false],
  ['(http ? path : method) == "/license"', false], ['dns_questions[0] == "b.example"', false],
  ['"a" + path == "a/license"', false],
  ['null == path', false], ['b"x" == b"x"', false],
];

test('the fast path answers as CEL on every atom and item, and takes the atoms of its subset', () => {
  const all = items();
  for (const [q, fast] of ATOMS) {
    const f = compileKfl2(q), c = compileKfl2(q, { engine: 'cel' });
    assert.equal(f.fast, fast, `${q}: fast path ${fast ? 'expected' : 'not expected'}`);
    assert.equal(c.fast, false);
    all.forEach((it, i) => assert.equal(f.match(it), c.match(it), `${q} on item ${i}`));
  }
});

test('the fast path answers as CEL on 800 random combinations (!, &&, ||, nesting, failing atoms)', () => {
  const all = items();
  const rnd = prng(13013);
  const fastAtoms = ATOMS.filter(([, f]) => f).map(([q]) => q);
  const pick = () => fastAtoms[Math.floor(rnd() * fastAtoms.length)];
  const gen = (depth: number): string => {
    const r = rnd();
    if (depth === 0 || r < 0.3) return pick();
    if (r < 0.45) return `!(${gen(depth - 1)})`;
    return `(${gen(depth - 1)}) ${r < 0.72 ? '&&' : '||'} (${gen(depth - 1)})`;
  };
  let differing = 0;
  const seen = { t: 0, f: 0 };
  for (let n = 0; n < 800; n++) {
    const q = gen(3);
    const f = compileKfl2(q), c = compileKfl2(q, { engine: 'cel' });
    assert.equal(f.fast, true, q);
    for (let i = 0; i < all.length; i++) {
      const a = f.match(all[i]);
      if (a !== c.match(all[i])) assert.fail(`${q} on item ${i}: fast ${a}, CEL ${!a}`);
      seen[a ? 't' : 'f']++;
      differing++;
    }
  }
  assert.ok(seen.t > 1000 && seen.f > 1000, `both answers are common: ${JSON.stringify(seen)}`);
  assert.ok(differing > 0);
});

test('errors propagate as CEL: the closures return ERR, which && / || absorb only when the other side decides', () => {
  const it = httpSample();
  const run = (q: string) => {
    const fn = compileFast(parse(q).expr, { variables: VARIABLES, readers: READERS, lookups: LOOKUPS, membership: MEMBERSHIP, regex: compileRegex });
    assert.ok(fn, q);
    return fn(it as never);
  };
  const E = 'request.headers["missing"] == "x"';
  assert.equal(run(E), ERR);
  assert.equal(run(`!(${E})`), ERR);
  assert.equal(run(`${E} && false`), false);
  assert.equal(run(`false && ${E}`), false);
  assert.equal(run(`${E} && true`), ERR);
  assert.equal(run(`true && ${E}`), ERR);
  assert.equal(run(`${E} || true`), true);
  assert.equal(run(`true || ${E}`), true);
  assert.equal(run(`${E} || false`), ERR);
  assert.equal(run(`false || ${E}`), ERR);
  assert.equal(run('true && true'), true);
  assert.equal(run('false || false'), false);
  assert.equal(run('request.headers["missing"]'.concat(' != "x"')), ERR);
  assert.equal(run('request.cookies["x"] == "a"'), ERR);
  assert.equal(run('request.headers[request.headers["missing"]] == "a"'), ERR);
  assert.equal(run('request.cookies[request.headers["missing"]] == "a"'), ERR);
  assert.equal(run('map_get(request.cookies, request.headers["missing"], "d") == "d"'), ERR);
  assert.equal(run('map_get(request.headers, "missing", "d")'), 'd');
  assert.equal(run('map_get(request.headers, "content-type", "d")'), 'application/json');
  assert.equal(run('request.headers["content-type"]'), 'application/json');
  assert.equal(run('request.headers["missing"].contains("x")'), ERR);
  assert.equal(run('path.contains(request.headers["missing"])'), ERR);
  assert.equal(run('request.headers["missing"].matches("x")'), ERR);
  assert.equal(run('request.headers["missing"] in dns_questions'), ERR);
  assert.equal(run('request.headers["missing"] in request.cookies'), ERR);
  assert.equal(run('status_code < request_body_size'), false);
  assert.equal(run('status_code >= request_body_size'), true);
  assert.equal(run('request.headers["missing"] == "x" || status_code < 300'), true);
  // compared values: numbers and strings as the variables hold them
  assert.equal(run('status_code'), 200n);
  assert.equal(run('2.5'), 2.5);
  assert.equal(run('"s"'), 's');
  assert.equal(run('request_body_size == 16.0'), true);
  assert.equal(run('request_body_size != 16.0'), false);
  assert.equal(run('request_body_size == 16'), true);
});

test('"x" in dns_questions / dns_question_types / dns_answers takes the membership shortcut, without building the list', () => {
  const calls: string[] = [];
  const spy = Object.fromEntries(Object.entries(MEMBERSHIP).map(([k, f]) => [k, (it: never, v: string) => (calls.push(k), f(it, v))]));
  const readers = { ...READERS, dns_questions: () => assert.fail('the list was built'), dns_question_types: () => assert.fail('the list was built'), dns_answers: () => assert.fail('the list was built') };
  const it = dnsAnswered();
  for (const [q, want] of [['"www.example.com" in dns_questions', true], ['"A" in dns_question_types', true], ['"93.184.216.34" in dns_answers', true], ['"x" in dns_answers', false]] as const) {
    const fn = compileFast(parse(q).expr, { variables: VARIABLES, readers: readers as never, lookups: LOOKUPS, membership: spy, regex: compileRegex });
    assert.ok(fn, q);
    assert.equal(fn(it as never), want, q);
  }
  assert.deepEqual(calls, ['dns_questions', 'dns_question_types', 'dns_answers', 'dns_answers']);
  // a non-constant value still goes through the list
  const fn = compileFast(parse('path in dns_questions').expr, { variables: VARIABLES, readers: READERS, lookups: LOOKUPS, membership: spy, regex: compileRegex });
  assert.ok(fn);
  assert.equal(fn(it as never), false);
  assert.equal(calls.length, 4);
});

test('request.headers["k"] and "k" in request.headers use the direct lookup, without building the map', () => {
  const readers = { ...READERS, 'request.headers': () => assert.fail('the map was built') };
  const it = httpSample();
  for (const [q, want] of [['request.headers["content-type"] == "application/json"', true], ['"host" in request.headers', true], ['"Host" in request.headers', false], ['map_get(request.headers, "nope", "d") == "d"', true]] as const) {
    const fn = compileFast(parse(q).expr, { variables: VARIABLES, readers: readers as never, lookups: LOOKUPS, membership: MEMBERSHIP, regex: compileRegex });
    assert.ok(fn, q);
    assert.equal(fn(it as never), want, q);
  }
});

test('compileFast: unsupported is null, other errors are thrown', () => {
  const opts = { variables: VARIABLES, readers: READERS, lookups: LOOKUPS, membership: MEMBERSHIP, regex: (p: string) => { throw new Error('bad ' + p); } };
  assert.equal(compileFast(parse('size(path) > 1').expr, opts), null);
  assert.throws(() => compileFast(parse('path.matches("x")').expr, opts), /bad x/);
});
