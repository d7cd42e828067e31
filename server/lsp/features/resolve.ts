/**
 * What an expression like `data.request.headers["Host"]` or `r.path` (with `var r =
 * data.request`) is: its type in the model, its item path (for observed values), and the
 * protocols it is narrowed to by the code around it:
 *   if (data.protocol.name === "dns") { … }        if (kfl.match("dns", data)) { … }
 *   switch (data.protocol.name) { case "dns": … }   if (data.protocol.name !== "dns") return;
 */
import { cook, type Tok } from './lexer';
import { deref, elementOf, memberOf, MODEL, PROTOCOL_NAMES, type Narrow, type T } from './model';
import { scopeOf, type Doc } from './structure';

export type Step =
  | { k: 'prop'; name: string; tok: number }
  | { k: 'index'; open: number; close: number; key: string | null };

export interface Chain { root: string; rootTok: number; steps: Step[]; end: number }

export interface Val {
  type: T;
  /** Dotted path in the item (`''` = the item, `request.headers.Host`); null when not item data. */
  path: string | null;
  /** Declared type, as written in the schema. */
  text: string;
  doc: string;
  /** Protocols this member belongs to (request/response unions). */
  protos: string[];
  /** What the root is: a hook parameter, a helper global, … */
  kind: 'param' | 'global' | 'member';
  /** Dotted name for helpers (`vendor.s3.put`), for signatures and hovers. */
  name: string;
}

const isP = (t: Tok | undefined, v: string) => !!t && t.type === 'punc' && t.v === v;
const isDot = (t: Tok | undefined) => isP(t, '.') || isP(t, '?.');
const KEYWORDS = new Set(['if', 'else', 'for', 'while', 'do', 'return', 'var', 'let', 'const', 'function', 'new', 'typeof', 'in', 'of', 'case', 'switch', 'throw', 'try', 'catch', 'finally', 'break', 'continue', 'delete', 'void', 'instanceof', 'this', 'true', 'false', 'null', 'undefined', 'class', 'default']);

/** The member chain that ends at token `end` (a name or `]`), read backwards. */
export function chainEndingAt(d: Doc, end: number): Chain | null {
  const { toks } = d;
  const steps: Step[] = [];
  let i = end;
  for (let guard = 0; i >= 0 && guard < 64; guard++) {
    const t = toks[i];
    if (t.type === 'name') {
      if (isDot(toks[i - 1])) {
        steps.unshift({ k: 'prop', name: t.v, tok: i });
        i -= 2;
        continue;
      }
      if (KEYWORDS.has(t.v)) return null;
      return { root: t.v, rootTok: i, steps, end };
    }
    if (isP(t, ']')) {
      const open = d.rmatch[i];
      if (open < 0) return null;
      const inner = open + 1 === i - 1 ? toks[open + 1] : null;
      const key = inner?.type === 'str' ? cook(inner).value : inner?.type === 'num' ? inner.v : null;
      steps.unshift({ k: 'index', open, close: i, key });
      i = open - 1;
      if (isP(toks[i], '?.')) i--;
      continue;
    }
    return null;
  }
  return null;
}

/** The chain that starts at token `start`, read forwards; null when it ends in a call. */
export function chainStartingAt(d: Doc, start: number): Chain | null {
  const { toks } = d;
  if (toks[start]?.type !== 'name') return null;
  let i = start;
  for (;;) {
    if (isDot(toks[i + 1]) && toks[i + 2]?.type === 'name') { i += 2; continue; }
    if (isP(toks[i + 1], '[') && d.match[i + 1] > 0) { i = d.match[i + 1]; continue; }
    break;
  }
  if (isP(toks[i + 1], '(')) return null;
  return chainEndingAt(d, i);
}

/** The type of a chain at its place in the script, or null when it is not something we know. */
export function resolveChain(d: Doc, c: Chain, opts: { narrow?: boolean; upTo?: number } = {}): Val | null {
  const root = resolveRoot(d, c.root, c.rootTok, 0);
  if (!root) return null;
  const narrow = opts.narrow === false || root.path === null ? null : narrowAt(d, c.end);
  const upTo = opts.upTo ?? c.steps.length;
  return walkSteps(root, c.steps.slice(0, upTo), narrow);
}

export function walkSteps(v: Val, steps: Step[], narrow: Narrow): Val | null {
  let cur: Val | null = v;
  for (const st of steps) {
    if (!cur) return null;
    cur = st.k === 'prop' ? prop(cur, st.name, narrow) : index(cur, st.key, narrow);
  }
  return cur;
}

const join = (path: string | null, k: string) => (path === null ? null : path === '' ? k : `${path}.${k}`);

