/**
 * Model test of legacy KFL's compiler (server/kfl/legacy/compile.ts). The compiler turns the AST
 * into generated closures with fused fast paths (a selector walk fused into `==`/`<`, integer
 * and string shortcuts, constant folding, a missing selector rebuilt as `false` at a boundary).
 * The model here is a plain recursive interpreter of the same AST written from eval.go's rules
 * (kubeshark-compat §8): selectors through the general path walker (getAll), `==`/`!=` through
 * eql/neq on the operands' renderings (query number literals as float64, 'g' 6), comparisons
 * through cmp, a missing selector collapsing up to the nearest parentheses, `and`/`or`
 * short-circuiting on truthiness, `!` only on booleans and `-` only on float64s. Thousands of
 * random queries over random documents must give the same answer both ways.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileLegacy } from '../../server/kfl/legacy/index';
import { prepare } from '../../server/kfl/legacy/prepare';
import type { Node } from '../../server/kfl/legacy/parser';
import { getAll, parsePath } from '../../server/kfl/legacy/path';
import { compileRe2 } from '../../server/kfl/legacy/regex';
import { Rx, cmp, eql, formatG6, neq, str, truthy, type CmpOp } from '../../server/kfl/legacy/values';
import { prng } from '../dissectors/harness';

const C = Symbol('collapse');
interface V { v: unknown; float: boolean }
const val = (v: unknown, float = false): V => ({ v, float });
const trim = (s: string) => s.replace(/^"+|"+$/g, '');
const form = (x: V) => (x.float && typeof x.v === 'number' ? formatG6(x.v) : x.v);

function get(path: string, d: unknown): unknown {
  const r = getAll(parsePath(path), d);
  return r.length === 0 ? C : r.length === 1 ? r[0] : r;
}

/** The model: eval.go's rules, node by node. */
function ev(n: Node, d: unknown): V {
  switch (n.t) {
    case 'num': return val(n.value, true);
    case 'str': return val(trim(n.raw));
    case 'bool': return val(n.value);
    case 'nil': return val(null);
    case 'regex': return val(new Rx(compileRe2(trim(n.raw))));
    case 'sub': {
      const r = ev(n.expr, d);
      return r.v === C ? val(false) : r;
    }
    case 'unary': {
      const r = ev(n.operand, d);
      if (n.op === '!') return typeof r.v === 'boolean' ? val(!r.v) : r;
      return typeof r.v === 'number' && (r.float || !Number.isInteger(r.v)) ? val(-r.v, r.float) : r;
    }
    case 'bin': {
      const a = ev(n.left, d);
      if (a.v === C) return a;
      if (n.level === 'logical') {
        if (n.op === 'and' && !truthy(a.v)) return val(false);
        if (n.op === 'or' && truthy(a.v)) return val(true);
        const b = ev(n.right, d);
        return b.v === C ? b : val(truthy(b.v));
      }
      const b = ev(n.right, d);
      if (b.v === C) return b;
      if (n.level === 'eq') return val((n.op === '==' ? eql : neq)(form(a), form(b)));
      return val(cmp(n.op as CmpOp, a.v, b.v));
    }
    case 'call': {
      const c = n.call;
      assert.equal(c.select?.expr, undefined, 'no continuations in the model');
      if (c.params === null) {
        let path = '.' + c.ident;
        if (c.select?.index !== undefined) path += `[${c.select.index}]`;
        else if (c.select?.key) path += `["${trim(c.select.key.raw)}"]`;
        return val(get(path, d));
      }
      const segs = c.ident.split('.');
      const helper = segs.pop()!;
      assert.ok(helper === 'contains' || helper === 'startsWith' || helper === 'endsWith', helper);
      const p = c.params[0].expr;
      const arg = p.t === 'num' ? formatG6(p.value) : p.t === 'str' ? trim(p.raw) : assert.fail('literal arguments only');
      const v = get('.' + segs.join('.'), d);
      const s = str(v === C ? false : v);
      return val(helper === 'contains' ? s.includes(arg) : helper === 'startsWith' ? s.startsWith(arg) : s.endsWith(arg));
    }
  }
}

function model(q: string, d: unknown): boolean {
  const { ast } = prepare(q);
  if (!ast) return true;
  const r = ev(ast, d);
  return r.v !== C && truthy(r.v === C ? false : r.v);
}

const SELECTORS = [
  'qty', 'price', 'name', 'flag', 'tags', 'tags[1]', 'tags[0]', 'tags[7]', 'tags.*', 'nums.*', 'nums', 'nums[0]', 'vendor.name', 'vendor.missing', 'missing',
  'vendor["name"]', 'vendor["no"]', 'lines.*.n', 'lines.*', 'nul', 'neg', 'deep.a.b.c', 'deep.a', 'toString', 'constructor', 'big', 'nstr', 'fstr',
  'empty', 'mixed.*', 'obj', 'zero', 'half', 'huge', 'bools.*', 'text',
];
const LITERALS = [
  '3', '2.5', '0', '-1', '-2.5', '1e6', '1000000', '123456', '1e15', '1e16', '0.5', '.5', '"3"', '"2.5"', '"Acme"', '""', '"true"', '"false"', '"null"', '"x"',
  'true', 'false', 'nil', 'r"^A"', 'r"[0-9]"', 'r"^$"', '"1e+06"', '"-1"', '"1000000000000000"', '"NaN"',
];
const OPS = ['==', '!=', '<', '<=', '>', '>='];
const HELPERS = ['contains', 'startsWith', 'endsWith'];

