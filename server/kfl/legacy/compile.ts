/**
 * AST → closures, doing at compile time what Kubeshark's precompute.go does (JSON paths built
 * by string concatenation with its prefix rules, regexes, compile-time helpers), so evaluating an
 * item is a walk over prebuilt closures with no per-item dispatch on node kinds.
 *
 * Evaluation mirrors eval.go: a missing selector yields COLLAPSE, which every operator passes up
 * unchanged until the nearest parenthesised expression / continuation / helper argument turns
 * it into false.
 */
import type { Node, Call } from './parser';
import { compileGetter, parsePath, PathSyntaxError, NONE, walkCode, type Frag } from './path';
import { compileRe2, RegexError } from './regex';
import { Rx, cmp, eql, neq, str, truthy, num, formatG6, numStr, type CmpOp } from './values';
import { jsonLookup, xmlLookup, xmlSegs, parseDatetime } from './helpers';
import { redactInPlace } from './redact';

export const COLLAPSE: unique symbol = Symbol('collapse');

export interface Ctx {
  /** The document being evaluated (replaced by a redacted copy once redact() runs). */
  d: unknown;
  owned: boolean;
}
export type Ev = (c: Ctx) => unknown;

/** A compile-time constant; `float` marks a query literal number (a Go float64). */
interface Konst { v: unknown; float: boolean }
interface Compiled {
  ev: Ev;
  k?: Konst;
  /** A plain selector (collapses when missing): fused into the comparison that reads it. */
  sel?: Frag[];
  /** Rebuild with a different result for a missing selector (boundary fuses `false` in). */
  build?: (miss: string) => Ev;
}

/**
 * Every closure the compiler emits is created by its own `new Function`, so each compiled query
 * gets its own machine code and type feedback: with shared closure code, the call sites inside
 * became megamorphic as soon as a few different queries had run, and V8 stopped inlining
 * (measured: 2× slower on `(response.status == 500)`). Only fixed templates, constants passed as
 * parameters or as JSON.stringify'd literals go into the generated source.
 */
let generated = 0;
function fresh(params: Record<string, unknown>, body: string): Ev {
  // The counter makes every source unique, so V8 cannot hand two queries one compiled function.
  return new Function(...Object.keys(params), `/* ${++generated} */ return (x) => {\n${body}\n};`)(...Object.values(params)) as Ev;
}
const BASE = { C: undefined as unknown, T: truthy, HAS_OWN: Object.prototype.hasOwnProperty, NS: numStr, EQ: eql, NEQ: neq, CMPF: cmp };

/** A compile failure at an offset of the expanded text. */
export class CompileError extends Error {
  constructor(readonly pos: number, readonly end: number, readonly text: string) {
    super(text);
  }
}

export interface CompileState {
  /** The query's clock: time helpers read it when evaluated (index.ts sets it per compiled query). */
  clock: { t: number };
  limit?: number;
  redactions: string[];
  hasRedact: boolean;
  /** now() or a relative time helper was compiled in (the result depends on the clock). */
  usesNow: boolean;
}

export const HELPERS = new Set(['startsWith', 'endsWith', 'contains', 'datetime', 'limit', 'json', 'xml', 'redact', 'now', 'seconds', 'minutes', 'hours', 'days', 'weeks', 'months', 'years']);
const UNIT_MS: Record<string, number> = { seconds: 1e3, minutes: 60e3, hours: 3600e3, days: 86400e3, weeks: 7 * 86400e3, months: 30 * 86400e3, years: 365 * 86400e3 };

const trimQuotes = (s: string) => s.replace(/^"+|"+$/g, '');
const konst = (v: unknown, float = false): Compiled => ({ ev: () => v, k: { v, float } });
/** How a constant takes part in `==`: float literals as Go renders float64 ('g', 6). */
const eqForm = (k: Konst): unknown => (k.float && typeof k.v === 'number' ? formatG6(k.v) : k.v);

function boundary(c: Compiled): Compiled {
  if (c.k) return c;
  if (c.build) return { ev: c.build('return false;') };
  return { ev: fresh({ ...BASE, C: COLLAPSE, E: c.ev }, 'const v = E(x);\nreturn v === C ? false : v;') };
}

export function compileRoot(ast: Node | null, st: CompileState): Ev {
  if (!ast) return () => true;
  const c = boundary(compileNode(ast, '', '', st));
  return c.ev;
}

