// Legacy KFL's error reporting (server/kfl/legacy/prepare.ts), unit level (issue #13 mutation
// testing): positions mapped back from the macro-expanded text to the user's, and the hint
// appended for each common slip (KFL2 operators, `===`, `=`, `in`, `not`, `null`, a macro
// expanded inside a longer name, a non-Go string escape, nesting too deep).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QueryError } from '../../server/kfl/api';
import { compileLegacy } from '../../server/kfl/legacy/index';
import { lineCol } from '../../server/kfl/legacy/prepare';

const message = (q: string): string => {
  try {
    compileLegacy(q);
  } catch (e) {
    assert.ok(e instanceof QueryError, `${q}: a QueryError`);
    assert.equal(e.language, 'kfl');
    return e.message;
  }
  return 'ok';
};

const AND = ' — legacy KFL writes "and" ("&&" is KFL2)';
const OR = ' — legacy KFL writes "or" ("||" is KFL2)';
const NOT = ' — legacy KFL negates with "!" (e.g. !http)';
const EQ = ' — compare with "=="';
const macro = (m: string, word: string) => ` — the macro "${m}" was expanded inside "${word}" (macros are replaced as text, kubeshark-compat §8.7); write that field as a quoted key: ["${word}"]`;

test('prepare: lineCol counts lines up to the offset only', () => {
  const s = 'ab\ncd\n';
  assert.deepEqual([0, 2, 3, 5, 6].map((o) => lineCol(s, o)), [
    { line: 1, col: 1 }, { line: 1, col: 3 }, { line: 2, col: 1 }, { line: 2, col: 3 }, { line: 3, col: 1 },
  ]);
  assert.deepEqual(lineCol('ab', 2), { line: 1, col: 3 });
});

test('prepare: hints for the slips of KFL2 and JavaScript habits, at the right place', () => {
  const cases: [string, string][] = [
    ['http && dns', `1:6: unexpected token "&"${AND}`],
    ['http &&& dns', `1:6: unexpected token "&"${AND}`],
    ['http\nand && dns', `2:5: unexpected token "&"${AND}`],
    ['http || dns', `1:6: unexpected token "|"${OR}`],
    ['http ||| dns', `1:6: unexpected token "|"${OR}`],
    // A single & or | is only unexpected.
    ['http & dns', '1:6: unexpected token "&"'],
    ['http | dns', '1:6: unexpected token "|"'],
    ['http &', '1:6: unexpected token "&"'],
    ['a === b', '1:5: unexpected token "=" — "===" is not KFL; write "=="'],
    ['a !== b', '1:5: unexpected token "=" — "!==" is not KFL; write "!="'],
    ['response.status === 200', '1:19: unexpected token "=" — "===" is not KFL; write "=="'],
    // Spaced apart it is not "===": the third "=" is only unexpected.
    ['a == == b', '1:6: unexpected token "="'],
    ['a = b', `1:3: unexpected token "="${EQ}`],
    ['request.headers["a"] = "b"', `1:22: unexpected token "="${EQ}`],
    ['response.status == = 200', `1:20: unexpected token "="${EQ}`],
    ['a\n== =\nb', `2:4: unexpected token "="${EQ}`],
    ['= = =', '1:1: unexpected token "="'],
    ['x in y', '1:3: unexpected token "in" — legacy KFL has no "in": write x == "a" or x == "b", or x == r"^(a|b)$"'],
    ['http not dns', `1:6: unexpected token "not"${NOT}`],
    ['http not', `1:6: unexpected token "not"${NOT}`],
    ['not not', `1:5: unexpected token "not"${NOT}`],
    ['http null', '1:6: unexpected token "null" — legacy KFL writes nil'],
    ['http undefined', '1:6: unexpected token "undefined" — legacy KFL writes nil'],
    ['x == null y', '1:11: unexpected token "y"'],
    ['http and\n  (dns', '2:7: unexpected token "<EOF>"'],
    ['a == "x" and\n  b ==\n', '3:1: unexpected token "<EOF>"'],
    ['!', '1:2: unexpected token "<EOF>"'],
  ];
  for (const [q, want] of cases) assert.equal(message(q), want, q);
  // Valid: "not" and "null" are plain names here.
  for (const q of ['not', 'null', 'http and not', 'not == 1', 'a = = b']) assert.equal(message(q), 'ok', q);
});

test('prepare: a macro expanded inside a longer name is named, with the whole word', () => {
  const cases: [string, string][] = [
    ['httpfoo == 1', `1:5: unexpected token "foo"${macro('http', 'httpfoo')}`],
    ['dnsx', `1:4: unexpected token "x"${macro('dns', 'dnsx')}`],
    ['redis_ == 1', `1:6: unexpected token "_"${macro('redis', 'redis_')}`],
    ['request.dnsq == 1', `1:12: unexpected token "q"${macro('dns', 'dnsq')}`],
    ['request.xhttpy == 1', `1:14: unexpected token "y"${macro('http', 'xhttpy')}`],
    ['request.path.http_x == 1', `1:18: unexpected token "_x"${macro('http', 'http_x')}`],
    ['request.headers.ahttpb.c == 1', `1:22: unexpected token "b"${macro('http', 'ahttpb')}`],
    ['h.httpz.q == 1', `1:7: unexpected token "z"${macro('http', 'httpz')}`],
    ['http and grpcz', `1:14: unexpected token "z"${macro('grpc', 'grpcz')}`],
  ];
  for (const [q, want] of cases) assert.equal(message(q), want, q);
});

test('prepare: a non-Go escape in a string says which escapes KFL takes', () => {
  assert.equal(
    message('request.path == "\\d"'),
    '1:18: invalid char escape — KFL strings accept only Go escapes (\\a \\b \\f \\n \\r \\t \\v \\\\ \\" \\ooo \\xhh \\uhhhh) and keep them as typed; in a regex write [0-9] for \\d, [.] for \\., [A-Za-z0-9_] for \\w',
  );
});

test('prepare: nesting too deep for the parser or the compiler is one clear error', () => {
  for (const q of ['('.repeat(20000) + 'http' + ')'.repeat(20000), '!'.repeat(50000) + 'http', 'http and '.repeat(30000) + 'http']) {
    assert.equal(message(q), '1:1: query too deeply nested');
  }
});
