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

test('legacy KFL: compiled closures answer as the eval.go model on 700 random queries × 6 documents', () => {
  const rnd = prng(808);
  const docs = Array.from({ length: 6 }, () => doc(rnd));
  let t = 0, f = 0;
  for (let i = 0; i < 700; i++) {
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
  assert.ok(t > 600 && f > 600, `both answers common: ${t} true, ${f} false`);
});

test('legacy KFL: every selector against half the literals, with an operator, one way round, on fixed documents', () => {
  const rnd = prng(99);
  const docs = Array.from({ length: 8 }, () => doc(rnd));
  for (const s of SELECTORS) {
    for (const l of LITERALS.filter(() => rnd() < 0.5)) {
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
      for (const q of [`${a} == ${b}`, `${a} >= ${b}`, `-${a} != ${b}`]) {
        assert.equal(compileLegacy(q).match({} as never), model(q, {}), q);
      }
    }
  }
});

// ------------------------------------------------------------------------------- helpers
// The helpers' rules (docs/kfl-legacy.md), case by case, on one document.
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const BODY = JSON.stringify({ a: { b: [10, 20], 'k y': 'v' }, list: [{ id: 1 }, { id: 2 }], s: 'str' });
const DOC = {
  name: 'Acme', n: 3, tags: ['new', 'sale'], nested: { name: 'inner', tags: ['x'] }, ts: 1_000_000,
  body: BODY, body64: b64(BODY), arr: '[5,6]', xml: '<r><i k="1">a</i><i k="2">b</i></r>', secret: 's3', deep: { secret: 'd', keep: 'k' },
};
const NOW = 1_000_000;
const run = (q: string): boolean => {
  try {
    return compileLegacy(q).match(DOC as never);
  } catch (e) {
    return assert.fail(`${q}: ${(e as Error).message}`);
  }
};

test('legacy KFL helpers: json() and xml() paths, indexes, keys, recursive descent, continuations', () => {
  const rows: [string, boolean][] = [
    ['body.json().a.b[1] == 20', true], ['body.json().a.b[0] == 20', false], ['body64.json().a.b[1] == 20', true],
    ['body.json()["s"] == "str"', true], ['body.json()["a"] == "x"', false], ['body.json()..id == 1', true], ['body.json()..id == 2', false],
    ['body.json().list.*.id == 2', false], ['arr.json()[1] == 6', true], ['arr.json()[0] == 6', false], ['arr.json()[5] == 6', false],
    ['body.json().nope == false', true], ['body.json().nope', false], ['name.json().x == false', true], ['body.json()', false],
    ['xml.xml().r.i[1]["#text"] == "b"', true], ['xml.xml().r.i[1] == "b"', true], ['xml.xml().r.i[0] == "b"', false], ['xml.xml().r.i == "a"', true],
    // after an index the key is dropped (as Kubeshark drops it)
    ['xml.xml().r.i[0]["-k"] == "1"', false],
    ['xml.xml().r.missing == false', true], ['body.xml().r == false', true],
    // a continuation after json(): the rest of the query is read in the body (a collapse boundary)
    ['body.json().a.b[1] == 20 and s == "str"', true], ['body.json().a.b[1] == 20 and name == "Acme"', false],
    ['(body.json().a.b[1] == 20) and name == "Acme"', true],
    // selectors with [..] then a continuation: the rest is read under that path
    ['nested.tags[0] == "x"', true], ['tags[1] == "sale" and n == 3', true],
    ['nested["name"] == "inner"', true], ['nested["name"] == "Acme"', false],
    // json(params): a helper with arguments that is not one of its forms
    ['body.json("a") == false', false], ['xml.xml(1) == false', false],
  ];
  for (const [q, want] of rows) assert.equal(run(q), want, q);
});

test('legacy KFL helpers: string tests on any path, arguments as constants, unknown helpers, datetime', () => {
  const rows: [string, boolean][] = [
    ['name.startsWith("Ac")', true], ['name.endsWith("me")', true], ['name.contains("cm")', true], ['name.contains("x")', false],
    ['tags.*.contains("sale")', false], ['nested.tags.*.startsWith("x")', true], ['tags.contains("")', true], ['nope.*.endsWith("lse")', true],
    ['n.startsWith(3)', true], ['n.contains(3.0)', true], ['ts.contains(1e6)', false], ['ts.startsWith(1000000)', false],
    // helper arguments are constants: selectors, regexes and helper calls inside are false
    ['name.contains(name)', false], ['nope.contains(name)', true], ['name.startsWith(!false)', false], ['name.startsWith(1 == 1)', false],
    ['nope.startsWith(!true)', true], ['nope.contains(1 < 2)', false], ['nope.contains(2 < 1)', true], ['nope.contains(r"x")', true],
    ['nope.contains(true and false)', true], ['nope.contains(false or "")', true], ['nope.contains(0 or 0)', true], ['nope.contains(1 and "x")', false],
    ['nope.contains("f" == "f")', false], ['nope.contains("f" != "f")', true], ['nope.startsWith(-0)', false], ['n.endsWith(-3)', false],
    ['nope.contains(nil)', false], ['nope.contains((false))', true], ['nope.contains(x.startsWith("a"))', true], ['nope.contains(x.y(1))', true],
    ['nope.contains(- 2.5)', false], ['n.contains(-(3))', false], ['nope.contains(!"x")', false],
    ['name.foo(1)', false], ['name.foo(1) or true', false], ['(name.foo(1)) or true', true], ['name.startsWith()', false],
    ['datetime("1/1/1970, 12:16:40.000 AM") == ts', true], ['datetime("1/1/1970, 12:16:41.000 AM") > ts', true], ['datetime("bad") == false', true],
    ['limit(3)', true], ['limit(0) and n == 3', true], ['n == 4 and limit(3)', false],
  ];
  for (const [q, want] of rows) assert.equal(run(q), want, q);
  assert.equal(compileLegacy('limit(0) or limit(-2) or limit(7) or limit(9)').limit, 7);
  assert.equal(compileLegacy('limit(2.9)').limit, 2);
  assert.equal(compileLegacy('limit("4")').limit, 4);
  assert.equal(compileLegacy('limit(0)').limit, undefined);
  assert.equal(compileLegacy('limit()').limit, undefined);
});

test('legacy KFL helpers: time helpers are the clock plus n units, fixed when compiled', () => {
  const at = (q: string, d: object) => compileLegacy(q, { now: () => NOW }).match(d as never);
  const units: [string, number][] = [['seconds', 1e3], ['minutes', 60e3], ['hours', 3600e3], ['days', 86400e3], ['weeks', 7 * 86400e3], ['months', 30 * 86400e3], ['years', 365 * 86400e3]];
  for (const [u, ms] of units) {
    for (const k of [2, -3]) {
      const t = NOW + k * ms;
      assert.equal(at(`t == ${u}(${k})`, { t }), true, `${u}(${k})`);
      assert.equal(at(`t == ${u}(${k})`, { t: t + 1 }), false, `${u}(${k})`);
      assert.equal(at(`t >= ${u}(${k})`, { t }), true, `${u}(${k})`);
      assert.equal(at(`t > ${u}(${k})`, { t }), false, `${u}(${k})`);
      assert.equal(at(`t >= ${u}(${k})`, { t: t - 1 }), false, `${u}(${k})`);
      assert.equal(at(`t == ${u}(${k})`, { t: String(t) }), true, `${u}(${k}) as a string`);
    }
    assert.equal(at(`t >= ${u}(2.7)`, { t: NOW + 2 * ms }), true, `${u}: n truncated`);
    assert.equal(at(`t > ${u}(2.7)`, { t: NOW + 2 * ms }), false);
  }
  assert.equal(at('t == now()', { t: String(NOW) }), true);
  assert.equal(at('t >= now', { t: NOW }), true);
  assert.equal(at('t > now', { t: NOW }), false);
  assert.equal(at('t >= seconds()', { t: NOW }), false, 'seconds() is the path "seconds": missing, collapsed');
  // the clock is read when compiled, each compilation its own
  let clock = 5000;
  const q1 = compileLegacy('t >= seconds(1)', { now: () => clock });
  clock = 1e12;
  assert.equal(q1.match({ t: 6000 } as never), true);
  assert.equal(compileLegacy('t >= seconds(1)', { now: () => clock }).match({ t: 6000 } as never), false);
});

test('legacy KFL helpers: redact() works on one copy per item, later terms see it, the item is untouched', () => {
  const q = compileLegacy('redact("secret") and secret == "[REDACTED]" and redact("deep.secret") and deep.secret == "[REDACTED]" and deep.keep == "k"');
  assert.deepEqual(q.redactions, ['secret', 'deep.secret']);
  const before = JSON.stringify(DOC);
  assert.equal(q.match(DOC as never), true);
  assert.equal(q.match(DOC as never), true, 'again, on a fresh copy');
  assert.equal(JSON.stringify(DOC), before);
  assert.equal(compileLegacy('secret == "s3" and redact("secret") and secret == "s3"').match(DOC as never), false);
  assert.equal(compileLegacy('redact() and secret == "s3"').match(DOC as never), false, 'redact() is the path "redact": missing');
  assert.deepEqual(compileLegacy('redact(1, "a.b", x)').redactions, ['1', 'a.b', 'false']);
  assert.deepEqual(compileLegacy('redact(1.5)').redactions, ['1.5']);
});