function compileNode(n: Node, prepend: string, jsonHelper: string, st: CompileState): Compiled {
  switch (n.t) {
    case 'num': return konst(n.value, true);
    case 'str': return konst(trimQuotes(n.raw));
    case 'bool': return konst(n.value);
    case 'nil': return konst(null);
    case 'regex':
      try {
        return konst(new Rx(compileRe2(trimQuotes(n.raw))));
      } catch (e) {
        if (e instanceof RegexError) throw new CompileError(n.pos, n.end, `invalid regex r${n.raw}: ${e.message}`);
        throw e;
      }
    case 'sub': return boundary(compileNode(n.expr, prepend, jsonHelper, st));
    case 'unary': return compileUnary(n.op, compileNode(n.operand, prepend, jsonHelper, st));
    case 'bin': {
      const l = compileNode(n.left, prepend, jsonHelper, st);
      const r = compileNode(n.right, prepend, jsonHelper, st);
      if (n.level === 'logical') return compileLogical(n.op as 'and' | 'or', l, r);
      if (n.level === 'eq') return compileEq(n.op as '==' | '!=', l, r);
      return compileCmp(n.op as CmpOp, l, r);
    }
    case 'call': return compileCall(n.call, prepend, jsonHelper, st);
  }
}

function compileUnary(op: '!' | '-', c: Compiled): Compiled {
  // `!` only flips booleans, `-` only negates float64s; other values pass through (eval.go).
  if (c.k) {
    const { v, float } = c.k;
    if (op === '!' && typeof v === 'boolean') return konst(!v);
    if (op === '-' && typeof v === 'number' && (float || !Number.isInteger(v))) return konst(-v, float);
    return c;
  }
  const p = { E: c.ev };
  if (op === '!') return { ev: fresh(p, "const v = E(x);\nreturn typeof v === 'boolean' ? !v : v;") };
  return { ev: fresh(p, "const v = E(x);\nreturn typeof v === 'number' && !Number.isInteger(v) ? -v : v;") };
}

function compileLogical(op: 'and' | 'or', l: Compiled, r: Compiled): Compiled {
  if (l.k && r.k) return konst(op === 'and' ? truthy(l.k.v) && truthy(r.k.v) : truthy(l.k.v) || truthy(r.k.v));
  const p = { ...BASE, C: COLLAPSE, L: l.ev, R: r.ev };
  const shortCircuit = op === 'and' ? 'if (!T(a)) return false;' : 'if (T(a)) return true;';
  return { ev: fresh(p, `const a = L(x);\nif (a === C) return a;\n${shortCircuit}\nconst b = R(x);\nreturn b === C ? b : T(b);`) };
}

function compileEq(op: '==' | '!=', l: Compiled, r: Compiled): Compiled {
  const f = op === '==' ? eql : neq;
  if (l.k && r.k) return konst(f(eqForm(l.k), eqForm(r.k)));
  const neg = op === '!=';
  // Fast path: value == "string" / number literal / regex, the selector walk fused in.
  const dyn = l.k ? r : l;
  const k = l.k ?? r.k;
  if (k && (k.v instanceof Rx || typeof k.v === 'string' || typeof k.v === 'number' || typeof k.v === 'boolean' || k.v === null)) {
    const F = l.k ? `${neg ? 'NEQ' : 'EQ'}(K, v)` : `${neg ? 'NEQ' : 'EQ'}(v, K)`;
    let test: string;
    let K: unknown;
    if (k.v instanceof Rx) {
      K = k.v;
      test = `if (typeof v === 'string') return ${neg ? '!' : ''}RE.test(v);\nreturn ${F};`;
    } else {
      const ks = str(eqForm(k));
      K = ks;
      const kn = /^(0|-?[1-9]\d{0,14})$/.test(ks) ? Number(ks) : NaN; // a canonical integer rendering
      test = `if (typeof v === 'string') return v ${neg ? '!==' : '==='} K;\n` +
        `if (typeof v === 'number') return ${neg ? '!' : ''}(Number.isInteger(v) && Math.abs(v) < 1e15 ? v === ${Number.isNaN(kn) ? 'NaN' : kn} : NS(v) === K);\n` +
        `return ${F};`;
    }
    const p = { ...BASE, C: COLLAPSE, K, RE: k.v instanceof Rx ? k.v.re : null, D: dyn.ev };
    const walk = dyn.sel ? walkCode(dyn.sel, 'MISS') : null;
    if (walk !== null) {
      const build = (miss: string) => fresh(p, `let v = x.d;\n${walk.replaceAll('MISS', miss)}${test}`);
      return { ev: build('return C;'), build };
    }
    return { ev: fresh(p, `const v = D(x);\nif (v === C) return v;\n${test}`) };
  }
  const L = l.k ? (() => { const v = eqForm(l.k!); return () => v; })() : l.ev;
  const R = r.k ? (() => { const v = eqForm(r.k!); return () => v; })() : r.ev;
  return { ev: fresh({ ...BASE, C: COLLAPSE, L, R, F: f }, 'const a = L(x);\nif (a === C) return a;\nconst b = R(x);\nif (b === C) return b;\nreturn F(a, b);') };
}

