/**
 * Static checking of a parsed KFL2 expression: unknown variables, functions and type errors
 * are compile-time errors, as in Kubeshark's KFL2 ("statically typed; errors on bad field
 * names/types"). Hand-written because @bufbuild/cel 0.6's own checker handles only constants
 * and identifiers; it walks the library's AST (the cel-spec Expr) and nothing else.
 */
import type { parse } from '@bufbuild/cel';
import { compatible, isNumeric, join, list, map, show, type Type } from './types';

type Expr = ReturnType<typeof parse>['expr'];
type Call = Extract<Expr['exprKind'], { case: 'callExpr' }>['value'];

/** A check failure at an expression: `id` maps to a source offset through the parse's positions. */
export class CheckError extends Error {
  constructor(readonly id: bigint, message: string) {
    super(message);
  }
}

const TYPE_NAMES = new Set(['int', 'uint', 'double', 'bool', 'string', 'bytes', 'list', 'map', 'null_type', 'type', 'dyn']);
const TIME_ACCESSORS = new Set([
  'getFullYear', 'getMonth', 'getDayOfYear', 'getDayOfMonth', 'getDate', 'getDayOfWeek',
  'getHours', 'getMinutes', 'getSeconds', 'getMilliseconds',
]);
const STRING_TESTS = new Set(['contains', 'startsWith', 'endsWith', 'matches']);

export interface CheckOptions {
  variables: Readonly<Record<string, { type: Type }>>;
  /** Called for each variable the expression reads (lets callers know what a query touches). */
  onVariable?: (name: string) => void;
}

