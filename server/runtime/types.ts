/** Public types of the hook runtime, shared by the in-thread runtime, the worker and its client. */

export interface RuntimeLimits {
  /** Per hook call (and per job/timer run) CPU budget, ms. */
  timeoutMs: number;
  /** Top-level code budget, ms (loading often does more than one hook call). */
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

/** What the runtime reports. `script` is the script's file name as given to `load`. */
export type RuntimeEvent =
  | { type: 'log'; script: string; role: 'worker' | 'hub'; stream: LogStream; text: string }
  | { type: 'error'; script: string; role: 'worker' | 'hub'; where: string; message: string; stack: string; fault?: 'timeout' | 'memory' | 'stack' }
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
  /** The script mentions `pcap`: the capture side should record per-stream pcaps. */
  usesPcap: boolean;
  /** What of each item onItemCaptured needs (`true` = whole): the capture side sends only that. */
  itemProjection: import('./analyze').Projection;
}
