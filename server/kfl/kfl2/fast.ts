/**
 * A direct closure compiler for the common subset of KFL2 (flags, comparisons of variables with
 * constants, `in`, string tests, map access): hand-written because @bufbuild/cel's general
 * evaluator costs ~0.7 µs per item even over ready variables (bench/kfl.bench.ts; the ≥1M
 * items/s goal needs less). Anything outside the subset returns null and the query runs on
 * @bufbuild/cel's plan instead; a test checks both agree on every sample query.
 *
 * Errors follow CEL: a failing sub-expression (missing map key, list index out of range) yields
 * ERR, which `&&`/`||` absorb when the other side decides the result, and which is "no match".
 */
import type { parse } from '@bufbuild/cel';
import { isNumeric, type Type } from './types';

type Expr = ReturnType<typeof parse>['expr'];
type Item = object;
export type Fn = (item: Item) => unknown;

export const ERR: unique symbol = Symbol('kfl2-error');

export interface FastOptions {
  variables: Readonly<Record<string, { type: Type }>>;
  /** Reads a variable straight from the item (no activation object in between). */
  readers: Readonly<Record<string, (item: never) => unknown>>;
  regex: (pattern: string) => { test(s: string): boolean };
  /** `map[constant key]` without building the map, for the map variables that have one. */
  lookups: Readonly<Record<string, (item: never, key: string) => unknown>>;
  /** `constant in list` without building the list, for the list variables that have one. */
  membership: Readonly<Record<string, (item: never, value: string) => boolean>>;
}

/** The query as a closure, or null when it uses something outside the subset. */
export function compileFast(root: Expr, opts: FastOptions): Fn | null {
  try {
    return build(root, opts).fn;
  } catch (e) {
    if (e === UNSUPPORTED) return null;
    throw e;
  }
}

const UNSUPPORTED = Symbol('unsupported');
const no = (): never => {
  throw UNSUPPORTED;
};

interface Node { fn: Fn; type: Type; constant?: { value: unknown } }

function dotted(e: Expr): string | null {
  if (e.exprKind.case === 'identExpr') return e.exprKind.value.name;
  if (e.exprKind.case === 'selectExpr' && !e.exprKind.value.testOnly && e.exprKind.value.operand) {
    const inner = dotted(e.exprKind.value.operand);
    return inner && `${inner}.${e.exprKind.value.field}`;
  }
  return null;
}

