/**
 * What the token stream says about a script's shape: matching brackets, functions (their
 * parameters and bodies), `var/let/const NAME = …` declarations, top-level hooks. Computed once
 * per text (the last few texts are cached: every request on one version shares it).
 */
import { lex, type Tok } from './lexer';
import { HOOK_NAMES } from './model';

export interface Fn {
  name: string | null;
  /** Token index of the name (or of `function`). */
  at: number;
  params: string[];
  /** Token index of the body's `{` and its `}` (-1 when unclosed). */
  open: number;
  close: number;
  /** Declared at the top level of the script. */
  top: boolean;
}

export interface Decl {
  name: string;
  at: number;
  /** Token index where the initializer starts (-1: no initializer). */
  init: number;
  /** Body `{` of the function whose scope it is in (-1: the script). */
  scope: number;
}

export interface Doc {
  text: string;
  toks: Tok[];
  comments: [number, number][];
  /** For an opening bracket, the index of its closer (-1 unclosed); for others -1. */
  match: Int32Array;
  /** For a closing bracket, the index of its opener (-1 stray); for others -1. */
  rmatch: Int32Array;
  /** Index of the innermost unclosed bracket before each token (-1 at top level). */
  parent: Int32Array;
  /** Functions by the index of their body `{`. */
  fns: Map<number, Fn>;
  decls: Decl[];
}

const OPEN = new Set(['(', '[', '{']);
const CLOSE: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

const cache = new Map<string, Doc>();
const CACHE_MAX = 4;

export function docOf(text: string): Doc {
  const hit = cache.get(text);
  if (hit) return hit;
  const d = build(text);
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(text, d);
  return d;
}

function build(text: string): Doc {
  const { toks, comments } = lex(text);
  const n = toks.length;
  const match = new Int32Array(n).fill(-1);
  const parent = new Int32Array(n).fill(-1);
  const rmatch = new Int32Array(n).fill(-1);
  const stack: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = toks[i];
    parent[i] = stack.length ? stack[stack.length - 1] : -1;
    if (t.type !== 'punc') continue;
    if (OPEN.has(t.v)) stack.push(i);
    else if (CLOSE[t.v]) {
      // A stray closer closes the nearest opener of its kind (typing leaves brackets unbalanced).
      for (let k = stack.length - 1; k >= 0; k--) {
        if (toks[stack[k]].v === CLOSE[t.v]) {
          match[stack[k]] = i;
          rmatch[i] = stack[k];
          stack.length = k;
          parent[i] = k > 0 ? stack[k - 1] : -1;
          break;
        }
      }
    }
  }
  const doc: Doc = { text, toks, comments, match, rmatch, parent, fns: new Map(), decls: [] };
  findFunctions(doc);
  findDecls(doc);
  return doc;
}

const isP = (t: Tok | undefined, v: string) => !!t && t.type === 'punc' && t.v === v;

function findFunctions(d: Doc): void {
  const { toks, match, parent } = d;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.type !== 'name' || t.v !== 'function') continue;
    let j = i + 1;
    if (isP(toks[j], '*')) j++;
    let name: string | null = null;
    let at = i;
    if (toks[j]?.type === 'name') { name = toks[j].v; at = j; j++; }
    if (!isP(toks[j], '(')) continue;
    const pc = match[j];
    const params = pc < 0 ? [] : paramNames(toks, j + 1, pc, parent, j);
    const open = pc < 0 ? -1 : pc + 1;
    if (open < 0 || !isP(toks[open], '{')) continue;
    // `var onX = function (…) {…}` declares a function named by the variable.
    if (!name && isP(toks[i - 1], '=') && toks[i - 2]?.type === 'name' && /^(var|let|const)$/.test(toks[i - 3]?.v ?? '')) {
      name = toks[i - 2].v;
      at = i - 2;
    }
    const top = parent[at] === -1;
    d.fns.set(open, { name, at, params, open, close: match[open], top });
  }
  // Arrow functions: only their parameters matter (they shadow outer names).
  for (let i = 0; i < toks.length; i++) {
    if (!isP(toks[i], '=>') || !isP(toks[i + 1], '{')) continue;
    let params: string[] = [];
    let start = i - 1;
    const p = toks[i - 1];
    if (p?.type === 'name') params = [p.v];
    else if (isP(p, ')')) {
      const o = d.rmatch[i - 1];
      if (o >= 0) params = paramNames(toks, o + 1, i - 1, parent, o);
      start = o;
    }
    // `var onItemCaptured = (data) => {…}` is a (non-ES5) hook declaration too.
    if (start > 2 && isP(toks[start - 1], '=') && toks[start - 2]?.type === 'name' && /^(var|let|const)$/.test(toks[start - 3]?.v ?? '')) {
      const at = start - 2;
      d.fns.set(i + 1, { name: toks[at].v, at, params, open: i + 1, close: match[i + 1], top: parent[at] === -1 });
      continue;
    }
    d.fns.set(i + 1, { name: null, at: i, params, open: i + 1, close: match[i + 1], top: false });
  }
}

