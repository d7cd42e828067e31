import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as oniguruma from 'vscode-oniguruma';
import * as vsctm from 'vscode-textmate';
import { VARIABLES } from '../../server/kfl/kfl2/variables';
import { LEGACY_MACROS } from '../../server/kfl/legacy/index';

// A real TextMate tokenizer (the one VS Code uses) over our grammars.
const ROOT = resolve('.'); // tests run from the repository root
const FILES: Record<string, string> = {
  'source.kfl': join(ROOT, 'syntaxes', 'kfl.tmLanguage.json'),
  'source.kfl2': join(ROOT, 'syntaxes', 'kfl2.tmLanguage.json'),
  'kfl.injection': join(ROOT, 'syntaxes', 'kfl-injection.tmLanguage.json'),
  'source.js': join(ROOT, 'test', 'syntaxes', 'fixtures', 'javascript.tmLanguage.json'),
};

let registry: vsctm.Registry | undefined;
async function grammar(scope: string): Promise<vsctm.IGrammar> {
  if (!registry) {
    const wasm = readFileSync(join(ROOT, 'node_modules', 'vscode-oniguruma', 'release', 'onig.wasm'));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    registry = new vsctm.Registry({
      onigLib: Promise.resolve({
        createOnigScanner: (p: string[]) => new oniguruma.OnigScanner(p),
        createOnigString: (s: string) => new oniguruma.OnigString(s),
      }),
      loadGrammar: async (s) => (FILES[s] ? vsctm.parseRawGrammar(readFileSync(FILES[s], 'utf8'), FILES[s]) : null),
      getInjections: (s) => (s === 'source.js' ? ['kfl.injection'] : undefined),
    });
  }
  const g = await registry.loadGrammar(scope);
  assert.ok(g, scope);
  return g;
}

/** [text, scopes] per token over the lines of `src`. */
async function tokens(scope: string, src: string): Promise<[string, string[]][]> {
  const g = await grammar(scope);
  let stack = vsctm.INITIAL;
  const out: [string, string[]][] = [];
  for (const line of src.split('\n')) {
    const r = g.tokenizeLine(line, stack);
    for (const t of r.tokens) out.push([line.slice(t.startIndex, t.endIndex), t.scopes]);
    stack = r.ruleStack;
  }
  return out;
}

/** Scopes of the first token whose text is `text` (after `after` tokens of it). */
function scopesOf(toks: [string, string[]][], text: string, nth = 0): string[] {
  const hits = toks.filter(([t]) => t === text);
  assert.ok(hits[nth], `no token ${JSON.stringify(text)} in ${JSON.stringify(toks.map(([t]) => t))}`);
  return hits[nth][1];
}
const has = (scopes: string[], prefix: string) => scopes.some((s) => s.startsWith(prefix));

test('legacy KFL grammar: keywords, macros, strings, regex, helpers, selectors, operators', async () => {
  const t = await tokens('source.kfl', 'http and response.status == r"^4\\d\\d$" or !dns and request.headers["User-Agent"].startsWith("curl") and x == nil and limit(10) and 1.5 > -2 and response.answers.*.name == true');
  assert.ok(has(scopesOf(t, 'http'), 'support.constant.macro.kfl'));
  assert.ok(has(scopesOf(t, 'dns'), 'support.constant.macro.kfl'));
  assert.ok(has(scopesOf(t, 'and'), 'keyword.operator.logical.kfl'));
  assert.ok(has(scopesOf(t, 'or'), 'keyword.operator.logical.kfl'));
  assert.ok(has(scopesOf(t, 'r'), 'storage.type.string.regexp.kfl'));
  assert.ok(has(scopesOf(t, '\\d'), 'constant.character.escape.regexp.kfl'));
  assert.ok(has(scopesOf(t, '^'), 'string.regexp.kfl'));
  assert.ok(has(scopesOf(t, 'User-Agent'), 'string.quoted.double.kfl'));
  assert.ok(has(scopesOf(t, 'startsWith'), 'support.function.kfl'));
  assert.ok(has(scopesOf(t, 'limit'), 'support.function.kfl'));
  assert.ok(has(scopesOf(t, 'response'), 'variable.other.kfl'));
  assert.ok(has(scopesOf(t, 'status'), 'variable.other.property.kfl'));
  assert.ok(has(scopesOf(t, '=='), 'keyword.operator.comparison.kfl'));
  assert.ok(has(scopesOf(t, '!'), 'keyword.operator.logical.kfl'));
  assert.ok(has(scopesOf(t, '['), 'punctuation.section.brackets.begin.kfl'));
  assert.ok(has(scopesOf(t, 'nil'), 'constant.language.null.kfl'));
  assert.ok(has(scopesOf(t, 'true'), 'constant.language.boolean.kfl'));
  assert.ok(has(scopesOf(t, '1.5'), 'constant.numeric.kfl'));
  assert.ok(has(scopesOf(t, '*'), 'keyword.operator.wildcard.kfl'));
  // a path segment named like a macro is not a macro; KFL2 operators are flagged
  const u = await tokens('source.kfl', 'request.dns == 1 && x');
  assert.ok(has(scopesOf(u, 'dns'), 'variable.other.property.kfl'));
  assert.ok(has(scopesOf(u, '&&'), 'invalid.illegal.operator.kfl'));
});

