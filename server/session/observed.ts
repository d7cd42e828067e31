/**
 * What the language features may ask of the traffic seen so far: values observed in stored
 * items (for completions inside string literals, hover samples, and the legacy-KFL
 * unknown-field lint). The item store implements it; the features only read it.
 */
export interface ObservedValues {
  /**
   * Most frequent distinct values seen at a dotted item path, most frequent first, e.g.
   * `protocol.name`, `request.host`… Map keys are asked for with a trailing `.*`:
   * `request.headers.*` → header names seen in requests.
   */
  values(path: string, limit?: number): string[];
  /** The last few values seen at a path (newest first), for hover. */
  recent(path: string, limit?: number): unknown[];
  /** Some stored item has this dotted path (legacy KFL matches nothing on a missing field). */
  hasPath(path: string): boolean;
  /** Number of items the observations come from (0: nothing captured yet, lints stay quiet). */
  readonly itemCount: number;
}

/** Nothing observed yet. */
export const NO_OBSERVATIONS: ObservedValues = {
  values: () => [],
  recent: () => [],
  hasPath: () => false,
  itemCount: 0,
};
