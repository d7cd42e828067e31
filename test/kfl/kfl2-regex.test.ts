import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RE2JS } from '@bufbuild/re2';
import { compileRegex, requiredLiteral } from '../../server/kfl/kfl2/regex';

test('required literals: found where certain, null where not', () => {
  const table: [string, string | null][] = [
    ['^/api/v[0-9]+/users/', '/users/'], ['.*/api/v[0-9]+/.*', '/api/v'], ['users', 'users'], ['\\.json$', '.json'],
    ['ab?cd', 'cd'], ['ab*cd', 'cd'], ['ab+cd', 'ab'], ['x{2}yz', 'yz'], ['a{0,3}bcd', 'bcd'], ['foo(bar)?baz', 'foo'],
    ['g(?:o|a)ogle', 'ogle'], ['[abc]def', 'def'], ['\\d+ms', 'ms'], ['\\pLabc', 'abc'], ['\\p{Greek}xyz', 'xyz'],
    ['(?i)LOGIN$', null], ['ab(?i)cd', null], ['a|bcd', null], ['\\x41bc', null], ['hello{', null], ['a', null], ['[[:alpha:]]+', null],
  ];
  for (const [p, want] of table) assert.equal(requiredLiteral(p), want, p);
});

test('compileRegex agrees with RE2 on generated strings (the literal prefilter never rejects a match)', () => {
  // pattern → a string it matches; test strings are random text around it, or it mutated
  const patterns: Record<string, string> = {
    '^/api/v[0-9]+/users/': '/api/v12/users/', '.*/api/v[0-9]+/.*': 'x/api/v3/y', 'ab?cd': 'acd', 'ab+cd': 'abbcd', 'x{2}yz': 'xxyz',
    'foo(bar)?baz': 'foobaz', 'g(?:o|a)ogle': 'gaogle', '\\.json$': 'a.json', '[abc]def': 'bdef', '\\d+ms': '15ms', 'a{0,3}bcd': 'aabcd',
    '^(ab)+c$': 'ababc', 'b\\.c': 'b.c', '(?i)ABc': 'abC', 'c[^d]e': 'cxe', 'é+f': 'ééf', 'users/\\d*$': 'users/42',
  };
  const alphabet = ['a', 'b', 'c', 'd', 'e', 'f', 'x', 'y', '/', '.', '0', '9', 'é', 'A', 's', 'm'];
  let seed = 11;
  const rnd = (k: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) % k;
  const noise = () => Array.from({ length: rnd(4) }, () => alphabet[rnd(alphabet.length)]).join('');
  let matches = 0, misses = 0;
  for (const [p, example] of Object.entries(patterns)) {
    const re = RE2JS.compile(p), ours = compileRegex(p), lit = requiredLiteral(p);
    assert.ok(re.test(example), `${p} should match ${example}`);
    for (let n = 0; n < 2000; n++) {
      let s = example;
      const k = rnd(3);
      if (k === 0) s = noise() + s + noise();
      else if (k === 1) { const i = rnd(s.length); s = s.slice(0, i) + (rnd(2) ? alphabet[rnd(alphabet.length)] : '') + s.slice(i + 1); }
      else s = noise() + noise();
      const want = re.test(s);
      if (want) matches++; else misses++;
      assert.equal(ours.test(s), want, `${p} on ${JSON.stringify(s)}`);
      if (want && lit !== null) assert.ok(s.includes(lit));
    }
  }
  assert.ok(matches > 5000 && misses > 5000, `matched ${matches}, missed ${misses}`);
  assert.throws(() => compileRegex('('), /missing closing \)/);
  assert.throws(() => compileRegex('a(?=b)'), /./); // lookahead is not RE2
});
