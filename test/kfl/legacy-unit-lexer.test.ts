// Legacy KFL lexer, unit level (issue #13 mutation testing): token kinds, values and offsets,
// whitespace and comments, numbers, quoted literals and their escapes, and each LexError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lex, LexError } from '../../server/kfl/legacy/lexer';

const toks = (s: string) => lex(s).map((t) => [t.type, t.value, t.pos, t.end]);
const kinds = (s: string) => lex(s).map((t) => `${t.type}:${t.value}`);
function lexErr(s: string): { pos: number; text: string } {
  try {
    lex(s);
  } catch (e) {
    assert.ok(e instanceof LexError, `not a LexError: ${e}`);
    assert.equal(e.message, e.text);
    return { pos: e.pos, text: e.text };
  }
  assert.fail(`no error for ${JSON.stringify(s)}`);
}

test('lexer: eof token and whitespace', () => {
  assert.deepEqual(toks(''), [['eof', '<EOF>', 0, 0]]);
  assert.deepEqual(toks(' \t\r\n'), [['eof', '<EOF>', 4, 4]]);
  assert.deepEqual(toks(' a\tb\nc\rd '), [
    ['ident', 'a', 1, 2], ['ident', 'b', 3, 4], ['ident', 'c', 5, 6], ['ident', 'd', 7, 8], ['eof', '<EOF>', 9, 9],
  ]);
  // Form feed and vertical tab are not Go whitespace: they are operator tokens.
  assert.deepEqual(kinds('\f\v'), ['op:\f', 'op:\v', 'eof:<EOF>']);
});

test('lexer: identifiers', () => {
  assert.deepEqual(toks('abc_Z9 _x Zz'), [
    ['ident', 'abc_Z9', 0, 6], ['ident', '_x', 7, 9], ['ident', 'Zz', 10, 12], ['eof', '<EOF>', 12, 12],
  ]);
  assert.deepEqual(kinds('aA zZ'), ['ident:aA', 'ident:zZ', 'eof:<EOF>']);
  assert.deepEqual(kinds('a0 a9'), ['ident:a0', 'ident:a9', 'eof:<EOF>']);
  // Unicode letters start and continue identifiers; Unicode digits only continue them.
  assert.deepEqual(kinds('héllo ñ'), ['ident:héllo', 'ident:ñ', 'eof:<EOF>']);
  assert.deepEqual(kinds('x٣'), ['ident:x٣', 'eof:<EOF>']);
  assert.deepEqual(kinds('٣'), ['op:٣', 'eof:<EOF>']);
  // Characters that sit between the ASCII letter ranges are operators.
  assert.deepEqual(kinds('a[b'), ['ident:a', 'op:[', 'ident:b', 'eof:<EOF>']);
  assert.deepEqual(kinds('@{'), ['op:@', 'op:{', 'eof:<EOF>']);
  assert.deepEqual(kinds('a.b'), ['ident:a', 'op:.', 'ident:b', 'eof:<EOF>']);
  assert.deepEqual(kinds('a-b'), ['ident:a', 'op:-', 'ident:b', 'eof:<EOF>']);
  // Non-letter non-ASCII characters are one operator token; astral characters are kept whole.
  assert.deepEqual(toks('€'), [['op', '€', 0, 1], ['eof', '<EOF>', 1, 1]]);
  assert.deepEqual(toks('😀x'), [['op', '😀', 0, 2], ['ident', 'x', 2, 3], ['eof', '<EOF>', 3, 3]]);
});

test('lexer: operators are single characters', () => {
  assert.deepEqual(toks('==!='), [
    ['op', '=', 0, 1], ['op', '=', 1, 2], ['op', '!', 2, 3], ['op', '=', 3, 4], ['eof', '<EOF>', 4, 4],
  ]);
  assert.deepEqual(kinds('a/b'), ['ident:a', 'op:/', 'ident:b', 'eof:<EOF>']);
  assert.deepEqual(kinds('/'), ['op:/', 'eof:<EOF>']);
  assert.deepEqual(kinds('.'), ['op:.', 'eof:<EOF>']);
  assert.deepEqual(kinds('.x'), ['op:.', 'ident:x', 'eof:<EOF>']);
});

