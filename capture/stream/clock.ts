/**
 * The capture-time clock that drives idle sweeps (TCP/UDP timeouts, stale holes, fragments) and
 * the request-order wait. Packet timestamps are not trusted one by one: a single packet stamped
 * a year ahead used to sweep every open connection as idle and then, the clock being "in the
 * future", stop sweeping for good; a clock stepped back stopped sweeping the same way.
 *
 * Policy: a timestamp within JUMP_S of the clock moves it forward (never back: captures from
 * several CPUs are slightly out of order). A timestamp further away, either way, is an outlier
 * until the next packet's timestamp agrees with it (within JUMP_S): then the clock really
 * jumped, and it is set there, forward or back. A lone outlier changes nothing. Tables clamp
 * activity times later than the clock (a step back) so that connections still idle out.
 */
export const JUMP_S = 3600;

export class SweepClock {
  /** Current capture time, whole seconds (-Infinity before the first packet). */
  now = -Infinity;
  private lastSweep = -Infinity;
  private candidate = NaN;

  /** A packet stamped `sec` arrived; true when a sweep is due (once per second of clock). */
  see(sec: number): boolean {
    const now = this.now;
    if (now === -Infinity || (sec <= now + JUMP_S && sec >= now - JUMP_S)) {
      this.candidate = NaN;
      if (sec > now) this.now = sec;
    } else if (sec <= this.candidate + JUMP_S && sec >= this.candidate - JUMP_S) {
      // Two packets agree: the clock jumped (a step back, or a real silence of over an hour).
      this.candidate = NaN;
      this.now = sec;
      this.lastSweep = -Infinity;
    } else {
      this.candidate = sec;
      return false;
    }
    if (this.now - this.lastSweep < 1) return false;
    this.lastSweep = this.now;
    return true;
  }
}
