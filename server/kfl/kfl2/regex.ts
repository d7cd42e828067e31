/**
 * `matches` with RE2 semantics (CEL's), via @bufbuild/re2: linear time, so a pattern cannot be
 * made to backtrack for ages on captured data. It is 3-15x slower than a JS RegExp, so most
 * non-matching strings are rejected first by a literal every match must contain (`/users/` in
 * `^/api/v[0-9]+/users/`): a plain `includes`.
 */
import { RE2JS } from '@bufbuild/re2';

export interface Matcher {
  test(s: string): boolean;
}

const cache = new Map<string, Matcher>();

/** Compiled once per pattern (bounded: patterns may come from data). Throws on a bad pattern. */
export function compileRegex(pattern: string): Matcher {
  let m = cache.get(pattern);
  if (m === undefined) {
    const re = RE2JS.compile(pattern);
    const lit = requiredLiteral(pattern);
    m = lit === null ? re : { test: (s: string) => s.includes(lit) && re.test(s) };
    if (cache.size >= 512) cache.clear();
    cache.set(pattern, m);
  }
  return m;
}

const QUANT = /^(?:[*?+]|\{\d+(?:,\d*)?\})/;
const LITERAL_ESCAPES = new Set('\\.+*?()|[]{}^$/-'.split(''));

/**
 * The longest run of literal characters at the top level of `p` that every match contains, or
 * null when unsure (alternation at the top, flags, \Q…\E, odd braces) or shorter than 2.
 */
export function requiredLiteral(p: string): string | null {
  if (/\(\?(?!:|P<)/.test(p)) return null; // (?i), (?s)… change what the rest matches
  let best = '', run = '';
  const end = () => {
    if (run.length > best.length) best = run;
    run = '';
  };
  for (let i = 0; i < p.length; ) {
    const c = p[i];
    let lit: string | null = null;
    let next = i + 1;
    if (c === '\\') {
      const e = p[i + 1];
      if (e === undefined) return null;
      next = i + 2;
      if (LITERAL_ESCAPES.has(e)) lit = e;
      else if (e === 'p' || e === 'P') next = p[next] === '{' ? p.indexOf('}', next) + 1 || p.length : next + 1;
      else if (!'dDwWsSbBAzaftnrv'.includes(e)) return null; // \x41, \123, \Q…\E, …: not worth parsing
    } else if (c === '[') {
      next = classEnd(p, i);
      if (next < 0) return null;
    } else if (c === '(') {
      next = groupEnd(p, i);
      if (next < 0) return null;
    } else if (c === '|') {
      return null;
    } else if (c === '{') {
      if (!QUANT.test(p.slice(i))) return null; // a literal brace in RE2: leave it to RE2
    } else if (!'.^$*+?)]}'.includes(c)) {
      lit = c;
    }
    const q = QUANT.exec(p.slice(next))?.[0];
    if (lit !== null && (q === undefined || q === '+' || /^\{[1-9]/.test(q))) {
      run += lit; // required (at least once)
      if (q !== undefined) end();
    } else {
      end();
    }
    i = next + (q?.length ?? 0);
    if (q !== undefined && p[i] === '?') i++; // lazy
  }
  end();
  return best.length >= 2 ? best : null;
}

/** Index just past the character class starting at `i`, or -1. */
function classEnd(p: string, i: number): number {
  let j = i + 1;
  if (p[j] === '^') j++;
  if (p[j] === ']') j++;
  for (; j < p.length; j++) {
    if (p[j] === '\\') j++;
    else if (p[j] === '[' && p[j + 1] === ':') {
      const k = p.indexOf(':]', j + 2);
      if (k < 0) return -1;
      j = k + 1;
    } else if (p[j] === ']') return j + 1;
  }
  return -1;
}

/** Index just past the group starting at `i`, or -1. */
function groupEnd(p: string, i: number): number {
  let depth = 0;
  for (let j = i; j < p.length; j++) {
    const c = p[j];
    if (c === '\\') j++;
    else if (c === '[') {
      j = classEnd(p, j) - 1;
      if (j < 0) return -1;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return j + 1;
  }
  return -1;
}
