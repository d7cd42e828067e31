/**
 * Tokens as Go's text/scanner produces them under participle's default lexer (kubeshark-compat
 * §8.1): identifiers, Int/Float, "strings" / 'chars' / `raw strings` kept as raw text (no escape
 * processing, but escapes are validated as text/scanner does), Go comments skipped, and every
 * other character a one-character operator token (so `==` is `=` `=`, and `= =` works too).
 */

export type TokType = 'ident' | 'int' | 'float' | 'string' | 'char' | 'raw' | 'op' | 'eof';

export interface Token {
  type: TokType;
  /** Raw text, quotes included for strings; "<EOF>" for the end. */
  value: string;
  /** Offset in the lexed text. */
  pos: number;
  end: number;
}

/** A lexing failure at an offset of the lexed text (text/scanner's messages). */
export class LexError extends Error {
  constructor(readonly pos: number, readonly text: string) {
    super(text);
  }
}

const LETTER = /\p{L}/u;
const LETTER_DIGIT = /[\p{L}\p{Nd}]/u;
const isAsciiLetter = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const isIdentStart = (c: string) => isAsciiLetter(c) || c === '_' || (c > '\x7f' && LETTER.test(c));
const isIdentPart = (c: string) => isAsciiLetter(c) || c === '_' || (c >= '0' && c <= '9') || (c > '\x7f' && LETTER_DIGIT.test(c));
const isDigit = (c: string) => c >= '0' && c <= '9';

export function lex(text: string): Token[] {
  const out: Token[] = [];
  const n = text.length;
  let i = 0;
  while (true) {
    // text/scanner's GoWhitespace; anything else is a token.
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
    if (i >= n) {
      out.push({ type: 'eof', value: '<EOF>', pos: n, end: n });
      return out;
    }
    const start = i;
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      if (close < 0) throw new LexError(start, 'comment not terminated');
      i = close + 2;
      continue;
    }
    if (isIdentStart(c)) {
      i++;
      while (i < n && isIdentPart(text[i])) i++;
      out.push({ type: 'ident', value: text.slice(start, i), pos: start, end: i });
      continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(text[i + 1] ?? ''))) {
      i = scanNumber(text, i);
      const value = text.slice(start, i);
      const isFloat = !/^0[xXbBoO]/.test(value) && /[.eE]/.test(value);
      out.push({ type: isFloat ? 'float' : 'int', value, pos: start, end: i });
      continue;
    }
    if (c === '"' || c === "'") {
      i = scanQuoted(text, i, c);
      out.push({ type: c === '"' ? 'string' : 'char', value: text.slice(start, i), pos: start, end: i });
      continue;
    }
    if (c === '`') {
      const close = text.indexOf('`', i + 1);
      if (close < 0) throw new LexError(start, 'literal not terminated');
      i = close + 1;
      out.push({ type: 'raw', value: text.slice(start, i), pos: start, end: i });
      continue;
    }
    // One UTF-16 unit is enough for operators; keep astral characters whole for messages.
    const cp = text.codePointAt(i)!;
    i += cp > 0xffff ? 2 : 1;
    out.push({ type: 'op', value: text.slice(start, i), pos: start, end: i });
  }
}

function scanNumber(text: string, i: number): number {
  const start = i;
  if (text[i] === '0' && /[xXbBoO]/.test(text[i + 1] ?? '')) {
    i += 2;
    while (i < text.length && /[0-9a-fA-F_]/.test(text[i])) i++;
    if (i === start + 2) throw new LexError(start, 'number has no digits');
    return i;
  }
  while (i < text.length && (isDigit(text[i]) || text[i] === '_')) i++;
  if (text[i] === '.') {
    i++;
    while (i < text.length && (isDigit(text[i]) || text[i] === '_')) i++;
  }
  if (text[i] === 'e' || text[i] === 'E') {
    i++;
    if (text[i] === '+' || text[i] === '-') i++;
    const d = i;
    while (i < text.length && isDigit(text[i])) i++;
    if (i === d) throw new LexError(start, 'exponent has no digits');
  }
  return i;
}

/** Go escapes text/scanner accepts inside "…" and '…'; anything else is "invalid char escape". */
function scanQuoted(text: string, i: number, quote: string): number {
  const start = i;
  i++;
  while (true) {
    const c = text[i];
    if (c === undefined || c === '\n') throw new LexError(start, 'literal not terminated');
    if (c === quote) return i + 1;
    if (c === '\\') {
      const e = text[i + 1];
      if (e !== undefined && 'abfnrtv\\'.includes(e)) i += 2;
      else if (e === quote) i += 2;
      else if (e !== undefined && e >= '0' && e <= '7') i = digits(text, i, i + 1, 3, /[0-7]/);
      else if (e === 'x') i = digits(text, i, i + 2, 2, /[0-9a-fA-F]/);
      else if (e === 'u') i = digits(text, i, i + 2, 4, /[0-9a-fA-F]/);
      else if (e === 'U') i = digits(text, i, i + 2, 8, /[0-9a-fA-F]/);
      else throw new LexError(i, 'invalid char escape');
      continue;
    }
    i++;
  }
}

function digits(text: string, escPos: number, from: number, count: number, re: RegExp): number {
  for (let k = 0; k < count; k++) {
    if (!re.test(text[from + k] ?? '')) throw new LexError(escPos, 'invalid char escape');
  }
  return from + count;
}
