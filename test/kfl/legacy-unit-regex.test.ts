// Unit tests of legacy KFL's regex layer (server/kfl/legacy/regex.ts): RE2 decides what is valid,
// translateRe2 turns RE2 spellings into a JS RegExp (flags, \A \z, \Q…\E, \p{…}, \x{…}, POSIX
// classes, named groups) or refuses what JS cannot do the same way, and compileRe2 runs the
// translation, or RE2 itself for patterns that could backtrack. RE2 is the oracle throughout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RE2JS } from '@bufbuild/re2';
import { RegexError, compileRe2, translateRe2 } from '../../server/kfl/legacy/regex';

test('translateRe2: the JS spelling of each RE2 construct', () => {
  const table: [string, string, string][] = [
    ['abc', 'abc', ''], ['(?i)abc', 'abc', 'i'], ['(?ism)a', 'a', 'ism'], ['(?ii)a', 'a', 'i'], ['(?sm)^a', '^a', 'sm'],
    ['\\Aab\\z', '^ab$', ''], ['\\Qa.b*\\E+', 'a\\.b\\*+', ''], ['\\Q(x)', '\\(x\\)', ''], ['x\\Q\\E', 'x', ''],
    ['\\pL', '\\p{L}', 'u'], ['\\pN+', '\\p{N}+', 'u'], ['\\p{Lu}', '\\p{Lu}', 'u'], ['\\p{Greek}', '\\p{Script=Greek}', 'u'],
    ['\\P{Greek}', '\\P{Script=Greek}', 'u'], ['\\p{^Greek}', '\\P{Script=Greek}', 'u'], ['\\P{^L}', '\\p{L}', 'u'],
    ['\\p{Any}', '\\p{Any}', 'u'], ['(?i)\\p{Han}x', '\\p{Script=Han}x', 'iu'],
    ['\\x{41}b', '\\u{41}b', 'u'], ['\\x{1F600}', '\\u{1F600}', 'u'], ['\\x41', '\\x41', ''],
    ['\\a', '\\x07', ''], ['\\d\\w\\s\\b', '\\d\\w\\s\\b', ''], ['\\.\\*\\/\\$', '\\.\\*\\/\\$', ''],
    ['a\\-b', 'a-b', ''], ['\\#\\!\\~', '#!~', ''], ['[\\-a]', '[\\-a]', ''], ['[a\\.]', '[a\\.]', ''], ['[\\#]', '[#]', ''],
    ['[[:alpha:]]', '[A-Za-z]', ''], ['[[:digit:][:upper:]_]', '[0-9A-Z_]', ''], ['[^[:space:]]', '[^\\t\\n\\v\\f\\r ]', ''],
    ['[[:xdigit:]]', '[0-9A-Fa-f]', ''], ['[a[b]', '[a\\[b]', ''], ['[]a]', '[\\]a]', ''], ['[^]a]', '[^\\]a]', ''], ['[^a]', '[^a]', ''],
    ['[a]]', '[a]]', ''], ['[\\]]x', '[\\]]x', ''], ['[\\z]', '[\\z]', ''], ['[\\A]', '[\\A]', ''],
    ['(?P<name>a)', '(?<name>a)', ''], ['(?<n>a)', '(?<n>a)', ''], ['(?:a|b)', '(?:a|b)', ''], ['a(b)c', 'a(b)c', ''],
  ];
  for (const [src, source, flags] of table) assert.deepEqual(translateRe2(src), { source, flags }, src);
});

