/**
 * The query facade: the CLI (--query), the hook runtime (kfl.match/validate, onItemQueried)
 * and the items panel compile queries here, in either language.
 */
import { QueryError, type CompiledQuery, type QueryLanguage, type QueryLint } from './api';
import { detectLanguage } from './detect';
import { compileKfl2, lintKfl2, validateKfl2 } from './kfl2/index';
import { compileLegacy, lintLegacy, validateLegacy } from './legacy/index';

export { QueryError } from './api';
export type { CompiledQuery, QueryLint, QueryLanguage } from './api';
export { detectLanguage } from './detect';

const ENGINES: Record<QueryLanguage, {
  compile(source: string): CompiledQuery;
  validate(source: string): void;
  lint(source: string): QueryLint[];
}> = {
  kfl: { compile: (s) => compileLegacy(s), validate: validateLegacy, lint: lintLegacy },
  kfl2: { compile: compileKfl2, validate: validateKfl2, lint: lintKfl2 },
};

const other = (l: QueryLanguage): QueryLanguage => (l === 'kfl' ? 'kfl2' : 'kfl');

/**
 * Which language to use. With 'auto' (the default), the detected language is tried first; if
 * the query does not compile there but does in the other language, the other one wins (a
 * query that compiles is better evidence than a syntax heuristic).
 */
function pick(source: string, language: QueryLanguage | 'auto' | undefined): QueryLanguage {
  if (language === 'kfl' || language === 'kfl2') return language;
  if (source.trim() === '') return 'kfl2';
  const guess = detectLanguage(source).language;
  try {
    ENGINES[guess].validate(source);
    return guess;
  } catch (e) {
    if (!(e instanceof QueryError)) throw e;
    try {
      ENGINES[other(guess)].validate(source);
      return other(guess);
    } catch {
      return guess;
    }
  }
}

/** Compile a query; throws QueryError (`err.message` is "LINE:COL: text"). Empty matches everything. */
export function compileQuery(source: string, language?: QueryLanguage | 'auto'): CompiledQuery {
  const lang = pick(source, language);
  // Blank (whitespace-only) is the empty query in both languages, whatever an engine's lexer says.
  if (source.trim() === '') return { language: lang, source, match: () => true };
  return ENGINES[lang].compile(source);
}

export function validateQuery(
  source: string,
  language?: QueryLanguage | 'auto',
): { language: QueryLanguage; error: QueryError | null; lints: QueryLint[] } {
  const lang = pick(source, language);
  if (source.trim() === '') return { language: lang, error: null, lints: [] };
  try {
    ENGINES[lang].validate(source);
  } catch (e) {
    if (e instanceof QueryError) return { language: lang, error: e, lints: [] };
    throw e;
  }
  return { language: lang, error: null, lints: ENGINES[lang].lint(source) };
}
