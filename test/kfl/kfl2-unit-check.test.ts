// Unit tests of KFL2's static checker (server/kfl/kfl2/check.ts) on its own, with a small
// variable table of every type: the type of each kind of expression, every operator's and
// function's accepted operand types, the error for each refusal, name resolution (flat dotted
// variables, prefixes, comprehension variables shadowing them), and the variables reported read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '@bufbuild/cel';
import { CheckError, checkExpr } from '../../server/kfl/kfl2/check';
import { list, map, show, type Type } from '../../server/kfl/kfl2/types';

const VARS: Record<string, { type: Type }> = {
  http: { type: 'bool' },
  status_code: { type: 'int' },
  port_u: { type: 'uint' },
  ratio: { type: 'double' },
  method: { type: 'string' },
  body: { type: 'bytes' },
  ts: { type: 'timestamp' },
  elapsed: { type: 'duration' },
  anything: { type: 'dyn' },
  'src.ip': { type: 'string' },
  'src.port': { type: 'int' },
  'src.name.short': { type: 'string' },
  'request.headers': { type: map('string', 'string') },
  'request.path': { type: 'string' },
  questions: { type: list('string') },
  codes: { type: list('int') },
  answers: { type: list(map('string', 'dyn')) },
  labels: { type: map('string', 'string') },
  by_port: { type: map('int', 'string') },
  'req.a': { type: 'int' }, 'req.b': { type: 'int' }, 'req.c': { type: 'int' }, 'req.d': { type: 'int' }, 'req.e': { type: 'int' },
};

function check(src: string): string {
  const read: string[] = [];
  try {
    return show(checkExpr(parse(src).expr, { variables: VARS, onVariable: (n) => read.push(n) }));
  } catch (e) {
    if (e instanceof CheckError) return `error: ${e.message}`;
    throw e;
  }
}
const T = (rows: [string, string][]) => {
  const wrong = rows.filter(([src, want]) => check(src) !== want).map(([src, want]) => `${src}: got ${check(src)}, want ${want}`);
  assert.deepEqual(wrong, []);
};

test('constants, variables, list and map literals', () => {
  T([
    ['true', 'bool'], ['1', 'int'], ['1u', 'uint'], ['1.5', 'double'], ['"s"', 'string'], ['b"s"', 'bytes'], ['null', 'null_type'],
    ['http', 'bool'], ['status_code', 'int'], ['port_u', 'uint'], ['ratio', 'double'], ['method', 'string'], ['body', 'bytes'],
    ['ts', 'timestamp'], ['elapsed', 'duration'], ['anything', 'dyn'], ['questions', 'list(string)'], ['labels', 'map(string, string)'],
    ['int', 'type'], ['list', 'type'], ['null_type', 'type'], ['dyn', 'type'], ['uint', 'type'], ['double', 'type'], ['bool', 'type'],
    ['string', 'type'], ['bytes', 'type'], ['map', 'type'], ['type', 'type'], ['type(1) == uint', 'bool'],
    ['[]', 'list(dyn)'], ['[1, 2]', 'list(int)'], ['[1, "a"]', 'list(dyn)'], ['["a", 1, 2]', 'list(dyn)'], ['[anything, 1]', 'list(int)'],
    ['[[1], []]', 'list(list(int))'], ['[[], [1]]', 'list(list(int))'],
    ['{}', 'map(dyn, dyn)'], ['{"a": 1}', 'map(string, int)'], ['{"a": 1, "b": 2}', 'map(string, int)'],
    ['{"a": 1, 2: "x"}', 'map(dyn, dyn)'], ['{"a": 1, "b": "x"}', 'map(string, dyn)'], ['{1: "a", "b": "c"}', 'map(dyn, string)'],
    ['{"a": anything, "b": 2}', 'map(string, int)'],
    // once mixed, dyn: a later element of the first one's type does not narrow it again
    ['["a", 1, 2]', 'list(dyn)'], ['[1, "a", 2, 3]', 'list(dyn)'], ['"a" in ["a", 1, 2]', 'bool'], ['["a", 1, 2][0] == "a"', 'bool'],
    ['{"a": 1, 2: "x", 3: 4}', 'map(dyn, dyn)'], ['{"a": 1, "b": "x", "c": 2}', 'map(string, dyn)'], ['{1: "a", "b": "c", 2: "d"}', 'map(dyn, string)'],
    ['{"a": 1, 2: "x", 3: 4}["a"] == 1', 'bool'],
  ]);
});

