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
 * `opts.now` fixes the clock for now()/seconds()/… (evaluated once, here, as Kubeshark does).
 */
export function compileLegacy(source: string, opts?: { now?: () => number }): LegacyCompiledQuery {
  const hit = opts?.now ? undefined : CACHE.get(source);
  if (hit) {
    CACHE.delete(source); // keep recently used entries last
    CACHE.set(source, hit);
    return hit;
  }
  const p = prepare(source);
  const st = { now: opts?.now ? opts.now() : Date.now(), limit: undefined as number | undefined, redactions: [] as string[], hasRedact: false, usesNow: false };
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
  const out: LegacyCompiledQuery = { language: 'kfl', source, match, redactions: Object.freeze(st.redactions) as string[] };
  if (st.limit !== undefined) out.limit = st.limit;
  // Queries reading the clock are prepared afresh, as Kubeshark does for every kfl.match call.
  if (!opts?.now && !st.usesNow) {
    if (CACHE.size >= CACHE_MAX) CACHE.delete(CACHE.keys().next().value!);
    CACHE.set(source, out);
  }
  return out;
}

/**
 * Compiled queries by source. Compiling costs ~0.5 ms (each node gets generated code), and hook
 * scripts call kfl.match(query, data) with the same few query strings for every item.
 */
const CACHE = new Map<string, LegacyCompiledQuery>();
const CACHE_MAX = 256;

/** kfl.validate's engine: throws QueryError when the query would not compile. */
export function validateLegacy(source: string): void {
  compileLegacy(source);
}
