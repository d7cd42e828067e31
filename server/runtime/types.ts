/** Public types of the hook runtime, shared by the in-thread runtime, the worker and its client. */

export interface RuntimeLimits {
  /** Per hook call (and per job/timer run) time budget, ms of wall-clock time (not CPU time: a busy machine shortens it). */
  timeoutMs: number;
  /** Top-level code budget, ms of wall-clock time (loading often does more than one hook call). */
  loadTimeoutMs: number;
  /** Per script QuickJS heap limit, bytes. */
  memoryBytes: number;
  /** Per script QuickJS stack limit, bytes. */
  stackBytes: number;
  /** Disable after this many faults (timeout/memory/stack) in a row… */
  maxConsecutiveFaults: number;
  /** …or this many within a minute. */
  maxFaultsPerMinute: number;
}

export const DEFAULT_LIMITS: RuntimeLimits = {
  timeoutMs: 100,
  loadTimeoutMs: 2000,
  memoryBytes: 64 * 1024 * 1024,
  stackBytes: 256 * 1024,
  maxConsecutiveFaults: 5,
  maxFaultsPerMinute: 20,
};

export interface RuntimeOptions {
  limits?: Partial<RuntimeLimits>;
  /** `env` global for scripts. */
  env?: Record<string, unknown>;
  /** Let vendor/chatgpt/webhook helpers really send (default: record only). */
  allowNetwork?: boolean;
  /** Network helper timeout, ms. */
  networkTimeoutMs?: number;
  /** `utils.nodeName()` of worker contexts (default: the host name). */
  nodeName?: string;
  /** Root of `file.*` (default `.wirehook/files` under the current directory). */
  filesDir?: string;
  /** Where per-stream pcaps are kept when a script uses `pcap.*` (default `<filesDir>/pcaps`). */
  pcapDir?: string;
  /** Items per QuickJS crossing. */
  batchSize?: number;
}

export type LogStream = 'log' | 'error' | 'clear';

/**
 * What the runtime reports. `script` is the script's file name as given to `load`; `line`/`col`
 * are 1-based positions in the source given to `load` (0 when not known). Events of one script
 * arrive in the order they happened (console lines interleaved with errors), except repeat
 * counts of a folded error (below), which come when they are flushed. `replay` marks what
 * `replay()` produced. See docs/runtime.md.
 */
export type RuntimeEvent =
  /** A console.* call; line/col of the call. */
  | { type: 'log'; script: string; role: 'worker' | 'hub'; stream: LogStream; text: string; line: number; col: number; replay?: boolean }
  /**
   * An exception or fault. `message` is `FILE:LINE:COL: text` (as the CLI prints it), `text` the
   * same without the location; line/col the script frame that threw. `hook`: the hook's name, or
   * `load` / `job` / `timer`. Repeats of the same script + role + line + col + message are folded:
   * the first is sent at once (count 1), later ones are counted and sent as one event
   * (`repeat: true`) carrying how many occurred since (count ≥ 1), at most once a second per
   * error, and when the runtime is drained. So the sum of `count` is the number of errors.
   */
  | { type: 'error'; script: string; role: 'worker' | 'hub'; where: string; hook: string; message: string; text: string; stack: string; line: number; col: number; count: number; repeat?: boolean; fault?: 'timeout' | 'memory' | 'stack'; replay?: boolean }
  /** A hook that had reported an error completed a run without one (drop its error marker). */
  | { type: 'clean'; script: string; hook: string }
  | { type: 'disabled'; script: string; reason: string }
  | { type: 'network'; script: string; helper: string; sent: boolean; summary: string; error?: string }
  | { type: 'notice'; script: string; text: string };

/** The outcome of `onItemQueried` for one item. */
export interface QueriedItem {
  /** Index in the batch handed to `queried()`. */
  index: number;
  passed: boolean;
  failed: boolean;
  /** The object the hook returned (replaces what is shown), or null. */
  replaced: unknown;
}

export interface LoadedScript {
  file: string;
  title: string;
  hooks: string[];
  /** 1-based line of each hook's declaration (the last top-level one when a hook is reassigned). */
  hookLines: Record<string, number>;
  /** The script mentions `pcap`: the capture side should record per-stream pcaps. */
  usesPcap: boolean;
  /** What of each item onItemCaptured needs (`true` = whole): the capture side sends only that. */
  itemProjection: import('./analyze').Projection;
}

/** Per hook counters, since the script (this version of it) was loaded. */
export interface HookStats {
  name: string;
  /** 1-based line of its declaration, 0 if not found statically. */
  line: number;
  /** Items / packets / actions it was called for (replayed items included). */
  calls: number;
  /** Errors it threw (every one, folded repeats included). */
  errors: number;
  /** Wall time of its runs, µs (mean per call = totalUs / calls). */
  totalUs: number;
}

export interface RuntimeStats {
  scripts: { file: string; title: string; hooks: HookStats[]; disabled: string | null; faults: number; errors: number; busyMs: number }[];
  items: number;
  packets: number;
  jobs: number;
}