test('names: flat dotted variables, prefixes, misspellings, nil, fields of maps and dyn', () => {
  T([
    ['src.ip', 'string'], ['src.port', 'int'], ['src.name.short', 'string'], ['request.headers', 'map(string, string)'],
    ['src', "error: undeclared reference to 'src' (a prefix of 'src.ip', 'src.port', 'src.name.short')"],
    ['src.name', "error: undeclared reference to 'src.name' (a prefix of 'src.name.short')"],
    ['request', "error: undeclared reference to 'request' (a prefix of 'request.headers', 'request.path')"],
    ['src.foo', "error: undeclared reference to 'src.foo'"],
    ['src.name.long', "error: undeclared reference to 'src.name.long' (did you mean 'src.name.short'?)"],
    ['src.name.short.x', "error: type 'string' does not support field selection ('.x')"],
    ['labels.a.b', "error: undeclared reference to 'labels.a.b'"],
    ['stauts_code', "error: undeclared reference to 'stauts_code' (did you mean 'status_code'?)"],
    ['metod', "error: undeclared reference to 'metod' (did you mean 'method'?)"],
    ['zzzzzz', "error: undeclared reference to 'zzzzzz'"],
    // no suggestion for a name more than 3 characters longer or shorter
    ['status_codexyz', "error: undeclared reference to 'status_codexyz' (did you mean 'status_code'?)"],
    ['status_codewxyz', "error: undeclared reference to 'status_codewxyz'"],
    ['req', "error: undeclared reference to 'req' (a prefix of 'req.a', 'req.b', 'req.c', 'req.d')"],
    ['nil', "error: undeclared reference to 'nil' (CEL writes 'null')"],
    ['request.headers.host', 'string'], ['labels.app', 'string'], ['answers[0].name', 'dyn'],
    ['by_port.x', "error: type 'map(int, string)' does not support field selection ('.x')"],
    ['method.x', "error: type 'string' does not support field selection ('.x')"],
    ['status_code.x', "error: type 'int' does not support field selection ('.x')"],
    ['questions.x', "error: type 'list(string)' does not support field selection ('.x')"],
    ['has(labels.app)', 'bool'], ['has(request.headers.host)', 'bool'], ['has(anything.x)', 'bool'],
    ['has(method.x)', "error: type 'string' does not support field selection ('.x')"],
    ['{"a": 1}.a', 'int'], ['{"a": {"b": 1}}.a.b', 'int'],
  ]);
});