function doc(rnd: () => number): Record<string, unknown> {
  const scalars: unknown[] = [3, 2.5, 0, -1, -2.5, 1e6, 123456, 1e15, 1e15 + 1, 1e16, 2 ** 63, 0.5, 1e21, -0, 'Acme', '3', '2.5', '', 'x', 'true', 'null', 'a\nb', true, false, null, 'Ac', '1e6', 'NaN', 'inf'];
  const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)];
  const sc = () => pick(scalars);
  const arr = () => Array.from({ length: Math.floor(rnd() * 4) }, sc);
  const maybe = (f: () => unknown) => (rnd() < 0.15 ? undefined : f());
  const d: Record<string, unknown> = {
    qty: maybe(sc), price: maybe(sc), name: maybe(sc), flag: maybe(sc), tags: maybe(arr), nums: maybe(arr),
    vendor: maybe(() => (rnd() < 0.8 ? { name: sc(), country: sc() } : sc())), lines: maybe(() => [{ n: sc() }, { n: sc() }, rnd() < 0.5 ? { m: 1 } : sc()]),
    nul: null, neg: maybe(() => [-1, -2.5]), deep: maybe(() => ({ a: rnd() < 0.7 ? { b: { c: sc() } } : sc() })),
    big: maybe(sc), nstr: maybe(sc), fstr: maybe(sc), empty: [], mixed: maybe(() => ({ a: sc(), b: sc() })), obj: maybe(() => ({})),
    zero: 0, half: 0.5, huge: maybe(sc), bools: maybe(() => [true, false]), text: maybe(sc),
  };
  for (const k of Object.keys(d)) if (d[k] === undefined) delete d[k];
  return d;
}

function query(rnd: () => number, depth: number): string {
  const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)];
  const operand = () => (rnd() < 0.6 ? pick(SELECTORS) : pick(LITERALS));
  // `x.*` followed by a word reads the word as a field name (`.*` [Ident]): such atoms go in parentheses.
  const atom = (): string => {
    const a = atom0();
    return a.endsWith('*') ? `(${a})` : a;
  };
  const atom0 = (): string => {
    const r = rnd();
    if (r < 0.5) return `${operand()} ${pick(OPS)} ${operand()}`;
    if (r < 0.6) {
      const sel = pick(SELECTORS.filter((s) => !/[[\]*]/.test(s)));
      return `${sel}.${pick(HELPERS)}(${pick(['"A"', '"3"', '""', '"e"', '"true"', '"false"', '"me"', '3', '2.5', '1e6'])})`;
    }
    if (r < 0.7) return `-${operand()} ${pick(OPS)} ${operand()}`;
    return operand();
  };
  const r = rnd();
  if (depth === 0 || r < 0.35) return atom();
  if (r < 0.45) return `!${rnd() < 0.5 ? '(' + query(rnd, depth - 1) + ')' : atom()}`;
  if (r < 0.55) return `(${query(rnd, depth - 1)})`;
  return `${query(rnd, depth - 1)} ${rnd() < 0.5 ? 'and' : 'or'} ${query(rnd, depth - 1)}`;
}

test('legacy KFL: compiled closures answer as the eval.go model on 1,200 random queries × 6 documents', () => {
  const rnd = prng(808);
  const docs = Array.from({ length: 6 }, () => doc(rnd));
  let t = 0, f = 0;
  for (let i = 0; i < 1200; i++) {
    const q = query(rnd, 3);
    let c: ReturnType<typeof compileLegacy>;
    try {
      c = compileLegacy(q);
    } catch (e) {
      assert.fail(`${q}: ${(e as Error).message}`);
    }
    for (let k = 0; k < docs.length; k++) {
      const want = model(q, docs[k]);
      const got: boolean = c.match(docs[k] as never);
      if (got !== want) assert.fail(`${q}\non ${JSON.stringify(docs[k])}\ncompiled ${got}, model ${want}`);
      if (want) t++;
      else f++;
    }
  }
  assert.ok(t > 1000 && f > 1000, `both answers common: ${t} true, ${f} false`);
});

test('legacy KFL: every selector against every literal, with an operator, one way round, on fixed documents', () => {
  const rnd = prng(99);
  const docs = Array.from({ length: 8 }, () => doc(rnd));
  for (const s of SELECTORS) {
    for (const l of LITERALS) {
      for (const op of [OPS[Math.floor(rnd() * 6)]]) {
        for (const q of [rnd() < 0.5 ? `${s} ${op} ${l}` : `${l} ${op} ${s}`]) {
          const c = compileLegacy(q);
          for (const d of docs) if (c.match(d as never) !== model(q, d)) assert.fail(`${q} on ${JSON.stringify(d)}: compiled ${c.match(d as never)}`);
        }
      }
    }
  }
});

test('legacy KFL: constant queries fold to the same answers as the model', () => {
  for (const a of LITERALS) {
    for (const b of LITERALS) {
      for (const q of [`${a} == ${b}`, `${a} != ${b}`, `${a} < ${b}`, `${a} >= ${b}`, `${a} and ${b}`, `-${a} == ${b}`]) {
        assert.equal(compileLegacy(q).match({} as never), model(q, {}), q);
      }
    }
  }
});