export function prop(v: Val, name: string, narrow: Narrow): Val | null {
  const m = memberOf(v.type, name, narrow);
  if (m) return { type: m.type, path: join(v.path, name), text: m.text, doc: m.doc, protos: m.protos, kind: 'member', name: `${v.name}.${name}` };
  const t = deref(v.type);
  if (t.k === 'map' || (t.k === 'union' && elementOf(t, narrow))) {
    const el = elementOf(t, narrow);
    if (el) return { type: el, path: join(v.path, name), text: '', doc: '', protos: [], kind: 'member', name: `${v.name}.${name}` };
  }
  if (t.k === 'array' && name === 'length') return { type: { k: 'prim', text: 'number' }, path: null, text: 'number', doc: '', protos: [], kind: 'member', name: `${v.name}.length` };
  return null;
}

function index(v: Val, key: string | null, narrow: Narrow): Val | null {
  const t = deref(v.type);
  if (key !== null && (t.k === 'ref' || t.k === 'object') && memberOf(t, key, narrow)) return prop(v, key, narrow);
  const el = elementOf(t, narrow);
  if (!el) return null;
  const isArr = t.k === 'array' || (t.k === 'union' && t.of.some((x) => deref(x).k === 'array'));
  // Arrays: the index is dropped from the path (`request.questions.name` covers every element).
  const path = isArr ? v.path : join(v.path, key ?? '*');
  return { type: el, path, text: '', doc: '', protos: [], kind: 'member', name: `${v.name}[]` };
}

/** A name at token `at`: a hook parameter, an alias declared with var/let/const, or a helper global. */
export function resolveRoot(d: Doc, name: string, at: number, depth: number): Val | null {
  if (depth > 8) return null;
  for (let s = scopeOf(d, at); ; s = scopeOf(d, s)) {
    const fn = s >= 0 ? d.fns.get(s)! : null;
    if (fn) {
      const k = fn.params.indexOf(name);
      if (k >= 0) return fn.top && fn.name ? hookParam(fn.name, k) : null;
    }
    const decls = d.decls.filter((x) => x.scope === s && x.name === name);
    if (decls.length) {
      const before = decls.filter((x) => x.at < at);
      const decl = before.length ? before[before.length - 1] : decls[0];
      if (decl.init < 0) return null;
      const c = chainStartingAt(d, decl.init);
      if (!c) return null;
      const base = resolveRoot(d, c.root, c.rootTok, depth + 1);
      if (!base) return null;
      return walkSteps(base, c.steps, base.path === null ? null : narrowAt(d, decl.init));
    }
    if (s < 0) break;
  }
  const g = MODEL.globals[name];
  if (g) return { type: g.type, path: null, text: g.text, doc: g.doc, protos: [], kind: 'global', name };
  return null;
}

export function hookParam(hook: string, k: number): Val | null {
  const h = MODEL.hooks.find((x) => x.name === hook);
  const p = h?.params[k];
  if (!p) return null;
  const item = p.type.k === 'ref' && p.type.name === 'Item';
  return { type: p.type, path: item ? '' : null, text: p.text, doc: h!.doc, protos: [], kind: 'param', name: p.name };
}

// ------------------------------------------------------------------ narrowing

interface Cond { pos: string[]; neg: string[] }

/** Protocols the item is narrowed to at token i by the enclosing if/switch/early return. */
export function narrowAt(d: Doc, i: number): Narrow {
  const { toks } = d;
  const here = bracelessIf(d, i);
  if (here) return here;
  for (let p = d.parent[i]; p >= 0; p = d.parent[p]) {
    const t = toks[p];
    if (!isP(t, '{')) {
      const outer = bracelessIf(d, p);
      if (outer) return outer;
    }
    if (isP(t, '(') && (toks[p - 1]?.v === 'if' || toks[p - 1]?.v === 'while')) {
      // Inside the condition, after `proto === "dns" &&`.
      const c = conditions(d, p + 1, i);
      if (c.pos.length && !c.neg.length && hasAndAfterFirst(d, p + 1, i)) return new Set(c.pos);
    }
    if (!isP(t, '{')) continue;
    const early = earlyReturn(d, p, i);
    if (early) return early;
    if (isP(toks[p - 1], ')')) {
      const o = d.rmatch[p - 1];
      const kw = toks[o - 1]?.v;
      if (kw === 'if') {
        const c = conditions(d, o + 1, p - 1);
        if (c.pos.length && !c.neg.length) return new Set(c.pos);
      } else if (kw === 'switch') {
        const disc = chainEndingAt(d, p - 2);
        if (disc && isProtocolName(d, disc)) {
          const labels = caseLabels(d, p, i);
          if (labels?.length) return new Set(labels);
        }
      }
    }
    // `if (<not dns>) {…} else { here }`
    if (toks[p - 1]?.v === 'else' && isP(toks[p - 2], '}')) {
      const ob = d.rmatch[p - 2];
      if (ob > 0 && isP(toks[ob - 1], ')') && toks[d.rmatch[ob - 1] - 1]?.v === 'if') {
        const c = conditions(d, d.rmatch[ob - 1] + 1, ob - 1);
        if (c.neg.length && !c.pos.length) return new Set(c.neg);
      }
    }
    const fn = d.fns.get(p);
    if (fn?.top) break;
  }
  return null;
}

