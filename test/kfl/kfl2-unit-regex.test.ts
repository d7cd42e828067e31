// Unit tests of requiredLiteral (server/kfl/kfl2/regex.ts) on the parts of a pattern it has to
// step over without taking a literal from them: character classes (a leading `]` or `^]`,
// escapes, POSIX classes), groups (nesting, a `)` inside a class or escaped), \p{…} and \P{…},
// and counted quantifiers. Every answer is also checked against RE2 itself: a match of the
// pattern must contain the literal (the prefilter never rejects a real match).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RE2JS } from '@bufbuild/re2';
import { compileRegex, requiredLiteral } from '../../server/kfl/kfl2/regex';

// pattern, the literal, and strings the pattern matches
const TABLE: [string, string | null, string[]][] = [
  // classes: what is inside is not literal text
  ['[]ab]cd', 'cd', [']cd', 'acd', 'bcd']],
  ['[^]ab]cd', 'cd', ['xcd', 'zcd']],
  ['[a\\]bc]de', 'de', ['ade', ']de', 'bde', 'cde']],
  ['[[:alpha:]xy]zw', 'zw', ['qzw', 'xzw', 'yzw']],
  ['[[:digit:]]+ab', 'ab', ['12ab']],
  ['[a:b]cd', 'cd', ['acd', ':cd']], // a ':' that opens no POSIX class
  ['[[a]bc]de', 'bc', ['[bc]de', 'abc]de']], // a '[' inside a class; the ']' after bc is literal in RE2
  ['[abc', null, []], // unterminated: RE2 refuses it, no literal claimed
  ['[[:alpha]xy', null, []], // a POSIX class never closed
  // groups: skipped whole, nested, with a `)` that does not close them
  ['(a[)]bcd)ef', 'ef', ['a)bcdef']],
  ['(a\\)bcd)ef', 'ef', ['a)bcdef']],
  ['(a(bcd)e)fg', 'fg', ['abcdefg']],
  ['(a(b)cde)fg', 'fg', ['abcdefg']],
  ['(x|y(z))ab(c)', 'ab', ['xabc', 'yzabc']],
  ['(abc', null, []],
  ['(a[b)c', null, []],
  // Unicode classes, both cases, braced or one letter
  ['\\PLabc', 'abc', ['1abc']],
  ['\\P{Greek}xyz', 'xyz', ['axyz']],
  ['\\p{Greek}+xyz', 'xyz', ['αβxyz']],
  // counted quantifiers: {n} with n ≥ 1 keeps the character required, {0…} does not
  ['ab{12}cd', 'ab', ['a' + 'b'.repeat(12) + 'cd']],
  ['ab{1,23}cd', 'ab', ['abbcd']],
  ['ab{0}cd', 'cd', ['acd']],
  ['xab{0,2}cde', 'cde', ['xacde', 'xabbcde']],
  ['ab{2,}?cd', 'ab', ['abbcd']],
  ['ab+?cd', 'ab', ['abcd', 'abbbcd']],
];

test('requiredLiteral steps over classes, groups, \\p{…} and counted quantifiers', () => {
  for (const [p, want] of TABLE) assert.equal(requiredLiteral(p), want, p);
});

test('every example matches its pattern in RE2 and contains the literal; compileRegex agrees', () => {
  for (const [p, lit, examples] of TABLE) {
    let re: RE2JS;
    try {
      re = RE2JS.compile(p);
    } catch {
      assert.equal(examples.length, 0, `${p} is refused by RE2 but has examples`);
      assert.throws(() => compileRegex(p));
      continue;
    }
    const ours = compileRegex(p);
    for (const s of examples) {
      assert.ok(re.test(s), `${p} should match ${s}`);
      assert.ok(ours.test(s), `compileRegex(${p}) on ${s}`);
      if (lit !== null) assert.ok(s.includes(lit), `${s} lacks ${lit}`);
    }
    // a string without the literal is rejected by both
    if (lit !== null) assert.equal(ours.test(examples[0].replace(lit, '')), false, p);
  }
});