test('comprehensions: element types, shadowing, range and step types', () => {
  T([
    ['questions.exists(q, q == "a")', 'bool'], ['questions.all(q, q.size() > 1)', 'bool'], ['codes.exists_one(c, c > 1)', 'bool'],
    ['questions.map(q, q.size())', 'list(int)'], ['codes.filter(c, c > 1)', 'list(int)'], ['questions.map(q, q)', 'list(string)'],
    ['labels.exists(k, k == "a")', 'bool'], ['labels.map(k, labels[k])', 'list(string)'], ['by_port.all(k, k > 1)', 'bool'],
    ['anything.exists(x, x.y == 1)', 'bool'], ['answers.exists(a, a.name == "x")', 'bool'], ['answers.map(a, a["ttl"])', 'list(dyn)'],
    ['questions.exists(q, q > 1)', "error: found no matching overload for '_>_' applied to '(string, int)'"],
    ['codes.exists(c, c == "a")', "error: found no matching overload for '_==_' applied to '(int, string)'"],
    ['method.exists(c, true)', "error: expression of type 'string' cannot be the range of a comprehension (must be list or map)"],
    ['status_code.all(c, true)', "error: expression of type 'int' cannot be the range of a comprehension (must be list or map)"],
    ['codes.exists(c, c)', "error: found no matching overload for '_||_' applied to '(bool, int)'"],
    ['codes.all(c, c + 1)', "error: found no matching overload for '_&&_' applied to '(bool, int)'"],
    // a comprehension variable named like a prefix shadows the flat variables
    ['[{"ip": 1}].exists(src, src.ip == 1)', 'bool'],
    ['[{"ip": 1}].map(src, src.ip)', 'list(int)'],
    ['questions.exists(src, src.size() > 0)', 'bool'],
    ['questions.exists(q, codes.exists(q, q > 1))', 'bool'],
    ['questions.exists(q, codes.exists(c, q == "a" && c > 1))', 'bool'],
    ['questions.exists(q, q) || q', "error: found no matching overload for '_||_' applied to '(bool, string)'"],
    ['codes.exists(c, true) && c > 1', "error: undeclared reference to 'c' (did you mean 'ts'?)"],
    ['codes.map(c, c > 1 , c)', 'list(int)'],
  ]);
});

test('logic, comparison and equality operators', () => {
  T([
    ['http && true', 'bool'], ['http || anything', 'bool'], ['!http', 'bool'], ['!anything', 'bool'],
    ['http && 1', "error: found no matching overload for '_&&_' applied to '(bool, int)'"],
    ['method || http', "error: found no matching overload for '_||_' applied to '(string, bool)'"],
    ['!method', "error: found no matching overload for '!_' applied to '(string)'"],
    ['-status_code', 'int'], ['-ratio', 'double'], ['-elapsed', 'duration'], ['-anything', 'dyn'],
    ['-port_u', "error: found no matching overload for '-_' applied to '(uint)'"],
    ['-method', "error: found no matching overload for '-_' applied to '(string)'"],
    ['http ? 1 : 2', 'int'], ['http ? anything : 2', 'int'], ['http ? [] : [1]', 'list(int)'],
    ['http ? 1 : "a"', "error: found no matching overload for '_?_:_' applied to '(bool, int, string)'"],
    ['method ? 1 : 2', "error: conditional expects bool, found 'string'"],
    ['anything ? 1 : 2', 'int'],
    ['status_code == 1', 'bool'], ['status_code != 1.0', 'bool'], ['status_code == 1u', 'bool'], ['ratio == port_u', 'bool'],
    ['method == null', 'bool'], ['null != labels', 'bool'], ['anything == 1', 'bool'], ['questions == ["a"]', 'bool'],
    ['method == 1', "error: found no matching overload for '_==_' applied to '(string, int)'"],
    ['questions != codes', "error: found no matching overload for '_!=_' applied to '(list(string), list(int))'"],
    ['status_code < 1', 'bool'], ['status_code <= 1.5', 'bool'], ['port_u > 1', 'bool'], ['ratio >= 1u', 'bool'],
    ['method < "b"', 'bool'], ['body > b"a"', 'bool'], ['http < false', 'bool'], ['ts < ts', 'bool'], ['elapsed > elapsed', 'bool'],
    ['anything < 1', 'bool'], ['method > anything', 'bool'],
    ['method < 1', "error: found no matching overload for '_<_' applied to '(string, int)'"],
    ['ts <= elapsed', "error: found no matching overload for '_<=_' applied to '(timestamp, duration)'"],
    ['questions < anything', "error: found no matching overload for '_<_' applied to '(list(string), dyn)'"],
    ['anything < labels', "error: found no matching overload for '_<_' applied to '(dyn, map(string, string))'"],
    ['questions < questions', "error: found no matching overload for '_<_' applied to '(list(string), list(string))'"],
    ['1 > labels', "error: found no matching overload for '_>_' applied to '(int, map(string, string))'"],
    ['null < null', "error: found no matching overload for '_<_' applied to '(null_type, null_type)'"],
  ]);
});

