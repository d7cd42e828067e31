/**
 * Kubeshark compiles `r"…"` with Go's RE2. We check every pattern with an RE2 implementation
 * (@bufbuild/re2, already a dependency), so exactly what RE2 rejects is an error, with RE2's
 * message; then we run it as a JS RegExp (several times faster) after translating the RE2
 * spellings JS lacks. Patterns that cannot be translated, and patterns with quantified groups
 * (which can backtrack exponentially in JS on hostile traffic, never in RE2), run on RE2 itself.
 */
import { RE2JS } from '@bufbuild/re2';

export interface Matcher {
  test(s: string): boolean;
}

export class RegexError extends Error {}

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\x00-\\x7F', blank: '\\t ', cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9', graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ', upper: 'A-Z', word: '0-9A-Za-z_', xdigit: '0-9A-Fa-f',
};
const SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));

export function translateRe2(src: string): { source: string; flags: string } {
  let flags = '';
  let i = 0;
  const lead = /^\(\?([a-zA-Z]+)\)/.exec(src);
  if (lead) {
    for (const f of lead[1]) {
      if (f === 'i' || f === 'm' || f === 's') { if (!flags.includes(f)) flags += f; }
      else if (f === 'U') throw new RegexError('the ungreedy flag (?U) has no JavaScript equivalent');
      else throw new RegexError(`invalid or unsupported Perl syntax: \`(?${f}\``);
    }
    i = lead[0].length;
  }
  let unicode = false;
  let out = '';
  let inClass = false;
  while (i < src.length) {
    const c = src[i];
    if (c === '\\') {
      const e = src[i + 1];
      if (e === undefined) throw new RegexError('trailing backslash at end of expression');
      if (e === 'z' && !inClass) { out += '$'; i += 2; continue; }
      if (e === 'A' && !inClass) { out += '^'; i += 2; continue; }
      if (e === 'Q') {
        const end = src.indexOf('\\E', i + 2);
        const lit = src.slice(i + 2, end < 0 ? src.length : end);
        out += lit.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
        i = end < 0 ? src.length : end + 2;
        continue;
      }
      if (e === 'p' || e === 'P') {
        const m = /^\\[pP](\{\^?[A-Za-z_]+\}|[A-Za-z])/.exec(src.slice(i));
        if (!m) throw new RegexError(`invalid character class range: \`${src.slice(i, i + 3)}\``);
        let name = m[1].replace(/[{}]/g, '');
        let neg = e === 'P';
        if (name.startsWith('^')) { neg = !neg; name = name.slice(1); }
        const prop = name.length <= 2 ? name : `Script=${name}`;
        out += `\\${neg ? 'P' : 'p'}{${prop === 'Script=Any' ? 'Any' : prop}}`;
        unicode = true;
        i += m[0].length;
        continue;
      }
      if (e === 'x' && src[i + 2] === '{') {
        const end = src.indexOf('}', i);
        out += `\\u{${src.slice(i + 3, end)}}`;
        unicode = true;
        i = end + 1;
        continue;
      }
      if (e >= '1' && e <= '9') throw new RegexError(`invalid escape sequence: \`\\${e}\` (RE2 has no backreferences)`);
      if (e === 'C') throw new RegexError('invalid escape sequence: `\\C`');
      if (e === 'u' || e === 'U' || e === 'k' || e === 'c') throw new RegexError(`invalid escape sequence: \`\\${e}\``);
      if (e === 'a') { out += '\\x07'; i += 2; continue; }
      if (/[A-Za-z0-9]/.test(e)) { out += `\\${e}`; i += 2; continue; }
      // Escaped punctuation: RE2 allows any; JS (in unicode mode) only syntax characters.
      out += SYNTAX.has(e) || (inClass && e === '-') ? `\\${e}` : e;
      i += 2;
      continue;
    }
    if (inClass) {
      if (c === '[' && src[i + 1] === ':') {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(src.slice(i));
        if (m && POSIX[m[2]]) {
          if (m[1]) throw new RegexError(`negated POSIX class [:^${m[2]}:] is not supported here; use [^…] around it`);
          out += POSIX[m[2]];
          i += m[0].length;
          continue;
        }
      }
      if (c === ']') inClass = false;
      out += c === '[' ? '\\[' : c;
      i++;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      i++;
      if (src[i] === '^') { out += '^'; i++; }
      if (src[i] === ']') { out += '\\]'; i++; } // a leading ] is literal in RE2
      continue;
    }
    if (c === '(' && src[i + 1] === '?') {
      const rest = src.slice(i + 2);
      if (rest.startsWith('P<')) { out += '(?<'; i += 4; continue; }
      if (rest.startsWith('<') && !rest.startsWith('<=') && !rest.startsWith('<!')) { out += '(?<'; i += 3; continue; }
      if (rest.startsWith(':')) { out += '(?:'; i += 3; continue; }
      if (/^(=|!|<=|<!)/.test(rest)) throw new RegexError(`invalid or unsupported Perl syntax: \`(?${rest[0]}\` (RE2 has no lookaround)`);
      if (/^[-a-zA-Z]+[:)]/.test(rest)) throw new RegexError('inline flags are only supported at the start of the pattern, e.g. (?i)abc');
      throw new RegexError(`invalid or unsupported Perl syntax: \`(?${rest[0] ?? ''}\``);
    }
    out += c;
    i++;
  }
  if (unicode) flags += 'u';
  return { source: out, flags };
}

/** A quantifier applied to a group, or stacked quantifiers: the shapes that backtrack badly. */
const RISKY = /\)[*+?{]|[*+}]\??[*+{]/;

export function compileRe2(src: string): Matcher {
  let re2: Matcher;
  try {
    re2 = RE2JS.compile(src);
  } catch (e) {
    throw new RegexError((e as Error).message.replace(/^error parsing regexp: /, ''));
  }
  if (RISKY.test(src)) return re2;
  try {
    const { source, flags } = translateRe2(src);
    return new RegExp(source, flags);
  } catch {
    return re2;
  }
}