function build(e: Expr, opts: FastOptions): Node {
  const k = e.exprKind;
  if (k.case === 'constExpr') {
    const c = k.value.constantKind;
    const type = ({ boolValue: 'bool', int64Value: 'int', doubleValue: 'double', stringValue: 'string' } as const)[c.case as 'boolValue'];
    if (!type) return no();
    const value = c.value;
    return { fn: () => value, type, constant: { value } };
  }
  const name = dotted(e);
  if (name !== null) {
    const def = opts.variables[name];
    const read = opts.readers[name] as (item: Item) => unknown;
    if (!def || !read) return no(); // field selection on a map, comprehension variables, …
    return { fn: read, type: def.type };
  }
  if (k.case !== 'callExpr') return no();
  const { function: fn, target } = k.value;
  const args = k.value.args.map((a) => build(a, opts));
  const t = target ? build(target, opts) : undefined;

  switch (fn) {
    case '_&&_': {
      const [a, b] = [args[0].fn, args[1].fn];
      return {
        type: 'bool',
        fn: (v) => {
          const x = a(v);
          if (x === false) return false;
          const y = b(v);
          if (y === false) return false;
          return x === ERR || y === ERR ? ERR : true;
        },
      };
    }
    case '_||_': {
      const [a, b] = [args[0].fn, args[1].fn];
      return {
        type: 'bool',
        fn: (v) => {
          const x = a(v);
          if (x === true) return true;
          const y = b(v);
          if (y === true) return true;
          return x === ERR || y === ERR ? ERR : false;
        },
      };
    }
    case '!_': {
      const a = args[0].fn;
      return { type: 'bool', fn: (v) => { const x = a(v); return x === ERR ? ERR : !x; } };
    }
    case '_==_':
    case '_!=_': {
      const [a, b] = args;
      const scalar = (x: Type) => x === 'string' || x === 'bool' || isNumeric(x);
      if (!scalar(a.type) || !scalar(b.type) || a.type === 'uint' || b.type === 'uint') return no();
      const eq = fn === '_==_';
      // bigint vs number: `==` compares numerically (CEL's heterogeneous equality); else strict.
      const loose = a.type !== b.type;
      const [fa, fb] = [a.fn, b.fn];
      return {
        type: 'bool',
        fn: (v) => {
          const x = fa(v), y = fb(v);
          if (x === ERR || y === ERR) return ERR;
          // eslint-disable-next-line eqeqeq
          return (loose ? x == y : x === y) === eq;
        },
      };
    }
    case '_<_': case '_<=_': case '_>_': case '_>=_': {
      const [a, b] = args;
      // numbers only: CEL orders strings by code point, JS by UTF-16 unit
      if (!(a.type === 'int' || a.type === 'double') || !(b.type === 'int' || b.type === 'double')) return no();
      const [fa, fb] = [a.fn, b.fn];
      const cmp = {
        '_<_': (x: any, y: any) => x < y, '_<=_': (x: any, y: any) => x <= y,
        '_>_': (x: any, y: any) => x > y, '_>=_': (x: any, y: any) => x >= y,
      }[fn];
      return { type: 'bool', fn: (v) => { const x = fa(v), y = fb(v); return x === ERR || y === ERR ? ERR : cmp(x, y); } };
    }
    case '@in': {
      const [x, coll] = args;
      if (typeof coll.type !== 'object') return no();
      const [fx, fc] = [x.fn, coll.fn];
      // `"constant" in list` with a membership test first: the generic list branch below would
      // take it too (and build the list), which left this shortcut unreachable.
      const listName = dotted(k.value.args[1]);
      const member = listName !== null ? (opts.membership[listName] as ((item: Item, v: string) => boolean) | undefined) : undefined;
      if (member && x.type === 'string' && x.constant) {
        const v = x.constant.value as string;
        return { type: 'bool', fn: (item) => member(item, v) };
      }
      if ('list' in coll.type && x.type === coll.type.list && (x.type === 'string' || x.type === 'int' || x.type === 'bool')) {
        return { type: 'bool', fn: (v) => { const a = fx(v), c = fc(v); return a === ERR || c === ERR ? ERR : (c as unknown[]).includes(a); } };
      }
      const look = direct(k.value.args[1], x, opts);
      if (look) return { type: 'bool', fn: (item) => look(item) !== undefined };
      if ('map' in coll.type && x.type === 'string' && coll.type.map[0] === 'string') {
        return { type: 'bool', fn: (v) => { const a = fx(v), c = fc(v); return a === ERR || c === ERR ? ERR : (c as Map<unknown, unknown>).has(a); } };
      }
      return no();
    }
    case '_[_]': {
      const [coll, key] = args;
      const look = direct(k.value.args[0], key, opts);
      if (look) return { type: 'string', fn: (item) => look(item) ?? ERR };
      const [fc, fk] = [coll.fn, key.fn];
      if (typeof coll.type === 'object' && 'map' in coll.type && coll.type.map[0] === 'string' && key.type === 'string') {
        const m = coll.type.map[1];
        return {
          type: m,
          fn: (v) => {
            const c = fc(v) as Map<unknown, unknown>, kk = fk(v);
            if ((c as unknown) === ERR || kk === ERR) return ERR;
            const r = c.get(kk);
            return r === undefined ? ERR : r;
          },
        };
      }
      return no();
    }
    case 'map_get': {
      const [m, key, def] = args;
      const look = direct(k.value.args[0], key, opts);
      if (look && def.type === 'string') {
        const fd = def.fn;
        return { type: 'string', fn: (item) => look(item) ?? fd(item) };
      }
      if (typeof m.type !== 'object' || !('map' in m.type) || m.type.map[1] !== def.type || key.type !== 'string') return no();
      const [fm, fk, fd] = [m.fn, key.fn, def.fn];
      return {
        type: def.type,
        fn: (v) => {
          const c = fm(v) as Map<unknown, unknown>, kk = fk(v);
          if ((c as unknown) === ERR || kk === ERR) return ERR;
          return c.has(kk) ? c.get(kk) : fd(v);
        },
      };
    }
    case 'contains': case 'startsWith': case 'endsWith': case 'matches': {
      if (!t || t.type !== 'string' || args.length !== 1 || args[0].type !== 'string') return no();
      const fs = t.fn;
      if (fn === 'matches') {
        if (!args[0].constant) return no();
        const re = opts.regex(args[0].constant.value as string);
        return { type: 'bool', fn: (v) => { const s = fs(v); return s === ERR ? ERR : re.test(s as string); } };
      }
      const fa = args[0].fn;
      const op = { contains: (s: string, x: string) => s.includes(x), startsWith: (s: string, x: string) => s.startsWith(x), endsWith: (s: string, x: string) => s.endsWith(x) }[fn];
      return { type: 'bool', fn: (v) => { const s = fs(v), x = fa(v); return s === ERR || x === ERR ? ERR : op(s as string, x as string); } };
    }
  }
  return no();
}

/** A direct lookup when `mapExpr` is a map variable that has one and `key` is a constant string. */
function direct(mapExpr: Expr, key: Node, opts: FastOptions): ((item: Item) => unknown) | null {
  const name = dotted(mapExpr);
  const look = name !== null ? (opts.lookups[name] as ((item: Item, key: string) => unknown) | undefined) : undefined;
  if (!look || key.type !== 'string' || !key.constant) return null;
  const k = key.constant.value as string;
  return (item) => look(item, k);
}
