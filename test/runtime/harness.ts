/** A HookRuntime with its events collected, for the runtime tests. */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { HookRuntime } from '../../server/runtime/runtime';
import type { RuntimeEvent, RuntimeOptions } from '../../server/runtime/types';
import { OUT } from './fixture';

export interface Harness {
  rt: HookRuntime;
  events: RuntimeEvent[];
  logs(script?: string): string[];
  /** Messages of error events, repeat counts left out (each distinct error once, see fold.ts). */
  errors(script?: string): string[];
  /** How many errors occurred: the sum of `count` once folded repeats are flushed. */
  errorCount(script?: string): number;
  filesDir: string;
}

export async function harness(opts: RuntimeOptions = {}): Promise<Harness> {
  mkdirSync(OUT, { recursive: true });
  const filesDir = opts.filesDir ?? join(mkdtempSync(join(OUT, 'rt-')), 'files');
  const events: RuntimeEvent[] = [];
  const rt = await HookRuntime.create({ filesDir, ...opts }, (e) => events.push(e));
  return {
    rt,
    events,
    filesDir,
    logs: (script) => events.flatMap((e) => (e.type === 'log' && e.stream === 'log' && (!script || e.script === script) ? [e.text] : [])),
    errors: (script) => events.flatMap((e) => (e.type === 'error' && !e.repeat && (!script || e.script === script) ? [e.message] : [])),
    errorCount: (script) => {
      rt.flushRepeats(true);
      return events.reduce((n, e) => n + (e.type === 'error' && (!script || e.script === script) ? e.count : 0), 0);
    },
  };
}

/** Bounded wait for a condition (used for cron jobs, which fire on the wall clock). */
export async function until(cond: () => boolean, maxMs = 5000): Promise<boolean> {
  const end = Date.now() + maxMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
