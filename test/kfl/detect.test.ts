// Query language detection (server/kfl/detect.ts): every rule, its near misses and the reason
// shown to the user, pinned case by case (written after Stryker showed the rules unpinned: the
// facade tests reached only a few of them). Reasons and rules: docs/kfl2.md ("Detection").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectLanguage } from '../../server/kfl/detect';
import { VARIABLES } from '../../server/kfl/kfl2/variables';
import { QueryError, compileQuery, validateQuery } from '../../server/kfl/index';

const NONE = 'no language-specific syntax: both languages read this query alike; KFL2 is the default';
const AND_OR = '`&&`/`||` are KFL2 operators (legacy KFL writes `and`/`or`)';
const KFL_AND_OR = '`and`/`or` are legacy KFL operators (KFL2 writes `&&`/`||`)';

const CASES: [string, 'kfl' | 'kfl2', string][] = [
  ["http && status_code == 200", "kfl2", "`&&`/`||` are KFL2 operators (legacy KFL writes `and`/`or`)"],
  ["a || b", "kfl2", "`&&`/`||` are KFL2 operators (legacy KFL writes `and`/`or`)"],
  ["x in [1,2]", "kfl2", "`in` is a KFL2 operator"],
  ["x.in [1]", "kfl2", "no language-specific syntax: both languages read this query alike; KFL2 is the default"],
  ["index in [1]", "kfl2", "`in` is a KFL2 operator"],
  ["(x)in [1]", "kfl2", "`in` is a KFL2 operator"],
  ["path.matches(\"a\")", "kfl2", "CEL functions/macros (`.matches(`, `.exists(`, …) are KFL2"],
  ["headers.exists(h, true)", "kfl2", "CEL functions/macros (`.matches(`, `.exists(`, …) are KFL2"],
  ["l.all(x, x)", "kfl2", "CEL functions/macros (`.matches(`, `.exists(`, …) are KFL2"],
  ["l.filter (x, x)", "kfl2", "CEL functions/macros (`.matches(`, `.exists(`, …) are KFL2"],
  ["size(x) > 1", "kfl2", "CEL functions (`size(`, `map_get(`, `duration(`, …) are KFL2"],
  ["map_get(m, \"k\")", "kfl2", "CEL functions (`size(`, `map_get(`, `duration(`, …) are KFL2"],
  ["timestamp(\"x\")", "kfl2", "CEL functions (`size(`, `map_get(`, `duration(`, …) are KFL2"],
  ["a ? b : c", "kfl2", "the `?:` conditional is KFL2"],
  ["x == null", "kfl2", "`null` is CEL (legacy KFL writes `nil`)"],
  ["http and response.status == 200", "kfl", "`and`/`or` are legacy KFL operators (KFL2 writes `&&`/`||`)"],
  ["a or b", "kfl", "`and`/`or` are legacy KFL operators (KFL2 writes `&&`/`||`)"],
  ["(a)and(b)", "kfl2", "no language-specific syntax: both languages read this query alike; KFL2 is the default"],
  ["a and.b", "kfl2", "no language-specific syntax: both languages read this query alike; KFL2 is the default"],
  ["android", "kfl2", "no language-specific syntax: both languages read this query alike; KFL2 is the default"],
  ["order", "kfl2", "no language-specific syntax: both languages read this query alike; KFL2 is the default"],
  ["request.body.json()", "kfl", "`.json()`/`.xml()` body access is legacy KFL only"],
  ["x.xml ()", "kfl", "`.json()`/`.xml()` body access is legacy KFL only"],
  ["datetime(\"x\")", "kfl", "legacy KFL helpers (`datetime(`, `limit(`, `redact(`, …)"],
  ["limit(3)", "kfl", "legacy KFL helpers (`datetime(`, `limit(`, `redact(`, …)"],
  ["redact(\"a\")", "kfl", "legacy KFL helpers (`datetime(`, `limit(`, `redact(`, …)"],
  ["weeks(2)", "kfl", "legacy KFL helpers (`datetime(`, `limit(`, `redact(`, …)"],
  ["request.path == \"/\"", "kfl", "`request.…`/`response.…` item paths are legacy KFL (KFL2 has flat names such as `status_code`)"],
  ["request.headers[\"a\"] == \"b\"", "kfl2", "no language-specific syntax: both languages read this query alike; KFL2 is the default"],
  ["response.cookies[\"a\"] == \"b\"", "kfl2", "no language-specific syntax: both languages read this query alike; KFL2 is the default"],
  ["response.status == 1", "kfl", "`request.…`/`response.…` item paths are legacy KFL (KFL2 has flat names such as `status_code`)"],
  ["xrequest.path == 1", "kfl2", "no language-specific syntax: both languages read this query alike; KFL2 is the default"],
  ["protocol.abbr == \"HTTP\"", "kfl", "item field paths (`protocol.abbr`, `elapsedTime`, …) are legacy KFL"],
  ["node.name == \"x\"", "kfl", "item field paths (`protocol.abbr`, `elapsedTime`, …) are legacy KFL"],
  ["elapsedTime > 1", "kfl", "item field paths (`protocol.abbr`, `elapsedTime`, …) are legacy KFL"],
  ["requestSize > 1", "kfl", "item field paths (`protocol.abbr`, `elapsedTime`, …) are legacy KFL"],
  ["responseSize > 1", "kfl", "item field paths (`protocol.abbr`, `elapsedTime`, …) are legacy KFL"],
  ["startTime > 1", "kfl", "item field paths (`protocol.abbr`, `elapsedTime`, …) are legacy KFL"],
  ["entryFile == \"\"", "kfl", "item field paths (`protocol.abbr`, `elapsedTime`, …) are legacy KFL"],
  ["elapsedTimes > 1", "kfl2", "no language-specific syntax: both languages read this query alike; KFL2 is the default"],
  ["x == nil", "kfl", "`nil` is legacy KFL (CEL writes `null`)"],
  ["request.headers.*", "kfl", "`.*` wildcards are legacy KFL"],
  ["status_code == 200", "kfl2", "`status_code` is a KFL2 variable"],
  ["x.status_code == 1", "kfl2", "no language-specific syntax: both languages read this query alike; KFL2 is the default"],
  ["status_code(1)", "kfl2", "no language-specific syntax: both languages read this query alike; KFL2 is the default"],
  ["\"a && b\"", "kfl2", "no language-specific syntax: both languages read this query alike; KFL2 is the default"],
  ["\"and\" == x", "kfl2", "no language-specific syntax: both languages read this query alike; KFL2 is the default"],
  ["'&&' == x", "kfl2", "no language-specific syntax: both languages read this query alike; KFL2 is the default"],
  ["\"\"\"a && b\"\"\" == x", "kfl2", "no language-specific syntax: both languages read this query alike; KFL2 is the default"],
  ["`a && b` == x", "kfl2", "no language-specific syntax: both languages read this query alike; KFL2 is the default"],
  ["\"a\\\" && b\" == x", "kfl2", "no language-specific syntax: both languages read this query alike; KFL2 is the default"],
  ["", "kfl2", "empty query: matches everything in both languages"],
  ["  ", "kfl2", "empty query: matches everything in both languages"],
  ["http", "kfl2", "no language-specific syntax: both languages read this query alike; KFL2 is the default"],
  ["x.size(a)", "kfl2", "no language-specific syntax: both languages read this query alike; KFL2 is the default"],
  ["mysize(x)", "kfl2", "no language-specific syntax: both languages read this query alike; KFL2 is the default"],
  ["a && b and c or d", "kfl2", "mixed syntax (`&&`/`||` are KFL2 operators (legacy KFL writes `and`/`or`); but `and`/`or` are legacy KFL operators (KFL2 writes `&&`/`||`)); KFL2 has more signals"],
  ["a && request.path == nil and b", "kfl", "mixed syntax (`&&`/`||` are KFL2 operators (legacy KFL writes `and`/`or`); but `and`/`or` are legacy KFL operators (KFL2 writes `&&`/`||`)); legacy KFL has more signals"],
  ["request.path == r\"x\" and y", "kfl", "`and`/`or` are legacy KFL operators (KFL2 writes `&&`/`||`)"],
  ["x == \"unterminated", "kfl2", "no language-specific syntax: both languages read this query alike; KFL2 is the default"],
  ["nilly", "kfl2", "no language-specific syntax: both languages read this query alike; KFL2 is the default"],
  ["xnull", "kfl2", "no language-specific syntax: both languages read this query alike; KFL2 is the default"],
  ["request.path == r\"\"", "kfl", "`r\"…\"` regex comparisons are legacy KFL (KFL2 writes `.matches(\"…\")`)"],
  ["x.abs(1)", "kfl2", "no language-specific syntax: both languages read this query alike; KFL2 is the default"],
];

