/**
 * The query contract every consumer uses (kfl.match/validate in hooks, onItemQueried, the CLI's
 * --query, the items panel). Legacy KFL lives in ./legacy, KFL2 (CEL) in ./kfl2; ./index.ts
 * implements these signatures.
 */
import type { Item } from '../../capture/item/schema';

export type QueryLanguage = 'kfl' | 'kfl2';

/** A query that failed to parse/check. `message` is `"LINE:COL: text"` as Kubeshark prints it. */
export class QueryError extends Error {
  constructor(
    readonly line: number,
    readonly col: number,
    readonly text: string,
    readonly language: QueryLanguage,
  ) {
    super(`${line}:${col}: ${text}`);
    this.name = 'QueryError';
  }
}

/** A lint finding on a valid query (a kept quirk that probably surprises the author). */
export interface QueryLint {
  line: number;
  col: number;
  endCol: number;
  message: string;
  /** A rewrite that avoids the quirk, when one exists. */
  fix?: { line: number; col: number; endCol: number; text: string };
}

export interface CompiledQuery {
  readonly language: QueryLanguage;
  readonly source: string;
  /** True when the item matches. Never throws for a compiled query. */
  match(item: Item): boolean;
}
