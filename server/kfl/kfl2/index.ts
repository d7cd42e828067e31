/**
 * KFL2: Kubeshark's CEL-based filter language, on @bufbuild/cel. A query is parsed, checked
 * against the declared variables (check.ts) and planned once; `match` evaluates the plan over
 * the item's shared, lazily computed variables (variables.ts).
 */
import { celEnv, celFunc, isCelError, mapType, parse, plan, CelScalar, type CelMap } from '@bufbuild/cel';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import type { Item } from '../../../capture/item/schema';
import { QueryError, type CompiledQuery, type QueryLint } from '../api';
import { CheckError, checkExpr } from './check';
import { compileFast } from './fast';
import { compileRegex } from './regex';
import { explainSyntaxError, unterminatedString } from './syntax';
import { LOOKUPS, MEMBERSHIP, READERS, VARIABLES, varsOf } from './variables';

type Expr = ReturnType<typeof parse>['expr'];
const { DYN } = CelScalar;

// `matches` recompiles its pattern on every call in @bufbuild/cel: hand it our cached ones.
const ENV = celEnv({
  re2: { compile: compileRegex },
  funcs: [
    celFunc('map_get', [mapType(DYN, DYN), DYN, DYN], DYN, (m: CelMap, key, def) => {
      const k = key as Parameters<CelMap['get']>[0];
      return (m.has(k) ? m.get(k) : def) as never;
    }),
    celFunc('now', [], CelScalar.DYN, () => timestampNow() as never),
  ],
});

export interface Kfl2Query extends CompiledQuery {
  readonly language: 'kfl2';
  /** The variables the query reads. */
  readonly variables: readonly string[];
  /** Evaluated by the closure compiler (fast.ts) rather than @bufbuild/cel's planner. */
  readonly fast: boolean;
}

/**
 * Compile a KFL2 query; throws QueryError("LINE:COL: message"). The empty query matches
 * everything. `engine: 'cel'` forces @bufbuild/cel's evaluator (tests compare the two).
 */
export function compileKfl2(source: string, opts?: { engine?: 'auto' | 'cel' }): Kfl2Query {
  if (source.trim() === '') return { language: 'kfl2', source, variables: [], fast: true, match: () => true };
  const celOnly = opts?.engine === 'cel';
  const hit = celOnly ? undefined : compiled.get(source);
  if (hit) return hit; // hooks call kfl.match(query, data) per item: compile once per text
  const { parsed, variables } = analyse(source);
  const fast = celOnly ? null : compileFast(parsed.expr, { variables: VARIABLES, readers: READERS, lookups: LOOKUPS, membership: MEMBERSHIP, regex: compileRegex });
  const planned = fast ? null : (plan(ENV, parsed) as (v: unknown) => unknown);
  const run = fast ?? ((item: Item) => planned!(varsOf(item)));
  const query: Kfl2Query = {
    language: 'kfl2',
    source,
    variables,
    fast: fast !== null,
    match(item: Item): boolean {
      if (item === null || typeof item !== 'object') return false;
      try {
        return run(item) === true; // a runtime error (missing map key, …) is "no match"
      } catch {
        return false;
      }
    },
  };
  if (!celOnly) {
    if (compiled.size >= 256) compiled.clear();
    compiled.set(source, query);
  }
  return query;
}

const compiled = new Map<string, Kfl2Query>();

/** Throws QueryError when the query does not compile. */
export function validateKfl2(source: string): void {
  if (source.trim() !== '') analyse(source);
}

/** Findings on a valid query: header keys that cannot match because KFL2 lower-cases them. */
export function lintKfl2(source: string): QueryLint[] {
  if (source.trim() === '') return [];
  const { parsed } = analyse(source);
  const lints: QueryLint[] = [];
  const lowered = new Set(['request.headers', 'response.headers']);
  const isHeaders = (e: Expr | undefined) => {
    if (!e || e.exprKind.case !== 'selectExpr') return false;
    const op = e.exprKind.value.operand;
    return op?.exprKind.case === 'identExpr' && lowered.has(`${op.exprKind.value.name}.${e.exprKind.value.field}`);
  };
  walk(parsed.expr, (e) => {
    if (e.exprKind.case !== 'callExpr') return;
    const { function: fn, args } = e.exprKind.value;
    const key = fn === '_[_]' && isHeaders(args[0]) ? args[1] : fn === '@in' && isHeaders(args[1]) ? args[0] : fn === 'map_get' && isHeaders(args[0]) ? args[1] : undefined;
    if (key?.exprKind.case !== 'constExpr' || key.exprKind.value.constantKind.case !== 'stringValue') return;
    const text = key.exprKind.value.constantKind.value;
    if (text === text.toLowerCase()) return;
    const start = offsetOf(parsed, key.id);
    const end = literalEnd(source, start);
    const [line, col] = lineCol(source, start);
    const endCol = col + (end - start);
    lints.push({
      line, col, endCol,
      message: `header names are lower-cased in KFL2: "${text}" never matches; use "${text.toLowerCase()}"`,
      fix: { line, col, endCol, text: JSON.stringify(text.toLowerCase()) },
    });
  });
  return lints;
}

