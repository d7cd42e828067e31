/**
 * Which query language a query is written in, from syntax only (no compile). Rules and the
 * reasons shown to the user are listed in docs/kfl2.md ("Detection").
 */
import type { QueryLanguage } from './api';
import { VARIABLES } from './kfl2/variables';

export interface Detection {
  language: QueryLanguage;
  reason: string;
}

// Item fields legacy KFL reads at the top level, and the protocol flags/macros both languages
// spell the same: neither says anything about the language.
const SHARED_NAMES = new Set([
  'id', 'index', 'stream', 'worker', 'node', 'protocol', 'tls', 'src', 'dst', 'outgoing', 'timestamp',
  'startTime', 'request', 'response', 'requestSize', 'responseSize', 'elapsedTime', 'passed', 'failed',
  'error', 'entryFile', 'true', 'false', 'r', 'b',
]);
const KFL2_ONLY_NAMES = new Set(
  Object.entries(VARIABLES)
    .filter(([name, def]) => !name.includes('.') && def.type !== 'bool' && !SHARED_NAMES.has(name))
    .map(([name]) => name),
);

interface Rule { re: RegExp; why: string }
const KFL2_RULES: Rule[] = [
  { re: /&&|\|\|/, why: '`&&`/`||` are KFL2 operators (legacy KFL writes `and`/`or`)' },
  { re: /(^|[^\w.])in\s+[\w[{(]/, why: '`in` is a KFL2 operator' },
  { re: /\.(matches|exists|exists_one|all|filter|map)\s*\(/, why: 'CEL functions/macros (`.matches(`, `.exists(`, …) are KFL2' },
  { re: /(^|[^\w.])(size|map_get|duration|timestamp|int|uint|double|string|has)\s*\(/, why: 'CEL functions (`size(`, `map_get(`, `duration(`, …) are KFL2' },
  { re: /\?[^:]*:/, why: 'the `?:` conditional is KFL2' },
  { re: /\b(null)\b/, why: '`null` is CEL (legacy KFL writes `nil`)' },
];
const KFL_RULES: Rule[] = [
  { re: /(^|[^\w.])(and|or)(?![\w.(])/, why: '`and`/`or` are legacy KFL operators (KFL2 writes `&&`/`||`)' },
  { re: /[=!]=\s*r""|(^|[^\w.])r""\s*[=!]=/, why: '`r"…"` regex comparisons are legacy KFL (KFL2 writes `.matches("…")`)' },
  { re: /\.(json|xml)\s*\(/, why: '`.json()`/`.xml()` body access is legacy KFL only' },
  { re: /(^|[^\w.])(datetime|limit|redact|seconds|minutes|hours|days|weeks|months|years)\s*\(/, why: 'legacy KFL helpers (`datetime(`, `limit(`, `redact(`, …)' },
  { re: /(^|[^\w.])(request|response)\.(?!headers\b|cookies\b)\w/, why: '`request.…`/`response.…` item paths are legacy KFL (KFL2 has flat names such as `status_code`)' },
  { re: /(^|[^\w.])(protocol|node)\.\w|(^|[^\w.])(elapsedTime|requestSize|responseSize|startTime|entryFile)\b/, why: 'item field paths (`protocol.abbr`, `elapsedTime`, …) are legacy KFL' },
  { re: /\bnil\b/, why: '`nil` is legacy KFL (CEL writes `null`)' },
  { re: /\.\*/, why: '`.*` wildcards are legacy KFL' },
];

/** The query with every string literal's contents removed (`"a b"` → `""`, `r"x"` → `r""`). */
function stripStrings(s: string): string {
  return s.replace(/"""[\s\S]*?"""|'''[\s\S]*?'''|"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?|`[^`]*`?/g, (m) => (m[0] === "'" ? "''" : '""'));
}

export function detectLanguage(source: string): Detection {
  if (source.trim() === '') return { language: 'kfl2', reason: 'empty query: matches everything in both languages' };
  const text = stripStrings(source);
  const kfl2 = KFL2_RULES.filter((r) => r.re.test(text)).map((r) => r.why);
  const kfl = KFL_RULES.filter((r) => r.re.test(text)).map((r) => r.why);
  // Bare names only KFL2 has (`status_code`, `dns_questions`): not after `.`, not a call.
  for (const m of text.matchAll(/(?<![\w.])([A-Za-z_]\w*)(?![\w(])/g)) {
    if (KFL2_ONLY_NAMES.has(m[1])) {
      kfl2.push(`\`${m[1]}\` is a KFL2 variable`);
      break;
    }
  }
  if (kfl2.length === 0 && kfl.length === 0) {
    return {
      language: 'kfl2',
      reason: 'no language-specific syntax: both languages read this query alike; KFL2 is the default',
    };
  }
  if (kfl.length === 0) return { language: 'kfl2', reason: kfl2[0] };
  if (kfl2.length === 0) return { language: 'kfl', reason: kfl[0] };
  const language: QueryLanguage = kfl.length > kfl2.length ? 'kfl' : 'kfl2';
  return {
    language,
    reason: `mixed syntax (${kfl2[0]}; but ${kfl[0]}); ${language === 'kfl' ? 'legacy KFL' : 'KFL2'} has more signals`,
  };
}