test('detection: each rule, its near misses, strings ignored, mixed queries by count of signals', () => {
  for (const [q, language, reason] of CASES) assert.deepEqual(detectLanguage(q), { language, reason }, JSON.stringify(q));
  // The ones a reader checks first, spelled out.
  assert.deepEqual(detectLanguage('a || b'), { language: 'kfl2', reason: AND_OR });
  assert.deepEqual(detectLanguage('a or b'), { language: 'kfl', reason: KFL_AND_OR });
  assert.deepEqual(detectLanguage('android'), { language: 'kfl2', reason: NONE });
  assert.equal(detectLanguage('a && request.path == nil and b').language, 'kfl');
  assert.equal(detectLanguage('a && b and c').language, 'kfl2', 'a tie goes to KFL2');
});


test('detection: boundaries of each rule (second mutation round): start of query, spacing, look-alike names, strings', () => {
  const RX = '`r"…"` regex comparisons are legacy KFL (KFL2 writes `.matches("…")`)';
  const PATHS = 'item field paths (`protocol.abbr`, `elapsedTime`, …) are legacy KFL';
  const cases: [string, 'kfl' | 'kfl2', string][] = [
    ['in [1]', 'kfl2', '`in` is a KFL2 operator'],
    ['x in  [1]', 'kfl2', '`in` is a KFL2 operator'],
    ['or x', 'kfl', KFL_AND_OR],
    ['sizes(x)', 'kfl2', NONE],
    ['limits(3)', 'kfl2', NONE],
    ['foo ==r"a"', 'kfl', RX],
    ['r"a"==foo', 'kfl', RX],
    ['r"a"  == foo', 'kfl', RX],
    ['r"a" <= foo', 'kfl2', NONE],
    ['xr"a" == foo', 'kfl2', NONE],
    ['protocol.abbr', 'kfl', PATHS],
    ['myprotocol.abbr', 'kfl2', NONE],
    ['elapsedTime > 1', 'kfl', PATHS],
    ['xelapsedTime > 1', 'kfl2', NONE],
    // Strings say nothing, however they are written: triple-quoted with quotes inside, raw
    // single-quoted (CEL), and unterminated (the user is still typing).
    ['x == """a " and " b"""', 'kfl2', NONE],
    ["x == '''a ' && ' b'''", 'kfl2', NONE],
    ["x == r'a'", 'kfl2', NONE],
    ['x == "a and b', 'kfl2', NONE],
    ["x == 'a and b", 'kfl2', NONE],
  ];
  for (const [q, language, reason] of cases) assert.deepEqual(detectLanguage(q), { language, reason }, q);
});