test('arithmetic', () => {
  T([
    ['status_code + 1', 'int'], ['port_u - 1u', 'uint'], ['ratio * 2.0', 'double'], ['status_code / 2', 'int'], ['status_code % 2', 'int'],
    ['port_u % 2u', 'uint'], ['anything + 1', 'dyn'], ['1 - anything', 'dyn'],
    ['ratio % 2.0', "error: found no matching overload for '_%_' applied to '(double, double)'"],
    ['status_code + 1.0', "error: found no matching overload for '_+_' applied to '(int, double)'"],
    ['status_code + port_u', "error: found no matching overload for '_+_' applied to '(int, uint)'"],
    ['method + "x"', 'string'], ['body + b"x"', 'bytes'], ['elapsed + elapsed', 'duration'], ['ts + elapsed', 'timestamp'], ['elapsed + ts', 'timestamp'],
    ['questions + ["a"]', 'list(string)'], ['[] + codes', 'list(int)'], ['questions + codes', 'list(dyn)'],
    ['method - "x"', "error: found no matching overload for '_-_' applied to '(string, string)'"],
    ['method + elapsed', "error: found no matching overload for '_+_' applied to '(string, duration)'"],
    ['elapsed + method', "error: found no matching overload for '_+_' applied to '(duration, string)'"],
    ['questions + 1', "error: found no matching overload for '_+_' applied to '(list(string), int)'"],
    ['1 + questions', "error: found no matching overload for '_+_' applied to '(int, list(string))'"],
    ['ts - method', "error: found no matching overload for '_-_' applied to '(timestamp, string)'"],
    ['method - elapsed', "error: found no matching overload for '_-_' applied to '(string, duration)'"],
    ['ts + ts', "error: found no matching overload for '_+_' applied to '(timestamp, timestamp)'"],
    ['http + http', "error: found no matching overload for '_+_' applied to '(bool, bool)'"],
    ['labels + labels', "error: found no matching overload for '_+_' applied to '(map(string, string), map(string, string))'"],
    ['ts - ts', 'duration'], ['ts - elapsed', 'timestamp'], ['elapsed - elapsed', 'duration'],
    ['elapsed - ts', "error: found no matching overload for '_-_' applied to '(duration, timestamp)'"],
    ['questions - questions', "error: found no matching overload for '_-_' applied to '(list(string), list(string))'"],
    ['method * 2', "error: found no matching overload for '_*_' applied to '(string, int)'"],
    ['elapsed * 2', "error: found no matching overload for '_*_' applied to '(duration, int)'"],
  ]);
});