test('legacy KFL grammar knows every legacy macro', async () => {
  for (const name of Object.keys(LEGACY_MACROS)) {
    const t = await tokens('source.kfl', `${name} and x`);
    assert.ok(has(scopesOf(t, name), 'support.constant.macro.kfl'), name);
  }
});

test('KFL2 grammar: CEL operators, macros, strings, numbers, variables, map_get', async () => {
  const t = await tokens('source.kfl2', [
    'http && status_code >= 400 || !dns // failures',
    '"a.b" in dns_questions && url.matches(r"^/api/v\\d+") && b\'\\x00\' != b""',
    'tlsx_cipher_suites.exists(s, s.contains("RC4")) ? 0x1Fu : 42u',
    'map_get(request.headers, "content-type", "") == \'\'\'x\'\'\' && size(src.ip) > 1.5e3 && src.pod.name == null',
  ].join('\n'));
  assert.ok(has(scopesOf(t, 'http'), 'support.constant.protocol.kfl2'));
  assert.ok(has(scopesOf(t, '&&'), 'keyword.operator.logical.kfl2'));
  assert.ok(has(scopesOf(t, '||'), 'keyword.operator.logical.kfl2'));
  assert.ok(has(scopesOf(t, '!'), 'keyword.operator.logical.kfl2'));
  assert.ok(has(scopesOf(t, 'status_code'), 'support.variable.kfl2'));
  assert.ok(has(scopesOf(t, '400'), 'constant.numeric.integer.kfl2'));
  assert.ok(has(scopesOf(t, '// failures'), 'comment.line.double-slash.kfl2'));
  assert.ok(has(scopesOf(t, 'in'), 'keyword.operator.in.kfl2'));
  assert.ok(has(scopesOf(t, 'dns_questions'), 'support.variable.kfl2'));
  assert.ok(has(scopesOf(t, 'matches'), 'support.function.kfl2'));
  assert.ok(has(scopesOf(t, 'r'), 'storage.type.string.kfl2'));
  assert.ok(has(scopesOf(t, '^/api/v\\d+'), 'string.quoted.double.raw.kfl2')); // raw: \d is no escape
  assert.ok(has(scopesOf(t, '\\x00'), 'constant.character.escape.kfl2'));
  assert.ok(has(scopesOf(t, 'b', 1), 'storage.type.string.kfl2'));
  assert.ok(has(scopesOf(t, 'exists'), 'support.function.macro.kfl2'));
  assert.ok(has(scopesOf(t, 'contains'), 'support.function.kfl2'));
  assert.ok(has(scopesOf(t, '?'), 'keyword.operator.ternary.kfl2'));
  assert.ok(has(scopesOf(t, '0x1Fu'), 'constant.numeric.hex.kfl2'));
  assert.ok(has(scopesOf(t, '42u'), 'constant.numeric.integer.unsigned.kfl2'));
  assert.ok(has(scopesOf(t, 'map_get'), 'support.function.kfl2'));
  assert.ok(has(scopesOf(t, 'request.headers'), 'support.variable.kfl2'));
  assert.ok(has(scopesOf(t, 'x'), 'string.quoted.triple.kfl2'));
  assert.ok(has(scopesOf(t, '1.5e3'), 'constant.numeric.float.kfl2'));
  assert.ok(has(scopesOf(t, 'src.ip'), 'support.variable.kfl2'));
  assert.ok(has(scopesOf(t, 'src.pod.name'), 'support.variable.kfl2'));
  assert.ok(has(scopesOf(t, 'null'), 'constant.language.null.kfl2'));
  // a multi-line triple-quoted string stays a string on the next line
  const m = await tokens('source.kfl2', 'path == """a\nb and c""" && http');
  assert.ok(has(scopesOf(m, 'b and c'), 'string.quoted.triple.kfl2'));
  assert.ok(has(scopesOf(m, 'http'), 'support.constant.protocol.kfl2'));
});