export function checkExpr(root: Expr, opts: CheckOptions): Type {
  const vars = opts.variables;
  const prefixes = new Set<string>();
  for (const name of Object.keys(vars)) {
    const parts = name.split('.');
    for (let i = 1; i < parts.length; i++) prefixes.add(parts.slice(0, i).join('.'));
  }
  const scopes: Map<string, Type>[] = [];
  const local = (name: string): Type | undefined => {
    for (let i = scopes.length - 1; i >= 0; i--) {
      const t = scopes[i].get(name);
      if (t !== undefined) return t;
    }
    return undefined;
  };

  const fail = (e: Expr, msg: string): never => {
    throw new CheckError(e.id, msg);
  };
  const noOverload = (e: Expr, fn: string, types: Type[]): never =>
    fail(e, `found no matching overload for '${fn}' applied to '(${types.map(show).join(', ')})'`);
  const unknownName = (e: Expr, name: string): never => {
    if (name === 'nil') return fail(e, "undeclared reference to 'nil' (CEL writes 'null')");
    const hint = suggest(name, Object.keys(vars));
    return fail(e, `undeclared reference to '${name}'${hint ? ` (did you mean '${hint}'?)` : ''}`);
  };

  /** `a.b.c` made only of identifiers and field selections, or null. */
  const qualified = (e: Expr): { name: string; head: Expr } | null => {
    if (e.exprKind.case === 'identExpr') return { name: e.exprKind.value.name, head: e };
    if (e.exprKind.case === 'selectExpr' && !e.exprKind.value.testOnly && e.exprKind.value.operand) {
      const inner = qualified(e.exprKind.value.operand);
      return inner && { name: `${inner.name}.${e.exprKind.value.field}`, head: inner.head };
    }
    return null;
  };

  const field = (e: Expr, t: Type, name: string): Type => {
    if (t === 'dyn') return 'dyn';
    if (typeof t === 'object' && 'map' in t && compatible(t.map[0], 'string')) return t.map[1];
    return fail(e, `type '${show(t)}' does not support field selection ('.${name}')`);
  };

  const visit = (e: Expr): Type => {
    const k = e.exprKind;
    switch (k.case) {
      case 'constExpr':
        switch (k.value.constantKind.case) {
          case 'boolValue': return 'bool';
          case 'int64Value': return 'int';
          case 'uint64Value': return 'uint';
          case 'doubleValue': return 'double';
          case 'stringValue': return 'string';
          case 'bytesValue': return 'bytes';
          case 'nullValue': return 'null';
          case 'durationValue': return 'duration';
          case 'timestampValue': return 'timestamp';
          default: return fail(e, 'unsupported constant');
        }
      case 'identExpr': {
        const name = k.value.name;
        const t = local(name) ?? vars[name]?.type;
        if (t !== undefined) {
          if (!local(name)) opts.onVariable?.(name);
          return t;
        }
        if (TYPE_NAMES.has(name)) return 'type';
        if (prefixes.has(name)) return fail(e, `undeclared reference to '${name}' (a prefix of ${examples(name, vars)})`);
        return unknownName(e, name);
      }
      case 'selectExpr': {
        const { operand, field: f, testOnly } = k.value;
        if (!operand) return fail(e, 'missing operand');
        const q = testOnly ? null : qualified(e);
        // Flat dotted variables (`src.ip`, `request.headers`) win over field selection, as in
        // CEL's name resolution; a comprehension variable shadows them.
        if (q && !local(q.name.split('.')[0])) {
          if (vars[q.name]) {
            opts.onVariable?.(q.name);
            return vars[q.name].type;
          }
          if (prefixes.has(q.name)) return fail(q.head, `undeclared reference to '${q.name}' (a prefix of ${examples(q.name, vars)})`);
          const parent = qualified(operand);
          if (parent && !vars[parent.name] && !local(parent.name)) return unknownName(q.head, q.name);
        }
        const t = field(e, visit(operand), f);
        return testOnly ? 'bool' : t;
      }
      case 'listExpr': {
        // A heterogeneous literal is list(dyn), as CEL's checker types it, whatever follows
        // (`["a", 1, 2]` is not list(int)).
        let t: Type = 'dyn', mixed = false;
        k.value.elements.forEach((el, i) => {
          const et = visit(el);
          if (i === 0) t = et;
          else if (!mixed && compatible(t, et)) t = join(t, et);
          else [t, mixed] = ['dyn', true];
        });
        return list(t);
      }
      case 'structExpr': {
        if (k.value.messageName) return fail(e, `message construction ('${k.value.messageName}{…}') is not supported in KFL2`);
        // Keys and values typed like list elements: once mixed, dyn.
        let kt: Type = 'dyn', vt: Type = 'dyn', kMixed = false, vMixed = false;
        k.value.entries.forEach((en, i) => {
          if (en.keyKind.case !== 'mapKey' || !en.value) return;
          const a = visit(en.keyKind.value), b = visit(en.value);
          if (i === 0) [kt, vt] = [a, b];
          else {
            if (!kMixed && compatible(kt, a)) kt = join(kt, a);
            else [kt, kMixed] = ['dyn', true];
            if (!vMixed && compatible(vt, b)) vt = join(vt, b);
            else [vt, vMixed] = ['dyn', true];
          }
        });
        return map(kt, vt);
      }
      case 'comprehensionExpr': {
        const c = k.value;
        if (!c.iterRange || !c.accuInit || !c.loopCondition || !c.loopStep || !c.result) return fail(e, 'malformed macro');
        const range = visit(c.iterRange);
        let elem: Type = 'dyn', elem2: Type = 'dyn';
        if (typeof range === 'object' && 'list' in range) [elem, elem2] = ['int', range.list];
        else if (typeof range === 'object' && 'map' in range) [elem, elem2] = range.map;
        else if (range !== 'dyn') return fail(c.iterRange, `expression of type '${show(range)}' cannot be the range of a comprehension (must be list or map)`);
        if (typeof range === 'object' && 'list' in range && !c.iterVar2) elem = range.list;
        const accu = visit(c.accuInit);
        const scope = new Map<string, Type>([[c.iterVar, elem]]);
        if (c.iterVar2) scope.set(c.iterVar2, elem2);
        scope.set(c.accuVar, accu);
        scopes.push(scope);
        try {
          const cond = visit(c.loopCondition);
          if (!compatible(cond, 'bool')) return fail(c.loopCondition, `expected bool, found '${show(cond)}'`);
          const step = visit(c.loopStep);
          if (!compatible(step, accu)) return fail(c.loopStep, `expected '${show(accu)}', found '${show(step)}'`);
          scope.set(c.accuVar, join(accu, step));
          return visit(c.result);
        } finally {
          scopes.pop();
        }
      }
      case 'callExpr':
        return call(e, k.value);
      default:
        return fail(e, 'empty expression');
    }
  };

  const call = (e: Expr, c: Call): Type => {
    const fn = c.function;
    const args = c.args.map(visit);
    const target = c.target ? visit(c.target) : undefined;
    const all = target === undefined ? args : [target, ...args];
    const is = (t: Type, want: Type) => compatible(t, want);
    const bad = (): never => noOverload(e, target === undefined ? fn : `${show(target)}.${fn}`, all);

    switch (fn) {
      case '_&&_':
      case '_||_':
        return args.every((t) => is(t, 'bool')) ? 'bool' : bad();
      case '!_':
      case '@not_strictly_false':
        return is(args[0], 'bool') ? 'bool' : bad();
      case '-_':
        return ['int', 'double', 'duration', 'dyn'].includes(args[0] as string) ? args[0] : bad();
      case '_?_:_':
        if (!is(args[0], 'bool')) return fail(c.args[0], `conditional expects bool, found '${show(args[0])}'`);
        return compatible(args[1], args[2]) ? join(args[1], args[2]) : bad();
      case '_==_':
      case '_!=_':
        // Numbers compare across int/uint/double (CEL's runtime does); anything else must agree.
        return compatible(args[0], args[1]) || (isNumeric(args[0]) && isNumeric(args[1])) || args.includes('null') ? 'bool' : bad();
      case '_<_':
      case '_<=_':
      case '_>_':
      case '_>=_': {
        const [a, b] = args;
        const ordered = ['int', 'uint', 'double', 'string', 'bytes', 'bool', 'timestamp', 'duration', 'dyn'];
        if (!ordered.includes(a as string) || !ordered.includes(b as string)) return bad();
        return compatible(a, b) || (isNumeric(a) && isNumeric(b)) ? 'bool' : bad();
      }
      case '_+_':
      case '_-_':
      case '_*_':
      case '_/_':
      case '_%_':
        return arithmetic(fn, args[0], args[1]) ?? bad();
      case '_[_]':
      case '_[?_]': {
        const [c0, i] = args;
        if (c0 === 'dyn') return 'dyn';
        if (typeof c0 === 'object' && 'list' in c0 && (is(i, 'int') || is(i, 'uint'))) return c0.list;
        if (typeof c0 === 'object' && 'map' in c0 && is(i, c0.map[0])) return c0.map[1];
        return bad();
      }
      case '@in': {
        const [x, coll] = args;
        if (coll === 'dyn') return 'bool';
        if (typeof coll === 'object' && 'list' in coll && (is(x, coll.list) || (isNumeric(x) && isNumeric(coll.list)))) return 'bool';
        if (typeof coll === 'object' && 'map' in coll && is(x, coll.map[0])) return 'bool';
        return bad();
      }
      case 'size': {
        const t = target ?? args[0];
        if (all.length !== 1) return bad();
        return typeof t === 'object' || ['string', 'bytes', 'dyn'].includes(t) ? 'int' : bad();
      }
      case 'map_get': {
        if (target !== undefined || args.length !== 3) return bad();
        const [m, key, def] = args;
        if (m === 'dyn') return def;
        if (typeof m === 'object' && 'map' in m && is(key, m.map[0]) && is(def, m.map[1])) return join(m.map[1], def);
        return bad();
      }
      case 'now':
        return target === undefined && args.length === 0 ? 'timestamp' : bad();
      case 'timestamp':
        return target === undefined && args.length === 1 && ['string', 'int', 'timestamp', 'dyn'].includes(args[0] as string) ? 'timestamp' : bad();
      case 'duration':
        return target === undefined && args.length === 1 && ['string', 'duration', 'dyn'].includes(args[0] as string) ? 'duration' : bad();
      case 'int': case 'uint': case 'double': case 'string': case 'bytes': case 'bool':
        return target === undefined && args.length === 1 ? fn : bad();
      case 'dyn':
        return target === undefined && args.length === 1 ? 'dyn' : bad();
      case 'type':
        return target === undefined && args.length === 1 ? 'type' : bad();
    }
    if (STRING_TESTS.has(fn)) {
      const [s, p] = target !== undefined ? [target, args[0]] : args; // matches(s, re) is also a global
      return all.length === 2 && is(s, 'string') && is(p, 'string') ? 'bool' : bad();
    }
    if (TIME_ACCESSORS.has(fn) && target !== undefined) {
      const tzOk = args.length === 0 || (args.length === 1 && is(args[0], 'string'));
      if (is(target, 'timestamp') && tzOk) return 'int';
      if (target === 'duration' && args.length === 0 && ['getHours', 'getMinutes', 'getSeconds', 'getMilliseconds'].includes(fn)) return 'int';
      return bad();
    }
    return fail(e, target === undefined ? `undeclared reference to '${fn}'` : `undeclared reference to method '${fn}' on '${show(target)}'`);
  };

  return visit(root);
}