test('indexing, membership, size and map_get', () => {
  T([
    ['questions[0]', 'string'], ['codes[1u]', 'int'], ['anything[0]', 'dyn'], ['labels["a"]', 'string'], ['by_port[80]', 'string'],
    ['labels[anything]', 'string'], ['questions[anything]', 'string'],
    ['questions["a"]', "error: found no matching overload for '_[_]' applied to '(list(string), string)'"],
    ['labels[1]', "error: found no matching overload for '_[_]' applied to '(map(string, string), int)'"],
    ['method[0]', "error: found no matching overload for '_[_]' applied to '(string, int)'"],
    ['"a" in questions', 'bool'], ['1 in codes', 'bool'], ['1.0 in codes', 'bool'], ['1u in codes', 'bool'], ['"a" in labels', 'bool'],
    ['80 in by_port', 'bool'], ['1 in anything', 'bool'], ['anything in questions', 'bool'],
    ['1 in questions', "error: found no matching overload for '@in' applied to '(int, list(string))'"],
    ['"a" in by_port', "error: found no matching overload for '@in' applied to '(string, map(int, string))'"],
    ['"a" in method', "error: found no matching overload for '@in' applied to '(string, string)'"],
    ['size(method)', 'int'], ['method.size()', 'int'], ['size(body)', 'int'], ['questions.size()', 'int'], ['size(labels)', 'int'], ['size(anything)', 'int'],
    ['size(status_code)', "error: found no matching overload for 'size' applied to '(int)'"],
    ['method.size(1)', "error: found no matching overload for 'string.size' applied to '(string, int)'"],
    ['size()', "error: found no matching overload for 'size' applied to '()'"],
    ['map_get(labels, "a", "")', 'string'], ['map_get(anything, "a", 1)', 'int'], ['map_get(by_port, 1, "x")', 'string'],
    ['map_get(labels, 1, "")', "error: found no matching overload for 'map_get' applied to '(map(string, string), int, string)'"],
    ['map_get(labels, "a", 1)', "error: found no matching overload for 'map_get' applied to '(map(string, string), string, int)'"],
    ['map_get(anything, "a")', "error: found no matching overload for 'map_get' applied to '(dyn, string)'"],
    ['labels.map_get(labels, "a", "")', "error: found no matching overload for 'map(string, string).map_get' applied to '(map(string, string), map(string, string), string, string)'"],
    ['map_get(labels, "a")', "error: found no matching overload for 'map_get' applied to '(map(string, string), string)'"],
    ['map_get(method, "a", "")', "error: found no matching overload for 'map_get' applied to '(string, string, string)'"],
    ['labels.map_get("a", "")', "error: found no matching overload for 'map(string, string).map_get' applied to '(map(string, string), string, string)'"],
  ]);
});