function compileCmp(op: CmpOp, l: Compiled, r: Compiled): Compiled {
  if (l.k && r.k) return konst(cmp(op, l.k.v, r.k.v));
  const p = { ...BASE, C: COLLAPSE, L: l.ev, R: r.ev, OP: op };
  if (r.k && typeof r.k.v !== 'object') {
    const kn = num(r.k.v);
    const test = `if (typeof v === 'number') return v ${op} KN;\nreturn CMPF(OP, v, KN);`;
    const q = { ...p, KN: kn };
    const walk = l.sel ? walkCode(l.sel, 'MISS') : null;
    if (walk !== null) {
      const build = (miss: string) => fresh(q, `let v = x.d;\n${walk.replaceAll('MISS', miss)}${test}`);
      return { ev: build('return C;'), build };
    }
    return { ev: fresh(q, `const v = L(x);\nif (v === C) return v;\n${test}`) };
  }
  return { ev: fresh(p, `const a = L(x);\nif (a === C) return a;\nconst b = R(x);\nif (b === C) return b;\nreturn typeof a === 'number' && typeof b === 'number' ? a ${op} b : CMPF(OP, a, b);`) };
}

/**
 * Helper arguments are never precomputed by Kubeshark, so inside them selectors, regexes and
 * helper calls evaluate to false; what is left is a constant, computed here.
 */
function constEval(n: Node): Konst {
  switch (n.t) {
    case 'num': return { v: n.value, float: true };
    case 'str': return { v: trimQuotes(n.raw), float: false };
    case 'bool': return { v: n.value, float: false };
    case 'nil': return { v: null, float: false };
    case 'regex': return { v: false, float: false };
    case 'sub': return constEval(n.expr);
    case 'call': return n.call.select?.expr ? constEval(n.call.select.expr) : { v: false, float: false };
    case 'unary': {
      const k = constEval(n.operand);
      if (n.op === '!' && typeof k.v === 'boolean') return { v: !k.v, float: false };
      if (n.op === '-' && typeof k.v === 'number' && (k.float || !Number.isInteger(k.v))) return { v: -k.v, float: k.float };
      return k;
    }
    case 'bin': {
      const a = constEval(n.left);
      if (n.level === 'logical') {
        if (n.op === 'and' && !truthy(a.v)) return { v: false, float: false };
        if (n.op === 'or' && truthy(a.v)) return { v: true, float: false };
        return { v: truthy(constEval(n.right).v), float: false };
      }
      const b = constEval(n.right);
      if (n.level === 'eq') return { v: (n.op === '==' ? eql : neq)(eqForm(a), eqForm(b)), float: false };
      return { v: cmp(n.op as CmpOp, a.v, b.v), float: false };
    }
  }
}

type ParamKind =
  | { kind: 'exprs'; nodes: Node[] }
  | { kind: 'jp'; frags: Frag[] }
  | { kind: 'time'; offset: number };

function pathOrThrow(path: string, call: Call): Frag[] {
  try {
    return parsePath(path);
  } catch (e) {
    if (e instanceof PathSyntaxError) throw new CompileError(call.identPos, call.identEnd, e.message);
    throw e;
  }
}