test('KFL2 grammar highlights every declared KFL2 variable', async () => {
  for (const name of Object.keys(VARIABLES)) {
    const t = await tokens('source.kfl2', `${name} == x`);
    assert.equal(t[0][0], name, name);
    assert.ok(has(t[0][1], 'support.'), `${name}: ${t[0][1].join(' ')}`);
  }
});

test('injection: legacy KFL inside the first string argument of kfl.match/kfl.validate only', async () => {
  const src = [
    'if (kfl.match("http and response.status == r\\"5.*\\"", data)) {}',
    "const ok = kfl.validate('dns or http');",
    'kfl.match(`http and request.path == "/x"`, data);',
    'kfl.match(`http and ${x}`, data);',
    'console.log("http and dns");',
    '// kfl.match("http and dns")',
    'const s = "kfl.match(\'http and dns\')";',
  ].join('\n');
  const t = await tokens('source.js', src);
  // line 1: double-quoted, with \"…\" strings inside
  assert.ok(has(scopesOf(t, 'http', 0), 'support.constant.macro.kfl'));
  assert.ok(scopesOf(t, 'http', 0).includes('meta.embedded.kfl'));
  assert.ok(has(scopesOf(t, 'and', 0), 'keyword.operator.logical.kfl'));
  assert.ok(has(scopesOf(t, 'status', 0), 'variable.other.property.kfl'));
  assert.ok(has(scopesOf(t, 'r', 0), 'storage.type.string.regexp.kfl'));
  assert.ok(has(scopesOf(t, '5.*', 0), 'string.regexp.kfl'));
  assert.ok(has(scopesOf(t, '"', 0), 'string.quoted.double.js'));
  assert.ok(has(scopesOf(t, 'match', 0), 'entity.name.function.js'));
  // line 2: single-quoted, kfl.validate
  assert.ok(has(scopesOf(t, 'dns', 0), 'support.constant.macro.kfl'));
  assert.ok(has(scopesOf(t, 'or', 0), 'keyword.operator.logical.kfl'));
  // line 3: template literal without substitutions
  assert.ok(has(scopesOf(t, 'http', 2), 'support.constant.macro.kfl'));
  assert.ok(has(scopesOf(t, '/x', 0), 'string.quoted.double.kfl'));
  // line 4: with a substitution: left to the JS grammar
  assert.ok(!scopesOf(t, 'http and ', 0).includes('meta.embedded.kfl'));
  assert.ok(has(scopesOf(t, 'http and ', 0), 'string.template.js'));
  // lines 5-7: other strings, comments, a string that mentions kfl.match: not KFL
  const plain = t.filter(([text]) => text.includes('http and dns'));
  assert.equal(plain.length, 3);
  for (const [, scopes] of plain) assert.ok(!scopes.includes('meta.embedded.kfl'), scopes.join(' '));
});

test('package.json contributes the kfl/kfl2 languages and the three grammars, consistently', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const langs = Object.fromEntries(pkg.contributes.languages.map((l: { id: string }) => [l.id, l]));
  assert.deepEqual(langs.kfl.extensions, ['.kfl']);
  assert.deepEqual(langs.kfl2.extensions, ['.kfl2']);
  for (const l of [langs.kfl, langs.kfl2]) {
    const conf = JSON.parse(readFileSync(join(ROOT, l.configuration), 'utf8'));
    assert.ok(conf.brackets.length >= 2 && conf.autoClosingPairs.some((p: { open: string }) => p.open === '"'), l.id);
  }
  for (const g of pkg.contributes.grammars) {
    const raw = JSON.parse(readFileSync(join(ROOT, g.path), 'utf8'));
    assert.equal(raw.scopeName, g.scopeName, g.path);
  }
  const inj = pkg.contributes.grammars.find((g: { scopeName: string }) => g.scopeName === 'kfl.injection');
  assert.ok(inj.injectTo.includes('source.js') && inj.injectTo.includes('source.ts'));
  assert.equal(inj.embeddedLanguages['meta.embedded.kfl'], 'kfl');
});