/** `if (<dns>) statement` without braces: the statement that holds token i. */
function bracelessIf(d: Doc, i: number): Narrow {
  const { toks } = d;
  const lvl = d.parent[i];
  for (let k = i - 1; k > lvl; k--) {
    if (d.parent[k] !== lvl) continue;
    const t = toks[k];
    if (t.type === 'punc' && (t.v === ';' || t.v === '{' || t.v === '}')) return null;
    if (isP(t, ')')) {
      const o = d.rmatch[k];
      if (o > 0 && toks[o - 1].v === 'if') {
        const c = conditions(d, o + 1, k);
        return c.pos.length && !c.neg.length ? new Set(c.pos) : null;
      }
      if (o >= 0) k = o;
    }
  }
  return null;
}

function hasAndAfterFirst(d: Doc, from: number, to: number): boolean {
  for (let k = from; k < to; k++) if (isP(d.toks[k], '&&')) return true;
  return false;
}

function isProtocolName(d: Doc, c: Chain): boolean {
  return resolveChain(d, c, { narrow: false })?.path === 'protocol.name';
}

/** Protocol tests in tokens [from, to): `X.protocol.name ==/=== "p"`, `!=`/`!==`, `kfl.match("p…", X)`. */
export function conditions(d: Doc, from: number, to: number): Cond {
  const { toks } = d;
  const out: Cond = { pos: [], neg: [] };
  for (let k = from; k < to; k++) {
    const t = toks[k];
    if (t.type === 'punc' && (t.v === '===' || t.v === '==' || t.v === '!==' || t.v === '!=')) {
      const neg = t.v[0] === '!';
      let str: Tok | undefined;
      let chain: Chain | null = null;
      if (toks[k + 1]?.type === 'str' && (toks[k - 1]?.type === 'name' || isP(toks[k - 1], ']'))) {
        str = toks[k + 1];
        chain = chainEndingAt(d, k - 1);
      } else if (toks[k - 1]?.type === 'str') {
        str = toks[k - 1];
        chain = chainStartingAt(d, k + 1);
      }
      if (str && chain && isProtocolName(d, chain)) (neg ? out.neg : out.pos).push(cook(str).value);
    }
    if (t.type === 'name' && t.v === 'kfl' && isDot(toks[k + 1]) && toks[k + 2]?.v === 'match' && isP(toks[k + 3], '(') && toks[k + 4]?.type === 'str') {
      const m = /^\s*\(?\s*([a-z0-9]+)\s*\)?\s*(and\b|$)/.exec(cook(toks[k + 4]).value);
      if (m && PROTOCOL_NAMES.includes(m[1])) (isP(toks[k - 1], '!') ? out.neg : out.pos).push(m[1]);
    }
  }
  return out;
}

/** `if (<not this protocol>) return;` earlier in the same block: the rest of the block is that protocol. */
function earlyReturn(d: Doc, brace: number, i: number): Narrow {
  const { toks } = d;
  let found: Narrow = null;
  for (let k = brace + 1; k < i; k++) {
    if (d.parent[k] !== brace || toks[k].v !== 'if' || !isP(toks[k + 1], '(')) continue;
    const c = d.match[k + 1];
    if (c < 0 || c >= i) continue;
    let next = toks[c + 1];
    if (isP(next, '{')) next = toks[c + 2];
    if (!next || !['return', 'continue', 'throw', 'break'].includes(next.v)) continue;
    const cond = conditions(d, k + 2, c);
    if (cond.neg.length && !cond.pos.length) found = new Set(cond.neg);
  }
  return found;
}

/** The `case "x":` labels the statement at token i is under, inside the switch body `{` at brace. */
function caseLabels(d: Doc, brace: number, i: number): string[] | null {
  const { toks } = d;
  let k = i - 1;
  while (k > brace && !(d.parent[k] === brace && (toks[k].v === 'case' || toks[k].v === 'default') && toks[k].type === 'name')) k--;
  if (k <= brace || toks[k].v === 'default') return null;
  const labels: string[] = [];
  for (;;) {
    const s = toks[k + 1];
    if (s?.type !== 'str' || !isP(toks[k + 2], ':')) break;
    labels.push(cook(s).value);
    // Fall-through labels right before: `case "http": case "dns":`.
    if (toks[k - 3]?.v === 'case' && toks[k - 2]?.type === 'str' && isP(toks[k - 1], ':')) k -= 3;
    else break;
  }
  return labels.length ? labels : null;
}