test('conversions, time, string tests and unknown functions', () => {
  T([
    ['now()', 'timestamp'], ['timestamp("2024-01-01T00:00:00Z")', 'timestamp'], ['timestamp(1)', 'timestamp'], ['timestamp(ts)', 'timestamp'],
    ['timestamp(anything)', 'timestamp'], ['duration("1s")', 'duration'], ['duration(elapsed)', 'duration'], ['duration(anything)', 'duration'],
    ['now(1)', "error: found no matching overload for 'now' applied to '(int)'"],
    ['ts.now()', "error: found no matching overload for 'timestamp.now' applied to '(timestamp)'"],
    ['timestamp(1.5)', "error: found no matching overload for 'timestamp' applied to '(double)'"],
    ['timestamp()', "error: found no matching overload for 'timestamp' applied to '()'"],
    ['duration(1)', "error: found no matching overload for 'duration' applied to '(int)'"],
    ['duration("1s", "2s")', "error: found no matching overload for 'duration' applied to '(string, string)'"],
    ['int("1")', 'int'], ['uint(1)', 'uint'], ['double(1)', 'double'], ['string(1)', 'string'], ['bytes("a")', 'bytes'], ['bool("true")', 'bool'],
    ['dyn(1)', 'dyn'], ['type(1)', 'type'],
    ['int(1, 2)', "error: found no matching overload for 'int' applied to '(int, int)'"],
    ['method.string()', "error: found no matching overload for 'string.string' applied to '(string)'"],
    ['method.string(1)', "error: found no matching overload for 'string.string' applied to '(string, int)'"],
    ['method.dyn(1)', "error: found no matching overload for 'string.dyn' applied to '(string, int)'"],
    ['method.type(1)', "error: found no matching overload for 'string.type' applied to '(string, int)'"],
    ['method.timestamp("x")', "error: found no matching overload for 'string.timestamp' applied to '(string, string)'"],
    ['method.duration("1s")', "error: found no matching overload for 'string.duration' applied to '(string, string)'"],
    ['dyn()', "error: found no matching overload for 'dyn' applied to '()'"],
    ['type(1, 2)', "error: found no matching overload for 'type' applied to '(int, int)'"],
    ['method.contains("a")', 'bool'], ['method.startsWith("a")', 'bool'], ['method.endsWith(anything)', 'bool'], ['method.matches("a+")', 'bool'],
    ['matches(method, "a")', 'bool'], ['anything.contains("a")', 'bool'],
    ['method.contains(1)', "error: found no matching overload for 'string.contains' applied to '(string, int)'"],
    ['body.contains("a")', "error: found no matching overload for 'bytes.contains' applied to '(bytes, string)'"],
    ['method.contains("a", "b")', "error: found no matching overload for 'string.contains' applied to '(string, string, string)'"],
    ['method.contains()', "error: found no matching overload for 'string.contains' applied to '(string)'"],
    ['matches(method)', "error: found no matching overload for 'matches' applied to '(string)'"],
    ['ts.getHours()', 'int'], ['ts.getDayOfWeek("UTC")', 'int'], ['anything.getFullYear()', 'int'], ['elapsed.getSeconds()', 'int'], ['ts.getMonth()', 'int'], ['ts.getDayOfYear()', 'int'],
    ['ts.getDayOfMonth()', 'int'], ['ts.getDate()', 'int'], ['ts.getMinutes("UTC")', 'int'], ['ts.getSeconds()', 'int'], ['ts.getMilliseconds()', 'int'],
    ['elapsed.getMilliseconds()', 'int'], ['elapsed.getMinutes()', 'int'], ['elapsed.getHours()', 'int'],
    ['ts.getHours(1)', "error: found no matching overload for 'timestamp.getHours' applied to '(timestamp, int)'"],
    ['ts.getHours("UTC", "x")', "error: found no matching overload for 'timestamp.getHours' applied to '(timestamp, string, string)'"],
    ['elapsed.getFullYear()', "error: found no matching overload for 'duration.getFullYear' applied to '(duration)'"],
    ['elapsed.getHours("UTC")', "error: found no matching overload for 'duration.getHours' applied to '(duration, string)'"],
    ['method.getHours()', "error: found no matching overload for 'string.getHours' applied to '(string)'"],
    ['getHours(ts)', "error: undeclared reference to 'getHours'"],
    ['foo(1)', "error: undeclared reference to 'foo'"],
    ['method.foo()', "error: undeclared reference to method 'foo' on 'string'"],
    ['questions.foo(1)', "error: undeclared reference to method 'foo' on 'list(string)'"],
    ['pkg.Msg{a: 1}', "error: message construction ('pkg.Msg{…}') is not supported in KFL2"],
  ]);
});

test('onVariable: each declared variable read, not comprehension variables or unknown names', () => {
  const readBy = (src: string) => {
    const read = new Set<string>();
    try {
      checkExpr(parse(src).expr, { variables: VARS, onVariable: (n) => read.add(n) });
    } catch { /* the names read before the error still count */ }
    return [...read].sort();
  };
  assert.deepEqual(readBy('http && src.ip == "a" && request.headers.host == "h"'), ['http', 'request.headers', 'src.ip']);
  assert.deepEqual(readBy('questions.exists(q, q == method)'), ['method', 'questions']);
  assert.deepEqual(readBy('[{"ip": 1}].exists(src, src.ip == 1)'), []);
  assert.deepEqual(readBy('codes.exists(status_code, status_code > 1)'), ['codes']);
  assert.deepEqual(readBy('labels.app == "x"'), ['labels']);
  assert.deepEqual(readBy('zzz == 1'), []);
  // checkExpr works without the callback
  assert.equal(show(checkExpr(parse('src.ip == "a"').expr, { variables: VARS })), 'bool');
  assert.equal(show(checkExpr(parse('http').expr, { variables: VARS })), 'bool');
});
