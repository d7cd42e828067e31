// Legacy KFL's lints (server/kfl/legacy/lint.ts), unit level (issue #13 mutation testing): each
// quirk's warning with its range and fix (one line or spanning lines), and the terms that must
// not warn. A row: [query, [[line, col, endCol, the message's first 50 characters, fix]]], fix =
// [line, col, endCol, text] or null. The messages' full texts are pinned in legacy-lint.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lintLegacy } from '../../server/kfl/legacy/lint';

type Row = [number, number, number, string, [number, number, number, string] | null];
const CASES: [string, Row[]][] = [
    ["response.status == OK", [[1, 20, 22, "OK is read as a field name (missing, so this is fa", [1, 20, 22, "\"OK\""]]]],
    ["response.status == OK and\nhttp", [[1, 20, 22, "OK is read as a field name (missing, so this is fa", [1, 20, 22, "\"OK\""]]]],
    ["x == Ab_1", [[1, 6, 10, "Ab_1 is read as a field name (missing, so this is ", [1, 6, 10, "\"Ab_1\""]]]],
    ["x == aB", []],
    ["x == \"OK\"", []],
    ["x == OK.y", []],
    ["x == OK(1)", [[1, 6, 8, "unknown helper \"OK\": this term is always false (he", null]]],
    ["request.headers.* == r\"abc\"", [[1, 1, 28, "\"request.headers.*\" gives a list when several valu", null], [1, 22, 28, "regex r\"abc\" has no anchors, so it matches any val", [1, 22, 28, "r\"^abc$\""]]]],
    ["r\"abc\" == request.path..x", [[1, 1, 26, "\"request.path..x\" gives a list when several values", null], [1, 1, 7, "regex r\"abc\" has no anchors, so it matches any val", [1, 1, 7, "r\"^abc$\""]]]],
    ["request.path == r\"abc\"", [[1, 17, 23, "regex r\"abc\" has no anchors, so it matches any val", [1, 17, 23, "r\"^abc$\""]]]],
    ["r\"abc\" == request.path", [[1, 1, 7, "regex r\"abc\" has no anchors, so it matches any val", [1, 1, 7, "r\"^abc$\""]]]],
    ["request.path == r\"ab*\"", [[1, 17, 23, "regex r\"ab*\": \"*\" repeats the character before it ", [1, 17, 23, "r\"^ab\""]]]],
    ["request.path == r\"4.*\"", [[1, 17, 23, "regex r\"4.*\" is unanchored: it matches anywhere in", [1, 17, 23, "r\"^4.*\""]]]],
    ["request.path == r\"^abc\"", []],
    ["request.path == r\"(?i)abc\"", []],
    ["request.path == r\"a.c\"", []],
    ["request.path == r\"v1.+\"", [[1, 17, 24, "regex r\"v1.+\" is unanchored: it matches anywhere i", [1, 17, 24, "r\"^v1.+\""]]]],
    ["http and dns or grpc", [[1, 1, 21, "\"and\" and \"or\" have no precedence in KFL and group", [1, 1, 21, "http and (dns or grpc)"]]]],
    ["http or dns and grpc", [[1, 1, 21, "\"and\" and \"or\" have no precedence in KFL and group", [1, 1, 21, "http or (dns and grpc)"]]]],
    ["http and\n  dns or grpc", [[1, 1, 2, "\"and\" and \"or\" have no precedence in KFL and group", [1, 1, 2, "http and (dns or grpc)"]]]],
    ["(http and dns) or grpc", []],
    ["response.status > 400 or tcp", [[1, 1, 22, "if response.status is missing (e.g. on an item of ", [1, 1, 22, "(response.status > 400)"]]]],
    ["response.status > 400 or response.status < 200", []],
    ["(response.status > 400) or tcp", []],
    ["a == 1 or b == 2 or a == 3", [[1, 1, 7, "if a is missing (e.g. on an item of another protoc", [1, 1, 7, "(a == 1)"]], [1, 11, 17, "if b is missing (e.g. on an item of another protoc", [1, 11, 17, "(b == 2)"]], [1, 21, 27, "if a is missing (e.g. on an item of another protoc", [1, 21, 27, "(a == 3)"]]]],
    ["!a or b", [[1, 1, 3, "if a is missing (e.g. on an item of another protoc", [1, 1, 3, "(!a)"]], [1, 7, 8, "if b is missing (e.g. on an item of another protoc", [1, 7, 8, "(b)"]]]],
    ["a.json() == 1 or b", [[1, 18, 19, "if b is missing (e.g. on an item of another protoc", [1, 18, 19, "(b)"]]]],
    ["x == null", [[1, 6, 10, "\"null\" is read as a field name (missing, so the co", [1, 6, 10, "nil"]]]],
    ["x == undefined", [[1, 6, 15, "\"undefined\" is read as a field name (missing, so t", [1, 6, 15, "nil"]]]],
    ["null", [[1, 1, 5, "\"null\" is read as a field name (missing, so the co", [1, 1, 5, "nil"]]]],
    ["x == nil", []],
    ["not(http)", [[1, 1, 4, "\"not\" is not an operator in legacy KFL: not(…) cal", [1, 1, 4, "!"]]]],
    ["foo(1) == 2", [[1, 1, 4, "unknown helper \"foo\": this term is always false (h", null]]],
    ["startsWith(request.path) == true", [[1, 12, 24, "helper arguments are not evaluated against the ite", null]]],
    ["startsWith(\"a\")", []],
    ["x.startsWith(request.path)", [[1, 14, 26, "helper arguments are not evaluated against the ite", null]]],
    ["x.startsWith(r\"a\")", [[1, 14, 18, "helper arguments are not evaluated against the ite", null]]],
    ["x == 'a'", [[1, 6, 9, "single-quoted text keeps its quotes in KFL ('a' is", [1, 6, 9, "\"a\""]]]],
    ["x == `a`", [[1, 6, 9, "backquoted text keeps its quotes in KFL (`a` is co", [1, 6, 9, "\"a\""]]]],
    ["x == 'a\"b'", [[1, 6, 11, "single-quoted text keeps its quotes in KFL ('a\"b' ", null]]],
    ["x == `a\nb`", [[1, 6, 7, "backquoted text keeps its quotes in KFL (`a\nb` is ", null]]],
    ["request.body.json()[0].a == 1", [[1, 20, 23, "after json(), \"[0]\" followed by \".\" is dropped: wh", null]]],
    ["request.body.json().a == 1", []],
    ["request.headers.httpx == 1", []],
    ["httpx", []],
    ["a.httpx.b == 1", []],
    ["http && dns", [[1, 6, 8, "\"&&\" is not legacy KFL; write \"and\".", [1, 6, 8, "and"]]]],
    ["a === 1 || b !== 2", [[1, 3, 6, "\"===\" is not legacy KFL; write \"==\".", [1, 3, 6, "=="]], [1, 9, 11, "\"||\" is not legacy KFL; write \"or\".", [1, 9, 11, "or"]], [1, 14, 17, "\"!==\" is not legacy KFL; write \"!=\".", [1, 14, 17, "!="]]]],
    ["a===\"&&\"", [[1, 2, 5, "\"===\" is not legacy KFL; write \"==\".", [1, 2, 5, "=="]]]],
    ["\"&&\" &&x", [[1, 6, 8, "\"&&\" is not legacy KFL; write \"and\".", [1, 6, 8, "and "]]]],
    ["x&&y", [[1, 2, 4, "\"&&\" is not legacy KFL; write \"and\".", [1, 2, 4, " and "]]]],
    ["request.path.x == 1 and http", []],
    // Terms from a macro's expansion have no place in the source: no warning on them.
    ["http or dns", []],
    ["tcp or udp", []],
    ["x == 1 or http", [[1, 1, 7, "if x is missing (e.g. on an item of another protoc", [1, 1, 7, "(x == 1)"]]]],
    ["http or x == 1", [[1, 9, 15, "if x is missing (e.g. on an item of another protoc", [1, 9, 15, "(x == 1)"]]]],
];

test('lint: each quirk at its place, with its fix, and nothing on the terms that are fine', () => {
  for (const [q, want] of CASES) {
    const got = lintLegacy(q).map((l): Row => [l.line, l.col, l.endCol, l.message.slice(0, 50), l.fix ? [l.fix.line, l.fix.col, l.fix.endCol, l.fix.text] : null]);
    assert.deepEqual(got, want, q);
  }
});

test('lint: a warning spanning lines ends one column after its start; its fix range likewise', () => {
  const [l] = lintLegacy('http and\n  dns or grpc');
  assert.deepEqual([l.line, l.col, l.endCol, l.fix], [1, 1, 2, { line: 1, col: 1, endCol: 2, text: 'http and (dns or grpc)' }]);
  const [b] = lintLegacy('x == `a\nb`');
  assert.deepEqual([b.line, b.col, b.endCol, b.fix], [1, 6, 7, undefined]);
});