test('translateRe2 refuses what JS cannot match the same way', () => {
  const table: [string, RegExp][] = [
    ['(?U)a', /the ungreedy flag \(\?U\) has no JavaScript equivalent/], ['(?x)a', /invalid or unsupported Perl syntax: `\(\?x`/],
    ['(?iU)a', /ungreedy/], ['a\\', /trailing backslash at end of expression/], ['\\p1', /invalid character class range: `\\p1`/],
    ['\\p{', /invalid character class range: `\\p\{`/], ['\\1', /invalid escape sequence: `\\1` \(RE2 has no backreferences\)/],
    ['(a)\\9', /`\\9`/], ['\\C', /invalid escape sequence: `\\C`/], ['\\u0041', /invalid escape sequence: `\\u`/], ['\\U', /`\\U`/],
    ['\\k<a>', /`\\k`/], ['\\cA', /`\\c`/], ['[[:^alpha:]]', /negated POSIX class \[:\^alpha:\] is not supported here/],
    ['(?=a)', /invalid or unsupported Perl syntax: `\(\?=` \(RE2 has no lookaround\)/], ['(?!a)', /`\(\?!`.*lookaround/],
    ['(?<=a)b', /`\(\?<`.*lookaround/], ['(?<!a)b', /`\(\?<`.*lookaround/],
    ['a(?i)b', /inline flags are only supported at the start of the pattern/], ['a(?i:b)', /inline flags/], ['(?-i:b)', /inline flags/],
    ['(?#c)', /invalid or unsupported Perl syntax: `\(\?#`/], ['a(?', /invalid or unsupported Perl syntax: `\(\?`/],
  ];
  for (const [src, re] of table) {
    assert.throws(() => translateRe2(src), (e: unknown) => e instanceof RegexError && re.test(e.message), src);
  }
});

test('compileRe2: RE2 decides validity, with RE2\'s message', () => {
  for (const [src, re] of [['(', /^missing closing \): `\(`$/], ['a**', /invalid nested repetition operator/], ['[z-a]', /invalid character class range/], ['(?=a)', /invalid or unsupported Perl syntax/], ['\\1', /invalid escape sequence/]] as const) {
    assert.throws(() => compileRe2(src), (e: unknown) => e instanceof RegexError && re.test(e.message) && !/error parsing regexp/.test(e.message), src);
  }
});

test('compileRe2: a JS RegExp when the translation is exact, RE2 for risky or untranslatable patterns', () => {
  for (const src of ['abc', '(?i)abc', '^a.*z$', '\\p{Greek}x', '[[:digit:]]+x', '(?P<y>\\d{4})-\\d\\d', 'a+b*c?', 'x{2,3}', '(a|b)c']) {
    assert.ok(compileRe2(src) instanceof RegExp, src);
  }
  for (const src of ['(a+)+b', '(ab)*', '(a|b)?c', '(x){2}', 'a+?*', '(?U)a+', 'a(?i)b', '\\Ca', '[[:^alpha:]]']) {
    let m;
    try {
      m = compileRe2(src);
    } catch {
      continue; // RE2 refused it too
    }
    assert.ok(!(m instanceof RegExp), src);
  }
  assert.ok(!(compileRe2('(?U)a+') instanceof RegExp));
  assert.ok(!(compileRe2('(a+)+b') instanceof RegExp));
});

test('compileRe2 matches exactly what RE2 matches', () => {
  const patterns = [
    'abc', '(?i)abc', '(?s)a.b', '(?m)^b$', 'a.b', '\\Aab', 'ab\\z', '\\Qa.b\\E', '\\pL+', '\\P{Greek}', '\\p{^Greek}', '\\p{Greek}',
    '\\x{3b1}', '\\x41', '\\a', '[[:alpha:]]+', '[[:punct:]]', '[^[:digit:]]', '[[:space:]]', '[[:word:]]+', '[[:print:]]', '[[:graph:]]',
    '[[:cntrl:]]', '[[:blank:]]', '[[:lower:]][[:upper:]]', '[[:ascii:]]', '[]a]', '[^]a]', '[a[b]', '\\#', 'a\\-b', '[\\-z]', '(?P<n>\\d+)x',
    '(?:ab)+', '(a+)+b', 'x{2}', '\\d\\.\\d', '^$', 'a|b', '\\bword\\b', '[\\]]', '\\/', '(?i)\\p{Lu}',
  ];
  const strings = [
    '', 'abc', 'ABC', 'aBc', 'a\nb', 'a.b', 'axb', 'ab', 'xab', 'abx', 'α', 'αβγ', 'A', 'a', '\x07', ']', '[', 'b', 'a-b', 'ab-',
    '#', '12x', 'x', 'xx', '1.2', 'word', 'a word!', '/', ' ', '\t', '\x01', 'É', 'aaaab', 'abab', 'z', '-', '~', 'Aa', 'aA', '\x7F', 'é',
  ];
  for (const p of patterns) {
    const re2 = RE2JS.compile(p), ours = compileRe2(p);
    for (const s of strings) assert.equal(ours.test(s), re2.test(s), `${p} on ${JSON.stringify(s)}`);
  }
});
