/**
 * A forgiving JavaScript tokenizer: it never throws, so half-typed code (an unterminated string,
 * `data.request.` mid-expression) still gives tokens. acorn stops at the first error; the
 * completion, hover and lint features need the tokens around the cursor regardless.
 */

export type TokType = 'name' | 'num' | 'str' | 'tpl' | 're' | 'punc';

export interface Tok {
  type: TokType;
  /** Source text (for `str`, including the quotes). */
  v: string;
  s: number;
  e: number;
  /** `str`: the closing quote is there. */
  closed?: boolean;
  /** A line break between the previous token and this one. */
  nl: boolean;
}

export interface Lexed {
  toks: Tok[];
  /** [start, end) of every comment. */
  comments: [number, number][];
}

const PUNCS = [
  '>>>=', '...', '===', '!==', '**=', '<<=', '>>=', '>>>', '&&=', '||=', '??=',
  '=>', '==', '!=', '<=', '>=', '&&', '||', '??', '?.', '++', '--', '+=', '-=', '*=', '/=', '%=',
  '&=', '|=', '^=', '<<', '>>', '**',
];
const PUNC_START = new Set(PUNCS.map((q) => q[0]));
const PUNC_SET: Set<string>[] = [0, 1, 2, 3, 4].map((n) => new Set(PUNCS.filter((q) => q.length === n)));
/** After these names a `/` starts a regex, not a division. */
const REGEX_AFTER_NAME = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'instanceof', 'yield', 'await']);

const isIdStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 36 || c === 95 || c > 127;
const isIdPart = (c: number) => isIdStart(c) || (c >= 48 && c <= 57);

export function lex(src: string): Lexed {
  const toks: Tok[] = [];
  const comments: [number, number][] = [];
  const n = src.length;
  let i = 0;
  let nl = false;
  const push = (type: TokType, s: number, e: number, closed?: boolean) => {
    const t: Tok = { type, v: src.slice(s, e), s, e, nl };
    if (closed !== undefined) t.closed = closed;
    toks.push(t);
    nl = false;
  };
  while (i < n) {
    const c = src.charCodeAt(i);
    if (c === 10 || c === 13 || c === 0x2028 || c === 0x2029) { nl = true; i++; continue; }
    if (c === 32 || c === 9 || c === 11 || c === 12 || c === 0xa0 || c === 0xfeff) { i++; continue; }
    if (c === 47 /* / */) {
      const d = src.charCodeAt(i + 1);
      if (d === 47) {
        const end = src.indexOf('\n', i);
        const e = end < 0 ? n : end;
        comments.push([i, e]);
        i = e;
        continue;
      }
      if (d === 42) {
        const end = src.indexOf('*/', i + 2);
        const e = end < 0 ? n : end + 2;
        if (src.slice(i, e).includes('\n')) nl = true;
        comments.push([i, e]);
        i = e;
        continue;
      }
      const prev = toks[toks.length - 1];
      const regex = !prev || (prev.type === 'punc' && prev.v !== ')' && prev.v !== ']') || (prev.type === 'name' && REGEX_AFTER_NAME.has(prev.v));
      if (regex) {
        let j = i + 1;
        let cls = false;
        while (j < n) {
          const ch = src[j];
          if (ch === '\n') break;
          if (ch === '\\') { j += 2; continue; }
          if (ch === '[') cls = true;
          else if (ch === ']') cls = false;
          else if (ch === '/' && !cls) break;
          j++;
        }
        if (src[j] === '/') {
          j++;
          while (j < n && isIdPart(src.charCodeAt(j))) j++;
          push('re', i, j);
          i = j;
          continue;
        }
      }
    }
    if (c === 34 || c === 39) {
      let j = i + 1;
      let closed = false;
      while (j < n) {
        const ch = src.charCodeAt(j);
        if (ch === 92) { j += 2; continue; }
        if (ch === c) { closed = true; j++; break; }
        if (ch === 10 || ch === 13) break;
        j++;
      }
      if (j > n) j = n;
      push('str', i, j, closed);
      i = j;
      continue;
    }
    if (c === 96 /* ` */) {
      // Template literal, `${…}` parts included (nesting counted, strings inside not followed).
      let j = i + 1;
      let depth = 0;
      while (j < n) {
        const ch = src[j];
        if (ch === '\\') { j += 2; continue; }
        if (depth === 0 && ch === '`') { j++; break; }
        if (ch === '$' && src[j + 1] === '{') { depth++; j += 2; continue; }
        if (depth > 0 && ch === '}') depth--;
        if (ch === '\n') nl = true;
        j++;
      }
      push('tpl', i, Math.min(j, n));
      i = Math.min(j, n);
      continue;
    }
    if (isIdStart(c) || c === 92) {
      let j = i + 1;
      while (j < n && isIdPart(src.charCodeAt(j))) j++;
      push('name', i, j);
      i = j;
      continue;
    }
    if ((c >= 48 && c <= 57) || (c === 46 && src.charCodeAt(i + 1) >= 48 && src.charCodeAt(i + 1) <= 57)) {
      let j = i + 1;
      while (j < n && /[0-9a-zA-Z_.]/.test(src[j])) j++;
      push('num', i, j);
      i = j;
      continue;
    }
    let p = src[i];
    if (PUNC_START.has(p)) {
      for (let len = 4; len >= 2; len--) {
        const q = src.substr(i, len);
        if (PUNC_SET[len].has(q)) { p = q; break; }
      }
    }
    // `a?.5:b` is a conditional, not optional chaining.
    if (p === '?.' && /[0-9]/.test(src[i + 2] ?? '')) p = '?';
    push('punc', i, i + p.length);
    i += p.length;
  }
  return { toks, comments };
}

/** The cooked value of a string token (escapes decoded as JavaScript does), and for each cooked char its offset in the token. */
export function cook(t: Tok): { value: string; map: number[] } {
  const raw = t.v;
  const end = t.closed ? raw.length - 1 : raw.length;
  let value = '';
  const map: number[] = [];
  const SIMPLE: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v', '0': '\0' };
  for (let j = 1; j < end; ) {
    const ch = raw[j];
    if (ch !== '\\') { map.push(j); value += ch; j++; continue; }
    const e = raw[j + 1] ?? '';
    let out = e;
    let len = 2;
    if (e in SIMPLE && !(e === '0' && /[0-9]/.test(raw[j + 2] ?? ''))) out = SIMPLE[e];
    else if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(raw.slice(j + 2, j + 4))) { out = String.fromCharCode(parseInt(raw.slice(j + 2, j + 4), 16)); len = 4; }
    else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(raw.slice(j + 2, j + 6))) { out = String.fromCharCode(parseInt(raw.slice(j + 2, j + 6), 16)); len = 6; }
    else if (e === '\n') { out = ''; }
    for (let k = 0; k < out.length; k++) map.push(j);
    value += out;
    j += len;
  }
  map.push(end); // the offset just after the last cooked char
  return { value, map };
}