test('detection: a bare item field that is also a KFL2 variable says nothing about the language', () => {
  // Legacy KFL reads these item fields at the top level too (docs/kfl2.md, "Detection").
  for (const name of ['id', 'index', 'stream', 'worker', 'protocol', 'timestamp']) {
    assert.ok(name in VARIABLES, `${name} is a KFL2 variable`);
    assert.deepEqual(detectLanguage(name), { language: 'kfl2', reason: NONE }, name);
  }
  assert.deepEqual(detectLanguage('status_code'), { language: 'kfl2', reason: '`status_code` is a KFL2 variable' });
});

test('facade: an explicit language wins over detection; blank is the empty query in both; auto falls back to the language that compiles', () => {
  // Detected as legacy KFL, forced to KFL2 (and back): compiled in the language asked for.
  assert.throws(() => compileQuery('a or b', 'kfl2'), QueryError);
  assert.equal(compileQuery('a or b', 'kfl').language, 'kfl');
  assert.equal(validateQuery('a or b', 'kfl2').language, 'kfl2');
  assert.ok(validateQuery('a or b', 'kfl2').error instanceof QueryError);
  assert.equal(compileQuery('http', 'kfl').language, 'kfl');
  // Blank, whatever the language: matches everything, no error, no lints.
  for (const lang of [undefined, 'auto', 'kfl', 'kfl2'] as const) {
    const c = compileQuery('  \t', lang);
    assert.equal(c.language, lang === 'kfl' ? 'kfl' : 'kfl2');
    assert.equal(c.match({} as never), true);
    assert.deepEqual(validateQuery(' ', lang), { language: lang === 'kfl' ? 'kfl' : 'kfl2', error: null, lints: [] });
  }
  // Detected KFL2 (no signals), compiles only as legacy KFL: legacy wins.
  assert.equal(compileQuery('x == 1').language, 'kfl');
  assert.equal(validateQuery('status_code == 200 and http').language, 'kfl');
  // Compiles in neither: the detected language, with its error.
  const v = validateQuery('response.status == 200 && http');
  assert.equal(v.language, 'kfl2');
  assert.ok(v.error instanceof QueryError);
  assert.throws(() => compileQuery('response.status == 200 && http'), QueryError);
});