function arithmetic(fn: string, a: Type, b: Type): Type | undefined {
  if (a === 'dyn' || b === 'dyn') return 'dyn';
  if (a === b && isNumeric(a)) return fn === '_%_' && a === 'double' ? undefined : a;
  if (fn === '_+_') {
    if (a === b && (a === 'string' || a === 'bytes' || a === 'duration')) return a;
    if ((a === 'timestamp' && b === 'duration') || (a === 'duration' && b === 'timestamp')) return 'timestamp';
    if (typeof a === 'object' && typeof b === 'object' && 'list' in a && 'list' in b) return compatible(a, b) ? join(a, b) : list('dyn');
  }
  if (fn === '_-_') {
    if (a === 'timestamp' && b === 'timestamp') return 'duration';
    if (a === 'timestamp' && b === 'duration') return 'timestamp';
    if (a === 'duration' && b === 'duration') return 'duration';
  }
  return undefined;
}

function examples(prefix: string, vars: Readonly<Record<string, unknown>>): string {
  const names = Object.keys(vars).filter((n) => n.startsWith(`${prefix}.`)).slice(0, 4);
  return names.map((n) => `'${n}'`).join(', ');
}

/** The closest declared name within a small edit distance, for "did you mean". */
function suggest(name: string, names: string[]): string | undefined {
  let best: string | undefined, bestD = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const n of names) {
    const d = distance(name, n);
    if (d < bestD) [best, bestD] = [n, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