test('lexer: comments are skipped', () => {
  assert.deepEqual(toks('a // b c\nd'), [['ident', 'a', 0, 1], ['ident', 'd', 9, 10], ['eof', '<EOF>', 10, 10]]);
  assert.deepEqual(toks('a // to the end'), [['ident', 'a', 0, 1], ['eof', '<EOF>', 15, 15]]);
  assert.deepEqual(toks('a /* b\n c */d'), [['ident', 'a', 0, 1], ['ident', 'd', 12, 13], ['eof', '<EOF>', 13, 13]]);
  assert.deepEqual(toks('/**/x'), [['ident', 'x', 4, 5], ['eof', '<EOF>', 5, 5]]);
  // "/*/" does not close itself.
  assert.deepEqual(lexErr('x /*/ y'), { pos: 2, text: 'comment not terminated' });
  assert.deepEqual(lexErr('/*'), { pos: 0, text: 'comment not terminated' });
});

test('lexer: numbers', () => {
  assert.deepEqual(toks('42 3.5 .5 1e3'), [
    ['int', '42', 0, 2], ['float', '3.5', 3, 6], ['float', '.5', 7, 9], ['float', '1e3', 10, 13], ['eof', '<EOF>', 13, 13],
  ]);
  assert.deepEqual(kinds('1_000 1. 1.2_3 2E+5 2e-5 7E9'), [
    'int:1_000', 'float:1.', 'float:1.2_3', 'float:2E+5', 'float:2e-5', 'float:7E9', 'eof:<EOF>',
  ]);
  assert.deepEqual(kinds('0x1F 0XaB_c 0b101 0B1 0o17 0O7'), [
    'int:0x1F', 'int:0XaB_c', 'int:0b101', 'int:0B1', 'int:0o17', 'int:0O7', 'eof:<EOF>',
  ]);
  // Hex digits include "e": 0x1e5 is an int, not a float.
  assert.deepEqual(kinds('0x1e5'), ['int:0x1e5', 'eof:<EOF>']);
  assert.deepEqual(kinds('0123 09'), ['int:0123', 'int:09', 'eof:<EOF>']);
  // A number stops at the first character that cannot continue it.
  assert.deepEqual(toks('12ab'), [['int', '12', 0, 2], ['ident', 'ab', 2, 4], ['eof', '<EOF>', 4, 4]]);
  assert.deepEqual(kinds('1.2.3'), ['float:1.2', 'float:.3', 'eof:<EOF>']);
  assert.deepEqual(kinds('1e5x'), ['float:1e5', 'ident:x', 'eof:<EOF>']);
  assert.deepEqual(lexErr('0xg'), { pos: 0, text: 'number has no digits' });
  assert.deepEqual(lexErr('0x'), { pos: 0, text: 'number has no digits' });
  assert.deepEqual(lexErr('a 0bz'), { pos: 2, text: 'number has no digits' });
  assert.deepEqual(lexErr('1e'), { pos: 0, text: 'exponent has no digits' });
  assert.deepEqual(lexErr('x 2.5e+'), { pos: 2, text: 'exponent has no digits' });
  assert.deepEqual(lexErr('3E-a'), { pos: 0, text: 'exponent has no digits' });
  assert.deepEqual(lexErr('3e_1'), { pos: 0, text: 'exponent has no digits' });
});

