// Unit tests of KFL2's front door (server/kfl/kfl2/index.ts): the empty query, the compile
// cache, match() on values that are not items or that throw, validation messages and their
// positions (types, constants anywhere in the tree, syntax), and the header-case lint with
// its fix ranges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Item } from '../../capture/item/schema';
import { QueryError } from '../../server/kfl/api';
import { compileKfl2, lintKfl2, validateKfl2 } from '../../server/kfl/kfl2/index';

const fails = (q: string): string => {
  try {
    validateKfl2(q);
  } catch (e) {
    assert.ok(e instanceof QueryError, `${q}: a QueryError`);
    assert.equal(e.language, 'kfl2');
    return e.message;
  }
  return 'ok';
};

test('the empty or blank query matches everything and reads no variable', () => {
  for (const q of ['', '   ', '\n\t']) {
    const c = compileKfl2(q);
    assert.deepEqual([c.language, c.source, c.variables, c.fast], ['kfl2', q, [], true]);
    assert.equal(c.match({} as Item), true);
    assert.equal(fails(q), 'ok');
    assert.deepEqual(lintKfl2(q), []);
  }
});

test('compiled queries are cached by text (the CEL engine is never cached); the cache is bounded', () => {
  const q = 'http && status_code >= 400 && path != "/cache-probe"';
  const a = compileKfl2(q);
  assert.equal(compileKfl2(q), a, 'same text: same compiled query');
  assert.deepEqual([a.language, a.fast, [...a.variables].sort()], ['kfl2', true, ['http', 'path', 'status_code']]);
  const cel = compileKfl2(q, { engine: 'cel' });
  assert.notEqual(cel, a);
  assert.notEqual(compileKfl2(q, { engine: 'cel' }), cel);
  assert.equal(cel.fast, false);
  assert.equal(compileKfl2(q), a, 'a CEL compile leaves the cached one');
  // 256 other texts: the cache was emptied on the way (it holds at most 256).
  for (let i = 0; i < 256; i++) compileKfl2(`status_code == ${1000 + i}`);
  const b = compileKfl2(q);
  assert.notEqual(b, a, 'compiled anew after the cache was emptied');
  assert.equal(compileKfl2(q), b);
});

test('match: a value that is not an object is no match, even for a negated query', () => {
  for (const engine of ['auto', 'cel'] as const) {
    const notHttp = compileKfl2('!http', { engine });
    assert.equal(notHttp.match({ protocol: { name: 'dns' } } as unknown as Item), true);
    for (const v of [null, undefined, 'GET /', 42, true]) assert.equal(notHttp.match(v as unknown as Item), false, `${engine}: ${String(v)}`);
  }
  // (Fields that throw are read as absent by the variables, not by match()'s own catch.)
});

test('a filter must be boolean (or dyn); the message names the type', () => {
  assert.equal(fails('1 + 2'), "1:3: a filter must be a boolean expression, this one is of type 'int'");
  assert.equal(fails('path'), "1:1: a filter must be a boolean expression, this one is of type 'string'");
  assert.equal(fails('[1, 2]'), "1:1: a filter must be a boolean expression, this one is of type 'list/map'");
  assert.equal(fails('request.headers'), "1:8: a filter must be a boolean expression, this one is of type 'list/map'");
  assert.equal(fails('[1].all(x, x > 0) && {"k": 1}.size() > 0'), 'ok');
  // dyn is accepted: a header map lookup with a dyn default.
  assert.equal(fails('map_get(request.headers, "a", "b") == "b"'), 'ok');
});

