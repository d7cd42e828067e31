/** One loaded script as the runtime tracks it: its instances, projections, counters and timers. */
import type { ScriptAnalysis } from './analyze';
import type { ErrorFolder } from './fold';
import type { Projector } from './projection';
import type { ScriptInstance } from './script';
import type { HookStats } from './types';

export interface Loaded {
  file: string;
  analysis: ScriptAnalysis;
  worker: ScriptInstance;
  hub: ScriptInstance | null;
  projectors: { captured: Projector; queried: Projector; capturedKey: string; queriedKey: string };
  disabled: string | null;
  faults: number[];
  consecutive: number;
  faultedThisCall: boolean;
  /** Pending setTimeout timers by `role#id` (ids restart at 1 in each instance). */
  timers: Map<string, NodeJS.Timeout>;
  folder: ErrorFolder;
  /** Errors reported (every one). */
  errors: number;
  /** Hooks that reported an error and have not run cleanly since; errors in the crossing running now. */
  erroredHooks: Set<string>;
  crossingErrors: Set<string>;
  hookStats: Map<string, HookStats>;
  /** Wall time spent in this script's crossings (hooks, jobs, timers), ms. */
  busyMs: number;
}

/** Stops and forgets every pending timer of the script. */
export function clearTimers(s: Loaded): void {
  for (const t of s.timers.values()) clearTimeout(t);
  s.timers.clear();
}
