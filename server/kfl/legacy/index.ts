/**
 * Legacy KFL (Kubeshark's BFL-derived filter language, kubeshark-compat §8): the language
 * `kfl.match(query, data)` speaks. Pipeline as Kubeshark's: expand macros → parse → precompute
 * (here: compile to closures) → evaluate against the item as its JSON form. The quirks are kept
 * (docs/kfl-legacy.md) and reported by lintLegacy.
 */
import type { CompiledQuery } from '../api';
import type { Item } from '../../../capture/item/schema';
import { compilePrepared, prepare } from './prepare';
import { COLLAPSE, type Ctx } from './compile';
import { truthy } from './values';

export { lintLegacy } from './lint';
export { expandMacros, LEGACY_MACROS } from './macros';
export { redactItem } from './redact';

export type LegacyCompiledQuery = CompiledQuery & {
  /** limit(n) anywhere in the query (the first one), for streaming consumers. */
  limit?: number;
  /** Every redact(...) path in the query, in order, for redactItem on displayed items. */
  redactions: string[];
};

/**
 * Compile a query; throws QueryError (language 'kfl'), e.g. `1:5: unexpected token "?"`.
 * now()/seconds()/… are fixed when this is called, as Kubeshark fixes them when it prepares a
 * query (`opts.now` supplies the clock).
 */
export function compileLegacy(source: string, opts?: { now?: () => number }): LegacyCompiledQuery {
  let e = CACHE.get(source);
  if (e) {
    CACHE.delete(source); // keep recently used entries last
  } else {
    e = build(source);
    if (CACHE.size >= CACHE_MAX) CACHE.delete(CACHE.keys().next().value!);
  }
  CACHE.set(source, e);
  if (!e.usesNow) return e.query;
  // A query reading the clock shares the compiled code; each compilation gets its own "now".
  const now = opts?.now ? opts.now() : Date.now();
  const { clock } = e;
  const inner = e.query.match;
  const out: LegacyCompiledQuery = {
    ...e.query,
    match: (item) => {
      clock.t = now;
      return inner(item);
    },
  };
  return out;
}

interface Entry {
  query: LegacyCompiledQuery;
  clock: { t: number };
  usesNow: boolean;
}

/**
 * Compiled queries by source. Compiling costs ~0.2 ms (each node gets generated code), and hook
 * scripts call kfl.match(query, data) with the same few query strings for every item.
 */
const CACHE = new Map<string, Entry>();
const CACHE_MAX = 256;

function build(source: string): Entry {
  const p = prepare(source);
  const st = { clock: { t: 0 }, limit: undefined as number | undefined, redactions: [] as string[], hasRedact: false, usesNow: false };
  const root = compilePrepared(p, st);
  const ctx: Ctx = { d: null, owned: false };
  // Generated per query like the closures below it, so this call site stays monomorphic.
  const match = new Function('ROOT', 'C', 'T', 'ctx', `return (item) => {
    const saved = ctx.d;
    ctx.d = item;
    ctx.owned = false;
    try {
      const v = ROOT(ctx);
      return v !== C && T(v);
    } catch {
      return false; // never throw for a compiled query (e.g. a cyclic object given to redact)
    } finally {
      ctx.d = saved;
    }
  };`)(root, COLLAPSE, truthy, ctx) as (item: Item | object) => boolean;
  const query: LegacyCompiledQuery = { language: 'kfl', source, match, redactions: Object.freeze(st.redactions) as string[] };
  if (st.limit !== undefined) query.limit = st.limit;
  return { query, clock: st.clock, usesNow: st.usesNow };
}

/** kfl.validate's engine: throws QueryError when the query would not compile. */
export function validateLegacy(source: string): void {
  compileLegacy(source);
}