test('timestamp, duration and regex literals are checked at compile time, wherever they are', () => {
  assert.match(fails('timestamp("nope") < now()'), /^1:11: invalid timestamp "nope": /);
  assert.match(fails('duration("5x") > duration("1s")'), /^1:10: invalid duration "5x": /);
  assert.equal(fails('timestamp("2024-01-01T00:00:00Z") < now() && duration("90s") > duration("1m")'), 'ok');
  assert.match(fails('path.matches("(")'), /^1:14: invalid regular expression "\(": /);
  assert.match(fails('matches(path, "(")'), /^1:15: invalid regular expression "\(": /);
  assert.match(fails('"abc".matches("[")'), /^1:15: invalid regular expression "\[": /);
  assert.equal(fails('path.matches("^/api/v[0-9]+")'), 'ok');
  // Inside a list, a map's value and key, and a macro's body.
  assert.match(fails('[timestamp("bad")].size() > 0'), /^1:12: invalid timestamp "bad"/);
  assert.match(fails('{"a": timestamp("bad")}.size() > 0'), /^1:17: invalid timestamp "bad"/);
  assert.match(fails('{timestamp("bad"): 1}.size() > 0'), /^1:12: invalid timestamp "bad"/);
  assert.match(fails('[1].exists(x, timestamp("bad") < now())'), /^1:25: invalid timestamp "bad"/);
  assert.match(fails('[1].exists(x, path.matches("("))'), /^1:28: invalid regular expression/);
  // A non-literal argument is left to run time.
  assert.equal(fails('timestamp(path) < now()'), 'ok');
  assert.equal(fails('path.matches(method)'), 'ok');
});

test('syntax and reference errors point at their place, past the blanks before an operator', () => {
  assert.equal(fails('http &&'), "1:6: syntax error: '&&' needs an expression after it");
  assert.equal(fails('http ||   '), "1:6: syntax error: '||' needs an expression after it");
  assert.equal(fails('http && foo'), "1:9: undeclared reference to 'foo' (did you mean 'flow'?)");
  assert.equal(fails('http &&\n  nope > 1'), "2:3: undeclared reference to 'nope'");
  assert.equal(fails('path == "abc'), '1:9: unterminated string literal');
  assert.equal(fails('http  &&  1'), "1:1: found no matching overload for '_&&_' applied to '(bool, int)'");
  assert.equal(fails('1 +\n 2'), "1:3: a filter must be a boolean expression, this one is of type 'int'");
  assert.match(fails(' x '), /^1:2: undeclared reference to 'x'/);
});

test('lint: header keys with capitals never match (KFL2 lower-cases them), with a fix', () => {
  const lint = (q: string) => lintKfl2(q).map((l) => [l.line, l.col, l.endCol, l.fix?.text, l.fix && [l.fix.line, l.fix.col, l.fix.endCol].join(':')]);
  assert.deepEqual(lintKfl2('request.headers["Content-Type"] == "x"'), [
    {
      line: 1, col: 17, endCol: 31,
      message: 'header names are lower-cased in KFL2: "Content-Type" never matches; use "content-type"',
      fix: { line: 1, col: 17, endCol: 31, text: '"content-type"' },
    },
  ]);
  assert.deepEqual(lint('"X-Foo" in response.headers'), [[1, 1, 8, '"x-foo"', '1:1:8']]);
  assert.deepEqual(lint('map_get(request.headers, "Host", "") == "a"'), [[1, 26, 32, '"host"', '1:26:32']]);
  assert.deepEqual(lint('request.headers[r"Host"] == "a"'), [[1, 17, 24, '"host"', '1:17:24']]);
  assert.deepEqual(lint("request.headers['Ho\\'st'] == 'a'"), [[1, 17, 25, '"ho\'st"', '1:17:25']]);
  assert.deepEqual(lint('http &&\n request.headers["Host"] == "a"'), [[2, 18, 24, '"host"', '2:18:24']]);
  assert.deepEqual(lint('response.headers["A"] == "b" || request.headers["B"] == "c"'), [[1, 18, 21, '"a"', '1:18:21'], [1, 49, 52, '"b"', '1:49:52']]);
  // Lower-case keys, other maps, keys that are not string literals, and other calls: nothing.
  for (const q of [
    'request.headers["host"] == "a"', 'request.cookies["Abc"] == "1"', '"X" in request.cookies', 'map_get(request.cookies, "Sid", "") == "a"',
    'request.headers[string(1)] == "a"', '"Host" in ["Host"]', 'path.startsWith("A")', 'http',
  ]) assert.deepEqual(lintKfl2(q), [], q);
  assert.throws(() => lintKfl2('http &&'), QueryError);
});