test('lexer: quoted literals kept raw', () => {
  assert.deepEqual(toks('"a b" \'c\' `d\ne`'), [
    ['string', '"a b"', 0, 5], ['char', "'c'", 6, 9], ['raw', '`d\ne`', 10, 15], ['eof', '<EOF>', 15, 15],
  ]);
  assert.deepEqual(toks('x=="y"'), [['ident', 'x', 0, 1], ['op', '=', 1, 2], ['op', '=', 2, 3], ['string', '"y"', 3, 6], ['eof', '<EOF>', 6, 6]]);
  // The other quote does not close.
  assert.deepEqual(kinds(`"it's" 'a"b'`), [`string:"it's"`, `char:'a"b'`, 'eof:<EOF>']);
  assert.deepEqual(kinds('"" ``'), ['string:""', 'raw:``', 'eof:<EOF>']);
  // Raw strings take no escapes.
  assert.deepEqual(kinds('`\\q`'), ['raw:`\\q`', 'eof:<EOF>']);
  assert.deepEqual(lexErr('`abc'), { pos: 0, text: 'literal not terminated' });
  assert.deepEqual(lexErr('x "abc'), { pos: 2, text: 'literal not terminated' });
  assert.deepEqual(lexErr("'abc"), { pos: 0, text: 'literal not terminated' });
  assert.deepEqual(lexErr('"a\nb"'), { pos: 0, text: 'literal not terminated' });
  // A backslash at the very end is an invalid escape first (as text/scanner reports it).
  assert.deepEqual(lexErr('"a\\'), { pos: 2, text: 'invalid char escape' });
});

test('lexer: escapes in quoted literals', () => {
  for (const e of ['a', 'b', 'f', 'n', 'r', 't', 'v', '\\']) {
    assert.deepEqual(kinds(`"\\${e}"`), [`string:"\\${e}"`, 'eof:<EOF>'], e);
  }
  assert.deepEqual(kinds('"\\""'), ['string:"\\""', 'eof:<EOF>']);
  assert.deepEqual(kinds("'\\''"), ["char:'\\''", 'eof:<EOF>']);
  // The other quote escaped is invalid.
  assert.deepEqual(lexErr(`"\\'"`), { pos: 1, text: 'invalid char escape' });
  assert.deepEqual(lexErr(`'\\"'`), { pos: 1, text: 'invalid char escape' });
  assert.deepEqual(kinds('"\\101\\0007\\777"'), ['string:"\\101\\0007\\777"', 'eof:<EOF>']);
  assert.deepEqual(kinds('"\\x4a\\xFf\\u00e9\\uABCD\\U0001F600"'), ['string:"\\x4a\\xFf\\u00e9\\uABCD\\U0001F600"', 'eof:<EOF>']);
  // An escape consumes exactly its digits; what follows is ordinary text.
  assert.deepEqual(kinds('"\\x41g\\1234"'), ['string:"\\x41g\\1234"', 'eof:<EOF>']);
  assert.deepEqual(lexErr('"\\q"'), { pos: 1, text: 'invalid char escape' });
  assert.deepEqual(lexErr('ab "cd\\8"'), { pos: 6, text: 'invalid char escape' });
  assert.deepEqual(lexErr('"\\12"'), { pos: 1, text: 'invalid char escape' });
  assert.deepEqual(lexErr('"\\18"'), { pos: 1, text: 'invalid char escape' });
  assert.deepEqual(lexErr('"\\x4"'), { pos: 1, text: 'invalid char escape' });
  assert.deepEqual(lexErr('"\\xg0"'), { pos: 1, text: 'invalid char escape' });
  assert.deepEqual(lexErr('"\\u12g4"'), { pos: 1, text: 'invalid char escape' });
  assert.deepEqual(lexErr('"\\u123"'), { pos: 1, text: 'invalid char escape' });
  assert.deepEqual(lexErr('"\\U0001F60"'), { pos: 1, text: 'invalid char escape' });
  assert.deepEqual(lexErr('"\\U0001F60z"'), { pos: 1, text: 'invalid char escape' });
  // A truncated escape at the end of the text.
  assert.deepEqual(lexErr('"\\x'), { pos: 1, text: 'invalid char escape' });
});
