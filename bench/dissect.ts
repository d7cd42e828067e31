/** Helpers shared by the dissector benches: replaying recorded connections and timing a rate. */
import type { Dissector, DissectorContext } from '../capture/types';
import { collector, replayTcp, type Recorded } from '../test/dissectors/harness';

/**
 * Replays every recorded TCP connection through a fresh parser of `d` and returns how many
 * messages (items) it emitted. `extra` overrides context fields (e.g. `{ lean: true }`).
 */
export function dissectTcp(d: Dissector, recs: readonly Recorded[], extra?: Partial<DissectorContext>): number {
  let n = 0;
  for (const r of recs) {
    const c = collector('tcp');
    replayTcp(d.tcp!(extra ? { ...c.ctx, ...extra } : c.ctx), r);
    n += c.msgs.length;
  }
  return n;
}

/** Calls per second of `fn` (which returns how many units it did) over at least `minMs`, after a warm-up call. */
export function rate(fn: () => number, minMs = 1500): number {
  fn();
  let n = 0;
  const t0 = process.hrtime.bigint();
  let el = 0;
  do {
    n += fn();
    el = Number(process.hrtime.bigint() - t0) / 1e6;
  } while (el < minMs);
  return (n / el) * 1000;
}