function compileCall(call: Call, prepend: string, jsonHelperIn: string, st: CompileState): Compiled {
  let jsonHelper = jsonHelperIn;
  let path: string;
  let params: ParamKind | null = call.params ? { kind: 'exprs', nodes: call.params.map((p) => p.expr) } : null;
  const sel = call.select;
  if (!call.params) {
    path = call.ident;
    if (sel) {
      const segs = path.split('.');
      const last = segs[segs.length - 1];
      const jsonUsed = last === 'json' || last === 'xml';
      if (jsonUsed) jsonHelper = path;
      if (sel.index !== undefined) {
        if (jsonUsed) {
          params = { kind: 'jp', frags: [{ k: 'nth', i: sel.index }] };
          path = `[${sel.index}]`;
        } else path = `${path}[${sel.index}]`;
      } else if (sel.key) {
        const key = sel.key.quote === 'star' ? '*' : trimQuotes(sel.key.raw);
        if (jsonUsed) {
          params = { kind: 'jp', frags: [{ k: 'child', name: key }] };
          path = `["${key}"]`;
        } else path = `${path}["${key}"]`;
      }
      if (sel.expr) {
        // The continuation: the rest of the query, its selectors prefixed by this path (§8.6).
        return boundary(compileNode(sel.expr, jsonUsed ? '' : path, jsonHelper, st));
      }
      if (sel.rd !== undefined && jsonUsed) path = `..${sel.rd}`;
    }
  } else {
    path = call.ident;
  }
  path = `${prepend}.${path}`;
  if (jsonHelper !== '') {
    try {
      params = { kind: 'jp', frags: parsePath(path) };
    } catch {
      /* Kubeshark keeps the earlier parameters when this path does not parse */
    }
    path = jsonHelper;
  }
  let frags = pathOrThrow(path, call);
  const segs = path.split('.');
  const lastSeg = segs[segs.length - 1];
  let helper: string | null = null;
  if (params) {
    helper = lastSeg;
    frags = frags.slice(0, -1);
    if (params.kind === 'exprs' && params.nodes.length > 0) {
      if (helper === 'limit') {
        const n = Math.trunc(num(constEval(params.nodes[0]).v));
        if (st.limit === undefined && n > 0) st.limit = n;
      } else if (UNIT_MS[helper] !== undefined) {
        st.usesNow = true;
        const n = Math.trunc(num(constEval(params.nodes[0]).v));
        params = { kind: 'time', offset: n * UNIT_MS[helper] };
      }
    }
  } else if (lastSeg === 'now') {
    st.usesNow = true;
    helper = 'now';
    params = { kind: 'time', offset: 0 };
  }
  if (helper === null) {
    const walk = walkCode(frags, 'MISS');
    if (walk !== null) {
      const build = (miss: string) => fresh({ ...BASE, C: COLLAPSE }, `let v = x.d;\n${walk.replaceAll('MISS', miss)}return v;`);
      return { ev: build('return C;'), build, sel: frags };
    }
    const get = compileGetter(frags);
    return { ev: (x) => { const v = get(x.d); return v === NONE ? COLLAPSE : v; } };
  }
  return compileHelper(helper, compileGetter(frags), params!, st, frags);
}

function compileHelper(helper: string, get: (d: unknown) => unknown, params: ParamKind, st: CompileState, frags?: Frag[]): Compiled {
  if (!HELPERS.has(helper)) return { ev: () => COLLAPSE };
  const arg0 = (): Konst => (params.kind === 'exprs' ? constEval(params.nodes[0]) : params.kind === 'time' ? { v: st.clock.t + params.offset, float: false } : { v: false, float: false });
  const base: Ev = (x) => { const v = get(x.d); return v === NONE ? false : v; };
  switch (helper) {
    case 'startsWith':
    case 'endsWith':
    case 'contains': {
      const s = str(eqForm(arg0()));
      const method = helper === 'contains' ? 'includes' : helper;
      const walk = frags ? walkCode(frags, 'MISS') : null;
      if (walk !== null) {
        // A missing selector gives false (rendered "false"), not a collapse.
        return { ev: fresh({ ...BASE, S: str, K: s }, `let v = x.d;\nfound: {\n${walk.replaceAll('MISS', '{ v = false; break found; }')}}\nreturn S(v).${method}(K);`) };
      }
      return { ev: fresh({ S: str, K: s, B: base }, `return S(B(x)).${method}(K);`) };
    }
    case 'datetime': return konst(parseDatetime(str(eqForm(arg0()))));
    case 'limit': return konst(true);
    case 'now': case 'seconds': case 'minutes': case 'hours': case 'days': case 'weeks': case 'months': case 'years':
      // A time helper whose argument could not be turned into a time: Kubeshark would fail at run time.
      return params.kind === 'time' ? { ev: fresh({ CL: st.clock, O: params.offset }, 'return CL.t + O;') } : { ev: () => COLLAPSE };
    case 'json': {
      if (params.kind !== 'jp') return { ev: () => COLLAPSE };
      const frags = params.frags;
      return { ev: (x) => jsonLookup(str(base(x)), frags) };
    }
    case 'xml': {
      if (params.kind !== 'jp') return { ev: () => COLLAPSE };
      const segs = xmlSegs(params.frags);
      return { ev: (x) => xmlLookup(str(base(x)), segs) };
    }
    case 'redact': {
      const paths = params.kind === 'exprs' ? params.nodes.map((p) => str(eqForm(constEval(p)))) : [];
      st.redactions.push(...paths);
      st.hasRedact = true;
      return { ev: (x) => {
        if (!x.owned) {
          x.d = structuredClone(x.d);
          x.owned = true;
        }
        redactInPlace(x.d, paths);
        return true;
      } };
    }
  }
  return { ev: () => COLLAPSE };
}