const cached = new Map<string, { parsed: ReturnType<typeof parse>; variables: string[] }>();

function analyse(source: string) {
  const hit = cached.get(source);
  if (hit) return hit;
  const bad = unterminatedString(source);
  if (bad !== null) throw error(source, bad, 'unterminated string literal');
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(source);
  } catch (e) {
    const loc = (e as { location?: { start?: { offset?: number } } }).location?.start?.offset ?? 0;
    const raw = (e as { rawMessage?: string }).rawMessage ?? String((e as Error).message ?? e);
    const why = explainSyntaxError(source, loc, raw);
    throw error(source, why.offset, `syntax error: ${why.message}`);
  }
  const variables = new Set<string>();
  try {
    const t = checkExpr(parsed.expr, { variables: VARIABLES, onVariable: (n) => variables.add(n) });
    if (t !== 'bool' && t !== 'dyn') throw new CheckError(parsed.expr.id, `a filter must be a boolean expression, this one is of type '${typeof t === 'string' ? t : 'list/map'}'`);
    checkConstants(parsed);
  } catch (e) {
    if (e instanceof CheckError) throw error(source, offsetOf(parsed, e.id), e.message);
    throw e;
  }
  const result = { parsed, variables: [...variables] };
  if (cached.size >= 256) cached.clear();
  cached.set(source, result);
  return result;
}

/** Regexes and timestamp/duration literals are checked now rather than failing every item later. */
function checkConstants(parsed: ReturnType<typeof parse>) {
  walk(parsed.expr, (e) => {
    if (e.exprKind.case !== 'callExpr') return;
    const { function: fn, args, target } = e.exprKind.value;
    const arg = fn === 'matches' ? (target ? args[0] : args[1]) : fn === 'timestamp' || fn === 'duration' ? args[0] : undefined;
    if (arg?.exprKind.case !== 'constExpr' || arg.exprKind.value.constantKind.case !== 'stringValue') return;
    const text = arg.exprKind.value.constantKind.value;
    if (fn === 'matches') {
      try {
        compileRegex(text);
      } catch (err) {
        throw new CheckError(arg.id, `invalid regular expression ${JSON.stringify(text)}: ${(err as Error).message}`);
      }
      return;
    }
    const v = plan(ENV, e)();
    if (isCelError(v)) throw new CheckError(arg.id, `invalid ${fn} ${JSON.stringify(text)}: ${v.message}`);
  });
}

function walk(e: Expr | undefined, f: (e: Expr) => void): void {
  if (!e) return;
  f(e);
  const k = e.exprKind;
  switch (k.case) {
    case 'selectExpr': return walk(k.value.operand, f);
    case 'callExpr': walk(k.value.target, f); return k.value.args.forEach((a) => walk(a, f));
    case 'listExpr': return k.value.elements.forEach((a) => walk(a, f));
    case 'structExpr': return k.value.entries.forEach((en) => { if (en.keyKind.case === 'mapKey') walk(en.keyKind.value, f); walk(en.value, f); });
    case 'comprehensionExpr': for (const x of [k.value.iterRange, k.value.accuInit, k.value.loopCondition, k.value.loopStep, k.value.result]) walk(x, f); return;
  }
}

function offsetOf(parsed: ReturnType<typeof parse>, id: bigint): number {
  return parsed.sourceInfo?.positions[id.toString() as unknown as number] ?? 0;
}

function lineCol(source: string, offset: number): [number, number] {
  const before = source.slice(0, Math.max(0, offset));
  const line = before.split('\n').length;
  return [line, offset - (before.lastIndexOf('\n') + 1) + 1];
}

function error(source: string, offset: number, message: string): QueryError {
  while (offset < source.length - 1 && /\s/.test(source[offset])) offset++; // operators are recorded at the space before them
  const [line, col] = lineCol(source, offset);
  return new QueryError(line, col, message, 'kfl2');
}

/** Offset just past the string literal that starts at `start` (prefix letters allowed). */
function literalEnd(s: string, start: number): number {
  let i = start;
  while (i < s.length && /[rRbB]/.test(s[i])) i++;
  const c = s[i];
  if (c !== '"' && c !== "'") return start + 1;
  for (let k = i + 1; k < s.length; k++) {
    if (s[k] === '\\') { k++; continue; }
    if (s[k] === c) return k + 1;
  }
  return s.length;
}
