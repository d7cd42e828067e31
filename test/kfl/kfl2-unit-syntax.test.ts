// Unit tests of KFL2's syntax-error explanations (server/kfl/kfl2/syntax.ts): string literals
// that never close (r/b prefixes, escapes, triple quotes, comments), then the message and offset
// given for a parser error at a given offset: brackets first, then the token found there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainSyntaxError, unterminatedString } from '../../server/kfl/kfl2/syntax';

test('unterminatedString: the offset of a literal that never closes, prefix included', () => {
  const table: [string, number | null][] = [
    ['', null], ['http', null], ['a == "abc"', null], ["a == 'abc'", null], ['"" + \'\'', null],
    ['a == "abc', 5], ["'abc", 0], ['"a" + "b', 6], ['"a" + \'b"', 6], ['"a""b', 3], ['"a"\'b', 3],
    ['r"abc', 0], ['x + rb"q', 4], ["bR'x", 0], ['B"x', 0],
    ['"a\\"b"', null], ['"a\\"', 0], ['"ab\\', 0], ['r"a\\"', null], ['R"a\\"', null], ['b"a\\"', 0], ['x == "a\\"b" || true', null],
    ['"a\nb"', 0], ["'a\nb'", 0], ['"""a\nb"""', null], ['"""a"b"""', null], ["'''x''y'''", null], ["'''abc''", 0], ['"""ab""', 0],
    ['a // "never', null], ['a // x\n"b', 7], ['a // x\n"b"', null], ['"//" + "x', 7], ['a / "b', 4],
  ];
  for (const [s, want] of table) assert.equal(unterminatedString(s), want, JSON.stringify(s));
});

const explain = (s: string, offset: number, raw = 'found x') => explainSyntaxError(s, offset, raw);

test('brackets: the first stray closer, else the last opener left open', () => {
  assert.deepEqual(explain('a)', 1), { offset: 1, message: "unmatched ')'" });
  assert.deepEqual(explain('(a]', 0), { offset: 2, message: "unmatched ']'" });
  assert.deepEqual(explain('{a: 1}}', 0), { offset: 6, message: "unmatched '}'" });
  assert.deepEqual(explain('[a)', 0), { offset: 2, message: "unmatched ')'" });
  assert.deepEqual(explain('a) b]', 0), { offset: 1, message: "unmatched ')'" });
  assert.deepEqual(explain('(a) ]', 0), { offset: 4, message: "unmatched ']'" });
  assert.deepEqual(explain('(a [b', 0), { offset: 3, message: "'[' is never closed" });
  assert.deepEqual(explain('{', 0), { offset: 0, message: "'{' is never closed" });
  assert.deepEqual(explain('((a) (b)', 0), { offset: 0, message: "'(' is never closed" });
  // brackets inside strings and comments do not count
  assert.deepEqual(explain('"(" == a b', 9, 'found b'), { offset: 9, message: "unexpected 'b' (found b)" });
  assert.deepEqual(explain("a b // (", 2, 'found b'), { offset: 2, message: "unexpected 'b' (found b)" });
  assert.deepEqual(explain("r'\\' + ')' b", 11, 'found b'), { offset: 11, message: "unexpected 'b' (found b)" });
});

test('a stack overflow in the parser is a query nested too deeply', () => {
  assert.deepEqual(explain('((((a', 4, 'Maximum call stack size exceeded'), { offset: 0, message: 'the query is nested too deeply' });
  assert.deepEqual(explain('a b', 2, 'RangeError: Call Stack'), { offset: 0, message: 'the query is nested too deeply' });
});

test('the token at the offset: control characters, end of query, legacy habits, lone operators', () => {
  assert.deepEqual(explain('a \u0007 b', 2), { offset: 2, message: 'unexpected character U+0007' });
  assert.deepEqual(explain('a \u200b', 2), { offset: 2, message: 'unexpected character U+200B' });
  assert.deepEqual(explain('a ==', 4), { offset: 4, message: 'unexpected end of query' });
  assert.deepEqual(explain('a   ', 2), { offset: 2, message: 'unexpected end of query' });
  assert.deepEqual(explain('a and b', 2), { offset: 2, message: "unexpected 'and': KFL2 writes '&&' (is this a legacy KFL query?)" });
  assert.deepEqual(explain('a or b', 2), { offset: 2, message: "unexpected 'or': KFL2 writes '||' (is this a legacy KFL query?)" });
  assert.deepEqual(explain('a = 1', 2), { offset: 2, message: "'=' is not an operator: use '=='" });
  assert.deepEqual(explain('a === 1', 2), { offset: 2, message: "'===' is not an operator: use '=='" });
  assert.deepEqual(explain('a !== 1', 2), { offset: 2, message: "'!==' is not an operator: use '!='" });
  for (const op of ['&&', '||', '==', '!=', '<', '<=', '>', '>=']) {
    assert.deepEqual(explain(`a ${op}`, 2), { offset: 2, message: `'${op}' needs an expression after it` }, op);
    assert.deepEqual(explain(`a ${op}  \n `, 2), { offset: 2, message: `'${op}' needs an expression after it` }, op);
  }
  // with something after it, the operator is not missing its operand
  assert.deepEqual(explain('a && b', 2, 'found &&'), { offset: 2, message: "unexpected '&&' (found &&)" });
  assert.deepEqual(explain('a ==! b', 2, 'r'), { offset: 2, message: "unexpected '==!' (r)" });
  assert.deepEqual(explain('a & b', 2), { offset: 2, message: "'&' is not an operator: use '&&'" });
  assert.deepEqual(explain('a | b', 2), { offset: 2, message: "'|' is not an operator: use '||'" });
  assert.deepEqual(explain('a &', 2), { offset: 2, message: "'&' is not an operator: use '&&'" });
  assert.deepEqual(explain('a.', 1), { offset: 1, message: "'.' needs a field or function name after it" });
  assert.deepEqual(explain('a.1a', 1), { offset: 1, message: "'.' needs a field or function name after it" });
  assert.deepEqual(explain('[a] b', 4, 'r'), { offset: 4, message: "unexpected 'b' (r)" });
  assert.deepEqual(explain('a.1', 1), { offset: 1, message: "'.' needs a field or function name after it" });
  assert.deepEqual(explain('a . b c', 2, 'r'), { offset: 2, message: "unexpected '.' (r)" });
  assert.deepEqual(explain('a ._b c', 2, 'r'), { offset: 2, message: "unexpected '.' (r)" });
  assert.deepEqual(explain('a foo_1 b', 2, 'r'), { offset: 2, message: "unexpected 'foo_1' (r)" });
  assert.deepEqual(explain('a andy', 2, 'r'), { offset: 2, message: "unexpected 'andy' (r)" });
  assert.deepEqual(explain('a 😀', 2, 'r'), { offset: 2, message: "unexpected '😀' (r)" });
});

test('the parser message is quoted only when short and not "expecting end of input"', () => {
  const at = (raw: string) => explain('1 2', 2, raw).message;
  assert.equal(at('x'.repeat(79)), `unexpected '2' (${'x'.repeat(79)})`);
  assert.equal(at('x'.repeat(80)), "unexpected '2'");
  assert.equal(at('found 2 but expecting end of input'), "unexpected '2'");
  assert.equal(at(''), "unexpected '2' ()");
});
