/**
 * Crossings and the fault policy. A crossing is one call from the host into a script (a batch of
 * hook calls, a job, a timer): it is timed into the hook's stats, its errors are counted and
 * folded (fold.ts), and faults (limits hit: time, memory, stack) disable a script after
 * `maxConsecutiveFaults` in a row or `maxFaultsPerMinute` within a minute.
 */
import type { Loaded } from './loaded';
import type { ScriptError } from './script';
import type { RuntimeEvent, RuntimeLimits } from './types';

export class FaultPolicy {
  constructor(
    private readonly limits: RuntimeLimits,
    private readonly onEvent: (e: RuntimeEvent) => void,
    /** Stops what a disabled script still has scheduled (jobs, timers). */
    private readonly stop: (s: Loaded) => void,
    /** True while a replay runs: its error events are marked. */
    private readonly replaying: () => boolean,
  ) {}

  /** Counts the error, folds repeats (fold.ts), and applies the fault policy. */
  error(s: Loaded, role: 'worker' | 'hub', e: ScriptError): void {
    s.errors++;
    const hs = s.hookStats.get(e.hook);
    if (hs) hs.errors++;
    s.crossingErrors.add(e.hook);
    s.erroredHooks.add(e.hook);
    s.folder.report({
      type: 'error', script: s.file, role, where: e.where, hook: e.hook, message: e.message, text: e.text, stack: e.stack, line: e.line, col: e.col, count: 1,
      ...(e.fault ? { fault: e.fault } : {}), ...(this.replaying() ? { replay: true } : {}),
    });
    if (e.fault) this.fault(s, e.message);
  }

  /**
   * Runs one crossing (`calls` runs of `hook`), counts it in the hook's stats, and applies the
   * fault policy ("N in a row" resets on a clean call). A hook that had reported errors and got
   * through a whole crossing without one is announced clean.
   */
  crossing(s: Loaded, hook: string, calls: number, fn: () => void): void {
    s.faultedThisCall = false;
    s.crossingErrors.clear();
    const t0 = performance.now();
    fn();
    const ms = performance.now() - t0;
    s.busyMs += ms;
    const hs = s.hookStats.get(hook);
    if (hs) {
      hs.calls += calls;
      hs.totalUs += ms * 1000;
    }
    if (!s.faultedThisCall) s.consecutive = 0;
    if (s.erroredHooks.has(hook) && !s.crossingErrors.has(hook)) {
      s.erroredHooks.delete(hook);
      s.folder.forget(hook);
      this.onEvent({ type: 'clean', script: s.file, hook });
    }
    s.folder.flush(false);
  }

  private fault(s: Loaded, message: string): void {
    if (s.disabled) return;
    s.faultedThisCall = true;
    s.consecutive++;
    const now = Date.now();
    s.faults = s.faults.filter((t) => now - t < 60_000);
    s.faults.push(now);
    let reason: string | null = null;
    if (s.consecutive >= this.limits.maxConsecutiveFaults) reason = `${s.consecutive} faults in a row (last: ${message})`;
    else if (s.faults.length >= this.limits.maxFaultsPerMinute) reason = `${s.faults.length} faults within a minute (last: ${message})`;
    if (reason) {
      s.disabled = reason;
      this.stop(s);
      this.onEvent({ type: 'disabled', script: s.file, reason });
    }
  }
}
