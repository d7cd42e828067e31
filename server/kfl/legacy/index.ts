/**
 * Legacy KFL (Kubeshark's BFL-derived filter language, kubeshark-compat §8): the language
 * `kfl.match(query, data)` speaks. Pipeline as Kubeshark's: expand macros → parse → precompute
 * (here: compile to closures) → evaluate against the item as JSON.
 */
import type { CompiledQuery, QueryLint } from '../api';

export type LegacyCompiledQuery = CompiledQuery & { limit?: number; redactions: string[] };

export function compileLegacy(source: string, opts?: { now?: () => number }): LegacyCompiledQuery {
  void opts;
  return { language: 'kfl', source, match: () => source.trim() === '', redactions: [] };
}
export function validateLegacy(source: string): void {
  void source;
}
export function lintLegacy(source: string): QueryLint[] {
  void source;
  return [];
}
export function expandMacros(source: string): string {
  return source;
}
export function redactItem(item: object, paths: string[]): object {
  void paths;
  return structuredClone(item);
}
export const LEGACY_MACROS: Record<string, string> = {};