function paramNames(toks: Tok[], from: number, to: number, parent: Int32Array, paren: number): string[] {
  const out: string[] = [];
  let expectName = true;
  for (let k = from; k < to; k++) {
    if (parent[k] !== paren) continue;
    const t = toks[k];
    if (isP(t, ',')) { expectName = true; continue; }
    if (expectName && t.type === 'name') out.push(t.v);
    expectName = false;
  }
  return out;
}

/** The `{` of the function body that is the scope of token i (-1: script scope). */
export function scopeOf(d: Doc, i: number): number {
  for (let p = d.parent[i]; p >= 0; p = d.parent[p]) if (d.fns.has(p)) return p;
  return -1;
}

function findDecls(d: Doc): void {
  const { toks, parent } = d;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.type !== 'name' || (t.v !== 'var' && t.v !== 'let' && t.v !== 'const')) continue;
    const scope = scopeOf(d, i);
    let j = i + 1;
    while (j < toks.length && toks[j].type === 'name') {
      const name = toks[j].v;
      const at = j;
      let init = -1;
      j++;
      if (isP(toks[j], '=')) {
        init = j + 1;
        // Skip the initializer: up to a `,` or `;` at this depth, or a line break before a name (ASI).
        j++;
        let level = 0;
        for (; j < toks.length; j++) {
          const u = toks[j];
          if (u.type === 'punc' && OPEN.has(u.v)) { level++; continue; }
          if (u.type === 'punc' && CLOSE[u.v]) { if (level === 0) break; level--; continue; }
          if (level > 0) continue;
          if (isP(u, ',') || isP(u, ';')) break;
          const prev = toks[j - 1];
          if (u.nl && u.type === 'name' && (prev.type !== 'punc' || prev.v === ')' || prev.v === ']')) break; // ASI
        }
      }
      d.decls.push({ name, at, init, scope });
      if (isP(toks[j], ',')) { j++; continue; }
      break;
    }
  }
}

/** Top-level hook declarations, 1-based line and column of the name. */
export function hooksIn(d: Doc): { hook: string; line: number; col: number; tok: number; fn: Fn }[] {
  const out: { hook: string; line: number; col: number; tok: number; fn: Fn }[] = [];
  for (const fn of d.fns.values()) {
    if (!fn.top || !fn.name || !HOOK_NAMES.includes(fn.name)) continue;
    const { line, col } = lineCol(d.text, d.toks[fn.at].s);
    out.push({ hook: fn.name, line, col, tok: fn.at, fn });
  }
  return out.sort((a, b) => a.tok - b.tok);
}

/** 1-based line/column of an offset. */
export function lineCol(text: string, off: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < off; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, col: off - start + 1 };
}

/** Index of the last token starting before `off` (-1 if none). */
export function tokenBefore(d: Doc, off: number): number {
  let lo = 0;
  let hi = d.toks.length - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (d.toks[mid].s < off) { ans = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return ans;
}

export function inComment(d: Doc, off: number): boolean {
  return d.comments.some(([s, e]) => off > s && (off < e || (off === e && d.text[s + 1] === '/' && e === d.text.length)));
}
